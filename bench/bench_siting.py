"""Shelter siting (capacitated p-median, ``renxing.space.siting``) against the OR-Library optima and at
demo size.

Targets (issue: space, shelter siting): ``pmedcap1_01`` and ``pmedcap1_11`` (Osman & Christofides)
reproduce their known optima, 713 and 1006, with distances truncated to integers as the published
optima assume; then a demo-sized planning question: 300 buildings on a street grid of ~3,000
nodes, 3 existing shelters, 10 candidate sites (schools, gyms, squares): which k to open, for k = 2,
3, 4, by walking distance on the network.

    .venv/bin/python bench/bench_siting.py [--quick]      # --quick skips pmedcap1_11
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_evacuation import instance, street_network
from renxing.space.siting import network_costs, read_pmedcap, solve_pmedian

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pmedcap"


def orlib(quick: bool) -> None:
    names = ["pmedcap1_01.txt"] if quick else ["pmedcap1_01.txt", "pmedcap1_11.txt"]
    for name in names:
        path = DATA / name
        if not path.exists():
            print(f"{name}: not found under {DATA} — skipped")
            continue
        inst = read_pmedcap(path)
        t0 = time.perf_counter()
        res = inst.solve()
        wall = time.perf_counter() - t0
        ok = res.status == "optimal" and abs(res.objective - inst.optimum) < 1e-6
        print(
            f"{name}: n={len(inst.demand)}, p={inst.p}, capacity {inst.capacity:g} → objective "
            f"{res.objective:.0f} (known optimum {inst.optimum:.0f}, {'reproduced' if ok else 'NOT reproduced'}), "
            f"{res.status}, {wall:.1f} s, open {res.open}"
        )


def demo(quick: bool) -> None:
    graph = street_network(3_000, 25.0, seed=5)
    origins, shelters = instance(graph, 300, 10_000, 13, seed=5)
    points = [(o.lon, o.lat) for o in origins]
    demand = np.array([sum(o.counts.values()) for o in origins], dtype=float)
    sites = [(s.lon, s.lat) for s in shelters]
    capacity = np.array([2_000.0] * 3 + [3_000.0] * 10)  # 3 existing (short by 4,000), 10 candidates
    t0 = time.perf_counter()
    cost = network_costs(graph, points, sites)
    t_cost = time.perf_counter() - t0
    print(f"demo siting: {len(points)} buildings, {len(sites)} sites, network costs {t_cost * 1000:.0f} ms")
    for k in (2, 3, 4):
        t0 = time.perf_counter()
        res = solve_pmedian(cost, demand, capacity, k, fixed_open=[0, 1, 2])
        wall = time.perf_counter() - t0
        mean = res.objective / demand.sum()
        print(
            f"  open best {k} of 10 → sites {[j for j in res.open if j >= 3]}, {res.status}, {wall * 1000:.0f} ms, "
            f"mean walk {mean:.0f} m"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    orlib(args.quick)
    demo(args.quick)


if __name__ == "__main__":
    main()
