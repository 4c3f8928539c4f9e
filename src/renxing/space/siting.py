"""Shelter siting: capacitated p-median as a MILP solved with HiGHS. Pure: numpy in, a result out.

Choose which sites to open so that every demand point is assigned whole to one open site, no site
serves more than its capacity, and Σ demand × distance is minimal. Formulation (i demand points,
j sites; y_j = 1 when open, x_ij = 1 when i is served by j):

    min  Σ_ij d_i c_ij x_ij
    s.t. Σ_j x_ij = 1                 every point served once
         Σ_i d_i x_ij ≤ Q_j y_j       capacity, only if open
         x_ij ≤ y_j                   (redundant, tightens the LP bound a lot)
         Σ_{j candidate} y_j = p      p new sites; fixed sites have y_j = 1
         x, y binary

Pairs with ``c_ij`` infinite (unreachable) or ``d_i > Q_j`` get no variable. HiGHS proves
optimality (relative gap 0 by default), so the answer is the exact optimum, not a heuristic.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from renxing.space.network import RoadGraph


@dataclass
class SitingResult:
    """``open`` are site indices (fixed ones included), ``assignment[i]`` the site of point i (−1 when
    unassigned, only with ``unassigned_cost``); ``objective`` is Σ demand × cost (+ penalties);
    ``status`` is "optimal", "time_limit" (best found, ``gap`` > 0), or "infeasible"."""

    status: str
    open: list[int] = field(default_factory=list)
    assignment: np.ndarray | None = None
    objective: float | None = None
    gap: float | None = None
    load: dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0


def solve_pmedian(
    cost: np.ndarray,
    demand: np.ndarray,
    capacity: np.ndarray,
    p: int,
    fixed_open: tuple[int, ...] | list[int] = (),
    *,
    unassigned_cost: float | None = None,
    weight_by_demand: bool = True,
    time_limit: float | None = None,
    mip_rel_gap: float = 0.0,
) -> SitingResult:
    """Capacitated p-median.

    ``cost``: (n_points, n_sites) per-unit cost, typically walking distance in metres (``inf``
    where not allowed); ``demand``: (n_points,) e.g. residents; ``capacity``: (n_sites,) persons.
    ``p``: how many sites to open besides ``fixed_open`` (site indices always open, e.g. existing
    shelters); every other site is a candidate. ``unassigned_cost``: if given, a point may stay
    unassigned at that cost per unit of demand (so a short total capacity still gives a plan);
    otherwise such an instance is "infeasible". ``weight_by_demand=False`` minimises Σ cost of the
    assignments instead (the OR-Library instances are scored that way). ``time_limit`` seconds for HiGHS.
    """
    t0 = time.perf_counter()
    cost = np.asarray(cost, dtype=float)
    demand = np.asarray(demand, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    n, m = cost.shape
    if demand.shape != (n,) or capacity.shape != (m,):
        raise ValueError("cost must be (points, sites), demand (points,), capacity (sites,)")
    if np.any(demand < 0) or np.any(capacity < 0):
        raise ValueError("demand and capacity must be non-negative")
    fixed = sorted({int(j) for j in fixed_open})
    if any(j < 0 or j >= m for j in fixed):
        raise ValueError("fixed_open has a site index out of range")
    n_cand = m - len(fixed)
    if p < 0 or p > n_cand:
        raise ValueError(f"p must be between 0 and {n_cand}")

    ok = np.isfinite(cost) & (demand[:, None] <= capacity[None, :])
    pi, pj = np.nonzero(ok)
    nx = len(pi)
    allow_u = unassigned_cost is not None
    nu = n if allow_u else 0
    # variables: x (nx), y (m), u (nu)
    w = demand if weight_by_demand else np.ones(n)
    c = np.concatenate([w[pi] * cost[pi, pj], np.zeros(m), np.full(nu, unassigned_cost or 0.0) * w[:nu]])
    rows_assign = sparse.csr_matrix((np.ones(nx), (pi, np.arange(nx))), shape=(n, nx + m + nu))
    if allow_u:
        rows_assign = rows_assign + sparse.csr_matrix(
            (np.ones(n), (np.arange(n), nx + m + np.arange(n))), shape=(n, nx + m + nu)
        )
    cap_rows = sparse.csr_matrix(
        (
            np.concatenate([demand[pi], -capacity]),
            (np.concatenate([pj, np.arange(m)]), np.concatenate([np.arange(nx), nx + np.arange(m)])),
        ),
        shape=(m, nx + m + nu),
    )
    link = sparse.csr_matrix(
        (
            np.concatenate([np.ones(nx), -np.ones(nx)]),
            (np.concatenate([np.arange(nx)] * 2), np.concatenate([np.arange(nx), nx + pj])),
        ),
        shape=(nx, nx + m + nu),
    )
    is_fixed = np.zeros(m, dtype=bool)
    is_fixed[fixed] = True
    count_row = sparse.csr_matrix(
        (np.ones(n_cand), (np.zeros(n_cand, dtype=int), nx + np.nonzero(~is_fixed)[0])), shape=(1, nx + m + nu)
    )
    constraints = [
        LinearConstraint(rows_assign, 1, 1),
        LinearConstraint(cap_rows, -np.inf, 0),
        LinearConstraint(link, -np.inf, 0),
        LinearConstraint(count_row, p, p),
    ]
    lb = np.zeros(nx + m + nu)
    ub = np.ones(nx + m + nu)
    lb[nx + np.array(fixed, dtype=int)] = 1
    options = {"mip_rel_gap": mip_rel_gap, "disp": False}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = milp(c, constraints=constraints, integrality=np.ones_like(c), bounds=Bounds(lb, ub), options=options)
    seconds = time.perf_counter() - t0
    if res.x is None:  # scipy's status 1: the time limit came before any feasible plan
        return SitingResult(status="time_limit" if res.status == 1 else "infeasible", seconds=seconds)
    x = res.x[:nx] > 0.5
    y = res.x[nx : nx + m] > 0.5
    assignment = np.full(n, -1, dtype=np.int64)
    assignment[pi[x]] = pj[x]
    load = np.bincount(assignment[assignment >= 0], weights=demand[assignment >= 0], minlength=m)
    gap = getattr(res, "mip_gap", None)
    return SitingResult(
        status="optimal" if res.status == 0 else "time_limit",
        open=np.nonzero(y)[0].tolist(),
        assignment=assignment,
        objective=float(res.fun),
        gap=float(gap) if gap is not None else None,
        load={int(j): float(load[j]) for j in np.nonzero(y)[0]},
        seconds=seconds,
    )


def network_costs(
    graph: RoadGraph, points: Sequence[tuple[float, float]], sites: Sequence[tuple[float, float]]
) -> np.ndarray:
    """Walking distance in metres (door snap + network + entrance snap) from every demand point to
    every site, (len(points), len(sites)); ``inf`` where unreachable. Points and sites are
    (lon, lat) in WGS-84 degrees. One Dijkstra per site."""
    if not points or not sites:
        return np.zeros((len(points), len(sites)))
    p_node, p_snap = graph.snap([p[0] for p in points], [p[1] for p in points])
    s_node, s_snap = graph.snap([s[0] for s in sites], [s[1] for s in sites])
    out = np.empty((len(points), len(sites)))
    chunk = max(1, 4_000_000 // max(1, graph.n_nodes))
    for start in range(0, len(sites), chunk):
        d = graph.distances(s_node[start : start + chunk])[:, p_node]
        out[:, start : start + chunk] = (d + s_snap[start : start + chunk, None]).T + p_snap[:, None]
    return out


@dataclass
class PmedcapInstance:
    """An OR-Library capacitated p-median instance: ``xy`` (n, 2) coordinates, ``demand`` (n,),
    the same ``capacity`` at every node, ``p`` medians, the published ``optimum``."""

    optimum: float
    p: int
    capacity: float
    xy: np.ndarray
    demand: np.ndarray

    def cost_matrix(self) -> np.ndarray:
        """Euclidean distances truncated to integers, as the published optima assume."""
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        return np.floor(np.sqrt((diff**2).sum(axis=2)))

    def solve(self, **kwargs) -> SitingResult:
        n = len(self.demand)
        return solve_pmedian(
            self.cost_matrix(), self.demand, np.full(n, self.capacity), self.p, weight_by_demand=False, **kwargs
        )


def read_pmedcap(path: str | Path) -> PmedcapInstance:
    """Read an OR-Library ``pmedcap`` file: first line "<problem no> <best known>", second line
    "<n> <p> <capacity>", then n lines "<id> <x> <y> <demand>". Every node is a demand point and a
    candidate site. The published optima are Σ distance of the assignments (not weighted by demand)."""
    words = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    if len(words) < 3:
        raise ValueError(f"{path}: too short for a pmedcap file")
    optimum = float(words[0][-1])
    n, p, cap = int(words[1][0]), int(words[1][1]), float(words[1][2])
    rows = words[2 : 2 + n]
    if len(rows) != n or any(len(r) < 4 for r in rows):
        raise ValueError(f"{path}: expected {n} node lines of 4 numbers")
    data = np.array([[float(v) for v in r[:4]] for r in rows])
    return PmedcapInstance(optimum=optimum, p=p, capacity=cap, xy=data[:, 1:3], demand=data[:, 3])
