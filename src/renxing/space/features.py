"""One feature of a layer in and out: validate a plain dict (form, JSON body or GeoJSON feature)
against the layer's schema, check its geometry and community, derive the computed columns; and
present a stored row as JSON or as a GeoJSON Feature in the datum asked for.

Forms, the API and file imports all pass through ``prepare``, so they accept and refuse the same.
"""

import json
import math
from typing import Any

import numpy as np
import shapely
from pydantic import ValidationError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity
from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.errors import Collector, Forbidden
from renxing.geo import metric
from renxing.geo.coords import CRS, convert, convert_geometry
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import in_scope
from renxing.i18n import _
from renxing.space.layer_kinds import POLYGONS, LayerSpec
from renxing.space.models import HazardKind, HazardZone, ReservedLand, RiskPoint, Shelter, ShelterClass

# ---- the community ----------------------------------------------------------------------------


def check_community(
    session: Session,
    actor: Principal,
    unit_id: Any,
    errors: Collector,
    row: int | None,
    cache: dict[int, GridUnit | None] | None = None,
) -> None:
    """``unit_id`` names a community the actor covers: a field error when it is not a community,
    403 when it lies outside the scope. ``cache`` keeps the units of a whole import."""
    if not isinstance(unit_id, int):
        unit = None
    elif cache is not None and unit_id in cache:
        unit = cache[unit_id]  # the identity map holds rows weakly: keep them for a whole import
    else:
        unit = session.get(GridUnit, unit_id)
        if cache is not None:
            cache[unit_id] = unit
    if unit is None or unit.level != Level.community.value:
        errors.add("unit_id", _("社区不存在"), row, unit_id)
    elif not in_scope(actor, unit):
        raise Forbidden(_("网格单元 {unit_id} 不在您的网格范围内").format(unit_id=unit_id))


# ---- validation -------------------------------------------------------------------------------


def check_geometry(
    raw: Any, allowed: tuple[str, ...], crs: CRS, errors: Collector, row: int | None = None, label: str | None = None
) -> tuple[dict, BaseGeometry] | None:
    """A GeoJSON geometry in ``crs`` → (WGS-84 GeoJSON dict, Shapely geometry), or None with errors added."""
    where = f"「{label}」" if label else ""
    if not isinstance(raw, dict) or "type" not in raw:
        errors.add("geometry", _("{where}缺少几何").format(where=where), row, label)
        return None
    if raw["type"] not in allowed:
        errors.add(
            "geometry",
            _("{where}几何类型应为 {join} 之一").format(where=where, join=" or ".join(allowed)),
            row,
            raw["type"],
        )
        return None
    try:
        geom = shape(raw)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        errors.add("geometry", _("{where}无效的 GeoJSON 几何：{exc}").format(where=where, exc=exc), row, label)
        return None
    if geom.is_empty:
        errors.add("geometry", _("{where}几何为空").format(where=where), row, label)
        return None
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all() or (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        errors.add("geometry", _("{where}坐标超出范围").format(where=where), row, label)
        return None
    if crs is not CRS.wgs84:
        raw = convert_geometry(raw, crs, CRS.wgs84)
        geom = shape(raw)
    if not geom.is_valid:
        message = _("{where}几何无效（如自相交）：{reason}").format(where=where, reason=explain_validity(geom))
        errors.add("geometry", message, row, label)
        return None
    if geom.geom_type in POLYGONS and metric.area_m2(geom) <= 0:
        errors.add("geometry", _("{where}面积为零").format(where=where), row, label)
        return None
    return raw, geom


def per_person_m2(shelter_class: str, override: float | None) -> float:
    if override:
        return override
    settings = get_settings()
    return {
        ShelterClass.I.value: settings.shelter_m2_per_person_I,
        ShelterClass.II.value: settings.shelter_m2_per_person_II,
    }.get(shelter_class, settings.shelter_m2_per_person_III)


def shelter_capacity(effective_area_m2: float, shelter_class: str, override: float | None) -> int:
    return math.floor(effective_area_m2 / per_person_m2(shelter_class, override) + 1e-9)


def _pydantic_errors(exc: ValidationError, errors: Collector, row: int | None, label: str | None) -> None:
    where = f"「{label}」" if label else ""
    for e in exc.errors():
        field = ".".join(str(p) for p in e.get("loc", ())) or "properties"
        value = e.get("input")
        shown = value if isinstance(value, str | int | float) else None
        errors.add(field, f"{where}{e.get('msg', 'invalid')}", row, shown)


def prepare(
    session: Session,
    actor: Principal,
    spec: LayerSpec,
    data: dict[str, Any],
    errors: Collector,
    *,
    crs: CRS = CRS.wgs84,
    row: int | None = None,
    label: str | None = None,
    cache: dict[int, GridUnit | None] | None = None,
) -> dict[str, Any] | None:
    """Validate one feature's values for ``spec``; the column values to store, or None (errors added)."""
    if not isinstance(data, dict):
        errors.add("properties", _("应为对象"), row, label)
        return None
    label = label or (data.get("name") if isinstance(data.get("name"), str) else None)
    start = len(errors.errors)
    try:
        model = spec.schema.model_validate(data)
    except ValidationError as exc:
        _pydantic_errors(exc, errors, row, label)
        return None
    values = model.model_dump()
    check_community(session, actor, values["unit_id"], errors, row, cache)
    raw = values.pop("geometry")
    geom: BaseGeometry | None = None
    if raw is not None or spec.model is not RiskPoint:
        checked = check_geometry(raw, spec.geom_types, crs, errors, row, label)
        if checked is None:
            return None
        raw, geom = checked
    _derive(session, spec, values, geom, crs, _Where(errors, row, label))
    if len(errors.errors) > start:
        return None
    values["geometry"] = json.dumps(raw, separators=(",", ":")) if raw is not None else None
    return values


class _Where:
    """Where a derived value's error goes: the collector, the feature's row and its name."""

    def __init__(self, errors: Collector, row: int | None, label: str | None):
        self.errors, self.row, self.label = errors, row, label
        self.prefix = f"「{label}」" if label else ""

    def add(self, field: str, message: str, value: Any = None) -> None:
        self.errors.add(field, f"{self.prefix}{message}", self.row, value)


def _derive(
    session: Session, spec: LayerSpec, values: dict[str, Any], geom: BaseGeometry | None, crs: CRS, where: _Where
) -> None:
    """Layer-specific checks and computed columns; fills ``values`` in place."""
    if spec.model in (RiskPoint, Shelter) and values.get("lon") is not None and values.get("lat") is not None:
        values["lon"], values["lat"] = convert(values["lon"], values["lat"], crs, CRS.wgs84)
    if spec.model is RiskPoint:
        _derive_risk_point(values, geom, where)
    elif spec.model is Shelter:
        _derive_shelter(values, geom)
    elif spec.model is ReservedLand and geom is not None:
        values["area_m2"] = round(metric.area_m2(geom), 1)
    elif spec.model is HazardZone:
        _check_zone(session, values, where)


def _derive_risk_point(values: dict[str, Any], geom: BaseGeometry | None, where: _Where) -> None:
    """A risk point is a Point geometry or a lon/lat pair; each is made from the other."""
    if geom is not None:
        values["lon"], values["lat"] = geom.x, geom.y
    elif values.get("lon") is None or values.get("lat") is None:
        where.add("geometry", _("需要坐标"), where.label)
    else:
        values["geometry_point"] = {"type": "Point", "coordinates": [values["lon"], values["lat"]]}


def _derive_shelter(values: dict[str, Any], geom: BaseGeometry | None) -> None:
    """The entrance defaults to a point inside the outline; capacity follows from area and class."""
    if (values.get("lon") is None or values.get("lat") is None) and geom is not None:
        p = geom.representative_point()
        values["lon"], values["lat"] = round(p.x, 7), round(p.y, 7)
    values["capacity"] = shelter_capacity(
        values["effective_area_m2"], values["shelter_class"], values.get("per_person_m2")
    )
    values["facilities"] = sorted(set(values.get("facilities") or []))


def _check_zone(session: Session, values: dict[str, Any], where: _Where) -> None:
    if values.get("depth_class") and values["kind"] != HazardKind.flood.value:
        where.add("depth_class", _("只有洪涝区有积水深度"))
    src = values.get("source_point_id")
    if src is not None:
        point = session.get(RiskPoint, src)
        if point is None or point.unit_id != values["unit_id"]:
            where.add("source_point_id", _("危险源不存在"), src)


def apply_values(values: dict[str, Any], obj: Any) -> None:
    """Copy prepared values onto a row (a risk point given by lon/lat gets its Point geometry)."""
    point = values.pop("geometry_point", None)
    if point is not None:
        values["geometry"] = json.dumps(point, separators=(",", ":"))
    for key, value in values.items():
        setattr(obj, key, value)


# ---- presenting -------------------------------------------------------------------------------


def _columns(spec: LayerSpec) -> list[str]:
    return [c.key for c in spec.model.__table__.columns if c.key != "geometry"]


def present(spec: LayerSpec, obj: Any, crs: CRS = CRS.wgs84) -> dict[str, Any]:
    """One row as JSON, with its geometry (and lon/lat) in ``crs``."""
    out: dict[str, Any] = {"layer": spec.slug}
    for key in _columns(spec):
        value = getattr(obj, key)
        out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    geom = json.loads(obj.geometry) if obj.geometry else None
    if crs is not CRS.wgs84:
        if geom is not None:
            geom = convert_geometry(geom, CRS.wgs84, crs)
        if out.get("lon") is not None and out.get("lat") is not None:
            out["lon"], out["lat"] = convert(out["lon"], out["lat"], CRS.wgs84, crs)
    out["geometry"] = geom
    return out


def as_feature(spec: LayerSpec, obj: Any, crs: CRS = CRS.wgs84) -> dict[str, Any]:
    props = present(spec, obj, crs)
    geom = props.pop("geometry")
    return {"type": "Feature", "id": obj.id, "geometry": geom, "properties": props}
