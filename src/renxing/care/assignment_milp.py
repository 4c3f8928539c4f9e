"""The care assignment as a 0/1 program, solved by HiGHS or CBC: a reference independent of the
flow code in ``care.assignment``, for tests and the benchmark. Pure: no database, no web."""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from renxing.care.assignment import Problem, arcs

Id = Hashable


@dataclass(frozen=True, slots=True)
class MilpResult:
    covered: int
    cost: int
    pairs: list[tuple[Id, Id]]
    seconds: float


def solve_milp(problem: Problem, solver: str = "highs") -> MilpResult:
    """The same optimum as a 0/1 program over all usable arcs, independent of the flow code.

    ``"highs"`` (scipy.optimize.milp): one objective, cost plus the flow's penalty per uncovered
    resident. ``"cbc"`` (PuLP, a development dependency): two stages, maximise the residents covered,
    then minimise the cost with coverage fixed at that maximum. Slow; for verification.
    """
    started = time.perf_counter()
    a = arcs(problem)
    n, m = a.usable.shape
    ri, ci = np.nonzero(a.usable)
    costs = a.cost[ri, ci]
    if solver == "highs":
        x = _milp_highs(n, m, ri, ci, costs, a.capacity)
    elif solver == "cbc":
        x = _milp_cbc(n, m, ri, ci, costs, a.capacity)
    else:
        raise ValueError(f"unknown solver {solver!r}")
    pairs = [(problem.residents[i].id, problem.carers[j].id) for i, j in zip(ri[x], ci[x], strict=True)]
    return MilpResult(int(x.sum()), int(costs[x].sum()), pairs, time.perf_counter() - started)


def _milp_highs(n, m, ri, ci, costs, caps) -> np.ndarray:
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array

    nv = len(ri)
    if nv == 0:
        return np.zeros(0, dtype=bool)
    cols, ones = np.arange(nv), np.ones(nv)
    rows = [
        LinearConstraint(csr_array((ones, (ri, cols)), shape=(n, nv)), -np.inf, 1),
        LinearConstraint(csr_array((ones, (ci, cols)), shape=(m, nv)), -np.inf, caps.astype(float)),
    ]
    # One stage: minimise Σ (cost − P)·x, i.e. cost plus P per uncovered resident, with the flow's P.
    # The constraint matrix is that of a bipartite b-matching (totally unimodular), so HiGHS's LP
    # relaxation is already integral and the objective is exact in double precision. HiGHS's MIP
    # presolve is off: on this model it took 20× longer than the whole solve without it.
    penalty = 1 + sum(int(v) for v in np.maximum.reduceat(costs, np.r_[0, np.flatnonzero(np.diff(ri)) + 1]))
    result = milp(
        costs.astype(float) - penalty,
        constraints=rows,
        integrality=ones,
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0, "presolve": False},
    )
    if not result.success:
        raise RuntimeError(f"MILP failed: {result.message}")
    return result.x > 0.5


def _milp_cbc(n, m, ri, ci, costs, caps) -> np.ndarray:
    import warnings

    import pulp

    nv = len(ri)
    if nv == 0:
        return np.zeros(0, dtype=bool)
    prob = pulp.LpProblem("care", pulp.LpMaximize)
    xs = [prob.add_variable(f"x{i}", 0, 1, pulp.LpBinary) for i in range(nv)]
    by_res: list[list] = [[] for _ in range(n)]
    by_car: list[list] = [[] for _ in range(m)]
    for v, i, j in zip(xs, ri.tolist(), ci.tolist(), strict=True):
        by_res[i].append(v)
        by_car[j].append(v)
    for i, vs in enumerate(by_res):
        if vs:
            prob += pulp.lpSum(vs) <= 1, f"r{i}"
    for j, vs in enumerate(by_car):
        if vs:
            prob += pulp.lpSum(vs) <= int(caps[j]), f"c{j}"
    with warnings.catch_warnings():
        # the bundled CBC is the one present; its command class is marked for renaming in PuLP 4
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, gapRel=0)
    prob.setObjective(pulp.lpSum(xs))
    prob.solve(solver)
    best = round(pulp.value(prob.objective))
    prob += pulp.lpSum(xs) >= best, "covered"
    prob.sense = pulp.LpMinimize
    prob.setObjective(pulp.lpDot(costs.tolist(), xs))
    prob.solve(solver)
    if pulp.LpStatus[prob.status] != "Optimal":
        raise RuntimeError(f"CBC failed: {pulp.LpStatus[prob.status]}")
    return np.array([(v.varValue or 0) > 0.5 for v in xs], dtype=bool)
