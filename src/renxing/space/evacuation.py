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

Why the result is optimal
-------------------------
It is a transportation problem (a min-cost flow; integral because the constraint matrix is totally
unimodular) solved by column generation:

1. Restricted problem: each source gets arcs only to its ``candidates`` nearest shelters (network
   distance) plus an artificial arc with cost ``M = (S + 1) · Cmax + 1`` (``Cmax`` an upper bound of
   any per-person cost, from twice a component's eccentricity), which keeps it feasible. It is solved
   exactly with OR-Tools' ``SimpleMinCostFlow`` (cost-scaling push-relabel, integer costs).
2. Duals: node potentials ``π`` are shortest-path distances in the residual graph of the optimal
   flow from a virtual root (no negative cycle exists at an optimum, so they are well defined and
   every residual arc has non-negative reduced cost). The residual graph is contracted to the
   shelters and sink nodes: a path ``a → s → b`` through a source ``s`` becomes an arc of cost
   ``c(s, b) − c(s, a)``; the potentials are found by Bellman-Ford on that small dense graph.
3. Pricing: a missing arc ``s → j`` has reduced cost ``c(s, j) + π_s − π_j``. Minimising over all
   shelters ``j`` at once is one multi-source Dijkstra per class on the road graph, each shelter
   entering with an initial offset ``e_j − π_j / pace_c``; every source with a negative minimum gets
   that arc. Repeat from 1 until no arc prices out negative.

At that point every arc of the full bipartite problem has non-negative reduced cost with respect to
a feasible potential, which is the optimality condition of min-cost flow, so the flow is optimal for
the full problem (all pairs), not just the restricted one; and since ``M`` exceeds the cost of any
augmenting path of real arcs (at most ``S`` of them), no artificial arc carries flow at the optimum.

Keeping the flow problem small (speed only; the stopping test above is unchanged):

- A source with a single arc and no left-over option has no choice; all such sources of one
  shelter go into the flow problem as one *block* node (their costs are constants). Their
  potentials are recovered as ``π_j − c(s, j)``, so pricing still sees every source.
- While a block's shelter is overfull every member prices out; only the members that lose least by
  moving, about twice the overflow, get their new arc in that round.
- A source whose flow sits on one arc while all its other arcs have a reduced cost above 10 % of
  their cost loses those arcs and returns to its block; pricing brings an arc back when needed.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from renxing.people.vulnerability import MOBILITY_CLASSES
from renxing.space.network import RoadGraph

# Walking speeds on level ground, m/s (standards README): adults 1.2–1.5 (we take the low end),
# people over 65 about 1.0–1.16, walking aids / pushed wheelchair about 0.8, bedridden carried 0.8.
DEFAULT_SPEEDS: dict[str, float] = {"normal": 1.2, "slow": 1.0, "aided": 0.8, "wheelchair": 0.8, "bedridden": 0.8}
# Classes that cannot walk: they are carried and need people to carry them.
NEEDS_CARRIERS = frozenset({"bedridden"})
FLOW_RATE = 1.3  # persons per second per metre of effective width (standards README)
COST_UNIT_S = 1e-4  # one cost unit is 0.1 ms
_INT64_SAFE = 2**62
DROP_MARGIN = 0.1  # an unused arc is dropped when its reduced cost exceeds this share of its cost
RELEASE = 2  # persons released from an overfull block per person of overflow


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
    cidx = {c: i for i, c in enumerate(classes)}
    nb, ns = len(origins), len(shelters)
    counts = np.zeros((nb, len(classes)), dtype=np.int64)
    for i, o in enumerate(origins):
        for c, k in o.counts.items():
            if c not in cidx:
                raise ValueError(f"unknown mobility class {c!r} in building {o.id}")
            if k < 0:
                raise ValueError(f"negative count for {c} in building {o.id}")
            counts[i, cidx[c]] += int(k)
    pace_arr = np.array([pace_by_class[c] for c in classes], dtype=np.int64)
    eff_speed = {c: 1000.0 / pace_by_class[c] for c in classes}

    shelters = [s for s in shelters if s.capacity > 0]
    ns = len(shelters)
    if graph.n_nodes == 0:
        raise ValueError("the road network is empty")
    b_node, b_snap = graph.snap([o.lon for o in origins], [o.lat for o in origins]) if nb else (np.zeros(0, int),) * 2
    b_node = np.asarray(b_node, dtype=np.int64)
    b_snap = np.asarray(b_snap, dtype=float)
    b_d0 = np.rint(b_snap * 10).astype(np.int64)
    if ns:
        s_node, s_snap = graph.snap([s.lon for s in shelters], [s.lat for s in shelters])
    else:
        s_node, s_snap = np.zeros(0, dtype=np.int64), np.zeros(0)
    s_e = np.rint(s_snap * 10).astype(np.int64)
    s_cap = np.array([s.capacity for s in shelters], dtype=np.int64)

    labels = graph.components()
    b_comp = labels[b_node] if nb else np.zeros(0, dtype=np.int64)
    s_comp = labels[s_node] if ns else np.zeros(0, dtype=np.int64)
    comp_has_shelter = np.zeros(labels.max() + 1 if len(labels) else 1, dtype=bool)
    comp_has_shelter[s_comp] = True
    reachable = comp_has_shelter[b_comp] if nb else np.zeros(0, dtype=bool)

    # sources: (building, class) with persons and a reachable shelter
    bi, ci = np.nonzero(counts * reachable[:, None])
    src_b, src_c = bi.astype(np.int64), ci.astype(np.int64)
    src_q = counts[bi, ci]
    src_node = b_node[src_b]
    src_d0 = b_d0[src_b]
    src_pace = pace_arr[src_c]
    src_comp = b_comp[src_b]
    n_src = len(src_b)

    flows_sj = np.zeros(0, dtype=np.int64)
    col_s = col_j = col_cost = col_dist = np.zeros(0, dtype=np.int64)
    unplaced_src = np.zeros(n_src, dtype=np.int64)
    stats: dict = {"sources": n_src, "shelters": ns, "rounds": 0, "columns": 0}
    if n_src:
        arrays = _Arrays(src_node, src_d0, src_pace, src_q, src_c, src_comp, s_node, s_e, s_cap, s_comp, pace_arr)
        result = _solve(graph, arrays, vulnerable_first, candidates, max_rounds, stats)
        col_s, col_j, col_cost, col_dist, flows_sj, unplaced_src = result

    # ---- shape the answer ---------------------------------------------------------------
    used = flows_sj > 0
    us, uj, ucost, udist, uflow = col_s[used], col_j[used], col_cost[used], col_dist[used], flows_sj[used]
    total_cost = int((ucost * uflow).sum())
    shelter_load = np.bincount(uj, weights=uflow, minlength=ns).astype(np.int64) if ns else np.zeros(0, np.int64)

    paths: dict[tuple[int, int], list[int]] = {}
    if with_paths and len(us):
        paths = _paths(graph, b_node[src_b[us]], uj, s_node, udist - src_d0[us] - s_e[uj])

    totals = counts.sum(axis=1).tolist()
    carriers = counts[:, [cidx[c] for c in sorted(NEEDS_CARRIERS)]].sum(axis=1).tolist()
    snaps = b_snap.tolist()
    reach = reachable.tolist()
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
    for i in np.nonzero(~reachable)[0].tolist() if nb else []:
        plans[i].unplaced = {classes[c]: int(counts[i, c]) for c in range(len(classes)) if counts[i, c] > 0}
    edge_load = np.zeros(graph.n_edges, dtype=np.int64)
    order = np.lexsort((uj, src_c[us], src_b[us]))
    r_b = src_b[us][order].tolist()
    r_c = src_c[us][order].tolist()
    r_j = uj[order].tolist()
    r_d = udist[order].tolist()
    r_q = uflow[order].tolist()
    r_t = (udist * src_pace[us] * COST_UNIT_S)[order].tolist()
    shelter_ids = [sh.id for sh in shelters]
    b_nodes = b_node.tolist()
    for b, c, j, d_dm, q, t in zip(r_b, r_c, r_j, r_d, r_q, r_t, strict=True):
        route = Route(shelter_ids[j], classes[c], q, d_dm / 10.0, t)
        if with_paths:
            nodes = paths[(b_nodes[b], j)]
            route.path = [(origins[b].lon, origins[b].lat), *graph.coords(nodes), (shelters[j].lon, shelters[j].lat)]
            if len(nodes) > 1:
                edge_load[graph.edge_ids(nodes)] += q  # a shortest path uses an edge at most once
        plans[b].routes.append(route)
    for s in np.nonzero(unplaced_src)[0].tolist():
        b = int(src_b[s])
        c = classes[int(src_c[s])]
        plans[b].unplaced[c] = plans[b].unplaced.get(c, 0) + int(unplaced_src[s])

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
    persons = int(counts.sum())
    return Plan(
        buildings=plans,
        shelter_load={s.id: int(shelter_load[j]) for j, s in enumerate(shelters)},
        shelter_capacity={s.id: int(s.capacity) for s in shelters},
        objective_s=total_cost * COST_UNIT_S,
        cost=total_cost,
        persons=persons,
        placed=int(uflow.sum()),
        unplaced_by_class=unplaced_by_class,
        unreachable_ids=[p.origin_id for p in plans if p.unreachable],
        carriers_needed=int(sum(p.carriers_needed for p in plans)),
        clearance=clearance,
        speeds=eff_speed,
        stats=stats,
    )


# ---- the solver -----------------------------------------------------------------------------


@dataclass
class _Arrays:
    """The problem as arrays: per source (building, class) its node, door distance (dm), pace,
    persons, class and component; per shelter its node, entrance distance (dm), capacity, component."""

    src_node: np.ndarray
    src_d0: np.ndarray
    src_pace: np.ndarray
    src_q: np.ndarray
    src_c: np.ndarray
    src_comp: np.ndarray
    s_node: np.ndarray
    s_e: np.ndarray
    s_cap: np.ndarray
    s_comp: np.ndarray
    pace_arr: np.ndarray


def _solve(graph: RoadGraph, a: _Arrays, vulnerable_first: bool, candidates: int, max_rounds: int, stats: dict):
    """Column generation around OR-Tools min-cost flow. Returns the columns (source, shelter,
    cost, distance dm), their flows and the unplaced persons per source."""
    src_node, src_d0, src_pace, src_q, src_c, src_comp = a.src_node, a.src_d0, a.src_pace, a.src_q, a.src_c, a.src_comp
    s_node, s_e, s_cap, s_comp, pace_arr = a.s_node, a.s_e, a.s_cap, a.s_comp, a.pace_arr
    n_src, ns = len(src_node), len(s_node)
    n_classes = len(pace_arr)

    # how many are left without a place, per component (and per class when vulnerable_first)
    comps = np.unique(src_comp)
    q_comp = {int(k): int(src_q[src_comp == k].sum()) for k in comps}
    k_comp = {int(k): int(s_cap[s_comp == k].sum()) for k in comps}
    groups: dict[tuple[int, int], int] = {}  # (component, class or -1) → persons left over
    for k in comps.tolist():
        short = q_comp[k] - k_comp[k]
        if short <= 0:
            continue
        if not vulnerable_first:
            groups[(k, -1)] = short
            continue
        for c in range(n_classes):  # least vulnerable first
            have = int(src_q[(src_comp == k) & (src_c == c)].sum())
            take = min(have, short)
            if take:
                groups[(k, c)] = take
                short -= take
    group_ids = {g: i for i, g in enumerate(groups)}
    src_group = np.full(n_src, -1, dtype=np.int64)
    for (k, c), gi in group_ids.items():
        mask = src_comp == k if c < 0 else (src_comp == k) & (src_c == c)
        src_group[mask] = gi
    demand_t = sum(min(q_comp[k], k_comp[k]) for k in q_comp)

    # an upper bound of any per-person cost, for the artificial arcs
    ecc = 0.0
    for k in np.unique(s_comp).tolist():
        root = int(s_node[np.nonzero(s_comp == k)[0][0]])
        d = graph.distances([root])[0]
        ecc = max(ecc, float(d[np.isfinite(d)].max()))
    cmax = int(pace_arr.max()) * (int(src_d0.max()) + int(s_e.max()) + 2 * int(np.ceil(ecc * 10)) + 1)
    big_m = (ns + 2) * cmax + 1  # blocks use big_m − (their dearest cost) ≥ (ns + 1) · cmax + 1
    if big_m * (n_src + ns + len(groups) + 2) >= _INT64_SAFE:
        raise ValueError("instance too large for 64-bit integer costs")

    # ---- initial columns: the nearest ``candidates`` shelters of every source node ----
    nodes_u, node_of_src = np.unique(src_node, return_inverse=True)
    pn, pj, pd = _nearest_shelters(graph, nodes_u, s_node, candidates)
    col_s, col_j, col_dist = _expand(node_of_src, pn, pj, pd, src_d0, s_e)
    col_cost = col_dist * src_pace[col_s]
    known = set((col_s * ns + col_j).tolist())

    # Sources with a single column and no left-over option have no choice in the restricted problem:
    # they are merged into one block per shelter (one node and one arc instead of thousands), which
    # keeps the flow problem to the sources that do choose. Pricing still looks at every source.
    rounds = 0
    while True:
        rounds += 1
        free = (np.bincount(col_s, minlength=n_src) > 1) | (src_group >= 0)
        free_idx = np.nonzero(free)[0]
        nf = len(free_idx)
        unit_of = np.full(n_src, -1, dtype=np.int64)
        unit_of[free_idx] = np.arange(nf)
        fcol = free[col_s]
        fixed_cols = np.nonzero(~fcol)[0]
        fs, fj = col_s[fixed_cols], col_j[fixed_cols]
        blocks, block_of = np.unique(fj, return_inverse=True)
        nbk = len(blocks)
        max_c = np.zeros(nbk, dtype=np.int64)
        np.maximum.at(max_c, block_of, col_cost[fixed_cols])
        u_q = np.concatenate(
            [src_q[free_idx], np.bincount(block_of, weights=src_q[fs], minlength=nbk).astype(np.int64)]
        )
        u_group = np.concatenate([src_group[free_idx], np.full(nbk, -1, dtype=np.int64)])
        u_art = np.concatenate([np.full(nf, big_m, dtype=np.int64), big_m - max_c])
        uc_s = np.concatenate([unit_of[col_s[fcol]], nf + np.arange(nbk)])
        uc_j = np.concatenate([col_j[fcol], blocks])
        uc_cost = np.concatenate([col_cost[fcol], np.zeros(nbk, dtype=np.int64)])
        n_units = nf + nbk
        flows_u, art_u, unplaced_u, load = _min_cost_flow(
            uc_s, uc_j, uc_cost, u_q, u_group, s_cap, groups, demand_t, u_art, n_units, ns
        )
        pot_shel, pot_unit = _potentials(
            uc_s, uc_j, uc_cost, flows_u, art_u, unplaced_u, load, s_cap, u_group, len(groups), u_art, n_units, ns
        )
        pot_src = np.zeros(n_src)
        pot_src[free_idx] = pot_unit[:nf]
        pot_src[fs] = np.minimum(0.0, pot_shel[fj] - col_cost[fixed_cols])
        diverted = art_u[nf:] > 0
        new_s, new_j, new_d, new_rc = _price(graph, src_node, src_d0, src_c, pace_arr, s_node, s_e, pot_shel, pot_src)
        if diverted.any() and len(new_s):
            new_s, new_j, new_d = _release(new_s, new_j, new_d, new_rc, unit_of, block_of, fs, src_q, art_u[nf:])
        if len(new_s):
            key = new_s * ns + new_j
            fresh = np.array([k not in known for k in key.tolist()], dtype=bool)
            new_s, new_j, new_d, key = new_s[fresh], new_j[fresh], new_d[fresh], key[fresh]
            known.update(key.tolist())
        if not len(new_s) and not diverted.any():
            if art_u.any():
                raise RuntimeError("artificial flow remains at the optimum")  # cannot happen, see doc
            break
        if rounds >= max_rounds:
            raise RuntimeError("column generation did not converge")
        # Drop the arcs of settled sources: all flow on one arc, every other arc with a clearly
        # positive reduced cost. The current flow stays optimal for the smaller problem, and the source
        # goes back into its shelter's block. Pricing brings an arc back if it is ever needed.
        col_flow = np.zeros(len(col_s), dtype=np.int64)
        col_flow[np.nonzero(fcol)[0]] = flows_u[: int(fcol.sum())]
        col_flow[fixed_cols] = src_q[fs]
        rc_col = col_cost + pot_src[col_s] - pot_shel[col_j]
        carrying = np.bincount(col_s, weights=col_flow > 0, minlength=n_src)
        full = col_flow == src_q[col_s]
        loose = np.bincount(col_s, weights=(col_flow == 0) & (rc_col <= DROP_MARGIN * col_cost + 0.5), minlength=n_src)
        settled = (carrying == 1) & (loose == 0) & (src_group < 0)
        drop = settled[col_s] & ~full
        if drop.any():
            known.difference_update((col_s[drop] * ns + col_j[drop]).tolist())
            col_s, col_j, col_dist, col_cost = col_s[~drop], col_j[~drop], col_dist[~drop], col_cost[~drop]
        col_s = np.concatenate([col_s, new_s])
        col_j = np.concatenate([col_j, new_j])
        col_dist = np.concatenate([col_dist, new_d])
        col_cost = col_dist * src_pace[col_s]
    flows = np.zeros(len(col_s), dtype=np.int64)
    flows[np.nonzero(fcol)[0]] = flows_u[: int(fcol.sum())]
    flows[fixed_cols] = src_q[fs]
    unplaced = np.zeros(n_src, dtype=np.int64)
    unplaced[free_idx] = unplaced_u[:nf]
    stats.update(rounds=rounds, columns=len(col_s), flow_nodes=n_units + ns + 1 + len(groups))
    return col_s, col_j, col_cost, col_dist, flows, unplaced


def _release(new_s, new_j, new_d, new_rc, unit_of, block_of, fs, src_q, block_art):
    """Partial pricing for overfull blocks. While a block's shelter is overfull all its members price
    out (their potential is near −M), and freeing them all would hand the whole block to the flow
    solver. Give the new arc only to the members that lose least by moving (most negative reduced
    cost; the block's potential is common to them), about twice the overflow in persons. Exactness
    is unaffected: the loop only stops once no block overflows and full pricing finds nothing."""
    in_block = np.full(len(unit_of), -1, dtype=np.int64)
    in_block[fs] = block_of
    blk = in_block[new_s]
    keep = (blk < 0) | (block_art[np.maximum(blk, 0)] == 0)
    for b in np.unique(blk[~keep]).tolist():
        members = np.nonzero(blk == b)[0]
        members = members[np.argsort(new_rc[members], kind="stable")]
        need = RELEASE * int(block_art[b]) + 1
        upto = int(np.searchsorted(np.cumsum(src_q[new_s[members]]), need)) + 1
        keep[members[:upto]] = True
    return new_s[keep], new_j[keep], new_d[keep]


def _nearest_shelters(graph, nodes_u, s_node, k):
    """For each node in ``nodes_u``: up to ``k`` nearest shelters by network distance, as flat
    arrays (index into nodes_u, shelter index, metres). Every node that reaches a shelter gets at
    least its nearest one."""
    ns = len(s_node)
    near_d, near_j = graph.nearest(s_node)
    # the nearest shelter (by node): the multi-source Dijkstra only knows one per node
    ok = near_j[nodes_u] >= 0
    out_n = [np.nonzero(ok)[0]]
    out_j = [near_j[nodes_u][ok]]
    out_d = [near_d[nodes_u][ok]]
    if k > 1 and ns > 1:
        finite = near_d[nodes_u][ok]
        limit = 3.0 * float(np.quantile(finite, 0.9)) + 1.0 if len(finite) else np.inf
        if ns * graph.n_nodes <= 4_000_000:
            limit = np.inf  # small: all pairs
        chunk = max(1, min(ns, 8_000_000 // max(1, graph.n_nodes)))
        rows_n, rows_j, rows_d = [], [], []
        for start in range(0, ns, chunk):
            d = graph.distances(s_node[start : start + chunk], limit=limit)[:, nodes_u]
            jj, nn = np.nonzero(np.isfinite(d))
            rows_n.append(nn)
            rows_j.append(jj + start)
            rows_d.append(d[jj, nn])
        nn, jj, dd = np.concatenate(rows_n), np.concatenate(rows_j), np.concatenate(rows_d)
        order = np.lexsort((jj, dd, nn))
        nn, jj, dd = nn[order], jj[order], dd[order]
        starts = np.searchsorted(nn, nn, side="left")
        rank = np.arange(len(nn)) - starts
        keep = rank < k
        out_n.append(nn[keep])
        out_j.append(jj[keep])
        out_d.append(dd[keep])
    n = np.concatenate(out_n)
    j = np.concatenate(out_j)
    d = np.concatenate(out_d)
    key = n * ns + j
    _, first = np.unique(key, return_index=True)
    return n[first], j[first], d[first]


def _expand(node_of_src, pn, pj, pd, src_d0, s_e):
    """Columns for every source from the pairs of its node."""
    order = np.argsort(pn, kind="stable")
    pn, pj, pd = pn[order], pj[order], pd[order]
    n_nodes = int(node_of_src.max()) + 1 if len(node_of_src) else 0
    cnt = np.bincount(pn, minlength=n_nodes)
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    per_src = cnt[node_of_src]
    col_s = np.repeat(np.arange(len(node_of_src)), per_src)
    offs = np.arange(len(col_s)) - np.repeat(np.cumsum(per_src) - per_src, per_src)
    pair = start[node_of_src][col_s] + offs
    col_j = pj[pair]
    col_dist = src_d0[col_s] + np.rint(pd[pair] * 10).astype(np.int64) + s_e[col_j]
    return col_s.astype(np.int64), col_j.astype(np.int64), col_dist.astype(np.int64)


def _min_cost_flow(col_s, col_j, col_cost, src_q, src_group, s_cap, groups, demand_t, art_cost, n_src, ns):
    """Solve the restricted problem. Node order: sources, shelters, T (all placed persons),
    one node per left-over group. Returns flows on columns, artificial flows, unplaced per source,
    and the load of each shelter."""
    smcf = min_cost_flow.SimpleMinCostFlow()
    t = n_src + ns
    g0 = t + 1
    n_groups = len(groups)
    tails = [col_s, n_src + np.arange(ns), np.arange(n_src)]
    heads = [n_src + col_j, np.full(ns, t), np.full(n_src, t)]
    caps = [src_q[col_s], s_cap, src_q]
    costs = [col_cost, np.zeros(ns, dtype=np.int64), art_cost]
    has_group = np.nonzero(src_group >= 0)[0]
    tails.append(has_group)
    heads.append(g0 + src_group[has_group])
    caps.append(src_q[has_group])
    costs.append(np.zeros(len(has_group), dtype=np.int64))
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int64),
        np.concatenate(heads).astype(np.int64),
        np.concatenate(caps).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )
    supplies = np.zeros(g0 + n_groups, dtype=np.int64)
    supplies[:n_src] = src_q
    supplies[t] = -demand_t
    for gi, k in enumerate(groups.values()):
        supplies[g0 + gi] = -k
    smcf.set_nodes_supplies(np.arange(len(supplies), dtype=np.int64), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flow = smcf.flows(np.arange(smcf.num_arcs(), dtype=np.int64))
    nc = len(col_s)
    col_flow = flow[:nc]
    load = flow[nc : nc + ns]
    art = flow[nc + ns : nc + ns + n_src]
    unplaced = np.zeros(n_src, dtype=np.int64)
    unplaced[has_group] = flow[nc + ns + n_src :]
    return col_flow, art, unplaced, load


def _potentials(col_s, col_j, col_cost, flows, art, unplaced, load, s_cap, src_group, n_groups, art_cost, n_src, ns):
    """Shortest-path potentials of the residual graph, contracted to shelters (0..ns-1), T (ns) and
    the left-over groups (ns+1+g). Returns (potential of those nodes, potential of each source)."""
    t = ns
    # entries "into" a source (residual backward arcs) and "out of" it (forward arcs)
    pos = flows > 0
    in_s = [col_s[pos], np.nonzero(art > 0)[0], np.nonzero(unplaced > 0)[0]]
    in_a = [col_j[pos], np.full(int((art > 0).sum()), t), ns + 1 + src_group[unplaced > 0]]
    in_c = [col_cost[pos], art_cost[art > 0], np.zeros(int((unplaced > 0).sum()), np.int64)]
    has_group = np.nonzero(src_group >= 0)[0]
    out_s = [col_s, np.arange(n_src), has_group]
    out_b = [col_j, np.full(n_src, t), ns + 1 + src_group[has_group]]
    out_c = [col_cost, art_cost, np.zeros(len(has_group), np.int64)]
    in_s, in_a, in_c = (np.concatenate(x).astype(np.int64) for x in (in_s, in_a, in_c))
    out_s, out_b, out_c = (np.concatenate(x).astype(np.int64) for x in (out_s, out_b, out_c))
    n_r = ns + 1 + n_groups
    w = np.full((n_r, n_r), np.inf)
    # shelter ↔ T arcs
    j = np.arange(ns)
    spare = load < s_cap
    w[j[spare], t] = 0.0
    w[t, j[load > 0]] = 0.0
    # a → s → b for every in-entry a and out-entry b of the same source
    oo = np.argsort(out_s, kind="stable")
    out_s, out_b, out_c = out_s[oo], out_b[oo], out_c[oo]
    cnt = np.bincount(out_s, minlength=n_src)
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    per_in = cnt[in_s]
    rep = np.repeat(np.arange(len(in_s)), per_in)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(per_in) - per_in, per_in)
    pick = start[in_s][rep] + offs
    a = in_a[rep]
    b = out_b[pick]
    cost = (out_c[pick] - in_c[rep]).astype(float)
    keep = a != b
    np.minimum.at(w, (a[keep], b[keep]), cost[keep])
    # Bellman-Ford from a virtual root joined to every node at 0
    d = np.zeros(n_r)
    for _ in range(n_r + 1):
        nd = np.minimum(d, (d[:, None] + w).min(axis=0))
        if np.array_equal(nd, d):
            break
        d = nd
    else:
        raise RuntimeError("negative cycle in the residual graph")
    # a source's potential: min(0, min over its in-entries of π_a − c(s, a))
    pot_src = np.zeros(n_src)
    np.minimum.at(pot_src, in_s, d[in_a] - in_c)
    return d[:ns], pot_src


def _price(graph, src_node, src_d0, src_c, pace_arr, s_node, s_e, pot_shel, pot_src):
    """Arcs with negative reduced cost: for each class one multi-source Dijkstra, shelter j entering
    at its entrance node with the offset (e_j − π_j / pace) / 10 metres. Returns (source, shelter,
    distance dm, reduced cost) of the best arc of every source whose best is negative."""
    new_s, new_j, new_d, new_rc = [], [], [], []
    for c in np.unique(src_c).tolist():
        pace = float(pace_arr[c])
        off_m = (s_e - pot_shel / pace) / 10.0  # ≥ 0 because potentials are ≤ 0
        f_all, which = graph.nearest_with_offsets(s_node, off_m)
        mine = np.nonzero(src_c == c)[0]
        node = src_node[mine]
        f = f_all[node]
        rc = pace * (src_d0[mine] + 10.0 * f) + pot_src[mine]
        neg = np.isfinite(f) & (rc < -0.5)
        if not neg.any():
            continue
        s = mine[neg]
        j = which[node[neg]]
        net_dm = np.rint(10.0 * (f[neg] - off_m[j])).astype(np.int64)
        new_s.append(s)
        new_j.append(j)
        new_d.append(src_d0[s] + net_dm + s_e[j])
        new_rc.append(rc[neg])
    if not new_s:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, np.zeros(0)
    return (
        np.concatenate(new_s).astype(np.int64),
        np.concatenate(new_j).astype(np.int64),
        np.concatenate(new_d),
        np.concatenate(new_rc),
    )


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
