"""Evacuation planning from the database: a scenario → the inputs of the pure planner → a plan.

A scenario names the hazard zones hit, the roads cut and the shelters switched on or off. From it:

- buildings inside a hit zone must evacuate (every building when the scenario says so, or when it
  hits no zone: a drill or an earthquake);
- shelters inside a hit zone are closed; candidates the scenario switches on are open;
- roads crossing a hit flood zone at least 0.5 m deep are cut, and so are the scenario's own cuts;
- residents are counted per building and mobility class from the register (living here, not
  removed; aged 65+ with normal mobility walk as "slow"; bedridden people need carriers).

The pure ``evacuation.plan`` assigns them optimally. A plan carries counts only, never a person.
Each plan is keyed by a fingerprint of its inputs: a saved scenario keeps its last plan and recomputes
when the register, the layers or the scenario change; unsaved scenarios share a small in-process cache.
"""

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.exporting import to_xlsx
from renxing.geo.coords import CRS, convert_geometry
from renxing.geo.shapes import stored_shape
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import subtree_clause
from renxing.people.models import Resident
from renxing.people.vulnerability import MOBILITY_CLASSES
from renxing.space import coverage as shelter_coverage
from renxing.space import evacuation, exposure
from renxing.space import service as space
from renxing.space.models import DepthClass, EvacScenario, HazardKind, HazardZone, Road, Shelter, ShelterStatus
from renxing.space.network import RoadGraph, RoadLine
from renxing.space.siting import network_costs, solve_pmedian

# Roles that plan and read plans: the community's staff, the street, and grid workers who lead people out.
PLANNERS = frozenset({Role.community_staff, Role.street_admin, Role.grid_worker})
CLASSES = MOBILITY_CLASSES  # normal, slow, aided, wheelchair, bedridden: the register's and the planner's
CLASS_LABELS = {
    "normal": ("成人", "adults"),
    "slow": ("老年/行动慢", "elderly / slow"),
    "aided": ("借助助行器", "walking aids"),
    "wheelchair": ("轮椅", "wheelchair"),
    "bedridden": ("卧床（需担架）", "bedridden (carried)"),
}
SLOW_AGE = 65
DEEP_FLOOD = frozenset({DepthClass.d_0_5_1.value, DepthClass.gt_1.value})  # 0.5 m and deeper cuts a road
COVERAGE_RADII = (500.0, 1000.0)
MAX_DOOR_TO_ROAD_M = 300.0
_CACHE_SIZE = 32


# ---- the scenario ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What a plan is computed for; a saved scenario or one built on the page."""

    community_id: int
    hazard_zone_ids: tuple[int, ...] = ()
    cut_road_ids: tuple[int, ...] = ()
    open_candidate_ids: tuple[int, ...] = ()
    closed_shelter_ids: tuple[int, ...] = ()
    evacuate_all: bool = False
    scenario_id: int | None = None
    name: str = ""

    def with_open(self, candidate_ids: list[int]) -> "Spec":
        merged = tuple(sorted(set(self.open_candidate_ids) | set(candidate_ids)))
        return Spec(**{**asdict(self), "open_candidate_ids": merged, "scenario_id": None})

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("hazard_zone_ids", "cut_road_ids", "open_candidate_ids", "closed_shelter_ids"):
            d[k] = list(d[k])
        return d


def _ids(raw: Any, name: str, errors: Collector) -> tuple[int, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [p for p in raw.replace("，", ",").split(",") if p.strip()]
    if not isinstance(raw, list | tuple | set):
        errors.add(name, "应为编号列表 / must be a list of ids", value=raw)
        return ()
    out = []
    for v in raw:
        n = _id(v)
        if n is None:
            errors.add(name, "应为整数编号 / ids must be whole numbers", value=v)
            continue
        out.append(n)
    return tuple(sorted(set(out)))


def _id(v: Any) -> int | None:
    """A row id, or None; within a 32-bit integer so that no database chokes on it."""
    if isinstance(v, bool):
        return None
    try:
        n = int(str(v).strip())
    except ValueError:
        return None
    return n if 0 < n < 2**31 else None


_TRUE, _FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no", "")


def _flag(raw: Any, name: str, errors: Collector) -> bool:
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    text = str(raw).strip().lower()
    if text not in _TRUE + _FALSE:
        errors.add(name, "应为是或否 / must be true or false", value=raw)
    return text in _TRUE


def spec_from(values: dict[str, Any], errors: Collector) -> Spec | None:
    """A Spec from loose input (JSON body or query string); bad shapes are added to ``errors``."""
    community = values.get("community_id", values.get("community"))
    community_id = _id(community)
    if community_id is None:
        errors.add("community_id", "请指定社区 / community_id is required", value=community)
        return None
    spec = Spec(
        community_id=community_id,
        hazard_zone_ids=_ids(values.get("hazard_zone_ids"), "hazard_zone_ids", errors),
        cut_road_ids=_ids(values.get("cut_road_ids"), "cut_road_ids", errors),
        open_candidate_ids=_ids(values.get("open_candidate_ids"), "open_candidate_ids", errors),
        closed_shelter_ids=_ids(values.get("closed_shelter_ids"), "closed_shelter_ids", errors),
        evacuate_all=_flag(values.get("evacuate_all"), "evacuate_all", errors),
    )
    return spec


def _require_planner(actor: Principal, perm: Perm = Perm.space_read) -> None:
    actor.require(perm)
    if not actor.is_system and actor.role not in PLANNERS:
        raise Forbidden(f"角色无权查看疏散规划 / role {actor.role.value} may not read evacuation plans")


def community_of(session: Session, actor: Principal, community_id: int, *, write: bool = False) -> GridUnit:
    """The community, if the actor plans for it (reads: scope reaches it; writes: scope covers it)."""
    _require_planner(actor, Perm.space_write if write else Perm.space_read)
    unit = session.get(GridUnit, community_id)
    if unit is None or unit.level != Level.community.value:
        raise Invalid(
            "社区不存在 / no such community", [FieldError("community_id", "not a community", value=str(community_id))]
        )
    allowed = actor.covers_path(unit.path) if write else actor.sees_unit(unit.path)
    if not allowed:
        raise Forbidden(f"不在您的网格范围内 / community {community_id} is outside your scope")
    return unit


def planning_communities(session: Session, actor: Principal) -> list[GridUnit]:
    _require_planner(actor)
    rows = session.scalars(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.code))
    return [c for c in rows if actor.sees_unit(c.path)]


def validate(session: Session, spec: Spec, errors: Collector) -> None:
    """Every id of the scenario belongs to its community and is of the right kind."""

    def check(model: type, ids: tuple[int, ...], name: str, ok: Any = None, why: str = "") -> None:
        if not ids:
            return
        rows = {r.id: r for r in session.scalars(select(model).where(model.id.in_(ids)))}
        for i in ids:
            row = rows.get(i)
            if row is None or row.unit_id != spec.community_id:
                errors.add(name, "不属于该社区 / not in this community", value=i)
            elif ok is not None and not ok(row):
                errors.add(name, why, value=i)

    check(HazardZone, spec.hazard_zone_ids, "hazard_zone_ids")
    check(Road, spec.cut_road_ids, "cut_road_ids")
    check(
        Shelter,
        spec.open_candidate_ids,
        "open_candidate_ids",
        lambda s: s.status == ShelterStatus.candidate.value,
        "不是候选场所 / not a conversion candidate",
    )
    check(Shelter, spec.closed_shelter_ids, "closed_shelter_ids")
    both = set(spec.open_candidate_ids) & set(spec.closed_shelter_ids)
    for i in sorted(both):
        errors.add(
            "closed_shelter_ids", "同一场所不能既开放又关闭 / a shelter cannot be both opened and closed", value=i
        )


# ---- inputs from the database ------------------------------------------------------------------


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
    today = today or date.today()
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
    units = list(
        session.scalars(
            select(GridUnit)
            .where(GridUnit.level == Level.building.value, subtree_clause(GridUnit.path, community.path))
            .order_by(GridUnit.code)
        )
    )
    counts: dict[int, dict[str, int]] = {u.id: dict.fromkeys(CLASSES, 0) for u in units}
    # Counted in the database: a community has thousands of residents and a plan needs tallies only.
    aged = case((Resident.birth_date <= aged_cutoff(today), True), else_=False)
    rows = session.execute(
        select(Household.building_id, Resident.mobility, Resident.bedridden, aged, func.count())
        .join(Resident, Resident.household_id == Household.id)
        .where(
            subtree_clause(Resident.path, community.path),
            Resident.deleted_at.is_(None),
            Resident.lives_here.is_(True),
        )
        .group_by(Household.building_id, Resident.mobility, Resident.bedridden, aged)
    )
    for bid, mobility, bedridden, is_aged, n in rows:
        if bid in counts:
            counts[bid][mobility_class(mobility, bool(bedridden), bool(is_aged))] += n
    hit = (
        exposure.exposed_buildings(zone_geoms, [exposure.BuildingShape(u.id, u.lon, u.lat, u.geometry) for u in units])
        if zones
        else {}
    )
    everyone = spec.evacuate_all or not zones
    for u in units:
        persons = counts[u.id]
        inputs.buildings.append(
            {
                "id": u.id,
                "name": u.name,
                "lon": u.lon,
                "lat": u.lat,
                "persons": persons,
                "evacuate": bool(everyone or u.id in hit) and sum(persons.values()) > 0,
                "zones": [zones[k].id for k in hit.get(u.id, [])],
            }
        )
    live = [g for g in zone_geoms if g is not None]
    union = shapely.union_all(live) if live else None
    closed = set(spec.closed_shelter_ids)
    opened = set(spec.open_candidate_ids)
    for s in session.scalars(select(Shelter).where(Shelter.unit_id == community.id).order_by(Shelter.id)):
        g = stored_shape(s.geometry)
        lon, lat = s.lon, s.lat
        if (lon is None or lat is None) and g is not None:
            p = g.representative_point()
            lon, lat = p.x, p.y
        reason = None
        if s.id in closed:
            reason = "closed_by_scenario"
        elif s.status == ShelterStatus.closed.value:
            reason = "closed"
        elif s.status == ShelterStatus.candidate.value and s.id not in opened:
            reason = "candidate"
        elif union is not None and _in_zone(union, g, lon, lat):
            reason = "in_hazard_zone"
        elif lon is None or lat is None:
            reason = "no_location"
        inputs.shelters.append(
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
    deep = [
        g
        for z, g in zip(zones, zone_geoms, strict=True)
        if g is not None and z.kind == HazardKind.flood.value and z.depth_class in DEEP_FLOOD
    ]
    deep_union = shapely.union_all(deep) if deep else None
    if deep_union is not None:
        shapely.prepare(deep_union)
    cuts = set(spec.cut_road_ids)
    for r in session.scalars(select(Road).where(Road.unit_id == community.id).order_by(Road.id)):
        g = stored_shape(r.geometry)
        reason = None
        if r.id in cuts:
            reason = "cut_by_scenario"
        elif not r.walkable:
            reason = "not_walkable"
        elif deep_union is not None and g is not None and deep_union.intersects(g):
            reason = "flooded"
        inputs.roads.append(
            {
                "id": r.id,
                "name": r.name,
                "kind": r.kind,
                "coords": _lines(g),
                "cut": reason is not None,
                "reason": reason,
            }
        )
    return inputs


# ---- the plan ----------------------------------------------------------------------------------

_cache: "OrderedDict[tuple[str, str], dict[str, Any]]" = OrderedDict()
_cache_lock = threading.Lock()


def _cached(key: tuple[str, str]) -> dict[str, Any] | None:
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        return hit


def _remember(key: tuple[str, str], plan: dict[str, Any]) -> None:
    with _cache_lock:
        _cache[key] = plan
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def _db_key(session: Session) -> str:
    return str(session.get_bind().url)


def _assemble(inputs: Inputs, raw: dict[str, Any]) -> dict[str, Any]:
    """The plan as pages and the API show it: per building, per shelter, totals. Counts only."""
    shelters = {s["id"]: s for s in inputs.shelters}
    per_building: dict[int, dict[str, Any]] = {}
    evacuating = [b for b in inputs.buildings if b["evacuate"]]
    for b in evacuating:
        total = sum(b["persons"].values())
        per_building[b["id"]] = {
            "id": b["id"],
            "name": b["name"],
            "lon": b["lon"],
            "lat": b["lat"],
            "zones": b["zones"],
            "persons": {**b["persons"], "total": total},
            "routes": [],
            "unplaced": 0,
            "unplaced_by_class": dict.fromkeys(CLASSES, 0),
            "unplaced_reason": None,
            "bedridden": b["persons"]["bedridden"],
            "shelter_id": None,
            "shelter_name": None,
            "distance_m": None,
            "time_s": None,
        }
    assigned: dict[int, int] = {}
    routes: dict[tuple[int, int], dict[str, Any]] = {}
    for a in raw["assignments"]:
        b = per_building[a["building_id"]]
        key = (a["building_id"], a["shelter_id"])
        rt = routes.get(key)
        if rt is None:
            s = shelters[a["shelter_id"]]
            rt = {
                "shelter_id": s["id"],
                "shelter_name": s["name"],
                "persons": 0,
                "by_class": dict.fromkeys(CLASSES, 0),
                "distance_m": round(a["distance_m"], 1),
                "time_s": 0.0,
                "path": a.get("path") or [],
            }
            routes[key] = rt
            b["routes"].append(rt)
        rt["persons"] += a["persons"]
        rt["by_class"][a["class"]] += a["persons"]
        rt["time_s"] = round(max(rt["time_s"], a["time_s"]), 1)  # the slowest class walking it
        assigned[a["shelter_id"]] = assigned.get(a["shelter_id"], 0) + a["persons"]
    for u in raw["unplaced"]:
        b = per_building[u["building_id"]]
        b["unplaced"] += u["persons"]
        b["unplaced_by_class"][u["class"]] += u["persons"]
        b["unplaced_reason"] = b["unplaced_reason"] or u["reason"]
    for b in per_building.values():
        if b["routes"]:
            b["routes"].sort(key=lambda r: -r["persons"])
            main = b["routes"][0]
            b["shelter_id"], b["shelter_name"] = main["shelter_id"], main["shelter_name"]
            b["distance_m"] = max(r["distance_m"] for r in b["routes"])
            b["time_s"] = max(r["time_s"] for r in b["routes"])
    blist = sorted(per_building.values(), key=lambda b: (b["unplaced"] == 0, -(b["time_s"] or 0)))
    persons = {c: sum(b["persons"][c] for b in blist) for c in CLASSES}
    total = sum(persons.values())
    unplaced_total = sum(b["unplaced"] for b in blist)
    # Each class at its own pace (a route's time_s is its slowest class).
    person_time = sum(a["persons"] * a["time_s"] for a in raw["assignments"])
    placed = total - unplaced_total
    shelter_rows = []
    cut_off = set(raw.get("cut_off_shelters") or ())
    for s in inputs.shelters:
        usable = s["usable"] and s["id"] not in cut_off
        status = "open" if usable else "closed"
        if usable and s["candidate"]:
            status = "candidate_open"
        shelter_rows.append(
            {
                "id": s["id"],
                "name": s["name"],
                "kind": s["kind"],
                "lon": s["lon"],
                "lat": s["lat"],
                "capacity": s["capacity"],
                "assigned": assigned.get(s["id"], 0),
                "status": status,
                "reason": "no_road_access" if s["id"] in cut_off else s["reason"],
            }
        )
    return {
        "community": {"id": inputs.community.id, "name": inputs.community.name},
        "spec": inputs.spec.as_dict(),
        "totals": {
            "buildings": len(blist),
            "persons": {**persons, "total": total},
            "placed": placed,
            "unplaced": unplaced_total,
            "carriers_needed": persons["bedridden"],
            "clearance_s": round(raw["clearance_s"], 1) if raw.get("clearance_s") is not None else None,
            "clearance": raw.get("clearance"),
            "person_time_s": round(person_time, 1),
            "mean_time_s": round(person_time / placed, 1) if placed else None,
            "open_shelters": sum(1 for s in shelter_rows if s["status"] in ("open", "candidate_open")),
            "capacity": sum(s["capacity"] for s in shelter_rows if s["status"] in ("open", "candidate_open")),
        },
        "buildings": blist,
        "shelters": shelter_rows,
        "unplaced": [
            {
                "building_id": b["id"],
                "name": b["name"],
                "persons": b["unplaced"],
                "by_class": b["unplaced_by_class"],
                "reason": b["unplaced_reason"],
            }
            for b in blist
            if b["unplaced"]
        ],
        "bedridden": [
            {
                "building_id": b["id"],
                "name": b["name"],
                "count": b["bedridden"],
                "shelter_name": next((r["shelter_name"] for r in b["routes"] if r["by_class"]["bedridden"]), None),
            }
            for b in blist
            if b["bedridden"]
        ],
        "zones": inputs.zones,
        "cut_roads": [
            {"id": r["id"], "name": r["name"], "reason": r["reason"], "coords": r["coords"]}
            for r in inputs.roads
            if r["cut"] and r["reason"] != "not_walkable"
        ],
    }


def plan_for_community(
    session: Session, community: GridUnit, spec: Spec, scenario: EvacScenario | None = None
) -> dict[str, Any]:
    """The plan of ``spec`` for ``community``, cached by the fingerprint of its inputs. The caller
    has already checked that the actor may read this community (counts only: no personal data)."""
    inputs = load_inputs(session, community, spec)
    fp = inputs.fingerprint()
    if scenario is not None and scenario.plan and scenario.plan_fingerprint == fp:
        return {**scenario.plan, "cached": True}
    key = (_db_key(session), fp)
    hit = _cached(key)
    if hit is not None:
        result = {**hit, "cached": True}
    else:
        result = _assemble(inputs, _solve(inputs))
        result["fingerprint"] = fp
        result["computed_at"] = utcnow().isoformat()
        _remember(key, result)
        result = {**result, "cached": False}
    result["spec"] = spec.as_dict()
    if scenario is not None:
        # The cache of a saved scenario: not a change of anyone's data, so not audited.
        scenario.plan = {k: v for k, v in result.items() if k != "cached"}
        scenario.plan_fingerprint = fp
        scenario.plan_computed_at = utcnow()
    return result


def plan(session: Session, actor: Principal, spec: Spec) -> dict[str, Any]:
    """The evacuation plan for a scenario given on the spot (validated; nothing stored)."""
    community = community_of(session, actor, spec.community_id)
    errors = Collector()
    validate(session, spec, errors)
    errors.raise_if_any("情景有误 / invalid scenario")
    return plan_for_community(session, community, spec)


def compare_plans(base: dict[str, Any], alt: dict[str, Any]) -> dict[str, Any]:
    """Two plans of one community side by side: totals, their change, and the buildings that gain."""
    before = {b["id"]: b for b in base["buildings"]}
    gains = []
    for b in alt["buildings"]:
        a = before.get(b["id"])
        if a is None:
            continue
        newly = a["unplaced"] - b["unplaced"]
        saved = None
        if a["time_s"] is not None and b["time_s"] is not None:
            saved = round(a["time_s"] - b["time_s"], 1)
        if newly > 0 or (saved is not None and saved > 0.5):
            gains.append(
                {
                    "building_id": b["id"],
                    "name": b["name"],
                    "newly_placed": max(newly, 0),
                    "time_saved_s": saved if saved and saved > 0 else 0.0,
                    "before_shelter": a["shelter_name"],
                    "after_shelter": b["shelter_name"],
                    "before_time_s": a["time_s"],
                    "after_time_s": b["time_s"],
                    "persons": b["persons"]["total"],
                }
            )
    gains.sort(key=lambda g: (-g["newly_placed"], -g["time_saved_s"]))

    def delta(key: str) -> float | None:
        x, y = base["totals"].get(key), alt["totals"].get(key)
        return None if x is None or y is None else round(y - x, 1)

    out = {
        "base": base,
        "alt": alt,
        "opened": sorted(set(alt["spec"]["open_candidate_ids"]) - set(base["spec"]["open_candidate_ids"])),
        "change": {
            k: delta(k) for k in ("unplaced", "placed", "clearance_s", "person_time_s", "mean_time_s", "capacity")
        },
        "gains": gains,
        "gaining_persons": sum(g["newly_placed"] for g in gains),
    }
    if base.get("coverage") and alt.get("coverage"):
        out["change"]["coverage"] = {
            key: round((alt["coverage"][key]["share"] or 0.0) - (base["coverage"][key]["share"] or 0.0), 4)
            for key in (str(int(r)) for r in COVERAGE_RADII)
        }
    return out


def what_if(session: Session, actor: Principal, spec: Spec, open_candidates: list[int]) -> dict[str, Any]:
    """The scenario as it is against the scenario with more conversion candidates switched on."""
    errors = Collector()
    if not open_candidates:
        errors.add("open_candidates", "请选择要启用的候选场所 / choose the candidates to switch on")
    errors.raise_if_any("情景有误 / invalid scenario")
    alt_spec = spec.with_open(open_candidates)
    community = community_of(session, actor, spec.community_id)
    validate(session, spec, errors)
    check = Collector()
    validate(session, alt_spec, check)
    errors.errors += [FieldError("open_candidates", e.message, e.row, e.value) for e in check.errors]
    errors.raise_if_any("情景有误 / invalid scenario")
    base = _with_coverage(session, community, spec, plan_for_community(session, community, spec))
    alt = _with_coverage(session, community, alt_spec, plan_for_community(session, community, alt_spec))
    return compare_plans(base, alt)


# ---- saved scenarios ---------------------------------------------------------------------------


def _scenario(session: Session, actor: Principal, scenario_id: int, *, write: bool = False) -> EvacScenario:
    _require_planner(actor, Perm.space_write if write else Perm.space_read)
    sc = session.get(EvacScenario, scenario_id)
    unit = session.get(GridUnit, sc.unit_id) if sc is not None else None
    if sc is None or unit is None or not (actor.covers_path(unit.path) if write else actor.sees_unit(unit.path)):
        raise NotFound(f"情景不存在 / scenario {scenario_id} not found")
    return sc


def spec_of(sc: EvacScenario) -> Spec:
    return Spec(
        community_id=sc.unit_id,
        hazard_zone_ids=tuple(sc.hazard_zone_ids or ()),
        cut_road_ids=tuple(sc.cut_road_ids or ()),
        open_candidate_ids=tuple(sc.open_candidate_ids or ()),
        closed_shelter_ids=tuple(sc.closed_shelter_ids or ()),
        evacuate_all=sc.evacuate_all,
        scenario_id=sc.id,
        name=sc.name,
    )


def present_scenario(sc: EvacScenario) -> dict[str, Any]:
    return {
        "id": sc.id,
        "community_id": sc.unit_id,
        "name": sc.name,
        "note": sc.note,
        "hazard_zone_ids": list(sc.hazard_zone_ids or []),
        "cut_road_ids": list(sc.cut_road_ids or []),
        "open_candidate_ids": list(sc.open_candidate_ids or []),
        "closed_shelter_ids": list(sc.closed_shelter_ids or []),
        "evacuate_all": sc.evacuate_all,
        "created_at": sc.created_at.isoformat() if sc.created_at else None,
        "updated_at": sc.updated_at.isoformat() if sc.updated_at else None,
        "plan_computed_at": sc.plan_computed_at.isoformat() if sc.plan_computed_at else None,
        "plan_fingerprint": sc.plan_fingerprint,
    }


_SNAPSHOT = [
    "unit_id",
    "name",
    "note",
    "hazard_zone_ids",
    "cut_road_ids",
    "open_candidate_ids",
    "closed_shelter_ids",
    "evacuate_all",
]


def _name(values: dict[str, Any], errors: Collector, required: bool) -> str | None:
    raw = values.get("name")
    if raw is None and not required:
        return None
    name = str(raw or "").strip()
    if not name:
        errors.add("name", "请填写情景名称 / name is required")
    elif len(name) > 120:
        errors.add("name", "名称太长 / name too long (120 at most)", value=name[:20])
    return name


def list_scenarios(session: Session, actor: Principal, community_id: int | None = None) -> list[EvacScenario]:
    _require_planner(actor)
    ids = [c.id for c in planning_communities(session, actor)]
    if community_id is not None:
        community_of(session, actor, community_id)
        ids = [community_id]
    if not ids:
        return []
    stmt = select(EvacScenario).where(EvacScenario.unit_id.in_(ids)).order_by(EvacScenario.unit_id, EvacScenario.name)
    return list(session.scalars(stmt))


def get_scenario(session: Session, actor: Principal, scenario_id: int) -> EvacScenario:
    return _scenario(session, actor, scenario_id)


def create_scenario(session: Session, actor: Principal, values: dict[str, Any]) -> EvacScenario:
    _require_planner(actor, Perm.space_write)
    errors = Collector()
    name = _name(values, errors, True)
    spec = spec_from(values, errors)
    if spec is not None:
        community_of(session, actor, spec.community_id, write=True)
        validate(session, spec, errors)
    errors.raise_if_any("情景有误 / invalid scenario")
    assert spec is not None
    sc = EvacScenario(
        unit_id=spec.community_id,
        name=name,
        note=(str(values.get("note")).strip() or None) if values.get("note") else None,
        hazard_zone_ids=list(spec.hazard_zone_ids),
        cut_road_ids=list(spec.cut_road_ids),
        open_candidate_ids=list(spec.open_candidate_ids),
        closed_shelter_ids=list(spec.closed_shelter_ids),
        evacuate_all=spec.evacuate_all,
        created_by=actor.user_id,
    )
    session.add(sc)
    session.flush()
    audit.record(
        session, actor, "create", "space.evac_scenario", sc.id, summary=sc.name, after=audit.snapshot(sc, _SNAPSHOT)
    )
    return sc


def update_scenario(session: Session, actor: Principal, scenario_id: int, patch: dict[str, Any]) -> EvacScenario:
    sc = _scenario(session, actor, scenario_id, write=True)
    before = audit.snapshot(sc, _SNAPSHOT)
    errors = Collector()
    unknown = set(patch) - {*_SNAPSHOT, "community_id"} - {"unit_id"}
    for k in sorted(unknown):
        errors.add(k, "未知字段 / unknown field")
    if "community_id" in patch or "unit_id" in patch:
        errors.add("community_id", "情景不能换社区 / a scenario cannot move to another community")
    name = _name(patch, errors, False)
    merged = {**present_scenario(sc), **{k: v for k, v in patch.items() if k in _SNAPSHOT}}
    spec = spec_from({**merged, "community_id": sc.unit_id}, errors)
    if spec is not None:
        validate(session, spec, errors)
    errors.raise_if_any("情景有误 / invalid scenario")
    assert spec is not None
    if name is not None:
        sc.name = name
    if "note" in patch:
        sc.note = (str(patch["note"]).strip() or None) if patch["note"] else None
    sc.hazard_zone_ids = list(spec.hazard_zone_ids)
    sc.cut_road_ids = list(spec.cut_road_ids)
    sc.open_candidate_ids = list(spec.open_candidate_ids)
    sc.closed_shelter_ids = list(spec.closed_shelter_ids)
    sc.evacuate_all = spec.evacuate_all
    session.flush()
    old, new = audit.changed(before, audit.snapshot(sc, _SNAPSHOT))
    if new:
        audit.record(session, actor, "update", "space.evac_scenario", sc.id, summary=sc.name, before=old, after=new)
    return sc


def delete_scenario(session: Session, actor: Principal, scenario_id: int) -> None:
    sc = _scenario(session, actor, scenario_id, write=True)
    before = audit.snapshot(sc, _SNAPSHOT)
    session.delete(sc)
    session.flush()
    audit.record(session, actor, "delete", "space.evac_scenario", scenario_id, summary=before["name"], before=before)


def scenario_plan(session: Session, actor: Principal, scenario_id: int) -> dict[str, Any]:
    """A saved scenario's plan: the cached one while its inputs are unchanged, else computed anew."""
    sc = _scenario(session, actor, scenario_id)
    community = community_of(session, actor, sc.unit_id)
    spec = spec_of(sc)
    errors = Collector()
    validate(session, spec, errors)  # a zone or road deleted since it was saved
    errors.raise_if_any("情景引用的要素已不存在 / the scenario refers to deleted features")
    return plan_for_community(session, community, spec, sc)


# ---- what the pages show -----------------------------------------------------------------------


def map_context(session: Session, actor: Principal, community_id: int | None, crs: str = "wgs84") -> dict[str, Any]:
    """The risk map page: the community, the others to switch to, the register's buildings, rights."""
    comms = space.communities(session, actor)
    if community_id is None:
        community = comms[0] if comms else None
    else:
        community = next((c for c in comms if c.id == community_id), None)
        if community is None:
            unit = session.get(GridUnit, community_id)
            if unit is None or unit.level != Level.community.value:
                raise NotFound(f"社区不存在 / community {community_id} not found")
            raise Forbidden(f"不在您的网格范围内 / community {community_id} is outside your scope")
    out: dict[str, Any] = {
        "community": community,
        "communities": comms,
        "can_write": False,
        "can_plan": not actor.is_system and actor.role in PLANNERS,
        "public_only": actor.role is Role.resident,
        "grid_buildings": {"type": "FeatureCollection", "features": []},
        "bounds": None,
    }
    if community is None:
        return out
    out["can_write"] = actor.can(Perm.space_write) and actor.covers_path(community.path)
    target = space.crs_param(crs)
    units = session.scalars(
        select(GridUnit)
        .where(GridUnit.level == Level.building.value, subtree_clause(GridUnit.path, community.path))
        .order_by(GridUnit.code)
    )
    feats = []
    geoms = []
    for u in units:
        g = stored_shape(u.geometry)
        if g is None and u.lon is not None and u.lat is not None:
            g = shapely.Point(u.lon, u.lat)
        if g is None:
            continue
        geoms.append(g)
        gj = shapely.geometry.mapping(g)
        gj = json.loads(json.dumps(gj))  # tuples → lists
        if target is not CRS.wgs84:
            gj = convert_geometry(gj, CRS.wgs84, target)
        feats.append({"type": "Feature", "geometry": gj, "properties": {"id": u.id, "name": u.name, "grid_unit": True}})
    out["grid_buildings"]["features"] = feats
    outline = stored_shape(community.geometry)
    if outline is not None:
        geoms.append(outline)
    if geoms:
        x0, y0, x1, y1 = shapely.union_all(geoms).bounds
        if target is not CRS.wgs84:
            x0, y0 = convert_geometry({"type": "Point", "coordinates": [x0, y0]}, CRS.wgs84, target)["coordinates"]
            x1, y1 = convert_geometry({"type": "Point", "coordinates": [x1, y1]}, CRS.wgs84, target)["coordinates"]
        out["bounds"] = [x0, y0, x1, y1]
    return out


def _param_ids(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [p for p in str(v).replace("，", ",").split(",") if p.strip()]
    return out


def evacuation_view(session: Session, actor: Principal, params: dict[str, Any]) -> dict[str, Any]:
    """Everything the evacuation page shows for its query: choices, the plan, the what-if, siting."""
    comms = planning_communities(session, actor)
    errors = Collector()
    ctx: dict[str, Any] = {
        "communities": comms,
        "community": None,
        "scenarios": [],
        "scenario": None,
        "zones": [],
        "roads": [],
        "shelters": [],
        "candidates": [],
        "spec": None,
        "plan": None,
        "whatif": None,
        "siting": None,
        "k": None,
        "can_write": False,
        "errors": errors.errors,
    }
    scenario = None
    if params.get("scenario"):
        sid = _id(params["scenario"])
        if sid is None:
            errors.add("scenario", "应为整数 / must be a whole number", value=params["scenario"])
        else:
            scenario = _scenario(session, actor, sid)
    community_id = scenario.unit_id if scenario is not None else None
    if community_id is None and params.get("community"):
        community_id = _id(params["community"])
        if community_id is None:
            errors.add("community", "应为整数 / must be a whole number", value=params["community"])
    if community_id is None and comms:
        community_id = comms[0].id
    if community_id is None:
        return ctx
    community = community_of(session, actor, community_id)
    ctx["community"] = community
    ctx["can_write"] = actor.can(Perm.space_write) and actor.covers_path(community.path)
    ctx["scenarios"] = list_scenarios(session, actor, community.id)
    ctx["scenario"] = scenario
    ctx["zones"] = space.rows_of(session, actor, "hazard_zones", community.id)
    # Roads are stored as segments between junctions: offer them by name, each name cutting all of its.
    groups: dict[str, list[int]] = {}
    for r in space.rows_of(session, actor, "roads", community.id):
        groups.setdefault(r.name or f"#{r.id}", []).append(r.id)
    ctx["roads"] = [{"name": name, "ids": ids, "value": ",".join(map(str, ids))} for name, ids in groups.items()]
    shelters = space.rows_of(session, actor, "shelters", community.id)
    ctx["shelters"] = [s for s in shelters if s.status != ShelterStatus.candidate.value]
    ctx["candidates"] = [s for s in shelters if s.status == ShelterStatus.candidate.value]
    if scenario is not None and not params.get("edit"):
        spec = spec_of(scenario)
    else:
        spec = spec_from(
            {
                "community_id": community.id,
                "hazard_zone_ids": _param_ids(params.get("zones")),
                "cut_road_ids": _param_ids(params.get("cut")),
                "open_candidate_ids": _param_ids(params.get("open")),
                "closed_shelter_ids": _param_ids(params.get("closed")),
                "evacuate_all": params.get("all") in ("1", "on", "true"),
            },
            errors,
        )
        if spec is not None and scenario is not None:
            spec = Spec(**{**spec.as_dict(), "scenario_id": scenario.id, "name": scenario.name})
    if spec is None or errors.errors:
        return ctx
    validate(session, spec, errors)
    ctx["spec"] = spec
    if errors.errors:
        return ctx
    whatif = _param_ids(params.get("whatif"))
    run = bool(params.get("run") or scenario is not None or whatif)
    if run:
        if whatif:
            extra = _ids(whatif, "whatif", errors)
            try:
                ctx["whatif"] = what_if(session, actor, spec, list(extra)) if not errors.errors else None
            except Invalid as exc:
                errors.errors += exc.errors
            if ctx["whatif"] is not None:
                ctx["plan"] = ctx["whatif"]["base"]
        else:
            # Only the scenario as saved refreshes its stored plan, not a variation tried on the page.
            saved = scenario if scenario is not None and spec == spec_of(scenario) else None
            try:
                result = plan_for_community(session, community, spec, saved)
                ctx["plan"] = _with_coverage(session, community, spec, result)
            except Invalid as exc:  # e.g. no road network yet: said on the page, beside the scenario
                errors.errors += exc.errors
    if params.get("k"):
        try:
            k = int(params["k"])
        except ValueError:
            errors.add("k", "应为整数 / must be a whole number", value=params["k"])
        else:
            ctx["k"] = k
            try:
                ctx["siting"] = siting(session, actor, community.id, k, spec)
            except Invalid as exc:
                errors.errors += exc.errors
    return ctx


PLAN_HEADERS = {
    "zh": [
        "楼栋",
        "撤离人数",
        *[CLASS_LABELS[c][0] for c in CLASSES],
        "避难场所",
        "人数",
        "距离（米）",
        "用时（分钟）",
        "未安置",
        "原因",
    ],
    "en": [
        "Building",
        "Evacuating",
        *[CLASS_LABELS[c][1] for c in CLASSES],
        "Shelter",
        "Persons",
        "Distance (m)",
        "Time (min)",
        "Without a place",
        "Reason",
    ],
}


def plan_table(
    session: Session, actor: Principal, params: dict[str, Any], lang: str
) -> tuple[list[str], list[list[Any]], str]:
    """The plan of the page's scenario as spreadsheet rows: one per building and shelter it goes to."""
    ctx = evacuation_view(session, actor, {**params, "run": "1", "whatif": None, "k": None})
    if ctx["errors"]:
        raise Invalid("情景有误 / invalid scenario", ctx["errors"])
    if ctx["plan"] is None:
        raise Invalid("没有可导出的方案 / no plan to export", [FieldError("community", "no community")])
    reasons = {
        "no_capacity": ("避难场所容量不足", "not enough shelter capacity"),
        "unreachable": ("无法到达任何开放场所", "no open shelter reachable"),
    }
    i = 1 if lang == "en" else 0
    rows: list[list[Any]] = []
    for b in ctx["plan"]["buildings"]:
        head = [b["name"], b["persons"]["total"], *[b["persons"][c] for c in CLASSES]]
        reason = reasons.get(b["unplaced_reason"] or "", (b["unplaced_reason"] or "",) * 2)[i] if b["unplaced"] else ""
        if not b["routes"]:
            rows.append([*head, "", 0, None, None, b["unplaced"], reason])
        for k, r in enumerate(b["routes"]):
            rows.append(
                [
                    *(head if k == 0 else [b["name"], None, *[None] * len(CLASSES)]),
                    r["shelter_name"],
                    r["persons"],
                    r["distance_m"],
                    round(r["time_s"] / 60, 1),
                    b["unplaced"] if k == 0 else None,
                    reason if k == 0 else "",
                ]
            )
    name = ctx["community"].name + ("-evacuation-plan" if lang == "en" else "-疏散方案")
    return PLAN_HEADERS["en" if lang == "en" else "zh"], rows, name


def export_plan(session: Session, actor: Principal, params: dict[str, Any], lang: str) -> tuple[bytes, str]:
    """The plan table as an .xlsx workbook and a file name (without extension)."""
    headers, rows, name = plan_table(session, actor, params, lang)
    return to_xlsx(headers, rows, sheet="Evacuation plan" if lang == "en" else "疏散方案"), name


# ---- the network and the pure planners -----------------------------------------------------------


def _road_graph(inputs: Inputs, sites: list[tuple[float, float]] | None = None) -> RoadGraph:
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
            "社区没有可步行的道路 / the community has no walkable road network",
            [FieldError("roads", "请先导入或绘制道路 / import or draw the roads first", value=inputs.community.name)],
        )
    if sites is None:
        sites = [(s["lon"], s["lat"]) for s in inputs.shelters if s["usable"]]
    if not sites:
        return graph
    labels = graph.components()
    site_nodes, _ = graph.snap([x for x, _ in sites], [y for _, y in sites])
    wanted = set(labels[site_nodes].tolist())
    first, _ = graph.snap([ln.coords[0][0] for ln in lines], [ln.coords[0][1] for ln in lines])
    keep = [ln for ln, node in zip(lines, first.tolist(), strict=True) if labels[node] in wanted]
    return RoadGraph.from_lines(keep) if len(keep) < len(lines) else graph


def _dedupe(path: list[list[float]]) -> list[list[float]]:
    """Drop repeated points (a door on a road node, an entrance on its node)."""
    out = [p for i, p in enumerate(path) if i == 0 or p != path[i - 1]]
    return out if len(out) >= 2 else path[:1] * 2 if path else []


def _solve(inputs: Inputs) -> dict[str, Any]:
    """Run the exact planner and flatten its answer into rows the plan is assembled from."""
    evacuating = [b for b in inputs.buildings if b["evacuate"]]
    located = [b for b in evacuating if b["lon"] is not None and b["lat"] is not None]
    unplaced: list[dict[str, Any]] = [
        {"building_id": b["id"], "class": c, "persons": n, "reason": "no_location_building"}
        for b in evacuating
        if b["lon"] is None or b["lat"] is None
        for c, n in b["persons"].items()
        if n
    ]
    if not located:
        return {"assignments": [], "unplaced": unplaced, "clearance_s": None, "clearance": None}
    graph = _road_graph(inputs)
    _, door_m = graph.snap([b["lon"] for b in located], [b["lat"] for b in located])
    # A door this far from any road that still leads to a shelter is cut off: rescue, not a walk.
    for b, far in zip(located, (door_m > MAX_DOOR_TO_ROAD_M).tolist(), strict=True):
        if far:
            unplaced += [
                {"building_id": b["id"], "class": c, "persons": n, "reason": "unreachable"}
                for c, n in b["persons"].items()
                if n
            ]
    located = [b for b, far in zip(located, (door_m > MAX_DOOR_TO_ROAD_M).tolist(), strict=True) if not far]
    if not located:
        return {"assignments": [], "unplaced": unplaced, "clearance_s": None, "clearance": None}
    origins = [evacuation.Origin(b["id"], b["lon"], b["lat"], b["persons"], b["name"]) for b in located]
    usable = [s for s in inputs.shelters if s["usable"]]
    cut_off: list[int] = []
    if usable:
        _, gate_m = graph.snap([s["lon"] for s in usable], [s["lat"] for s in usable])
        cut_off = [s["id"] for s, m in zip(usable, gate_m.tolist(), strict=True) if m > MAX_DOOR_TO_ROAD_M]
    open_shelters = [
        evacuation.Shelter(s["id"], s["lon"], s["lat"], s["capacity"], s["name"])
        for s in usable
        if s["id"] not in cut_off
    ]
    result = evacuation.plan(graph, origins, open_shelters)
    rows = []
    for bp in result.buildings:
        for r in bp.routes:
            rows.append(
                {
                    "building_id": bp.origin_id,
                    "shelter_id": r.shelter_id,
                    "class": r.mobility,
                    "persons": r.persons,
                    "distance_m": r.distance_m,
                    "time_s": r.time_s,
                    "path": _dedupe([[round(x, 7), round(y, 7)] for x, y in (r.path or [])]),
                }
            )
        for c, n in bp.unplaced.items():
            if n:
                reason = "unreachable" if bp.unreachable else "no_capacity"
                unplaced.append({"building_id": bp.origin_id, "class": c, "persons": n, "reason": reason})
    clearance = asdict(result.clearance)
    return {
        "cut_off_shelters": cut_off,
        "assignments": rows,
        "unplaced": unplaced,
        "clearance_s": result.clearance.total_s,
        "clearance": clearance,
        "objective_s": result.objective_s,
        "speeds": result.speeds,
    }


# ---- the API's entry points: loose JSON in, validated spec, one answer out -------------------------


def _spec_or_raise(values: dict[str, Any]) -> Spec:
    errors = Collector()
    spec = spec_from(values, errors)
    errors.raise_if_any("情景有误 / invalid scenario")
    assert spec is not None
    return spec


def plan_from(session: Session, actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    spec = _spec_or_raise(values)
    result = plan(session, actor, spec)
    community = community_of(session, actor, spec.community_id)
    return _with_coverage(session, community, spec, result)


def what_if_from(session: Session, actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    errors = Collector()
    spec = spec_from(values, errors)
    extra = _ids(values.get("open_candidates"), "open_candidates", errors)
    errors.raise_if_any("情景有误 / invalid scenario")
    assert spec is not None
    return what_if(session, actor, spec, list(extra))


SITING_TIME_LIMIT_S = 15.0


def siting(session: Session, actor: Principal, community_id: int, k: int, spec: Spec | None = None) -> dict[str, Any]:
    """The best ``k`` conversion candidates to open besides the open shelters (capacitated p-median:
    each evacuating building goes whole to one shelter, capacities hold, Σ persons × metres minimal)."""
    community = community_of(session, actor, community_id, write=True)
    spec = spec or Spec(community_id=community.id)
    errors = Collector()
    validate(session, spec, errors)
    errors.raise_if_any("情景有误 / invalid scenario")
    inputs = load_inputs(session, community, spec)
    usable_candidates = [s for s in inputs.shelters if s["candidate"] and s["reason"] in (None, "candidate")]
    fixed = [s for s in inputs.shelters if s["usable"] and s not in usable_candidates]
    if not usable_candidates:
        errors.add("k", "没有可用的候选场所 / no usable conversion candidate", value=k)
    elif not 1 <= k <= len(usable_candidates):
        errors.add(
            "k", f"应在 1 到 {len(usable_candidates)} 之间 / must be between 1 and {len(usable_candidates)}", value=k
        )
    errors.raise_if_any("选址参数有误 / invalid siting request")
    points = [b for b in inputs.buildings if b["evacuate"] and b["lon"] is not None and b["lat"] is not None]
    sites = [s for s in fixed + usable_candidates if s["lon"] is not None and s["lat"] is not None]
    site_points = [(s["lon"], s["lat"]) for s in sites]
    graph = _road_graph(inputs, site_points)
    cost = network_costs(graph, [(b["lon"], b["lat"]) for b in points], site_points)
    demand = np.array([sum(b["persons"].values()) for b in points], dtype=float)
    capacity = np.array([s["capacity"] for s in sites], dtype=float)
    finite = cost[np.isfinite(cost)]
    # Leaving a building without a place costs more than any walk: capacity first, then distance.
    penalty = 10.0 * (float(finite.max()) if finite.size else 1000.0) + 1000.0
    # A page must answer: past the limit HiGHS returns its best plan, marked not proven optimal.
    result = solve_pmedian(
        cost, demand, capacity, k, list(range(len(fixed))), unassigned_cost=penalty, time_limit=SITING_TIME_LIMIT_S
    )
    chosen = [sites[j] for j in result.open if j >= len(fixed)]
    assignment = result.assignment if result.assignment is not None else np.full(len(points), -1)
    unplaced = int(sum(demand[i] for i in range(len(points)) if assignment[i] < 0))
    served = float(sum(demand[i] * cost[i, assignment[i]] for i in range(len(points)) if assignment[i] >= 0))
    return {
        "community_id": community.id,
        "k": k,
        "status": result.status,
        "chosen": [{"id": s["id"], "name": s["name"], "capacity": s["capacity"]} for s in chosen],
        "objective_m": round(served, 1),
        "objective_s": round(served / evacuation.DEFAULT_SPEEDS["normal"], 1),
        "unplaced": unplaced,
        "persons": int(demand.sum()),
        "seconds": round(result.seconds, 3),
    }


def siting_from(session: Session, actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    errors = Collector()
    spec = spec_from(values, errors)
    raw_k = values.get("k")
    k = None
    try:
        k = int(raw_k)
    except (TypeError, ValueError):
        errors.add("k", "应为整数 / k must be a whole number", value=raw_k)
    errors.raise_if_any("选址参数有误 / invalid siting request")
    assert spec is not None and k is not None
    return siting(session, actor, spec.community_id, k, spec)


def _coverage(inputs: Inputs) -> dict[str, Any]:
    """Share of the community's residents within 500 m and 1,000 m walk of a usable shelter, and the
    buildings beyond 1,000 m (the gaps), from ``space.coverage`` on the scenario's network."""
    located = [
        b for b in inputs.buildings if b["lon"] is not None and b["lat"] is not None and sum(b["persons"].values())
    ]
    points = [shelter_coverage.Point(b["id"], b["lon"], b["lat"], float(sum(b["persons"].values()))) for b in located]
    sites = [shelter_coverage.Point(s["id"], s["lon"], s["lat"]) for s in inputs.shelters if s["usable"]]
    graph = _road_graph(inputs) if located and sites else RoadGraph.from_lines([])
    result = shelter_coverage.coverage(graph, points, sites, COVERAGE_RADII)
    out: dict[str, Any] = {
        str(int(r)): {
            "persons": int(result.covered[r]),
            "share": round(result.share[r], 4) if result.residents else None,
        }
        for r in result.thresholds
    }
    out["total"] = int(result.residents)
    rows = {row.id: row for row in result.buildings}
    names = {b["id"]: b["name"] for b in located}
    out["gaps"] = [
        {
            "building_id": bid,
            "name": names[bid],
            "persons": int(rows[bid].residents),
            "distance_m": rows[bid].distance_m,
        }
        for bid in result.gaps[result.thresholds[-1]]
    ]
    return out


def _with_coverage(session: Session, community: GridUnit, spec: Spec, result: dict[str, Any]) -> dict[str, Any]:
    if "coverage" not in result:
        result["coverage"] = _coverage(load_inputs(session, community, spec))
    return result


def coverage(session: Session, actor: Principal, spec: Spec) -> dict[str, Any]:
    community = community_of(session, actor, spec.community_id)
    errors = Collector()
    validate(session, spec, errors)
    errors.raise_if_any("情景有误 / invalid scenario")
    return {"community_id": community.id, **_coverage(load_inputs(session, community, spec))}


def coverage_from(session: Session, actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    return coverage(session, actor, _spec_or_raise(values))
