"""The evacuation plan of a scenario: the exact planner run on its inputs, shaped per building and
shelter for the pages and the API, and cached by the fingerprint of those inputs."""

import threading
from collections import OrderedDict
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector
from renxing.grid.models import GridUnit
from renxing.i18n import _
from renxing.space import evacuation
from renxing.space.models import EvacScenario
from renxing.space.planning.access import community_of
from renxing.space.planning.coverage import with_coverage
from renxing.space.planning.inputs import CLASSES, Inputs, load_inputs, road_graph
from renxing.space.planning.spec import Spec, spec_or_raise, validate

MAX_DOOR_TO_ROAD_M = 300.0
_CACHE_SIZE = 32

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


# ---- running the planner ------------------------------------------------------------------------


def _dedupe(path: list[list[float]]) -> list[list[float]]:
    """Drop repeated points (a door on a road node, an entrance on its node)."""
    out = [p for i, p in enumerate(path) if i == 0 or p != path[i - 1]]
    return out if len(out) >= 2 else path[:1] * 2 if path else []


def _left_out(b: dict[str, Any], reason: str) -> list[dict[str, Any]]:
    return [{"building_id": b["id"], "class": c, "persons": n, "reason": reason} for c, n in b["persons"].items() if n]


def _solve(inputs: Inputs) -> dict[str, Any]:
    """Run the exact planner and flatten its answer into rows the plan is assembled from."""
    evacuating = [b for b in inputs.buildings if b["evacuate"]]
    located = [b for b in evacuating if b["lon"] is not None and b["lat"] is not None]
    unplaced: list[dict[str, Any]] = [
        row for b in evacuating if b["lon"] is None or b["lat"] is None for row in _left_out(b, "no_location_building")
    ]
    if not located:
        return {"assignments": [], "unplaced": unplaced, "clearance_s": None, "clearance": None}
    graph = road_graph(inputs)
    _, door_m = graph.snap([b["lon"] for b in located], [b["lat"] for b in located])
    # A door this far from any road that still leads to a shelter is cut off: rescue, not a walk.
    far = (door_m > MAX_DOOR_TO_ROAD_M).tolist()
    unplaced += [row for b, cut in zip(located, far, strict=True) if cut for row in _left_out(b, "unreachable")]
    located = [b for b, cut in zip(located, far, strict=True) if not cut]
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
    return {
        "cut_off_shelters": cut_off,
        "assignments": rows,
        "unplaced": unplaced,
        "clearance_s": result.clearance.total_s,
        "clearance": asdict(result.clearance),
        "objective_s": result.objective_s,
        "speeds": result.speeds,
    }


# ---- shaping the answer -------------------------------------------------------------------------


def _building_rows(inputs: Inputs, raw: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """One row per evacuating building with its routes (per shelter) and who is left without a place,
    the buildings in greatest need first; and the persons assigned to each shelter."""
    shelters = {s["id"]: s for s in inputs.shelters}
    per_building: dict[int, dict[str, Any]] = {}
    for b in inputs.buildings:
        if b["evacuate"]:
            per_building[b["id"]] = {
                "id": b["id"],
                "name": b["name"],
                "lon": b["lon"],
                "lat": b["lat"],
                "zones": b["zones"],
                "persons": {**b["persons"], "total": sum(b["persons"].values())},
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
            per_building[a["building_id"]]["routes"].append(rt)
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
    return blist, assigned


def _shelter_rows(inputs: Inputs, raw: dict[str, Any], assigned: dict[int, int]) -> list[dict[str, Any]]:
    cut_off = set(raw.get("cut_off_shelters") or ())
    rows = []
    for s in inputs.shelters:
        usable = s["usable"] and s["id"] not in cut_off
        status = "open" if usable else "closed"
        if usable and s["candidate"]:
            status = "candidate_open"
        rows.append(
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
    return rows


def _totals(blist: list[dict[str, Any]], shelter_rows: list[dict[str, Any]], raw: dict[str, Any]) -> dict[str, Any]:
    persons = {c: sum(b["persons"][c] for b in blist) for c in CLASSES}
    total = sum(persons.values())
    placed = total - sum(b["unplaced"] for b in blist)
    # Each class at its own pace (a route's time_s is its slowest class).
    person_time = sum(a["persons"] * a["time_s"] for a in raw["assignments"])
    open_rows = [s for s in shelter_rows if s["status"] in ("open", "candidate_open")]
    return {
        "buildings": len(blist),
        "persons": {**persons, "total": total},
        "placed": placed,
        "unplaced": total - placed,
        "carriers_needed": persons["bedridden"],
        "clearance_s": round(raw["clearance_s"], 1) if raw.get("clearance_s") is not None else None,
        "clearance": raw.get("clearance"),
        "person_time_s": round(person_time, 1),
        "mean_time_s": round(person_time / placed, 1) if placed else None,
        "open_shelters": len(open_rows),
        "capacity": sum(s["capacity"] for s in open_rows),
    }


def _assemble(inputs: Inputs, raw: dict[str, Any]) -> dict[str, Any]:
    """The plan as pages and the API show it: per building, per shelter, totals. Counts only."""
    blist, assigned = _building_rows(inputs, raw)
    shelter_rows = _shelter_rows(inputs, raw, assigned)
    return {
        "community": {"id": inputs.community.id, "name": inputs.community.name},
        "spec": inputs.spec.as_dict(),
        "totals": _totals(blist, shelter_rows, raw),
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


# ---- entry points -------------------------------------------------------------------------------


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
    errors.raise_if_any(_("情景有误"))
    return plan_for_community(session, community, spec)


def plan_from(session: Session, actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    """The API's plan: loose JSON in, the plan with its coverage out."""
    spec = spec_or_raise(values)
    result = plan(session, actor, spec)
    community = community_of(session, actor, spec.community_id)
    return with_coverage(session, community, spec, result)
