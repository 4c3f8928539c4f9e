"""The emergency allocation: a textbook optimum, equality with a HiGHS LP, constraints, the certificate."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from renxing.supplies.allocation import Allocation, Flow, allocate


def lp_optimum(supply: np.ndarray, demand: np.ndarray, dist: np.ndarray) -> tuple[int, int]:
    """(most units delivered, least Σ quantity·distance among plans that deliver them), as two LPs
    solved by HiGHS: maximise Σx, then fix Σx and minimise Σ c·x. The constraint matrix is totally
    unimodular, so the LP optimum is the integer one."""
    n_src, n_items = supply.shape
    n_shel = demand.shape[0]
    i, j = np.nonzero(dist >= 0)
    i, j, k = np.repeat(i, n_items), np.repeat(j, n_items), np.tile(np.arange(n_items), len(i))
    n = len(i)
    if n == 0:
        return 0, 0
    col = np.arange(n)
    rows = np.concatenate([i * n_items + k, n_src * n_items + j * n_items + k])
    a_ub = coo_matrix((np.ones(2 * n), (rows, np.concatenate([col, col]))), shape=((n_src + n_shel) * n_items, n))
    b_ub = np.concatenate([supply.ravel(), demand.ravel()]).astype(float)
    first = linprog(-np.ones(n), A_ub=a_ub, b_ub=b_ub, method="highs")
    assert first.status == 0
    met = round(-first.fun)
    a2 = coo_matrix(np.vstack([a_ub.toarray(), -np.ones((1, n))]))
    cost = dist[i, j].astype(float)
    second = linprog(cost, A_ub=a2, b_ub=np.append(b_ub, -met), method="highs")
    assert second.status == 0
    return met, round(second.fun)


def check_plan(a: Allocation, supply: np.ndarray, demand: np.ndarray, dist: np.ndarray) -> None:
    """Flows respect supply, demand and reachability; shortfall, surplus and totals agree with them;
    the certificate's prices are dual feasible and their objective equals the plan's penalised cost."""
    n_src, n_items = supply.shape
    sent = np.zeros_like(supply)
    got = np.zeros_like(demand)
    keys = [(f.source, f.shelter, f.item) for f in a.flows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for f in a.flows:
        assert f.quantity > 0
        assert dist[f.source, f.shelter] >= 0 and f.distance_m == dist[f.source, f.shelter]
        sent[f.source, f.item] += f.quantity
        got[f.shelter, f.item] += f.quantity
    assert (sent <= supply).all() and (got <= demand).all()
    assert a.surplus.shape == supply.shape and a.shortfall.shape == demand.shape
    assert (a.surplus == supply - sent).all() and (a.shortfall == demand - got).all()
    assert a.met == sum(f.quantity for f in a.flows)
    assert a.objective == sum(f.quantity * f.distance_m for f in a.flows)
    assert a.status == "optimal"

    cert = a.certificate
    m = np.array(cert["penalty"], dtype=np.int64)
    w = np.array(cert["source_price"], dtype=np.int64).reshape(n_src, n_items)
    v = np.array(cert["shelter_price"], dtype=np.int64).reshape(demand.shape)
    assert cert["max_negative_reduced_cost"] == 0
    assert (w >= 0).all() and (v <= m[None, :]).all()
    for i, j in zip(*np.nonzero(dist >= 0), strict=True):
        assert (v[j] - w[i] <= dist[i, j]).all()
    for k in range(n_items):
        primal = sum(f.quantity * f.distance_m for f in a.flows if f.item == k) + int(m[k] * a.shortfall[:, k].sum())
        dual = int(demand[:, k] @ v[:, k] - supply[:, k] @ w[:, k])
        assert primal == dual == cert["primal"][k] == cert["dual"][k]


def test_textbook_transportation_problem():
    """Hillier & Lieberman, *Introduction to Operations Research*, 9th ed. (McGraw-Hill, 2010), §9.1,
    the P & T Company prototype: three canneries (75, 125, 100 truckloads of peas) ship to four
    warehouses (80, 65, 70, 85); cost per truckload in dollars. The book's optimum costs $152,535
    (x12 = 20, x14 = 55, x21 = 80, x22 = 45, x33 = 70, x34 = 30)."""
    supply = np.array([[75], [125], [100]])
    demand = np.array([[80], [65], [70], [85]])
    cost = np.array([[464, 513, 654, 867], [352, 416, 690, 791], [995, 682, 388, 685]])
    a = allocate(supply, demand, cost)
    assert a.met == 300 and a.objective == 152_535
    assert not a.shortfall.any() and not a.surplus.any()
    check_plan(a, supply, demand, cost)
    # the book's plan is the unique optimum here
    plan = {(f.source, f.shelter): f.quantity for f in a.flows}
    assert plan == {(0, 1): 20, (0, 3): 55, (1, 0): 80, (1, 1): 45, (2, 2): 70, (2, 3): 30}


def test_textbook_problem_short_of_supply_serves_the_cheapest_need():
    """The same problem with the third cannery down to 40: 60 truckloads cannot be shipped, and the
    plan is the LP's lexicographic optimum (all supply shipped, least cost)."""
    supply = np.array([[75], [125], [40]])
    demand = np.array([[80], [65], [70], [85]])
    cost = np.array([[464, 513, 654, 867], [352, 416, 690, 791], [995, 682, 388, 685]])
    a = allocate(supply, demand, cost)
    assert (a.met, a.objective) == lp_optimum(supply, demand, cost)
    assert a.met == 240 and a.shortfall.sum() == 60
    check_plan(a, supply, demand, cost)


def random_instance(seed: int, n_src: int, n_shel: int, n_items: int):
    rng = np.random.default_rng(seed)
    supply = rng.integers(0, 12, (n_src, n_items)) * (rng.random((n_src, n_items)) < 0.7)
    demand = rng.integers(0, 15, (n_shel, n_items)) * (rng.random((n_shel, n_items)) < 0.7)
    dist = rng.integers(0, 5000, (n_src, n_shel))
    dist[rng.random((n_src, n_shel)) < rng.uniform(0, 0.5)] = -1
    return supply, demand, dist


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n_src=st.integers(1, 8),
    n_shel=st.integers(1, 6),
    n_items=st.integers(1, 4),
)
def test_equals_highs_lp(seed, n_src, n_shel, n_items):
    supply, demand, dist = random_instance(seed, n_src, n_shel, n_items)
    a = allocate(supply, demand, dist)
    assert (a.met, a.objective) == lp_optimum(supply, demand, dist)
    check_plan(a, supply, demand, dist)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 6))
def test_ties_and_equal_distances(seed, n):
    """Many equal distances (several optimal plans): still the LP's optimum and a valid certificate."""
    rng = np.random.default_rng(seed)
    supply = rng.integers(0, 6, (n, 2))
    demand = rng.integers(0, 6, (n, 2))
    dist = rng.choice([-1, 0, 100, 100, 200], (n, n))
    a = allocate(supply, demand, dist)
    assert (a.met, a.objective) == lp_optimum(supply, demand, dist)
    check_plan(a, supply, demand, dist)


def test_meeting_demand_beats_distance():
    """A far shelter is served rather than left short, even when a near one could take the units."""
    supply = np.array([[10]])
    demand = np.array([[10], [10]])
    dist = np.array([[1, 900_000]])
    a = allocate(supply, demand, dist)
    assert a.met == 10 and a.objective == 10
    # two sources: the one that reaches only the near shelter serves it, the other goes far
    supply = np.array([[10], [10]])
    dist = np.array([[1, 900_000], [1, -1]])
    a = allocate(supply, demand, dist)
    assert a.met == 20 and a.objective == 10 * 900_000 + 10
    assert a.flows == [Flow(0, 1, 0, 10, 900_000), Flow(1, 0, 0, 10, 1)]
    check_plan(a, supply, demand, dist)


def test_no_supply():
    demand = np.array([[3, 0], [1, 2]])
    a = allocate(np.zeros((2, 2), dtype=int), demand, np.array([[5, 6], [7, 8]]))
    assert a.flows == [] and a.met == 0 and a.objective == 0
    assert (a.shortfall == demand).all() and not a.surplus.any()
    check_plan(a, np.zeros((2, 2), dtype=int), demand, np.array([[5, 6], [7, 8]]))


def test_no_demand():
    supply = np.array([[4], [2]])
    a = allocate(supply, np.zeros((3, 1), dtype=int), np.full((2, 3), 10))
    assert a.flows == [] and a.met == 0
    assert (a.surplus == supply).all() and not a.shortfall.any()
    check_plan(a, supply, np.zeros((3, 1), dtype=int), np.full((2, 3), 10))


def test_nothing_reachable():
    supply, demand, dist = np.array([[5], [5]]), np.array([[4]]), np.array([[-1], [-1]])
    a = allocate(supply, demand, dist)
    assert a.flows == [] and (a.shortfall == demand).all() and (a.surplus == supply).all()
    check_plan(a, supply, demand, dist)


def test_single_pair():
    a = allocate(np.array([[7]]), np.array([[5]]), np.array([[120]]))
    assert a.flows == [Flow(0, 0, 0, 5, 120)]
    assert a.objective == 600 and a.met == 5
    assert a.surplus.tolist() == [[2]] and a.shortfall.tolist() == [[0]]
    check_plan(a, np.array([[7]]), np.array([[5]]), np.array([[120]]))


def test_empty_axes():
    a = allocate(np.zeros((0, 2), dtype=int), np.zeros((3, 2), dtype=int), np.zeros((0, 3), dtype=int))
    assert a.flows == [] and a.shortfall.shape == (3, 2) and a.surplus.shape == (0, 2)
    a = allocate(np.zeros((2, 0), dtype=int), np.zeros((1, 0), dtype=int), np.zeros((2, 1), dtype=int))
    assert a.flows == [] and a.met == 0


def test_integral_floats_are_accepted():
    a = allocate(np.array([[2.0]]), np.array([[3.0]]), np.array([[10.0]]))
    assert a.met == 2 and a.objective == 20 and a.shortfall.dtype.kind == "i"


@pytest.mark.parametrize(
    ("supply", "demand", "dist", "message"),
    [
        (np.zeros(3), np.zeros((2, 1)), np.zeros((3, 2)), "2-D"),
        (np.zeros((3, 2)), np.zeros((2, 1)), np.zeros((3, 2)), "items"),
        (np.zeros((3, 1)), np.zeros((2, 1)), np.zeros((2, 3)), "distance_m has shape"),
        (np.array([[-1]]), np.array([[1]]), np.array([[1]]), "≥ 0"),
        (np.array([[1]]), np.array([[-2]]), np.array([[1]]), "≥ 0"),
        (np.array([[1]]), np.array([[1]]), np.array([[-5]]), "-1"),
        (np.array([[1.5]]), np.array([[1]]), np.array([[1]]), "integers"),
        (np.array([[1]]), np.array([[np.nan]]), np.array([[1]]), "integers"),
        (np.array([["a"]]), np.array([[1]]), np.array([[1]]), "integers"),
    ],
)
def test_bad_input(supply, demand, dist, message):
    with pytest.raises(ValueError, match=message):
        allocate(supply, demand, dist)
