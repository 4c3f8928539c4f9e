"""A scenario's inputs read from the database: buildings with their tallies per mobility class,
shelters with the reason each is unusable, roads with the reason each is cut, the zones hit; and
the walking network built from them."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.errors import FieldError, Invalid
from renxing.geo.shapes import stored_shape
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import subtree_clause
from renxing.i18n import _
from renxing.people.vulnerability import MOBILITY_CLASSES
from renxing.space import exposure, population
from renxing.space.models import DepthClass, HazardKind, HazardZone, Road, Shelter, ShelterStatus
from renxing.space.network import RoadGraph, RoadLine
from renxing.space.planning.spec import Spec

CLASSES = MOBILITY_CLASSES  # normal, slow, aided, wheelchair, bedridden: the register's and the planner's
SLOW_AGE = 65
DEEP_FLOOD = frozenset({DepthClass.d_0_5_1.value, DepthClass.gt_1.value})  # 0.5 m and deeper cuts a road


@dataclass
class Inputs:
    community: GridUnit
    spec: Spec
    buildings: list[dict[str, Any]] = field(default_factory=list)  # id, name, lon, lat, persons, evacuate, zones
    shelters: list[dict[str, Any]] = field(default_factory=list)  # id, name, lon, lat, capacity, status, usable, reason
    roads: list[dict[str, Any]] = field(default_factory=list)  # id, name, coords (lines), cut, reason
    zones: list[dict[str, Any]] = field(default_factory=list)  # id, name, kind, level, depth_class, geometry

    def fingerprint(self) -> str:
        body = {
            "spec": self.spec.as_dict() | {"scenario_id": None, "name": ""},
            "b": [(b["id"], b["lon"], b["lat"], b["persons"], b["evacuate"]) for b in self.buildings],
            "s": [(s["id"], s["lon"], s["lat"], s["capacity"], s["usable"]) for s in self.shelters],
            "r": [(r["id"], r["coords"], r["cut"]) for r in self.roads],
        }
        return hashlib.sha256(json.dumps(body, separators=(",", ":"), default=str).encode()).hexdigest()


def mobility_class(mobility: str | None, bedridden: bool, aged: bool) -> str:
    """The walking class of a resident; ``aged``: SLOW_AGE or older."""
    if bedridden or mobility == "bedridden":
        return "bedridden"
    if mobility in ("aided", "wheelchair", "slow"):
        return mobility
    return "slow" if aged else "normal"


def aged_cutoff(today: date) -> date:
    """Born on or before this day: SLOW_AGE or older today (29 February counts from 1 March)."""
    try:
        return today.replace(year=today.year - SLOW_AGE)
    except ValueError:
        return date(today.year - SLOW_AGE, 2, 28)


def _lines(g: BaseGeometry | None) -> list[list[list[float]]]:
    if g is None:
        return []
    if g.geom_type == "LineString":
        return [[[round(x, 7), round(y, 7)] for x, y in g.coords]]
    if g.geom_type == "MultiLineString":
        return [[[round(x, 7), round(y, 7)] for x, y in part.coords] for part in g.geoms]
    return []


def _in_zone(zone: BaseGeometry, g: BaseGeometry | None, lon: float | None, lat: float | None) -> bool:
    """A shelter's ground overlaps the zone, or its entrance point lies in it."""
    if g is not None and g.geom_type in ("Polygon", "MultiPolygon") and g.intersection(zone).area > 0:
        return True
    return lon is not None and lat is not None and bool(shapely.intersects_xy(zone, lon, lat))


def load_inputs(session: Session, community: GridUnit, spec: Spec, today: date | None = None) -> Inputs:
    inputs = Inputs(community=community, spec=spec)
    zones = (
        list(session.scalars(select(HazardZone).where(HazardZone.id.in_(spec.hazard_zone_ids)).order_by(HazardZone.id)))
        if spec.hazard_zone_ids
        else []
    )
    zone_geoms = [stored_shape(z.geometry) for z in zones]
    inputs.zones = [
        {
            "id": z.id,
            "name": z.name,
            "kind": z.kind,
            "level": z.level,
            "depth_class": z.depth_class,
            "geometry": json.loads(z.geometry) if z.geometry else None,
        }
        for z in zones
    ]
    inputs.buildings = _buildings(session, community, spec, zones, zone_geoms, today or date.today())
    inputs.shelters = _shelters(session, community, spec, zone_geoms)
    inputs.roads = _roads(session, community, spec, zones, zone_geoms)
    return inputs


def _buildings(
    session: Session,
    community: GridUnit,
    spec: Spec,
    zones: list[HazardZone],
    zone_geoms: list[BaseGeometry | None],
    today: date,
) -> list[dict[str, Any]]:
    """Every building of the community with its persons per class and whether it evacuates."""
    units = list(
        session.scalars(
            select(GridUnit)
            .where(GridUnit.level == Level.building.value, subtree_clause(GridUnit.path, community.path))
            .order_by(GridUnit.code)
        )
    )
    counts: dict[int, dict[str, int]] = {u.id: dict.fromkeys(CLASSES, 0) for u in units}
    # Counted in the database: a community has thousands of residents and a plan needs tallies only.
    for bid, mobility, bedridden, is_aged, n in population.mobility_tallies(
        session, community.path, aged_cutoff(today)
    ):
        if bid in counts:
            counts[bid][mobility_class(mobility, bedridden, is_aged)] += n
    hit = (
        exposure.exposed_buildings(zone_geoms, [exposure.BuildingShape(u.id, u.lon, u.lat, u.geometry) for u in units])
        if zones
        else {}
    )
    everyone = spec.evacuate_all or not zones
    return [
        {
            "id": u.id,
            "name": u.name,
            "lon": u.lon,
            "lat": u.lat,
            "persons": counts[u.id],
            "evacuate": bool(everyone or u.id in hit) and sum(counts[u.id].values()) > 0,
            "zones": [zones[k].id for k in hit.get(u.id, [])],
        }
        for u in units
    ]


def _shelter_reason(
    s: Shelter, g: BaseGeometry | None, at: tuple[float | None, float | None], spec: Spec, union: BaseGeometry | None
) -> str | None:
    """Why a shelter cannot take anyone in this scenario; None when it can."""
    lon, lat = at
    if s.id in spec.closed_shelter_ids:
        return "closed_by_scenario"
    if s.status == ShelterStatus.closed.value:
        return "closed"
    if s.status == ShelterStatus.candidate.value and s.id not in spec.open_candidate_ids:
        return "candidate"
    if union is not None and _in_zone(union, g, lon, lat):
        return "in_hazard_zone"
    if lon is None or lat is None:
        return "no_location"
    return None


def _shelters(
    session: Session, community: GridUnit, spec: Spec, zone_geoms: list[BaseGeometry | None]
) -> list[dict[str, Any]]:
    live = [g for g in zone_geoms if g is not None]
    union = shapely.union_all(live) if live else None
    out = []
    for s in session.scalars(select(Shelter).where(Shelter.unit_id == community.id).order_by(Shelter.id)):
        g = stored_shape(s.geometry)
        lon, lat = s.lon, s.lat
        if (lon is None or lat is None) and g is not None:
            p = g.representative_point()
            lon, lat = p.x, p.y
        reason = _shelter_reason(s, g, (lon, lat), spec, union)
        out.append(
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "lon": lon,
                "lat": lat,
                "capacity": int(s.capacity or 0),
                "status": s.status,
                "candidate": s.status == ShelterStatus.candidate.value,
                "usable": reason is None,
                "reason": reason,
            }
        )
    return out


def _roads(
    session: Session,
    community: GridUnit,
    spec: Spec,
    zones: list[HazardZone],
    zone_geoms: list[BaseGeometry | None],
) -> list[dict[str, Any]]:
    deep = [
        g
        for z, g in zip(zones, zone_geoms, strict=True)
        if g is not None and z.kind == HazardKind.flood.value and z.depth_class in DEEP_FLOOD
    ]
    deep_union = shapely.union_all(deep) if deep else None
    if deep_union is not None:
        shapely.prepare(deep_union)
    cuts = set(spec.cut_road_ids)
    out = []
    for r in session.scalars(select(Road).where(Road.unit_id == community.id).order_by(Road.id)):
        g = stored_shape(r.geometry)
        reason = None
        if r.id in cuts:
            reason = "cut_by_scenario"
        elif not r.walkable:
            reason = "not_walkable"
        elif deep_union is not None and g is not None and deep_union.intersects(g):
            reason = "flooded"
        out.append(
            {
                "id": r.id,
                "name": r.name,
                "kind": r.kind,
                "coords": _lines(g),
                "cut": reason is not None,
                "reason": reason,
            }
        )
    return out


def road_graph(inputs: Inputs, sites: list[tuple[float, float]] | None = None) -> RoadGraph:
    """The walking network of the scenario: the roads still usable, and of those only the parts that
    lead to one of ``sites`` (default: the usable shelters). Cut roads are left out and so are pieces
    the cuts have isolated, so a door is joined to the nearest road that still leads somewhere."""
    lines = [
        RoadLine(id=r["id"], coords=[tuple(p) for p in part], kind=r["kind"])
        for r in inputs.roads
        if not r["cut"]
        for part in r["coords"]
        if len(part) >= 2
    ]
    graph = RoadGraph.from_lines(lines)
    if graph.n_nodes == 0:
        raise Invalid(
            _("社区没有可步行的道路"),
            [FieldError("roads", _("请先导入或绘制道路"), value=inputs.community.name)],
        )
    if sites is None:
        sites = [(s["lon"], s["lat"]) for s in inputs.shelters if s["usable"]]
    if not sites:
        return graph
    labels = graph.components()
    site_nodes, _distances = graph.snap([x for x, _ in sites], [y for _, y in sites])
    wanted = set(labels[site_nodes].tolist())
    first, _first_distances = graph.snap([ln.coords[0][0] for ln in lines], [ln.coords[0][1] for ln in lines])
    keep = [ln for ln, node in zip(lines, first.tolist(), strict=True) if labels[node] in wanted]
    return RoadGraph.from_lines(keep) if len(keep) < len(lines) else graph
