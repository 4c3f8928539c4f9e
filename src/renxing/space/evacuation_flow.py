"""The column generation behind ``evacuation.plan``: the transportation problem solved exactly
with OR-Tools min-cost flow on a small restricted problem, priced against every pair. Pure.

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

from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from renxing.space.network import RoadGraph

_INT64_SAFE = 2**62
DROP_MARGIN = 0.1  # an unused arc is dropped when its reduced cost exceeds this share of its cost
RELEASE = 2  # persons released from an overfull block per person of overflow


@dataclass
class Problem:
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


@dataclass
class Solution:
    """The columns (source, shelter, cost, distance dm), their flows, and the unplaced per source."""

    col_s: np.ndarray
    col_j: np.ndarray
    col_cost: np.ndarray
    col_dist: np.ndarray
    flows: np.ndarray
    unplaced: np.ndarray


@dataclass
class _Leftover:
    """Persons left without a place, per component (and class when vulnerable_first): each group's
    size, each source's group (−1: none), and how many are placed in all."""

    groups: dict[tuple[int, int], int]
    src_group: np.ndarray
    placed: int


@dataclass
class _Columns:
    s: np.ndarray
    j: np.ndarray
    dist: np.ndarray
    cost: np.ndarray
    known: set[int] = field(default_factory=set)  # source × ns + shelter of every column


@dataclass
class _Round:
    """One restricted problem: its units (the sources that choose, then one block per shelter of
    those that do not), its flows, and the potentials of shelters and sources."""

    free_idx: np.ndarray
    unit_of: np.ndarray
    fcol: np.ndarray
    fixed_cols: np.ndarray
    block_of: np.ndarray
    flows_u: np.ndarray
    art_u: np.ndarray
    unplaced_u: np.ndarray
    n_units: int
    pot_shel: np.ndarray
    pot_src: np.ndarray

    @property
    def nf(self) -> int:
        return len(self.free_idx)

    def column_flows(self, cols: _Columns, src_q: np.ndarray) -> np.ndarray:
        flows = np.zeros(len(cols.s), dtype=np.int64)
        flows[np.nonzero(self.fcol)[0]] = self.flows_u[: int(self.fcol.sum())]
        flows[self.fixed_cols] = src_q[cols.s[self.fixed_cols]]
        return flows


def solve(
    graph: RoadGraph, a: Problem, vulnerable_first: bool, candidates: int, max_rounds: int, stats: dict
) -> Solution:
    """Column generation around OR-Tools min-cost flow, until no pair prices out negative."""
    ns = len(a.s_node)
    left = _leftover(a, vulnerable_first)
    big_m = _big_m(graph, a, len(left.groups))
    cols = _initial_columns(graph, a, candidates)
    rounds = 0
    while True:
        rounds += 1
        rnd = _restricted(a, cols, left, big_m)
        new_s, new_j, new_d, diverted = _new_columns(graph, a, cols, rnd)
        if not len(new_s) and not diverted:
            if rnd.art_u.any():
                raise RuntimeError("artificial flow remains at the optimum")  # cannot happen, see doc
            break
        if rounds >= max_rounds:
            raise RuntimeError("column generation did not converge")
        _drop_settled(a, cols, rnd, left.src_group)
        cols.s = np.concatenate([cols.s, new_s])
        cols.j = np.concatenate([cols.j, new_j])
        cols.dist = np.concatenate([cols.dist, new_d])
        cols.cost = cols.dist * a.src_pace[cols.s]
    unplaced = np.zeros(len(a.src_node), dtype=np.int64)
    unplaced[rnd.free_idx] = rnd.unplaced_u[: rnd.nf]
    stats.update(rounds=rounds, columns=len(cols.s), flow_nodes=rnd.n_units + ns + 1 + len(left.groups))
    return Solution(cols.s, cols.j, cols.cost, cols.dist, rnd.column_flows(cols, a.src_q), unplaced)


def _leftover(a: Problem, vulnerable_first: bool) -> _Leftover:
    """How many are left without a place, per component (and per class when vulnerable_first)."""
    src_q, src_comp, src_c, s_cap, s_comp = a.src_q, a.src_comp, a.src_c, a.s_cap, a.s_comp
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
        for c in range(len(a.pace_arr)):  # least vulnerable first
            have = int(src_q[(src_comp == k) & (src_c == c)].sum())
            take = min(have, short)
            if take:
                groups[(k, c)] = take
                short -= take
    src_group = np.full(len(src_q), -1, dtype=np.int64)
    for gi, (k, c) in enumerate(groups):
        mask = src_comp == k if c < 0 else (src_comp == k) & (src_c == c)
        src_group[mask] = gi
    return _Leftover(groups, src_group, sum(min(q_comp[k], k_comp[k]) for k in q_comp))


def _big_m(graph: RoadGraph, a: Problem, n_groups: int) -> int:
    """The cost of an artificial arc: above any augmenting path of real arcs (see the module doc)."""
    ecc = 0.0
    for k in np.unique(a.s_comp).tolist():
        root = int(a.s_node[np.nonzero(a.s_comp == k)[0][0]])
        d = graph.distances([root])[0]
        ecc = max(ecc, float(d[np.isfinite(d)].max()))
    cmax = int(a.pace_arr.max()) * (int(a.src_d0.max()) + int(a.s_e.max()) + 2 * int(np.ceil(ecc * 10)) + 1)
    ns = len(a.s_node)
    big_m = (ns + 2) * cmax + 1  # blocks use big_m − (their dearest cost) ≥ (ns + 1) · cmax + 1
    if big_m * (len(a.src_node) + ns + n_groups + 2) >= _INT64_SAFE:
        raise ValueError("instance too large for 64-bit integer costs")
    return big_m


def _initial_columns(graph: RoadGraph, a: Problem, candidates: int) -> _Columns:
    """The nearest ``candidates`` shelters of every source node."""
    nodes_u, node_of_src = np.unique(a.src_node, return_inverse=True)
    pn, pj, pd = _nearest_shelters(graph, nodes_u, a.s_node, candidates)
    col_s, col_j, col_dist = _expand(node_of_src, pn, pj, pd, a.src_d0, a.s_e)
    known = set((col_s * len(a.s_node) + col_j).tolist())
    return _Columns(col_s, col_j, col_dist, col_dist * a.src_pace[col_s], known)


def _restricted(a: Problem, cols: _Columns, left: _Leftover, big_m: int) -> _Round:
    """Solve the restricted problem and find its potentials.

    Sources with a single column and no left-over option have no choice in the restricted problem:
    they are merged into one block per shelter (one node and one arc instead of thousands), which
    keeps the flow problem to the sources that do choose. Pricing still looks at every source."""
    n_src, ns = len(a.src_node), len(a.s_node)
    free = (np.bincount(cols.s, minlength=n_src) > 1) | (left.src_group >= 0)
    free_idx = np.nonzero(free)[0]
    nf = len(free_idx)
    unit_of = np.full(n_src, -1, dtype=np.int64)
    unit_of[free_idx] = np.arange(nf)
    fcol = free[cols.s]
    fixed_cols = np.nonzero(~fcol)[0]
    fs, fj = cols.s[fixed_cols], cols.j[fixed_cols]
    blocks, block_of = np.unique(fj, return_inverse=True)
    nbk = len(blocks)
    max_c = np.zeros(nbk, dtype=np.int64)
    np.maximum.at(max_c, block_of, cols.cost[fixed_cols])
    u_q = np.concatenate(
        [a.src_q[free_idx], np.bincount(block_of, weights=a.src_q[fs], minlength=nbk).astype(np.int64)]
    )
    u_group = np.concatenate([left.src_group[free_idx], np.full(nbk, -1, dtype=np.int64)])
    u_art = np.concatenate([np.full(nf, big_m, dtype=np.int64), big_m - max_c])
    uc_s = np.concatenate([unit_of[cols.s[fcol]], nf + np.arange(nbk)])
    uc_j = np.concatenate([cols.j[fcol], blocks])
    uc_cost = np.concatenate([cols.cost[fcol], np.zeros(nbk, dtype=np.int64)])
    n_units = nf + nbk
    flows_u, art_u, unplaced_u, load = _min_cost_flow(
        uc_s, uc_j, uc_cost, u_q, u_group, a.s_cap, left.groups, left.placed, u_art, n_units, ns
    )
    pot_shel, pot_unit = _potentials(
        uc_s, uc_j, uc_cost, flows_u, art_u, unplaced_u, load, a.s_cap, u_group, len(left.groups), u_art, n_units, ns
    )
    pot_src = np.zeros(n_src)
    pot_src[free_idx] = pot_unit[:nf]
    pot_src[fs] = np.minimum(0.0, pot_shel[fj] - cols.cost[fixed_cols])
    return _Round(free_idx, unit_of, fcol, fixed_cols, block_of, flows_u, art_u, unplaced_u, n_units, pot_shel, pot_src)


def _new_columns(
    graph: RoadGraph, a: Problem, cols: _Columns, rnd: _Round
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """The arcs that price out negative and are not columns yet (remembered as known), and whether
    a block's shelter overflowed into its artificial arc."""
    ns = len(a.s_node)
    diverted = rnd.art_u[rnd.nf :] > 0
    new_s, new_j, new_d, new_rc = _price(
        graph, a.src_node, a.src_d0, a.src_c, a.pace_arr, a.s_node, a.s_e, rnd.pot_shel, rnd.pot_src
    )
    if diverted.any() and len(new_s):
        fs = cols.s[rnd.fixed_cols]
        new_s, new_j, new_d = _release(
            new_s, new_j, new_d, new_rc, rnd.unit_of, rnd.block_of, fs, a.src_q, rnd.art_u[rnd.nf :]
        )
    if len(new_s):
        key = new_s * ns + new_j
        fresh = np.array([k not in cols.known for k in key.tolist()], dtype=bool)
        new_s, new_j, new_d, key = new_s[fresh], new_j[fresh], new_d[fresh], key[fresh]
        cols.known.update(key.tolist())
    return new_s, new_j, new_d, bool(diverted.any())


def _drop_settled(a: Problem, cols: _Columns, rnd: _Round, src_group: np.ndarray) -> None:
    """Drop the arcs of settled sources: all flow on one arc, every other arc with a clearly
    positive reduced cost. The current flow stays optimal for the smaller problem, and the source
    goes back into its shelter's block. Pricing brings an arc back if it is ever needed."""
    n_src, ns = len(a.src_node), len(a.s_node)
    col_flow = rnd.column_flows(cols, a.src_q)
    rc_col = cols.cost + rnd.pot_src[cols.s] - rnd.pot_shel[cols.j]
    carrying = np.bincount(cols.s, weights=col_flow > 0, minlength=n_src)
    full = col_flow == a.src_q[cols.s]
    loose = np.bincount(cols.s, weights=(col_flow == 0) & (rc_col <= DROP_MARGIN * cols.cost + 0.5), minlength=n_src)
    settled = (carrying == 1) & (loose == 0) & (src_group < 0)
    drop = settled[cols.s] & ~full
    if drop.any():
        cols.known.difference_update((cols.s[drop] * ns + cols.j[drop]).tolist())
        keep = ~drop
        cols.s, cols.j, cols.dist, cols.cost = cols.s[keep], cols.j[keep], cols.dist[keep], cols.cost[keep]


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
