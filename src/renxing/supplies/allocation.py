"""Emergency allocation: which storage point sends how much of each item to which shelter. Pure.

The problem, per item (items are independent): storage points ``i`` hold ``s_i`` units, shelters
``j`` need ``d_j`` units, and a unit sent from ``i`` to ``j`` travels ``c_ij`` metres (no arc where
``i`` cannot reach ``j``). The plan meets as much demand as possible and, among the plans that do,
has the least total ``Σ quantity · distance``.

Method
------
One min-cost flow per item (OR-Tools ``SimpleMinCostFlow``, exact on integers): storage points →
shelters at cost ``c_ij``, plus one *outside* node ``X`` that takes what a storage point keeps
(``i → X``, cost 0: surplus) and brings what a shelter lacks (``X → j``, cost ``M``: shortfall).
With ``M = 1 + min(S, J) · Cmax`` (``S``, ``J`` the storage points and shelters in play,
``Cmax`` the longest usable distance) a unit less of shortfall is always worth more than any
rerouting it needs: that takes a path ``i → j₁ ← i₁ → j₂ … → j`` through real arcs, whose at
most ``min(S, J)`` forward arcs cost ``Cmax`` each and whose backward arcs cost nothing. So the
least penalised cost ``Σ c·x + M · shortfall`` is first the most met demand, then the least
distance: the lexicographic optimum.

Why optimal (the certificate)
-----------------------------
The penalised problem is the linear program ``min Σ c_ij x_ij + M Σ u_j`` subject to
``Σ_j x_ij ≤ s_i``, ``Σ_i x_ij + u_j = d_j``, ``x, u ≥ 0``; its dual is ``max Σ d_j v_j − Σ s_i w_i``
subject to ``v_j − w_i ≤ c_ij`` (usable pairs), ``v_j ≤ M``, ``w_i ≥ 0``. Prices come from the
optimal flow's residual graph: shortest-path distances ``π`` from a virtual root (Bellman–Ford on
the small graph of storage points, shelters and ``X``; no negative cycle exists at an optimum), so
every residual arc has a non-negative reduced cost; ``w_i = π_i − π_X`` and ``v_j = π_j − π_X``
are then dual feasible. Storage points and shelters not in play get prices that keep feasibility.
The certificate reports the prices, the largest dual-constraint violation (0) and, per item, the
primal and dual objectives, which are equal: by weak duality no plan can do better. The check is
done here in exact integers and the solver raises if it fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

_NO_ARC = np.int64(2**60)  # stands for "no arc" in dense minima; potentials stay far below it


@dataclass(frozen=True)
class Flow:
    source: int  # index into the sources axis
    shelter: int  # index into the shelters axis
    item: int  # index into the items axis
    quantity: int
    distance_m: int


@dataclass
class Allocation:
    flows: list[Flow]  # sorted by (source, shelter, item)
    shortfall: np.ndarray  # shape (shelters, items), int: demand not met
    surplus: np.ndarray  # shape (sources, items), int: supply left
    objective: int  # Σ quantity × distance_m over flows (unit·metres)
    met: int  # Σ quantity delivered
    status: str  # "optimal"
    certificate: dict  # the optimality proof as plain values (see the module docstring)


@dataclass
class _ItemResult:
    """One item's optimum on the storage points and shelters in play (``src``, ``shel``)."""

    src: np.ndarray
    shel: np.ndarray
    pair_i: np.ndarray  # positions in src / shel of the arcs that carry flow
    pair_j: np.ndarray
    quantity: np.ndarray
    surplus: np.ndarray
    shortfall: np.ndarray
    penalty: int
    w: np.ndarray  # prices of src
    v: np.ndarray  # prices of shel


def allocate(supply: np.ndarray, demand: np.ndarray, distance_m: np.ndarray) -> Allocation:
    """supply: (sources, items) ints ≥ 0 (what each point may send, already limited by agreements);
    demand: (shelters, items) ints ≥ 0; distance_m: (sources, shelters) ints ≥ 0 metres, or -1 where
    a source cannot reach a shelter. Meets as much demand as possible (the maximum), and among the
    plans that do, the one of least total unit·distance."""
    s, d, c = _validated(supply, demand, distance_m)
    n_src, n_items = s.shape
    n_shel = d.shape[0]
    reach = c >= 0
    shortfall = d.copy()
    surplus = s.copy()
    w_all = np.zeros((n_src, n_items), dtype=np.int64)
    v_all = np.zeros((n_shel, n_items), dtype=np.int64)
    penalties = np.ones(n_items, dtype=np.int64)
    rows: list[np.ndarray] = []
    for k in range(n_items):
        res = _solve_item(s[:, k], d[:, k], c, reach)
        penalties[k] = res.penalty
        surplus[res.src, k] = res.surplus
        shortfall[res.shel, k] = res.shortfall
        w_all[res.src, k] = res.w
        v_all[res.shel, k] = res.v
        w_all[:, k], v_all[:, k] = _extend_prices(res, c, reach, w_all[:, k], v_all[:, k], n_src, n_shel)
        if len(res.quantity):
            i, j = res.src[res.pair_i], res.shel[res.pair_j]
            rows.append(np.column_stack([i, j, np.full(len(i), k), res.quantity, c[i, j]]))
    table = np.concatenate(rows) if rows else np.zeros((0, 5), dtype=np.int64)
    table = table[np.lexsort((table[:, 2], table[:, 1], table[:, 0]))]
    flows = [Flow(*r) for r in table.tolist()]
    objective = int((table[:, 3] * table[:, 4]).sum())
    met = int(table[:, 3].sum())
    certificate = _certificate(s, d, c, reach, table, shortfall, penalties, w_all, v_all)
    if certificate["max_negative_reduced_cost"] != 0 or certificate["primal"] != certificate["dual"]:
        raise RuntimeError("the optimality certificate does not hold")  # cannot happen, see the docstring
    return Allocation(flows, shortfall, surplus, objective, met, "optimal", certificate)


def _validated(supply, demand, distance_m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, d, c = (_integers(a, name) for a, name in ((supply, "supply"), (demand, "demand"), (distance_m, "distance_m")))
    if s.ndim != 2 or d.ndim != 2 or c.ndim != 2:
        raise ValueError(
            "supply, demand and distance_m must be 2-D: (sources, items), (shelters, items), (sources, shelters)"
        )
    if s.shape[1] != d.shape[1]:
        raise ValueError(f"supply has {s.shape[1]} items but demand has {d.shape[1]}")
    if c.shape != (s.shape[0], d.shape[0]):
        raise ValueError(f"distance_m has shape {c.shape}, expected (sources, shelters) = {(s.shape[0], d.shape[0])}")
    if (s < 0).any() or (d < 0).any():
        raise ValueError("supply and demand must be ≥ 0")
    if (c < -1).any():
        raise ValueError("distance_m must be ≥ 0 metres, or -1 for no route")
    return s, d, c


def _integers(a, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == np.round(arr)).all():
        return arr.astype(np.int64)
    raise ValueError(f"{name} must hold integers")


def _solve_item(s: np.ndarray, d: np.ndarray, c: np.ndarray, reach: np.ndarray) -> _ItemResult:
    src, shel = np.nonzero(s > 0)[0], np.nonzero(d > 0)[0]
    a, b = len(src), len(shel)
    sub = c[np.ix_(src, shel)]
    pi_, pj_ = np.nonzero(reach[np.ix_(src, shel)])
    cost = sub[pi_, pj_]
    penalty = 1 + min(a, b) * int(cost.max(initial=0))
    s_in, d_in = s[src], d[shel]
    if a == 0 or b == 0:
        # nothing to move: all demand short, all supply left; prices w = 0, v = M are optimal
        empty = np.zeros(0, dtype=np.int64)
        return _ItemResult(
            src, shel, empty, empty, empty, s_in, d_in, penalty, np.zeros(a, np.int64), np.full(b, penalty)
        )
    x_node = a + b
    big = int(s_in.sum() + d_in.sum())  # more than any arc can carry: forward arcs stay residual
    tails = np.concatenate([pi_, np.arange(a), np.full(b, x_node)])
    heads = np.concatenate([a + pj_, np.full(a, x_node), a + np.arange(b)])
    costs = np.concatenate([cost, np.zeros(a, np.int64), np.full(b, penalty, np.int64)])
    net = min_cost_flow.SimpleMinCostFlow()
    net.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), np.full(len(tails), big, np.int64), costs
    )
    balance = np.concatenate([s_in, -d_in, [int(d_in.sum() - s_in.sum())]]).astype(np.int64)
    net.set_nodes_supplies(np.arange(a + b + 1, dtype=np.int32), balance)
    status = net.solve()
    if status != net.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    f = np.asarray(net.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)
    n_pairs = len(cost)
    x, left, short = f[:n_pairs], f[n_pairs : n_pairs + a], f[n_pairs + a :]
    used = x > 0
    fi, fj, fq = pi_[used], pj_[used], x[used]
    w, v = _prices(np.where(reach[np.ix_(src, shel)], sub, _NO_ARC), fi, fj, left > 0, short > 0, penalty)
    return _ItemResult(src, shel, fi, fj, fq, left, short, penalty, w, v)


def _prices(
    cost: np.ndarray, fi: np.ndarray, fj: np.ndarray, has_left: np.ndarray, is_short: np.ndarray, penalty: int
) -> tuple[np.ndarray, np.ndarray]:
    """Dual prices (w of storage points, v of shelters) from shortest-path distances in the residual
    graph, from a virtual root joined to every node; Bellman–Ford with one dense sweep per round.

    Residual arcs: i → j (c) always, j → i (−c) where flow, i → X (0) always, X → i (0) where
    surplus, X → j (M) always, j → X (−M) where shortfall."""
    a, b = cost.shape
    ps = np.zeros(a, dtype=np.int64)
    pj = np.zeros(b, dtype=np.int64)
    px = np.int64(0)
    back = cost[fi, fj]
    short_idx = np.nonzero(is_short)[0]
    for _round in range(a + b + 2):
        new_pj = np.minimum(pj, (ps[:, None] + cost).min(axis=0))
        new_pj = np.minimum(new_pj, px + penalty)
        new_ps = ps.copy()
        np.minimum.at(new_ps, fi, new_pj[fj] - back)
        new_ps[has_left] = np.minimum(new_ps[has_left], px)
        new_px = min(px, new_ps.min(), (new_pj[short_idx] - penalty).min(initial=px))
        if new_px == px and (new_ps == ps).all() and (new_pj == pj).all():
            return ps - px, pj - px
        ps, pj, px = new_ps, new_pj, new_px
    raise RuntimeError("negative cycle in the residual graph: the flow is not optimal")


def _extend_prices(
    res: _ItemResult, c: np.ndarray, reach: np.ndarray, w: np.ndarray, v: np.ndarray, n_src: int, n_shel: int
) -> tuple[np.ndarray, np.ndarray]:
    """Prices for storage points without supply and shelters without demand of this item (they add
    nothing to the dual objective): as high / low as feasibility allows, shelters first."""
    w, v = w.copy(), v.copy()
    idle_j = np.setdiff1d(np.arange(n_shel), res.shel)
    if len(idle_j):
        cols = np.where(reach[np.ix_(res.src, idle_j)], c[np.ix_(res.src, idle_j)] + res.w[:, None], _NO_ARC)
        v[idle_j] = np.minimum(cols.min(axis=0, initial=_NO_ARC), res.penalty)
    idle_i = np.setdiff1d(np.arange(n_src), res.src)
    if len(idle_i):
        rows = np.where(reach[idle_i], v[None, :] - c[idle_i], 0)
        w[idle_i] = np.maximum(rows.max(axis=1, initial=0), 0)
    return w, v


def _certificate(s, d, c, reach, table, shortfall, penalties, w, v) -> dict:
    """The dual prices and the checks that prove them: dual feasibility (largest violation) and,
    per item, primal objective = dual objective."""
    n_items = s.shape[1]
    cost_k = np.zeros(n_items, dtype=np.int64)
    np.add.at(cost_k, table[:, 2], table[:, 3] * table[:, 4])
    primal = cost_k + penalties * shortfall.sum(axis=0)
    dual = (d * v).sum(axis=0) - (s * w).sum(axis=0)
    # v_j − w_i ≤ c_ij on usable pairs, v_j ≤ M, w_i ≥ 0
    worst = 0
    if n_items and reach.any():
        excess = v[None, :, :] - w[:, None, :] - c[:, :, None]
        worst = max(worst, int(excess[reach].max()))
    if n_items:
        worst = max(worst, int((v - penalties[None, :]).max(initial=0)), int((-w).max(initial=0)))
    return {
        "method": "min-cost flow (OR-Tools), LP dual prices from residual shortest paths",
        "penalty": penalties.tolist(),
        "source_price": w.tolist(),
        "shelter_price": v.tolist(),
        "primal": primal.tolist(),
        "dual": dual.tolist(),
        "max_negative_reduced_cost": worst,
    }
