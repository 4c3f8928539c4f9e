"""GeoJSON FeatureCollections in and out of a layer, with the datum named.

The datum comes from a parameter, else from the legacy GeoJSON 2008 ``crs`` member
(``{"type": "name", "properties": {"name": "gcj02"}}``, EPSG:4326 and CRS84 meaning WGS-84), else WGS-84.
"""

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.orm import Session

from renxing.auth.principal import SYSTEM, Principal
from renxing.errors import Collector, FieldError, Invalid, ServiceError
from renxing.geo.coords import CRS
from renxing.i18n import _
from renxing.space import layers
from renxing.space.layer_kinds import crs_param


def crs_of(collection: dict[str, Any], override: str | None) -> CRS:
    if override:
        return crs_param(override)
    member = collection.get("crs")
    if member is None:
        return CRS.wgs84
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else member
    return crs_param(name if isinstance(name, str) else str(name), field="crs")


def parse_collection(data: bytes | str) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(_("不是有效的 JSON"), [FieldError("file", str(exc))]) from exc
    return obj


def import_collection(
    session: Session,
    actor: Principal,
    layer: str,
    community: int,
    collection: Any,
    *,
    crs: str | None = None,
    replace: bool = False,
) -> list[Any]:
    """Every feature valid and stored, or an ``Invalid`` naming each bad feature (index and name)."""
    errors = Collector()
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        errors.add("type", _("应为 GeoJSON FeatureCollection"))
        errors.raise_if_any()
    features = collection.get("features")
    if not isinstance(features, list):
        errors.add("features", _("应为数组"))
        errors.raise_if_any()
    source = crs_of(collection, crs)
    return layers.import_features(session, actor, layer, community, features, crs=source, replace=replace)


def run_cli_import(path: Path, layer: str, community: int, crs: str | None, *, console: Console) -> int | None:
    """The CLI's import, as the system: the number of features stored, or None after printing errors."""
    from renxing import migrate
    from renxing.db import get_engine, transaction

    engine = get_engine()
    migrate.upgrade(engine)
    try:
        with transaction(engine) as session:
            rows = import_collection(session, SYSTEM, layer, community, parse_collection(path.read_bytes()), crs=crs)
            return len(rows)
    except ServiceError as exc:  # rolled back: nothing written
        for e in exc.errors:
            where = "" if e.row is None else f"#{e.row} "
            console.print(f"[red]{where}{e.field}[/red]: {e.message}" + (f" ({e.value})" if e.value else ""))
        console.print(f"[red]{exc.message}[/red]")
        return None
