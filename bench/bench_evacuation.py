"""The exact evacuation assignment (``renxing.space.evacuation.plan``) at three sizes.

Targets (issue: space, evacuation planning):
  (a) a demo-sized community — about 10,000 residents, 300 buildings, 10 shelters, a street grid
      of a few thousand nodes — under 1 s;
  (b) a generated district — 1,000,000 residents, 100,000 buildings, 500 shelters, a 200,000-node
      road network — under 60 s, peak memory reported;
  (c) side by side with the same transportation problem written in PuLP and solved by CBC, on
      the same instances and the same integer costs: equal objective (relative difference under
      1e-6) and the speed ratio.

Instances are generated from a seed: a jittered street grid with a share of its blocks' sides
missing, buildings scattered over it with residents drawn per mobility class (80 % normal, 14 %
slow, 3 % with walking aids, 2 % in wheelchairs, 1 % bedridden), shelters at random places, each
sized for its service area as planners do, at 80–140 % of the residents living closest to it as the
crow flies (about 110 % overall), so a good part of them are short and their neighbours must help.
Each part runs in its own process so the peak memory is its own.

    .venv/bin/python bench/bench_evacuation.py            # all parts
    .venv/bin/python bench/bench_evacuation.py --quick    # smaller, for development
    .venv/bin/python bench/bench_evacuation.py --part district
    .venv/bin/python bench/bench_evacuation.py --part stress   # (d), not in "all": a hard case
"""

import argparse
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median
from renxing.people.vulnerability import MOBILITY_CLASSES
from renxing.space.evacuation import Origin, Shelter, paces, plan
from renxing.space.network import EARTH_RADIUS_M, RoadGraph, RoadLine

CLASS_SHARES = (0.80, 0.14, 0.03, 0.02, 0.01)


def street_network(n_nodes: int, spacing_m: float, seed: int, drop: float = 0.08) -> RoadGraph:
    """A jittered grid of about ``n_nodes`` crossings, ``drop`` of the block sides missing."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    lon0, lat0 = 118.70, 32.00
    dlat = spacing_m / (np.pi / 180 * EARTH_RADIUS_M)
    dlon = dlat / np.cos(np.radians(lat0))
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    lon = lon0 + (gx + rng.uniform(-0.25, 0.25, gx.shape)) * dlon
    lat = lat0 + (gy + rng.uniform(-0.25, 0.25, gy.shape)) * dlat
    lines = []
    rid = 1
    for (dx, dy), kind in (((1, 0), "residential"), ((0, 1), "service")):
        a_y, a_x = np.nonzero(np.ones((side - dy, side - dx), dtype=bool))
        keep = rng.random(len(a_x)) >= drop
        for y, x in zip(a_y[keep].tolist(), a_x[keep].tolist(), strict=True):
            lines.append(RoadLine(rid, ((lon[y, x], lat[y, x]), (lon[y + dy, x + dx], lat[y + dy, x + dx])), kind))
            rid += 1
    return RoadGraph.from_lines(lines)


def instance(graph: RoadGraph, buildings: int, residents: int, shelters: int, seed: int):
    rng = np.random.default_rng(seed + 1)
    x0, x1, y0, y1 = graph.lon.min(), graph.lon.max(), graph.lat.min(), graph.lat.max()
    per = rng.multinomial(residents - buildings, np.full(buildings, 1 / buildings)) + 1
    by_class = np.array([rng.multinomial(k, CLASS_SHARES) for k in per])
    origins = [
        Origin(i + 1, float(lo), float(la), dict(zip(MOBILITY_CLASSES, row.tolist(), strict=True)))
        for i, (lo, la, row) in enumerate(
            zip(rng.uniform(x0, x1, buildings), rng.uniform(y0, y1, buildings), by_class, strict=True)
        )
    ]
    s_lon, s_lat = rng.uniform(x0, x1, shelters), rng.uniform(y0, y1, shelters)
    # planned for their service area: 80–140 % of the residents living closest (straight line)
    k = np.cos(np.radians(graph.lat.mean()))
    _, near = cKDTree(np.column_stack([s_lon * k, s_lat])).query(
        np.column_stack([np.array([o.lon for o in origins]) * k, [o.lat for o in origins]])
    )
    served = np.bincount(near, weights=per, minlength=shelters)
    caps = np.floor(served * rng.uniform(0.8, 1.4, shelters)).astype(int) + 1
    sh = [
        Shelter(j + 1, float(lo), float(la), int(c), entrance_width_m=float(rng.choice([4.0, 6.0, 10.0])))
        for j, (lo, la, c) in enumerate(zip(s_lon, s_lat, caps, strict=True))
    ]
    return origins, sh


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def part_demo(quick: bool) -> None:
    graph = street_network(3_000, 25.0, seed=1)
    origins, shelters = instance(graph, 300, 10_000, 10, seed=1)
    times = []
    for _ in range(3 if quick else 7):
        t0 = time.perf_counter()
        p = plan(graph, origins, shelters)
        times.append(time.perf_counter() - t0)
    med = median(times)
    print(
        f"(a) demo community: {graph.n_nodes:,} nodes, {len(origins)} buildings, {p.persons:,} residents, "
        f"{len(shelters)} shelters → median {med * 1000:.0f} ms over {len(times)} runs (paths included), "
        f"target 1 s → {1 / med:.1f}× faster; placed {p.placed:,}, unplaced {p.unplaced}, "
        f"rounds {p.stats['rounds']}, clearance {p.clearance.total_s / 60:.1f} min"
    )


def part_district(quick: bool) -> None:
    scale = 10 if quick else 1
    t0 = time.perf_counter()
    graph = street_network(200_000 // scale, 30.0, seed=2)
    origins, shelters = instance(graph, 100_000 // scale, 1_000_000 // scale, 500 // scale, seed=2)
    t_build = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    p = plan(graph, origins, shelters, with_paths=False)
    t_plan, c_plan = time.perf_counter() - t0, time.process_time() - c0
    peak_plain = peak_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    q = plan(graph, origins, shelters, with_paths=True)
    t_paths, c_paths = time.perf_counter() - t0, time.process_time() - c0
    assert q.cost == p.cost
    print(
        f"(b) district: {graph.n_nodes:,} nodes, {graph.n_edges:,} edges, {len(origins):,} buildings, "
        f"{p.persons:,} residents, {len(shelters)} shelters; generating {t_build:.1f} s"
    )
    print(
        f"    plan {t_plan:.1f} s wall ({c_plan:.1f} s CPU) without routes, {t_paths:.1f} s wall "
        f"({c_paths:.1f} s CPU) with every route and road load; "
        f"target 60 s → {60 / t_paths:.1f}× faster; sources {p.stats['sources']:,}, "
        f"columns {p.stats['columns']:,}, rounds {p.stats['rounds']}; placed {p.placed:,}, "
        f"unplaced {p.unplaced:,}; peak memory {peak_plain:,.0f} MiB after the plan without routes, "
        f"{peak_mib():,.0f} MiB with the routes' coordinates (lists of tuples) in memory"
    )


def pulp_objective(graph, origins, shelters):
    """The same problem in PuLP/CBC: every (building, class) × shelter pair, the planner's integer
    costs, capacity as ≤, supply as =. Capacities here cover everyone, so no one is left over."""
    import pulp

    pace = paces()
    b_node, b_snap = graph.snap([o.lon for o in origins], [o.lat for o in origins])
    s_node, s_snap = graph.snap([s.lon for s in shelters], [s.lat for s in shelters])
    net = graph.distances(s_node)[:, b_node]  # shelters × buildings
    dist_dm = np.rint(b_snap * 10)[None, :] + np.rint(net * 10) + np.rint(s_snap * 10)[:, None]
    t0 = time.perf_counter()
    prob = pulp.LpProblem("evacuation", pulp.LpMinimize)
    objective, per_shelter = [], [[] for _ in shelters]
    for i, o in enumerate(origins):
        for c in MOBILITY_CLASSES:
            q = o.counts.get(c, 0)
            if not q:
                continue
            xs = []
            for j in range(len(shelters)):
                if np.isfinite(dist_dm[j, i]):
                    v = prob.add_variable(f"x_{i}_{c}_{j}", lowBound=0)
                    xs.append(v)
                    per_shelter[j].append(v)
                    objective.append((v, float(dist_dm[j, i] * pace[c])))
            prob += pulp.lpSum(xs) == q
    for j, s in enumerate(shelters):
        prob += pulp.lpSum(per_shelter[j]) <= s.capacity
    prob += pulp.LpAffineExpression(objective)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        status = prob.solve(pulp.PULP_CBC_CMD(msg=False))
    t_solve = time.perf_counter() - t0
    assert pulp.LpStatus[status] == "Optimal", pulp.LpStatus[status]
    return pulp.value(prob.objective), t_build, t_solve, len(objective)


def part_pulp(quick: bool) -> None:
    import pulp

    if "PULP_CBC_CMD" not in pulp.listSolvers(onlyAvailable=True):
        print("(c) PuLP/CBC not available — skipped")
        return
    sizes = [(200, 10, 1_500), (2_000, 50, 12_000)] if not quick else [(200, 10, 1_500)]
    for buildings, n_shelters, nodes in sizes:
        graph = street_network(nodes, 30.0, seed=3)
        origins, shelters = instance(graph, buildings, buildings * 10, n_shelters, seed=3)
        shelters = [Shelter(s.id, s.lon, s.lat, int(s.capacity * 1.5)) for s in shelters]  # room for all
        t0 = time.perf_counter()
        p = plan(graph, origins, shelters, with_paths=False)
        ours = time.perf_counter() - t0
        obj, t_build, t_solve, n_vars = pulp_objective(graph, origins, shelters)
        rel = abs(p.cost - obj) / max(1.0, abs(obj))
        print(
            f"(c) {buildings:,} buildings × {n_shelters} shelters ({n_vars:,} PuLP variables): ours {ours:.2f} s "
            f"(network distances included), PuLP model {t_build:.2f} s + CBC {t_solve:.2f} s; "
            f"objective {p.cost:,} vs {obj:,.0f} (relative difference {rel:.1e}, "
            f"{'equal' if rel < 1e-6 else 'DIFFERENT'}); speed ratio CBC/ours {t_solve / ours:.1f}×, "
            f"(model+CBC)/ours {(t_build + t_solve) / ours:.1f}×"
        )


def part_stress(quick: bool) -> None:
    """The district with capacities drawn without regard to where people live (0.5–1.5 × the mean,
    110 % overall): most shelters far over or under their neighbourhood, a hard case for pricing."""
    scale = 10 if quick else 1
    graph = street_network(200_000 // scale, 30.0, seed=2)
    origins, shelters = instance(graph, 100_000 // scale, 1_000_000 // scale, 500 // scale, seed=2)
    w = np.random.default_rng(7).uniform(0.5, 1.5, len(shelters))
    caps = np.floor(w / w.sum() * 1.1 * (1_000_000 // scale)).astype(int) + 1
    shelters = [Shelter(s.id, s.lon, s.lat, int(c)) for s, c in zip(shelters, caps, strict=True)]
    t0, c0 = time.perf_counter(), time.process_time()
    p = plan(graph, origins, shelters, with_paths=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"(d) stress, capacities blind to population: {len(origins):,} buildings, {len(shelters)} shelters → "
        f"{wall:.1f} s wall, {cpu:.1f} s CPU, rounds {p.stats['rounds']}, flow nodes at the end "
        f"{p.stats['flow_nodes']:,}; peak memory {peak_mib():,.0f} MiB"
    )


PARTS = {"demo": part_demo, "district": part_district, "pulp": part_pulp, "stress": part_stress}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller instances")
    ap.add_argument("--part", choices=[*PARTS, "all"], default="all")
    args = ap.parse_args()
    if args.part != "all":
        PARTS[args.part](args.quick)
        return
    for name in ("demo", "district", "pulp"):
        cmd = [sys.executable, __file__, "--part", name] + (["--quick"] if args.quick else [])
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
