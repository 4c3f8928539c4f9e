"""Optimal carer assignment for vulnerable residents (定点关怀). Pure: no database, no web.

The problem: every vulnerable resident passed in needs one carer; a carer can take on as many more
residents as their remaining capacity (``max_care − current load``). A resident may only go to a carer
who holds *all* the skills the resident needs (``needs ⊆ skills``), within ``max_distance_m``.

**One carer per resident, holding every needed skill.** 定点关怀 names one responsible carer per
resident; splitting a resident's needs over several carers would blur that responsibility, and it
would turn the problem into a set-cover (NP-hard in general) instead of a network flow whose optimum
is exact and fast. A resident who needs {nursing, sign_language} and has no carer holding both is
reported uncovered with the reason, so staff can pair two carers by hand.

**Objective, lexicographic:** first cover as many residents as possible, then minimise the sum of

    cost(r, c) = walk(r, c) + other_building_m·[different building] + other_area_m·[different area]

in integer decimetres (``Weights.unit_m``). With the defaults (50 m and 150 m) a carer in the same
building is preferred to one in another building of the same area unless that one is more than 50 m
closer, and a carer in the same area to one in another area unless that one is more than 150 m
closer. ``walk`` is Euclidean metres between positions on a local plane, or the caller's matrix or
callback (e.g. distances along footpaths).

**Exact method:** min-cost flow (OR-Tools ``SimpleMinCostFlow``) on resident → carer → sink, plus one
arc resident → sink with a penalty ``P = 1 + Σ_r max_c cost(r, c)`` for leaving a resident uncovered.
``P`` exceeds any cost an augmenting path can add, so no optimum leaves a coverable resident out
(an augmenting path adds at most one arc per resident, each of cost ≤ that resident's maximum).

**Pruning with a proof:** the flow is first solved with each resident's ``k_nearest`` cheapest
eligible carers only. Node potentials are then computed as shortest-path distances in the residual
graph (Bellman–Ford, vectorised; an optimal flow's residual graph has no negative cycle) and every
pruned arc's reduced cost ``cost + π(r) − π(c)`` is checked. If none is negative, the reduced-cost
optimality conditions hold on the *full* graph, so the flow is optimal for the full problem; otherwise
the violating arcs are added and the flow is solved again. :class:`SolveStats` tells how it went.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from renxing.errors import Collector, FieldError, Invalid
from renxing.geo.metric import LocalPlane
from renxing.i18n import Label, _, _l, bilingual, ngettext

# Skills a carer can hold, as the care domain names them, with labels for the explanations.
SKILL_LABELS: dict[str, Label] = {
    "nursing": _l("护理"),
    "sign_language": _l("手语"),
    "first_aid": _l("急救"),
    "counselling": _l("心理疏导"),
    "electrician": _l("电工"),
    "plumber": _l("水暖"),
    "driver": _l("驾驶"),
    "rehabilitation": _l("康复"),
}

# Which skill a resident's condition calls for. Keys are the register's values: special needs
# (``Resident.special_needs`` comma list), ``bedridden`` and the disability kinds (``disability_kind``).
NEED_SKILLS: dict[str, str] = {
    "oxygen": "nursing",
    "dialysis": "nursing",
    "bedridden": "nursing",
    "听力": "sign_language",  # hearing disability
    "言语": "sign_language",  # speech disability
    "精神": "counselling",  # psycho-social disability
}

KIND_LABELS: dict[str, Label] = {
    "volunteer": _l("志愿者"),
    "party_member": _l("党员"),
    "neighbour": _l("邻居"),
    "grid_worker": _l("网格员"),
}

REASONS: dict[str, Label] = {
    "no_skilled_carer": _l("没有具备所需技能的照护人"),
    "none_within_reach": _l("具备技能的照护人都不在可达范围内"),
    "all_full": _l("可达且具备技能的照护人都已满员"),
}

CANDIDATES_SHOWN = 5

Id = Hashable
DistanceFn = Callable[["Vulnerable", "Carer"], float]


@dataclass(frozen=True, slots=True)
class Vulnerable:
    """A vulnerable resident who needs a carer.

    ``x``, ``y``: metres on a local plane (see :func:`plane_for` / :func:`to_xy` for lon/lat);
    ``needs``: skills the carer must hold (see :func:`required_skills`); ``building_id`` and ``area_id``
    may be None (then never "the same").
    """

    id: Id
    x: float
    y: float
    building_id: Id | None = None
    area_id: Id | None = None
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Carer:
    """Someone who can take on residents: ``capacity`` is what remains (max_care − current load).

    ``skills``: valid certificates only (the caller drops expired ones). ``kind``: volunteer,
    party_member, neighbour or grid_worker.
    """

    id: Id
    x: float
    y: float
    building_id: Id | None = None
    area_id: Id | None = None
    skills: frozenset[str] = frozenset()
    capacity: int = 1
    kind: str = "volunteer"


@dataclass(frozen=True, slots=True)
class Weights:
    """Preferences as metres of walking: what it costs to be in another building / another area.

    Equivalent to discounts for the same building (``other_building_m``) and the same area
    (``other_area_m``). ``unit_m`` is the integer cost unit of the flow (0.1 = decimetres).
    """

    other_building_m: float = 50.0
    other_area_m: float = 150.0
    unit_m: float = 0.1


@dataclass(slots=True)
class Problem:
    """One assignment instance.

    ``distance``: None for Euclidean metres between positions; an ``(len(residents), len(carers))``
    array of metres (``inf``/``nan`` = unreachable); or a callback ``f(resident, carer) -> metres``.
    ``max_distance_m``: arcs longer than this are not allowed (None: no limit).
    ``k_nearest``: arcs per resident in the first, pruned solve (None or ≥ carers: full graph);
    the result is exact either way (see the module docstring).
    """

    residents: Sequence[Vulnerable]
    carers: Sequence[Carer]
    weights: Weights = field(default_factory=Weights)
    max_distance_m: float | None = 2000.0
    distance: np.ndarray | DistanceFn | None = None
    k_nearest: int | None = 24


@dataclass(frozen=True, slots=True)
class Pair:
    """One proposed resident → carer pair, with its bilingual explanation."""

    resident_id: Id
    carer_id: Id
    distance_m: float
    same_building: bool
    same_area: bool
    matched_skills: tuple[str, ...]
    cost: int  # in Weights.unit_m, with the building/area surcharges
    explanation: str


@dataclass(frozen=True, slots=True)
class Uncovered:
    """A resident the optimum cannot cover, and why.

    ``reason``: ``no_skilled_carer`` (nobody holds all the needed skills; ``missing_skills`` names
    those nobody holds at all), ``none_within_reach`` (``nearest_m`` is the nearest such carer) or
    ``all_full`` (``candidates``: the nearest carers with the skills within reach, at most
    :data:`CANDIDATES_SHOWN`, nearest first; every such carer is at capacity in the optimum).
    """

    resident_id: Id
    reason: str
    message: str
    missing_skills: tuple[str, ...] = ()
    nearest_m: float | None = None
    candidates: tuple[Id, ...] = ()


@dataclass(frozen=True, slots=True)
class SolveStats:
    arcs: int  # resident → carer arcs in the last flow solved
    eligible_arcs: int  # all allowed resident → carer arcs (skills, reach, capacity)
    rounds: int  # flows solved (1 + re-solves after the optimality check)
    certified: bool  # optimality proved on the full graph (always true when it returns)
    seconds: float


@dataclass(slots=True)
class Assignment:
    """The optimum: pairs, the uncovered with reasons, totals, the proposed load per carer."""

    pairs: list[Pair]
    uncovered: list[Uncovered]
    total_distance_m: float
    cost: int
    carer_load: dict[Id, int]  # residents proposed per carer (only carers with ≥ 1)
    stats: SolveStats

    @property
    def covered(self) -> int:
        return len(self.pairs)

    @property
    def total(self) -> int:
        return len(self.pairs) + len(self.uncovered)

    @property
    def coverage(self) -> float:
        return self.covered / self.total if self.total else 1.0

    def carer_of(self, resident_id: Id) -> Id | None:
        return next((p.carer_id for p in self.pairs if p.resident_id == resident_id), None)


# --- helpers for callers --------------------------------------------------------------------------


def required_skills(
    special_needs: Iterable[str] | str | None = None, *, bedridden: bool = False, disability_kind: str | None = None
) -> frozenset[str]:
    """The skills a carer needs for a resident's conditions (see :data:`NEED_SKILLS`).

    ``special_needs`` may be the register's comma list ("wheelchair,oxygen").
    """
    if isinstance(special_needs, str):
        special_needs = special_needs.replace("，", ",").split(",")
    conditions = [s.strip() for s in special_needs or () if s and s.strip()]
    if bedridden:
        conditions.append("bedridden")
    if disability_kind:
        conditions.append(disability_kind)
    return frozenset(NEED_SKILLS[c] for c in conditions if c in NEED_SKILLS)


def plane_for(lonlats: Iterable[tuple[float, float]]) -> LocalPlane:
    """A local metric plane around the mean of the given lon/lat points."""
    pts = list(lonlats)
    if not pts:
        return LocalPlane(0.0, 0.0)
    return LocalPlane(sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


def to_xy(plane: LocalPlane, lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 lon/lat → metres east/north on ``plane`` (well under 0.1 % error within a street)."""
    return (lon - plane.lon0) * plane.kx, (lat - plane.lat0) * plane.ky


def skill_label(skill: str) -> str:
    return str(SKILL_LABELS[skill]) if skill in SKILL_LABELS else skill.replace("_", " ")


def skill_list(skills: Iterable[str]) -> str:
    """Skill names joined as the language joins a list (、 or a comma)."""
    return _("、").join(skill_label(s) for s in skills)


def explain(distance_m: float, same_building: bool, same_area: bool, skills: Iterable[str]) -> str:
    """``同楼栋，步行约 120 米，具备护理技能 / same building, ~120 m walk, has nursing skill``: the
    reason an assignment keeps, for readers of either language."""
    skills = sorted(skills)

    def words() -> str:
        parts = [_("同楼栋") if same_building else _("同片区") if same_area else _("跨片区")]
        if distance_m < 10:
            parts.append(_("步行不到 10 米"))
        elif distance_m < 1000:
            parts.append(_("步行约 {m} 米").format(m=int(round(distance_m, -1))))
        else:
            parts.append(_("步行约 {km} 公里").format(km=f"{distance_m / 1000:.1f}"))
        if skills:
            has = ngettext("具备{skills}技能", "具备{skills}技能", len(skills))
            parts.append(has.format(skills=skill_list(skills)))
        return _("，").join(parts)

    return bilingual(words)


# --- the solver -------------------------------------------------------------------------------------


def _validate(problem: Problem) -> None:
    errors = Collector()
    _validate_residents(problem.residents, errors)
    _validate_carers(problem.carers, errors)
    _validate_settings(problem, errors)
    errors.raise_if_any(_("照护分配输入有误"))


def _validate_residents(residents: Sequence[Vulnerable], errors: Collector) -> None:
    seen: set = set()
    for i, r in enumerate(residents):
        if r.id in seen:
            errors.add("residents", _("居民重复"), i + 1, r.id)
        seen.add(r.id)
        if not (math.isfinite(r.x) and math.isfinite(r.y)):
            errors.add("residents", _("位置无效"), i + 1, r.id)


def _validate_carers(carers: Sequence[Carer], errors: Collector) -> None:
    seen: set = set()
    for i, c in enumerate(carers):
        if c.id in seen:
            errors.add("carers", _("照护人重复"), i + 1, c.id)
        seen.add(c.id)
        if not (math.isfinite(c.x) and math.isfinite(c.y)):
            errors.add("carers", _("位置无效"), i + 1, c.id)
        if c.capacity < 0:
            errors.add("capacity", _("剩余照护容量不能为负"), i + 1, c.capacity)


def _validate_settings(problem: Problem, errors: Collector) -> None:
    """Weights, the distance cap and a given distance matrix."""
    w = problem.weights
    if w.unit_m <= 0 or w.other_building_m < 0 or w.other_area_m < 0:
        errors.add("weights", _("权重须为非负、单位须为正"))
    if problem.max_distance_m is not None and not problem.max_distance_m >= 0:
        errors.add("max_distance_m", _("最大距离须为非负"), value=problem.max_distance_m)
    if isinstance(problem.distance, np.ndarray):
        shape = (len(problem.residents), len(problem.carers))
        if problem.distance.shape != shape:
            errors.add("distance", _("距离矩阵应为 {shape}").format(shape=shape))
        elif (problem.distance < 0).any():
            errors.add("distance", _("距离不能为负"))


def _distances(problem: Problem) -> np.ndarray:
    res, car = problem.residents, problem.carers
    if isinstance(problem.distance, np.ndarray) or callable(problem.distance):
        if callable(problem.distance):
            fn = problem.distance
            d = np.array([[float(fn(r, c)) for c in car] for r in res], dtype=np.float64).reshape(len(res), len(car))
            if (d < 0).any():
                raise Invalid(
                    _("照护分配输入有误"),
                    [FieldError("distance", _("距离不能为负"))],
                )
        else:
            d = problem.distance.astype(np.float64, copy=True)
        d[~np.isfinite(d)] = np.inf  # nan: unknown, so unreachable
    else:  # positions were checked finite
        rp = np.array([(r.x, r.y) for r in res], dtype=np.float64).reshape(-1, 2)
        cp = np.array([(c.x, c.y) for c in car], dtype=np.float64).reshape(-1, 2)
        d = np.hypot(rp[:, 0:1] - cp[None, :, 0], rp[:, 1:2] - cp[None, :, 1])
    return d


def _codes(values: Sequence[Id | None], table: dict, missing: int) -> np.ndarray:
    """Integer codes for ids so numpy can compare them; None gets ``missing`` (never equal)."""
    return np.array([missing if v is None else table.setdefault(v, len(table)) for v in values], dtype=np.int64)


def _eligibility(residents: Sequence[Vulnerable], carers: Sequence[Carer]) -> np.ndarray:
    """``E[r, c]``: the carer holds every skill the resident needs. One row per distinct need set."""
    groups: dict[frozenset[str], np.ndarray] = {}
    rows = []
    for r in residents:
        row = groups.get(r.needs)
        if row is None:
            row = groups[r.needs] = np.array([r.needs <= c.skills for c in carers], dtype=bool)
        rows.append(row)
    return np.array(rows, dtype=bool).reshape(len(residents), len(carers))


def _potentials(n_nodes: int, tails: np.ndarray, heads: np.ndarray, caps: np.ndarray, costs, flows) -> np.ndarray:
    """Shortest-path distances in the residual graph from a virtual root linked to every node.

    Bellman–Ford, one vectorised relaxation of all residual arcs per round. They satisfy
    ``cost(u, v) + π(u) − π(v) ≥ 0`` on every residual arc.
    """
    fwd, bwd = flows < caps, flows > 0
    t = np.concatenate([tails[fwd], heads[bwd]])
    h = np.concatenate([heads[fwd], tails[bwd]])
    w = np.concatenate([costs[fwd], -costs[bwd]])
    order = np.argsort(h, kind="stable")
    t, h, w = t[order], h[order], w[order]
    pi = np.zeros(n_nodes, dtype=np.int64)
    if len(h) == 0:
        return pi
    nodes, starts = np.unique(h, return_index=True)
    for _round in range(n_nodes + 1):
        best = np.minimum.reduceat(pi[t] + w, starts)
        now = pi[nodes]
        if not (best < now).any():
            return pi
        pi[nodes] = np.minimum(now, best)
    raise RuntimeError("negative cycle in the residual graph: the flow is not optimal")


@dataclass(slots=True)
class Arcs:
    """The allowed resident → carer arcs of a problem and their integer costs (dense matrices)."""

    distance_m: np.ndarray  # metres, inf where unknown
    eligible: np.ndarray  # holds every needed skill
    reach: np.ndarray  # eligible and within max_distance_m
    usable: np.ndarray  # reach and the carer has capacity left
    same_building: np.ndarray
    same_area: np.ndarray
    cost: np.ndarray  # int64, in Weights.unit_m; 0 where not usable
    capacity: np.ndarray


def arcs(problem: Problem) -> Arcs:
    """Validate ``problem`` and compute its arcs; shared by :func:`solve` and ``assignment_milp.solve_milp``."""
    _validate(problem)
    res, car, w = problem.residents, problem.carers, problem.weights
    d = _distances(problem)
    elig = _eligibility(res, car)
    reach = elig & (d <= (np.inf if problem.max_distance_m is None else problem.max_distance_m))
    caps = np.array([c.capacity for c in car], dtype=np.int64)
    usable = reach & (caps > 0)[None, :]
    buildings: dict = {}
    areas: dict = {}
    rb, cb = _codes([r.building_id for r in res], buildings, -1), _codes([c.building_id for c in car], buildings, -2)
    ra, ca = _codes([r.area_id for r in res], areas, -1), _codes([c.area_id for c in car], areas, -2)
    same_b = rb[:, None] == cb[None, :]
    same_a = ra[:, None] == ca[None, :]
    # in place: the matrices are large (1.5 M cells at the target size)
    walk = np.where(usable, d, 0.0)
    np.add(walk, w.other_building_m, out=walk, where=~same_b)
    np.add(walk, w.other_area_m, out=walk, where=~same_a)
    walk *= usable
    walk /= w.unit_m
    cost = np.rint(walk, out=walk).astype(np.int64)
    return Arcs(d, elig, reach, usable, same_b, same_a, cost, caps)


def solve(problem: Problem) -> Assignment:
    """The exact optimum of ``problem`` (see the module docstring). Raises :class:`Invalid` on bad input."""
    started = time.perf_counter()
    a = arcs(problem)
    res, car = list(problem.residents), list(problem.carers)
    penalty = 1 + int(a.cost.max(axis=1, initial=0).sum())
    eligible_arcs = int(a.usable.sum())
    cand = _first_candidates(a, problem.k_nearest)
    rounds = 0
    while True:
        rounds += 1
        net = _solve_flow(cand, a, penalty)
        if len(net.ri) == eligible_arcs:
            break  # the full graph: optimal by the solver itself
        violating = _violating_arcs(net, a, cand)
        if not violating.any():
            break
        cand |= violating
    chosen = net.flows[: len(net.ri)] > 0
    r_idx, c_idx = net.ri[chosen], net.ci[chosen]
    pairs, load, total_m, total_cost = _pairs(res, car, a, r_idx, c_idx)
    covered = np.zeros(len(res), dtype=bool)
    covered[r_idx] = True
    uncovered = _reasons(res, car, a.distance_m, a.eligible, a.reach, covered, problem.max_distance_m)
    stats = SolveStats(int(cand.sum()), eligible_arcs, rounds, True, time.perf_counter() - started)
    return Assignment(pairs, uncovered, total_m, total_cost, load, stats)


def _first_candidates(a: Arcs, k: int | None) -> np.ndarray:
    """The arcs of the first flow: each resident's ``k`` cheapest usable arcs (all for None)."""
    m = a.usable.shape[1]
    if k is None or k >= m:
        return a.usable.copy()
    k = max(1, k)
    masked = np.where(a.usable, a.cost, np.iinfo(np.int64).max)
    idx = np.argpartition(masked, k - 1, axis=1)[:, :k]
    cand = np.zeros_like(a.usable)
    np.put_along_axis(cand, idx, True, axis=1)
    cand &= a.usable
    return cand


@dataclass(slots=True)
class _Flow:
    """One solved network: resident → carer arcs (``ri``, ``ci``) first, then resident → sink
    penalty arcs, then carer → sink capacity arcs; every arc's flow."""

    ri: np.ndarray
    ci: np.ndarray
    tails: np.ndarray
    heads: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    flows: np.ndarray


def _solve_flow(cand: np.ndarray, a: Arcs, penalty: int) -> _Flow:
    n, m = cand.shape
    sink = n + m
    ri, ci = np.nonzero(cand)
    tails = np.concatenate([ri, np.arange(n), n + np.arange(m)]).astype(np.int32)
    heads = np.concatenate([n + ci, np.full(n, sink), np.full(m, sink)]).astype(np.int32)
    capv = np.concatenate([np.ones(len(ri) + n, dtype=np.int64), a.capacity])
    costv = np.concatenate([a.cost[ri, ci], np.full(n, penalty, dtype=np.int64), np.zeros(m, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capv, costv)
    supplies = np.zeros(n + m + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    flows = np.asarray(flow.flows(np.arange(len(capv), dtype=np.int32)), dtype=np.int64)
    return _Flow(ri, ci, tails, heads, capv, costv, flows)


def _violating_arcs(net: _Flow, a: Arcs, cand: np.ndarray) -> np.ndarray:
    """Usable arcs left out of the flow whose reduced cost under the residual graph's potentials
    is negative: none means the flow is optimal on the full graph."""
    n, m = cand.shape
    pi = _potentials(
        n + m + 1, net.tails.astype(np.int64), net.heads.astype(np.int64), net.capacity, net.cost, net.flows
    )
    reduced = a.cost + pi[:n, None]
    reduced -= pi[None, n : n + m]
    violating = reduced < 0
    violating &= a.usable
    violating &= ~cand
    return violating


def _pairs(
    res: list[Vulnerable], car: list[Carer], a: Arcs, r_idx: np.ndarray, c_idx: np.ndarray
) -> tuple[list[Pair], dict[Id, int], float, int]:
    """The chosen arcs as explained pairs in the residents' order, the load per carer and totals."""
    pairs: list[Pair] = []
    load: dict[Id, int] = {}
    total_m = 0.0
    total_cost = 0
    for r_i, c_i in zip(r_idx.tolist(), c_idx.tolist(), strict=True):
        r, c = res[r_i], car[c_i]
        sb, sa = bool(a.same_building[r_i, c_i]), bool(a.same_area[r_i, c_i])
        dist = float(a.distance_m[r_i, c_i])
        cost = int(a.cost[r_i, c_i])
        matched = tuple(sorted(r.needs))
        pairs.append(Pair(r.id, c.id, dist, sb, sa, matched, cost, explain(dist, sb, sa, matched)))
        load[c.id] = load.get(c.id, 0) + 1
        total_m += dist
        total_cost += cost
    order = {r.id: i for i, r in enumerate(res)}
    pairs.sort(key=lambda p: order[p.resident_id])
    return pairs, load, total_m, total_cost


def _reasons(res, car, d, elig, reach, covered, max_m) -> list[Uncovered]:
    held = frozenset().union(*(c.skills for c in car)) if car else frozenset()
    any_elig, any_reach = elig.any(axis=1), reach.any(axis=1)
    # the nearest few carers within reach of every resident left out although some are in reach
    full_rows = np.nonzero(~covered & any_reach)[0]
    in_reach: dict[int, list[int]] = {}
    if len(full_rows):
        near_d = np.where(reach[full_rows], d[full_rows], np.inf)
        shown = min(CANDIDATES_SHOWN, near_d.shape[1])
        idx = np.argpartition(near_d, shown - 1, axis=1)[:, :shown] if shown < near_d.shape[1] else None
        if idx is None:
            idx = np.broadcast_to(np.arange(near_d.shape[1]), near_d.shape)
        part = np.take_along_axis(near_d, idx, axis=1)
        idx = np.take_along_axis(idx, np.argsort(part, axis=1, kind="stable"), axis=1)
        part = np.sort(part, axis=1, kind="stable")
        for row, cols, dist in zip(full_rows.tolist(), idx.tolist(), part.tolist(), strict=True):
            in_reach[row] = [c for c, x in zip(cols, dist, strict=True) if x != np.inf]
    out = []
    for i in np.nonzero(~covered)[0].tolist():
        r = res[i]
        if not any_elig[i]:
            missing = tuple(sorted(r.needs - held))
            if missing:
                msg = _("没有照护人具备{skills}技能").format(skills=skill_list(missing))
            else:
                msg = _("没有照护人同时具备{skills}技能").format(skills=skill_list(sorted(r.needs)))
            out.append(Uncovered(r.id, "no_skilled_carer", msg, missing_skills=missing))
        elif not any_reach[i]:
            nearest = float(d[i][elig[i]].min())
            msg = str(REASONS["none_within_reach"])
            if math.isfinite(nearest) and max_m is not None:
                msg = _("具备技能的照护人都在 {max_m:.0f} 米以外（最近约 {nearest:.0f} 米）").format(
                    max_m=max_m, nearest=nearest
                )
            out.append(Uncovered(r.id, "none_within_reach", msg, nearest_m=nearest if math.isfinite(nearest) else None))
        else:
            cands = tuple(car[j].id for j in in_reach[i])
            out.append(Uncovered(r.id, "all_full", str(REASONS["all_full"]), candidates=cands))
    return out


def assign(
    residents: Sequence[Vulnerable],
    carers: Sequence[Carer],
    *,
    weights: Weights | None = None,
    max_distance_m: float | None = 2000.0,
    distance: np.ndarray | DistanceFn | None = None,
    k_nearest: int | None = 24,
) -> Assignment:
    """Shorthand for ``solve(Problem(...))``."""
    return solve(Problem(residents, carers, weights or Weights(), max_distance_m, distance, k_nearest))
