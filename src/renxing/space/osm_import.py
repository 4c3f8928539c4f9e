"""OpenStreetMap extracts (XML or PBF) into roads and base features, via pyosmium.

- roads: every way with a ``highway`` tag, its value as the kind, ``name`` and ``width`` when tagged;
  not walkable for motorways, trunk roads, ways under construction and ``foot=no``;
- buildings: every area (closed way or multipolygon) with a ``building`` tag → MapFeature(layer=building);
- POIs: nodes and areas whose tags name something that matters in an emergency (schools, clinics,
  hospitals, fire stations, petrol stations, substations, parks, shops for supplies, ...)
  → MapFeature(layer=poi).

OSM data is WGS-84, stored as is. Ways or areas whose nodes are missing from the extract (cut at its
edge) cannot be built and are counted as skipped; invalid outlines are repaired with ``make_valid``
when that leaves a polygon. Everything else goes through the layer import of ``layers``: all rows
or none.
"""

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import osmium
import shapely
from rich.console import Console
from shapely.geometry import mapping, shape
from sqlalchemy.orm import Session

from renxing.auth.principal import SYSTEM, Principal
from renxing.errors import ServiceError
from renxing.i18n import _
from renxing.space import layers

Progress = Callable[[str, int, int | None], None]

NOT_WALKABLE = frozenset(
    {"motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed", "raceway", "bus_guideway"}
)

# (tag key, tag value) → POI kind. Values chosen for what a community needs in an emergency.
POI_KINDS: dict[tuple[str, str], str] = {
    ("amenity", "school"): "school",
    ("amenity", "college"): "school",
    ("amenity", "university"): "school",
    ("amenity", "kindergarten"): "kindergarten",
    ("amenity", "childcare"): "kindergarten",
    ("amenity", "clinic"): "clinic",
    ("amenity", "doctors"): "clinic",
    ("amenity", "hospital"): "hospital",
    ("amenity", "pharmacy"): "pharmacy",
    ("amenity", "fire_station"): "fire_station",
    ("amenity", "police"): "police",
    ("amenity", "fuel"): "petrol_station",
    ("amenity", "community_centre"): "community_centre",
    ("amenity", "townhall"): "community_centre",
    ("amenity", "social_facility"): "social_facility",
    ("amenity", "nursing_home"): "social_facility",
    ("amenity", "shelter"): "shelter",
    ("amenity", "marketplace"): "supply_point",
    ("amenity", "drinking_water"): "water_point",
    ("emergency", "assembly_point"): "assembly_point",
    ("emergency", "defibrillator"): "defibrillator",
    ("emergency", "fire_hydrant"): "fire_hydrant",
    ("leisure", "park"): "park",
    ("leisure", "playground"): "playground",
    ("leisure", "pitch"): "sports_pitch",
    ("leisure", "sports_centre"): "sports_centre",
    ("leisure", "stadium"): "stadium",
    ("power", "substation"): "substation",
    ("power", "plant"): "power_plant",
    ("shop", "supermarket"): "supply_point",
    ("shop", "convenience"): "supply_point",
    ("tourism", "museum"): "museum",
    # open ground that can serve as an assembly area or a shelter candidate
    ("landuse", "recreation_ground"): "open_space",
    ("landuse", "grass"): "open_space",
    ("landuse", "meadow"): "open_space",
    ("natural", "grassland"): "open_space",
    ("place", "square"): "square",
    ("man_made", "water_tower"): "water_tower",
}
_POI_KEYS = frozenset(k for k, _ in POI_KINDS)


@dataclass
class OsmData:
    roads: list[dict[str, Any]] = field(default_factory=list)
    buildings: list[dict[str, Any]] = field(default_factory=list)
    pois: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class OsmResult:
    roads: int
    buildings: int
    pois: int
    skipped: dict[str, int]
    kinds: dict[str, int]


def parse_width(raw: str | None) -> float | None:
    """OSM ``width``: metres, maybe with a unit ("4", "3.5 m", "4,5"); feet and odd values are ignored."""
    if not raw:
        return None
    m = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*(m|meters?|metres?)?\s*", raw)
    if not m:
        return None
    value = float(m.group(1).replace(",", "."))
    return value if 0 < value <= 200 else None


def poi_kind(tags: Any) -> str | None:
    for key in _POI_KEYS:
        value = tags.get(key)
        if value is not None and (key, value) in POI_KINDS:
            return POI_KINDS[(key, value)]
    return None


def _feature(geom: dict, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geom, "properties": props}


def _polygonal(geojson: str) -> dict | None:
    geom = shape(json.loads(geojson))
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        if geom.geom_type == "GeometryCollection":
            parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            geom = shapely.union_all(parts) if parts else None
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    return mapping(geom)


def _tags_kept(tags: Any) -> dict[str, str]:
    keep = ("building", "building:levels", "addr:street", "addr:housenumber", "height", "amenity", "leisure")
    return {k: tags.get(k) for k in keep if tags.get(k) is not None}


def read_osm(path: str | Path, progress: Progress | None = None) -> OsmData:
    """Roads, buildings and POIs of an extract as GeoJSON features (properties ready for the layers)."""
    factory = osmium.geom.GeoJSONFactory()
    out = OsmData()
    seen = 0
    for o in osmium.FileProcessor(str(path)).with_locations().with_areas():
        seen += 1
        if progress is not None and seen % 2000 == 0:
            progress(_("读取"), seen, None)
        if o.is_node():
            _read_node(o, factory, out)
        elif o.is_way():
            _read_way(o, factory, out)
        elif o.is_area():
            _read_area(o, factory, out)
    if progress is not None:
        progress(_("读取"), seen, seen)
    return out


def _read_node(o: Any, factory: Any, out: OsmData) -> None:
    """A node tagged as one of our POI kinds."""
    kind = poi_kind(o.tags) if len(o.tags) else None
    if not kind:
        return
    try:
        geom = json.loads(factory.create_point(o))
    except (osmium.InvalidLocationError, RuntimeError):
        out.skipped["poi"] += 1
        return
    props = {"layer": "poi", "kind": kind, "name": o.tags.get("name", ""), "osm_id": o.id}
    props["props"] = {"osm_type": "node", **_tags_kept(o.tags)}
    out.pois.append(_feature(geom, props))


def _read_way(o: Any, factory: Any, out: OsmData) -> None:
    """A highway as a road, walkable unless its kind or its access tags say otherwise."""
    hw = o.tags.get("highway")
    if hw is None:
        return
    try:
        geom = json.loads(factory.create_linestring(o))
    except (osmium.InvalidLocationError, RuntimeError):
        out.skipped["road"] += 1  # nodes outside the extract, or fewer than two distinct points
        return
    walkable = hw not in NOT_WALKABLE and o.tags.get("foot") != "no" and o.tags.get("access") != "no"
    props = {
        "kind": hw[:32],
        "name": o.tags.get("name", "")[:120],
        "osm_id": o.id,
        "width_m": parse_width(o.tags.get("width")),
        "walkable": walkable,
    }
    out.roads.append(_feature(geom, props))


def _read_area(o: Any, factory: Any, out: OsmData) -> None:
    """A closed way or multipolygon: a building, a POI, or both."""
    building = o.tags.get("building")
    kind = poi_kind(o.tags)
    if building is None and kind is None:
        return
    try:
        geom = _polygonal(factory.create_multipolygon(o))
    except (osmium.InvalidLocationError, RuntimeError, ValueError):
        geom = None
    if geom is None:
        out.skipped["building" if building else "poi"] += 1
        return
    osm_id = o.orig_id()
    osm_type = "way" if o.from_way() else "relation"
    name = o.tags.get("name", "")[:120]
    if building is not None:
        props = {"layer": "building", "kind": building[:32], "name": name, "osm_id": osm_id}
        props["props"] = {"osm_type": osm_type, **_tags_kept(o.tags)}
        out.buildings.append(_feature(geom, props))
    if kind is not None:
        props = {"layer": "poi", "kind": kind, "name": name, "osm_id": osm_id}
        props["props"] = {"osm_type": osm_type, **_tags_kept(o.tags)}
        out.pois.append(_feature(geom, props))


def import_osm(
    session: Session,
    actor: Principal,
    path: str | Path,
    community: int,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> OsmResult:
    """Read the extract and store it in the community: roads, buildings and POIs, all or none."""
    data = read_osm(path, progress)
    if replace:
        layers.delete_osm_rows(session, community)
    total = len(data.roads) + len(data.buildings) + len(data.pois)
    if progress is not None:
        progress(_("写入"), 0, total)
    layers.import_features(session, actor, "roads", community, data.roads)
    if progress is not None:
        progress(_("写入"), len(data.roads), total)
    layers.import_features(session, actor, "features", community, data.buildings + data.pois)
    if progress is not None:
        progress(_("写入"), total, total)
    kinds = Counter(f["properties"]["kind"] for f in data.pois)
    return OsmResult(len(data.roads), len(data.buildings), len(data.pois), dict(data.skipped), dict(kinds))


def run_cli_import(
    path: Path, community: int, *, replace: bool, progress: Progress, console: Console
) -> OsmResult | None:
    """The CLI's import, as the system; None after printing the errors (nothing was written)."""
    from renxing import migrate
    from renxing.db import get_engine, transaction

    engine = get_engine()
    migrate.upgrade(engine)
    try:
        with transaction(engine) as session:
            result = import_osm(session, SYSTEM, path, community, replace=replace, progress=progress)
    except ServiceError as exc:
        for e in exc.errors[:50]:
            console.print(f"[red]#{e.row} {e.field}[/red]: {e.message}")
        console.print(f"[red]{exc.message}[/red]")
        return None
    except RuntimeError as exc:  # osmium: unreadable or unknown file format
        console.print("[red]" + _("无法读取 OSM 文件：{error}").format(error=exc) + "[/red]")
        return None
    if result.skipped:
        console.print("[yellow]" + _("跳过（数据不全）") + f"[/yellow]: {result.skipped}")
    return result
