"""Exact evacuation assignment: every building's residents to shelters, minimum total walking time.

Pure: plain dataclasses and numpy in, a :class:`Plan` out; no database, no web.

The problem
-----------
Sources are (building, mobility class) pairs with a number of persons; shelters have a capacity in
persons. Walking a building's persons of class ``c`` to shelter ``j`` costs, per person,
``D(b, j) / v_c`` seconds where ``D`` is door-to-road + network + road-to-entrance distance.
Minimise the sum over persons such that no shelter is over capacity and as many persons as possible
are placed. Placement first: within a connected part of the road network every shelter is reachable
from every building, so the most persons that can be placed there is min(persons, capacity) of that
part; that many are placed, the rest are left without a place. With ``vulnerable_first`` (default)
the persons left over are taken from the most mobile classes first (normal, then slow, ...), so the
bedridden are the last to be left without a place; otherwise the time objective alone chooses.
Buildings whose part of the network has no shelter are unreachable and reported by id.

Integer costs
-------------
Edge lengths are whole decimetres (see ``network``), snap distances are rounded to decimetres, so a
distance ``D`` is an exact integer number of decimetres. The per-person cost is ``D × pace_c`` with
``pace_c = round(1000 / v_c)``: time in units of 0.1 ms (1.2 m/s → pace 833, i.e. an effective
1.2005 m/s). Reported times use these paces, so they agree with the objective exactly.

Why the result is optimal, and how the flow problem is kept small, is told in ``evacuation_flow``,
which solves it by column generation around OR-Tools' min-cost flow.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from renxing.people.vulnerability import MOBILITY_CLASSES
from renxing.space.evacuation_flow import Problem, Solution, solve
from renxing.space.network import RoadGraph

# Walking speeds on level ground, m/s (standards README): adults 1.2–1.5 (we take the low end),
# people over 65 about 1.0–1.16, walking aids / pushed wheelchair about 0.8, bedridden carried 0.8.
DEFAULT_SPEEDS: dict[str, float] = {"normal": 1.2, "slow": 1.0, "aided": 0.8, "wheelchair": 0.8, "bedridden": 0.8}
# Classes that cannot walk: they are carried and need people to carry them.
NEEDS_CARRIERS = frozenset({"bedridden"})
FLOW_RATE = 1.3  # persons per second per metre of effective width (standards README)
COST_UNIT_S = 1e-4  # one cost unit is 0.1 ms


@dataclass(frozen=True)
class Origin:
    """A building: door position (WGS-84 degrees) and persons per mobility class."""

    id: int
    lon: float
    lat: float
    counts: Mapping[str, int]
    name: str = ""


@dataclass(frozen=True)
class Shelter:
    """An open shelter: entrance position (WGS-84 degrees) and capacity in persons.
    ``entrance_width_m`` (optional) adds the entrance to the queueing estimate."""

    id: int
    lon: float
    lat: float
    capacity: int
    name: str = ""
    entrance_width_m: float | None = None


@dataclass
class Route:
    """Persons of one mobility class of a building walking to one shelter."""

    shelter_id: int
    mobility: str
    persons: int
    distance_m: float
    time_s: float
    path: list[tuple[float, float]] | None = None  # (lon, lat) from the door to the entrance


@dataclass
class BuildingPlan:
    origin_id: int
    persons: int
    snap_m: float  # door to the nearest road node
    routes: list[Route] = field(default_factory=list)
    unplaced: dict[str, int] = field(default_factory=dict)  # by class
    unreachable: bool = False  # no shelter on its part of the network
    carriers_needed: int = 0  # persons who must be carried (bedridden), placed or not

    @property
    def unplaced_total(self) -> int:
        return sum(self.unplaced.values())

    @property
    def longest_time_s(self) -> float | None:
        return max((r.time_s for r in self.routes), default=None)

    @property
    def shelter_ids(self) -> list[int]:
        return sorted({r.shelter_id for r in self.routes})


@dataclass
class Clearance:
    """Whole-evacuation time (standards README): warning + pre-movement + longest walk + queueing
    at the narrowest passage, the queue being persons through it / (1.3 persons/s/m × width).
    Conservative: the longest walk and the worst queue are added even if they are not the same
    stream. ``bottleneck`` names the passage: {"kind": "road"|"entrance", "id", "persons",
    "width_m", "lon", "lat"}. Without paths only shelter entrances are considered."""

    warning_s: float
    premovement_s: float
    longest_walk_s: float
    queue_s: float
    total_s: float
    bottleneck: dict | None = None


@dataclass
class Plan:
    """Result of :func:`plan`. ``objective_s`` is Σ persons × walking time in person-seconds."""

    buildings: list[BuildingPlan]
    shelter_load: dict[int, int]
    shelter_capacity: dict[int, int]
    objective_s: float
    cost: int  # the same in integer cost units (0.1 ms)
    persons: int
    placed: int
    unplaced_by_class: dict[str, int]
    unreachable_ids: list[int]
    carriers_needed: int
    clearance: Clearance
    speeds: dict[str, float]
    stats: dict = field(default_factory=dict)

    @property
    def unplaced(self) -> int:
        return sum(self.unplaced_by_class.values())

    def building(self, origin_id: int) -> BuildingPlan:
        for b in self.buildings:
            if b.origin_id == origin_id:
                return b
        raise KeyError(origin_id)

    def to_dict(self) -> dict:
        """JSON-able form (for caching and the API)."""
        out = asdict(self)
        out["shelter_load"] = {str(k): v for k, v in self.shelter_load.items()}
        out["shelter_capacity"] = {str(k): v for k, v in self.shelter_capacity.items()}
        out["unplaced"] = self.unplaced
        return out


def paces(speeds: Mapping[str, float] | None = None) -> dict[str, int]:
    """Integer pace per class (cost units of 0.1 ms per decimetre) from speeds in m/s."""
    merged = {**DEFAULT_SPEEDS, **(speeds or {})}
    out = {}
    for c in MOBILITY_CLASSES:
        v = float(merged[c])
        if not np.isfinite(v) or v <= 0.05 or v > 10:
            raise ValueError(f"speed of {c} must be between 0.05 and 10 m/s, got {v}")
        out[c] = max(1, round(1000.0 / v))
    return out


def plan(
    graph: RoadGraph,
    origins: Sequence[Origin],
    shelters: Sequence[Shelter],
    speeds: Mapping[str, float] | None = None,
    *,
    warning_s: float = 300.0,
    premovement_s: float = 300.0,
    flow_rate: float = FLOW_RATE,
    vulnerable_first: bool = True,
    candidates: int = 1,
    with_paths: bool = True,
    max_rounds: int = 200,
) -> Plan:
    """The exact minimum-walking-time assignment (see the module doc for the proof sketch).

    ``graph``: the walking network (already without the cut roads of the scenario).
    ``origins``: buildings with persons per mobility class (``MOBILITY_CLASSES``; unknown classes
    raise ``ValueError``). ``shelters``: the open shelters (capacity ≤ 0 ones are ignored).
    ``speeds``: m/s by class, defaults :data:`DEFAULT_SPEEDS`. ``warning_s``/``premovement_s``:
    seconds added to the clearance time. ``flow_rate``: persons/s/m for queueing.
    ``candidates``: nearest shelters per source in the first restricted problem (only speed, not
    the result, depends on it; 1 keeps most sources in blocks, see the module doc).
    ``with_paths``: also compute route coordinates and road loads (the queue at the narrowest road
    needs them). ``max_rounds``: a guard on the column-generation loop (``RuntimeError`` past it).
    Distances are metres, times seconds, counts persons.
    """
    pace_by_class = paces(speeds)
    classes = list(MOBILITY_CLASSES)
    counts = _counts(origins, classes)
    pace_arr = np.array([pace_by_class[c] for c in classes], dtype=np.int64)
    shelters = [s for s in shelters if s.capacity > 0]
    if graph.n_nodes == 0:
        raise ValueError("the road network is empty")
    at = _place(graph, origins, shelters)
    problem, src_b = _sources(counts, at, pace_arr)
    stats: dict = {"sources": len(src_b), "shelters": len(shelters), "rounds": 0, "columns": 0}
    if len(src_b):
        sol = solve(graph, problem, vulnerable_first, candidates, max_rounds, stats)
    else:
        none = np.zeros(0, dtype=np.int64)
        sol = Solution(none, none, none, none, none, none)
    used = _Used.of(sol, problem, src_b)
    ns = len(shelters)
    shelter_load = np.bincount(used.j, weights=used.q, minlength=ns).astype(np.int64) if ns else np.zeros(0, np.int64)
    plans = _building_plans(origins, counts, at, classes)
    edge_load = _add_routes(graph, origins, shelters, plans, used, at, classes, with_paths)
    for s in np.nonzero(sol.unplaced)[0].tolist():
        b = int(src_b[s])
        c = classes[int(problem.src_c[s])]
        plans[b].unplaced[c] = plans[b].unplaced.get(c, 0) + int(sol.unplaced[s])
    unplaced_by_class = {c: 0 for c in classes}
    for p in plans:
        for c, k in p.unplaced.items():
            unplaced_by_class[c] += k
    longest = max((r.time_s for p in plans for r in p.routes), default=0.0)
    queue_s, bottleneck = _bottleneck(graph, edge_load, shelters, shelter_load, flow_rate, with_paths)
    clearance = Clearance(
        warning_s=float(warning_s),
        premovement_s=float(premovement_s),
        longest_walk_s=float(longest),
        queue_s=float(queue_s),
        total_s=float(warning_s + premovement_s + longest + queue_s),
        bottleneck=bottleneck,
    )
    total_cost = int((used.cost * used.q).sum())
    return Plan(
        buildings=plans,
        shelter_load={s.id: int(shelter_load[j]) for j, s in enumerate(shelters)},
        shelter_capacity={s.id: int(s.capacity) for s in shelters},
        objective_s=total_cost * COST_UNIT_S,
        cost=total_cost,
        persons=int(counts.sum()),
        placed=int(used.q.sum()),
        unplaced_by_class=unplaced_by_class,
        unreachable_ids=[p.origin_id for p in plans if p.unreachable],
        carriers_needed=int(sum(p.carriers_needed for p in plans)),
        clearance=clearance,
        speeds={c: 1000.0 / pace_by_class[c] for c in classes},
        stats=stats,
    )


# ---- the problem from the plain inputs --------------------------------------------------------


def _counts(origins: Sequence[Origin], classes: list[str]) -> np.ndarray:
    """Persons per building and class (buildings × classes); unknown classes and negative counts raise."""
    cidx = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(origins), len(classes)), dtype=np.int64)
    for i, o in enumerate(origins):
        for c, k in o.counts.items():
            if c not in cidx:
                raise ValueError(f"unknown mobility class {c!r} in building {o.id}")
            if k < 0:
                raise ValueError(f"negative count for {c} in building {o.id}")
            counts[i, cidx[c]] += int(k)
    return counts


@dataclass
class _Placement:
    """Buildings and shelters on the network: their nodes, snap distances (metres, and whole
    decimetres for costs), components, and which buildings have a shelter on their component."""

    b_node: np.ndarray
    b_snap: np.ndarray
    b_d0: np.ndarray
    b_comp: np.ndarray
    reachable: np.ndarray
    s_node: np.ndarray
    s_e: np.ndarray
    s_cap: np.ndarray
    s_comp: np.ndarray


def _place(graph: RoadGraph, origins: Sequence[Origin], shelters: Sequence[Shelter]) -> _Placement:
    nb, ns = len(origins), len(shelters)
    b_node, b_snap = graph.snap([o.lon for o in origins], [o.lat for o in origins]) if nb else (np.zeros(0, int),) * 2
    b_node = np.asarray(b_node, dtype=np.int64)
    b_snap = np.asarray(b_snap, dtype=float)
    if ns:
        s_node, s_snap = graph.snap([s.lon for s in shelters], [s.lat for s in shelters])
    else:
        s_node, s_snap = np.zeros(0, dtype=np.int64), np.zeros(0)
    labels = graph.components()
    b_comp = labels[b_node] if nb else np.zeros(0, dtype=np.int64)
    s_comp = labels[s_node] if ns else np.zeros(0, dtype=np.int64)
    comp_has_shelter = np.zeros(labels.max() + 1 if len(labels) else 1, dtype=bool)
    comp_has_shelter[s_comp] = True
    return _Placement(
        b_node=b_node,
        b_snap=b_snap,
        b_d0=np.rint(b_snap * 10).astype(np.int64),
        b_comp=b_comp,
        reachable=comp_has_shelter[b_comp] if nb else np.zeros(0, dtype=bool),
        s_node=s_node,
        s_e=np.rint(s_snap * 10).astype(np.int64),
        s_cap=np.array([s.capacity for s in shelters], dtype=np.int64),
        s_comp=s_comp,
    )


def _sources(counts: np.ndarray, at: _Placement, pace_arr: np.ndarray) -> tuple[Problem, np.ndarray]:
    """The sources: (building, class) pairs with persons and a reachable shelter; and their buildings."""
    bi, ci = np.nonzero(counts * at.reachable[:, None])
    src_b, src_c = bi.astype(np.int64), ci.astype(np.int64)
    problem = Problem(
        src_node=at.b_node[src_b],
        src_d0=at.b_d0[src_b],
        src_pace=pace_arr[src_c],
        src_q=counts[bi, ci],
        src_c=src_c,
        src_comp=at.b_comp[src_b],
        s_node=at.s_node,
        s_e=at.s_e,
        s_cap=at.s_cap,
        s_comp=at.s_comp,
        pace_arr=pace_arr,
    )
    return problem, src_b


# ---- the answer ---------------------------------------------------------------------------------


@dataclass
class _Used:
    """The columns that carry persons: building, class, shelter, distance (dm), persons, cost and
    pace per person, door distance (dm)."""

    b: np.ndarray
    c: np.ndarray
    j: np.ndarray
    dist: np.ndarray
    q: np.ndarray
    cost: np.ndarray
    pace: np.ndarray
    d0: np.ndarray

    @classmethod
    def of(cls, sol: Solution, problem: Problem, src_b: np.ndarray) -> "_Used":
        used = sol.flows > 0
        us = sol.col_s[used]
        return cls(
            b=src_b[us],
            c=problem.src_c[us],
            j=sol.col_j[used],
            dist=sol.col_dist[used],
            q=sol.flows[used],
            cost=sol.col_cost[used],
            pace=problem.src_pace[us],
            d0=problem.src_d0[us],
        )


def _building_plans(
    origins: Sequence[Origin], counts: np.ndarray, at: _Placement, classes: list[str]
) -> list[BuildingPlan]:
    """One plan per building, with everyone of an unreachable building left without a place."""
    totals = counts.sum(axis=1).tolist()
    carriers = counts[:, [classes.index(c) for c in sorted(NEEDS_CARRIERS)]].sum(axis=1).tolist()
    snaps = at.b_snap.tolist()
    reach = at.reachable.tolist()
    plans = [
        BuildingPlan(
            origin_id=o.id,
            persons=totals[i],
            snap_m=snaps[i],
            unreachable=not reach[i] and totals[i] > 0,
            carriers_needed=carriers[i],
        )
        for i, o in enumerate(origins)
    ]
    for i in np.nonzero(~at.reachable)[0].tolist() if len(origins) else []:
        plans[i].unplaced = {classes[c]: int(counts[i, c]) for c in range(len(classes)) if counts[i, c] > 0}
    return plans


def _add_routes(
    graph: RoadGraph,
    origins: Sequence[Origin],
    shelters: Sequence[Shelter],
    plans: list[BuildingPlan],
    used: _Used,
    at: _Placement,
    classes: list[str],
    with_paths: bool,
) -> np.ndarray:
    """Each building's routes (with their coordinates when ``with_paths``); the persons on each edge."""
    paths: dict[tuple[int, int], list[int]] = {}
    if with_paths and len(used.b):
        paths = _paths(graph, at.b_node[used.b], used.j, at.s_node, used.dist - used.d0 - at.s_e[used.j])
    edge_load = np.zeros(graph.n_edges, dtype=np.int64)
    order = np.lexsort((used.j, used.c, used.b))
    r_t = (used.dist * used.pace * COST_UNIT_S)[order].tolist()
    rows = zip(
        used.b[order].tolist(),
        used.c[order].tolist(),
        used.j[order].tolist(),
        used.dist[order].tolist(),
        used.q[order].tolist(),
        r_t,
        strict=True,
    )
    shelter_ids = [sh.id for sh in shelters]
    b_nodes = at.b_node.tolist()
    for b, c, j, d_dm, q, t in rows:
        route = Route(shelter_ids[j], classes[c], q, d_dm / 10.0, t)
        if with_paths:
            nodes = paths[(b_nodes[b], j)]
            route.path = [(origins[b].lon, origins[b].lat), *graph.coords(nodes), (shelters[j].lon, shelters[j].lat)]
            if len(nodes) > 1:
                edge_load[graph.edge_ids(nodes)] += q  # a shortest path uses an edge at most once
        plans[b].routes.append(route)
    return edge_load


# ---- routes and queueing --------------------------------------------------------------------


def _paths(graph, b_nodes, js, s_node, net_dm) -> dict[tuple[int, int], list[int]]:
    """Node lists from each building node to its shelter's entrance node."""
    out: dict[tuple[int, int], list[int]] = {}
    for j in np.unique(js).tolist():
        mine = js == j
        limit = float(net_dm[mine].max()) / 10.0 + 1.0
        _, pred = graph.distances([int(s_node[j])], limit=limit, predecessors=True)
        for node in np.unique(b_nodes[mine]).tolist():
            out[(node, j)] = graph.path(pred[0], node)[::-1]
    return out


def _bottleneck(graph, edge_load, shelters, shelter_load, flow_rate, with_paths):
    best_q, best = 0.0, None
    if with_paths and edge_load.any():
        q = edge_load / (flow_rate * graph.edge_width)
        e = int(np.argmax(q))
        best_q = float(q[e])
        u, v = int(graph.edge_u[e]), int(graph.edge_v[e])
        best = {
            "kind": "road",
            "id": int(graph.edge_road[e]),
            "persons": int(edge_load[e]),
            "width_m": float(graph.edge_width[e]),
            "lon": float((graph.lon[u] + graph.lon[v]) / 2),
            "lat": float((graph.lat[u] + graph.lat[v]) / 2),
        }
    for j, s in enumerate(shelters):
        if s.entrance_width_m and s.entrance_width_m > 0 and shelter_load[j] > 0:
            q = float(shelter_load[j]) / (flow_rate * s.entrance_width_m)
            if q > best_q:
                best_q = q
                best = {
                    "kind": "entrance",
                    "id": s.id,
                    "persons": int(shelter_load[j]),
                    "width_m": float(s.entrance_width_m),
                    "lon": s.lon,
                    "lat": s.lat,
                }
    return best_q, best


# ---- what-if --------------------------------------------------------------------------------


def compare(plan_a: Plan, plan_b: Plan, tolerance_s: float = 1.0) -> dict:
    """Who gains and who loses going from ``plan_a`` to ``plan_b`` (e.g. without → with a school
    opened as a shelter). A building gains when fewer of its persons are left without a place, or
    the same number and its longest walk is shorter by more than ``tolerance_s`` seconds; loses in
    the opposite case. Returns {"gains": [...], "losses": [...], "unchanged": n, "totals": {...}},
    each row {"origin_id", "time_a_s", "time_b_s", "delta_s", "unplaced_a", "unplaced_b",
    "shelters_a", "shelters_b"}; rows sorted by the largest change first."""
    a = {p.origin_id: p for p in plan_a.buildings}
    b = {p.origin_id: p for p in plan_b.buildings}
    gains, losses, unchanged = [], [], 0
    for oid in sorted(set(a) | set(b)):
        pa, pb = a.get(oid), b.get(oid)
        ta = pa.longest_time_s if pa else None
        tb = pb.longest_time_s if pb else None
        ua = pa.unplaced_total if pa else 0
        ub = pb.unplaced_total if pb else 0
        delta = (tb - ta) if ta is not None and tb is not None else None
        row = {
            "origin_id": oid,
            "time_a_s": ta,
            "time_b_s": tb,
            "delta_s": delta,
            "unplaced_a": ua,
            "unplaced_b": ub,
            "shelters_a": pa.shelter_ids if pa else [],
            "shelters_b": pb.shelter_ids if pb else [],
        }
        if ub < ua or (ub == ua and delta is not None and delta < -tolerance_s):
            gains.append(row)
        elif ub > ua or (ub == ua and delta is not None and delta > tolerance_s):
            losses.append(row)
        else:
            unchanged += 1

    def weight(r):
        return (abs(r["unplaced_b"] - r["unplaced_a"]), abs(r["delta_s"] or 0.0))

    gains.sort(key=weight, reverse=True)
    losses.sort(key=weight, reverse=True)
    return {
        "gains": gains,
        "losses": losses,
        "unchanged": unchanged,
        "totals": {
            "objective_a_s": plan_a.objective_s,
            "objective_b_s": plan_b.objective_s,
            "unplaced_a": plan_a.unplaced,
            "unplaced_b": plan_b.unplaced,
            "clearance_a_s": plan_a.clearance.total_s,
            "clearance_b_s": plan_b.clearance.total_s,
        },
    }
