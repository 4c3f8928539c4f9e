"""Capacitated p-median: the OR-Library optimum, and small random instances against brute force."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from renxing.space.network import RoadGraph, grid_lines
from renxing.space.siting import network_costs, read_pmedcap, solve_pmedian

DATA = Path(__file__).resolve().parents[1] / "data" / "pmedcap"


def pmedcap_file(name: str) -> Path:
    return DATA / name


def brute_force(cost, demand, capacity, p, fixed=(), weight=True):
    """Every set of p candidates, every whole assignment of points to open sites."""
    n, m = cost.shape
    w = demand if weight else np.ones(n)
    best = np.inf
    cands = [j for j in range(m) if j not in fixed]
    for chosen in itertools.combinations(cands, p):
        open_ = list(fixed) + list(chosen)
        for assign in itertools.product(open_, repeat=n):
            load = np.zeros(m)
            total = 0.0
            for i, j in enumerate(assign):
                load[j] += demand[i]
                total += w[i] * cost[i, j]
            if np.all(load <= capacity + 1e-9) and total < best:
                best = total
    return best


def test_pmedcap1_01_reproduces_the_known_optimum():
    inst = read_pmedcap(pmedcap_file("pmedcap1_01.txt"))
    assert (len(inst.demand), inst.p, inst.capacity, inst.optimum) == (50, 5, 120, 713)
    res = inst.solve()
    assert res.status == "optimal"
    assert res.objective == pytest.approx(713, abs=1e-6)
    assert len(res.open) == 5
    # the answer is a real plan: whole assignments to open sites within capacity
    assert set(res.assignment.tolist()) <= set(res.open)
    assert all(load <= 120 for load in res.load.values())
    cost = inst.cost_matrix()
    assert cost[np.arange(50), res.assignment].sum() == pytest.approx(713)


def test_read_pmedcap_rejects_a_broken_file(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 713\n3 1 10\n1 0 0 5\n2 1 1 5\n")
    with pytest.raises(ValueError, match="3 node lines"):
        read_pmedcap(bad)
    (tmp_path / "short.txt").write_text("1 713\n")
    with pytest.raises(ValueError, match="too short"):
        read_pmedcap(tmp_path / "short.txt")


@pytest.mark.parametrize("seed", range(12))
def test_small_random_instances_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 7)), int(rng.integers(2, 6))
    xy_d, xy_s = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
    cost = np.sqrt(((xy_d[:, None, :] - xy_s[None, :, :]) ** 2).sum(axis=2))
    demand = rng.integers(1, 20, n).astype(float)
    capacity = rng.integers(10, 45, m).astype(float)
    fixed = (0,) if seed % 3 == 0 else ()
    p = int(rng.integers(1, m - len(fixed) + 1))
    weight = seed % 2 == 0
    expect = brute_force(cost, demand, capacity, p, fixed, weight)
    res = solve_pmedian(cost, demand, capacity, p, fixed_open=fixed, weight_by_demand=weight)
    if np.isinf(expect):
        assert res.status == "infeasible" and res.objective is None
        return
    assert res.status == "optimal"
    assert res.objective == pytest.approx(expect, rel=1e-6)
    assert len(res.open) == p + len(fixed) and set(fixed) <= set(res.open)
    for j, load in res.load.items():
        assert load <= capacity[j] + 1e-9


def test_unassigned_cost_gives_a_plan_when_capacity_is_short():
    cost = np.array([[1.0, 5.0], [2.0, 1.0], [3.0, 3.0]])
    demand = np.array([10.0, 10.0, 10.0])
    capacity = np.array([10.0, 10.0])
    assert solve_pmedian(cost, demand, capacity, 2).status == "infeasible"
    res = solve_pmedian(cost, demand, capacity, 2, unassigned_cost=100.0)
    assert res.status == "optimal"
    assert res.assignment.tolist() == [0, 1, -1]
    assert res.objective == pytest.approx(10 * 1 + 10 * 1 + 10 * 100)


def test_bad_arguments_are_refused():
    cost = np.ones((2, 3))
    with pytest.raises(ValueError, match="p must be"):
        solve_pmedian(cost, np.ones(2), np.ones(3) * 5, 3, fixed_open=[0])
    with pytest.raises(ValueError, match="out of range"):
        solve_pmedian(cost, np.ones(2), np.ones(3) * 5, 1, fixed_open=[7])
    with pytest.raises(ValueError, match="demand"):
        solve_pmedian(cost, np.ones(3), np.ones(3), 1)
    with pytest.raises(ValueError, match="non-negative"):
        solve_pmedian(cost, -np.ones(2), np.ones(3), 1)


def test_network_costs_and_the_best_school_to_open():
    g = RoadGraph.from_lines(grid_lines(6, 2, 200, (118.78, 32.04)))
    lon = g.lon.min() + (g.lon.max() - g.lon.min()) * np.array([0.0, 0.2, 0.8, 1.0])
    lat = np.full(4, g.lat.min())
    points = list(zip(lon.tolist(), lat.tolist(), strict=True))
    sites = [points[0], points[3], points[2]]  # an existing park at the west end; two schools
    cost = network_costs(g, points, sites)
    assert cost.shape == (4, 3)
    assert cost[0, 0] == pytest.approx(0, abs=0.1) and cost[3, 0] == pytest.approx(1000, abs=0.5)
    demand = np.array([100.0, 100.0, 100.0, 100.0])
    res = solve_pmedian(cost, demand, np.array([250.0, 250.0, 250.0]), 1, fixed_open=[0])
    assert res.open == [0, 1] or res.open == [0, 2]
    # with either school open the two east points walk 0 and 200 m instead of 800 and 1,000 m
    assert res.objective == pytest.approx(100 * (0 + 200 + 200 + 0), abs=1)
