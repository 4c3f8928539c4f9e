"""The evacuation assignment: known answers on hand-made graphs, and the optimum against an
independent LP of the same transportation problem (HiGHS via scipy, and CBC via PuLP)."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from renxing.geo.sphere import EARTH_RADIUS_M
from renxing.people.vulnerability import MOBILITY_CLASSES
from renxing.space.evacuation import COST_UNIT_S, DEFAULT_SPEEDS, Origin, Shelter, compare, paces, plan
from renxing.space.network import RoadGraph, RoadLine, grid_lines

LON0, LAT0 = 118.78, 32.04
DLAT = 1 / (np.pi / 180 * EARTH_RADIUS_M)
DLON = DLAT / np.cos(np.radians(LAT0))


def at(x_m: float, y_m: float) -> tuple[float, float]:
    return (LON0 + x_m * DLON, LAT0 + y_m * DLAT)


def street(length_m: float = 1000, step_m: float = 100) -> RoadGraph:
    pts = [at(x, 0) for x in np.arange(0, length_m + step_m / 2, step_m)]
    return RoadGraph.from_lines([RoadLine(i + 1, [pts[i], pts[i + 1]], "residential") for i in range(len(pts) - 1)])


# ---- an independent reference ---------------------------------------------------------------


def costs_of(graph, origins, shelters, speeds=None):
    """Per-person cost of every (building, class) source to every shelter, in the planner's units
    (whole decimetres × integer pace): the same problem, built with plain all-pairs Dijkstra."""
    pace = paces(speeds)
    b_node, b_snap = graph.snap([o.lon for o in origins], [o.lat for o in origins])
    s_node, s_snap = graph.snap([s.lon for s in shelters], [s.lat for s in shelters])
    net = graph.distances(s_node)  # shelters × nodes
    sources, rows = [], []
    for i, o in enumerate(origins):
        for c in MOBILITY_CLASSES:
            q = o.counts.get(c, 0)
            if q <= 0:
                continue
            d = np.rint(b_snap[i] * 10) + np.rint(net[:, b_node[i]] * 10) + np.rint(s_snap * 10)
            sources.append((o.id, c, q))
            rows.append(d * pace[c])
    return sources, np.array(rows).reshape(len(sources), len(shelters))


def reference(graph, origins, shelters, vulnerable_first=True, speeds=None):
    """Lexicographic LP with HiGHS: most persons placed, then (optionally) fewest left over of the
    least mobile classes in turn, then least total cost. Returns (cost, unplaced per class)."""
    sources, cost = costs_of(graph, origins, shelters, speeds)
    n, m = cost.shape
    ok = np.isfinite(cost)
    pairs = np.argwhere(ok)
    nx = len(pairs)
    nvar = nx + n
    a_eq = np.zeros((n, nvar))
    for v, (k, _) in enumerate(pairs):
        a_eq[k, v] = 1
    a_eq[np.arange(n), nx + np.arange(n)] = 1
    b_eq = np.array([q for *_, q in sources], dtype=float)
    a_ub = np.zeros((m, nvar))
    for v, (_, j) in enumerate(pairs):
        a_ub[j, v] = 1
    b_ub = np.array([s.capacity for s in shelters], dtype=float)
    stages = [np.arange(n)]
    if vulnerable_first:
        for c in reversed(MOBILITY_CLASSES):
            stages.append(np.array([k for k, s in enumerate(sources) if s[1] == c], dtype=int))
    extra_a, extra_b = [], []
    for members in stages:
        c = np.zeros(nvar)
        c[nx + members] = 1
        r = linprog(c, A_ub=np.vstack([a_ub, *extra_a]), b_ub=np.concatenate([b_ub, extra_b]), A_eq=a_eq, b_eq=b_eq)
        assert r.status == 0
        extra_a.append(c[None, :])
        extra_b.append(round(r.fun) + 1e-9)  # stage optima are integers (a network LP)
    c = np.concatenate([cost[ok], np.zeros(n)])
    r = linprog(c, A_ub=np.vstack([a_ub, *extra_a]), b_ub=np.concatenate([b_ub, extra_b]), A_eq=a_eq, b_eq=b_eq)
    assert r.status == 0
    unplaced = {c: 0.0 for c in MOBILITY_CLASSES}
    for k, s in enumerate(sources):
        unplaced[s[1]] += r.x[nx + k]
    return r.fun, unplaced


def random_instance(seed, nb=None, ns=None, cut=0):
    rng = np.random.default_rng(seed)
    g = RoadGraph.from_lines(grid_lines(9, 7, 90, (LON0, LAT0)))
    if cut:
        g = g.without_edges(rng.choice(np.arange(1, g.n_edges + 1), size=cut, replace=False).tolist())
    nb = nb or int(rng.integers(2, 25))
    ns = ns or int(rng.integers(1, 6))
    origins = [
        Origin(
            100 + i,
            *at(rng.uniform(-40, 760), rng.uniform(-40, 580)),
            {c: int(rng.integers(0, 8)) * int(rng.random() < 0.7) for c in MOBILITY_CLASSES},
        )
        for i in range(nb)
    ]
    total = sum(sum(o.counts.values()) for o in origins)
    factor = rng.choice([0.4, 0.9, 1.0, 1.5, 3.0])
    shelters = [
        Shelter(1 + j, *at(rng.uniform(0, 720), rng.uniform(0, 540)), int(rng.integers(1, 2 * factor * total / ns + 2)))
        for j in range(ns)
    ]
    return g, origins, shelters


def check_feasible(p, origins, shelters):
    load = dict.fromkeys((s.id for s in shelters), 0)
    for o in origins:
        b = p.building(o.id)
        for c in MOBILITY_CLASSES:
            placed = sum(r.persons for r in b.routes if r.mobility == c)
            assert placed + b.unplaced.get(c, 0) == o.counts.get(c, 0)
        for r in b.routes:
            load[r.shelter_id] += r.persons
            assert r.persons > 0
    for s in shelters:
        assert load[s.id] <= s.capacity
        assert p.shelter_load[s.id] == load[s.id]
    assert p.placed + p.unplaced == p.persons


# ---- known answers --------------------------------------------------------------------------


def test_hand_made_street_bedridden_take_the_near_places():
    g = street()
    near = Shelter(1, *at(0, 0), capacity=10)
    far = Shelter(2, *at(1000, 0), capacity=100)
    b1 = Origin(11, *at(100, 0), {"normal": 10})
    b2 = Origin(12, *at(200, 0), {"bedridden": 5})
    p = plan(g, [b1, b2], [near, far])
    # moving a bedridden person to the near shelter saves 600 m / 0.8 m/s = 750 s, a normal one
    # 800 m / 1.2 m/s ≈ 667 s: the 10 near places go to the 5 bedridden and 5 of the others
    r1 = {r.shelter_id: r for r in p.building(11).routes}
    r2 = {r.shelter_id: r for r in p.building(12).routes}
    assert r2[1].persons == 5 and 2 not in r2
    assert r1[1].persons == 5 and r1[2].persons == 5
    assert r1[1].distance_m == pytest.approx(100) and r1[2].distance_m == pytest.approx(900)
    pace_n, pace_b = paces()["normal"], paces()["bedridden"]
    expected = (5 * 1000 * pace_n + 5 * 9000 * pace_n + 5 * 2000 * pace_b) * COST_UNIT_S
    assert p.objective_s == pytest.approx(expected)
    assert p.objective_s == pytest.approx(5 * 100 / 1.2 + 5 * 900 / 1.2 + 5 * 200 / 0.8, rel=1e-3)
    assert r1[2].time_s == pytest.approx(900 / 1.2, rel=1e-3)
    assert p.unplaced == 0 and p.unreachable_ids == []
    assert p.carriers_needed == 5 and p.building(12).carriers_needed == 5
    # the route is drawn from the door to the entrance
    assert r1[2].path[0] == (b1.lon, b1.lat) and r1[2].path[-1] == (far.lon, far.lat)
    assert len(r1[2].path) == 2 + 10 - 1 + 1  # door, nodes at 100 … 1000 m, entrance


def test_capacity_short_leaves_the_most_mobile_without_a_place():
    g = street()
    s = Shelter(1, *at(500, 0), capacity=12)
    origins = [Origin(1, *at(0, 0), {"normal": 6, "bedridden": 4}), Origin(2, *at(900, 0), {"slow": 5})]
    p = plan(g, origins, [s])
    assert p.placed == 12 and p.unplaced == 3
    assert p.unplaced_by_class == {"normal": 3, "slow": 0, "aided": 0, "wheelchair": 0, "bedridden": 0}
    assert p.building(1).unplaced == {"normal": 3}
    assert p.shelter_load[1] == 12
    # without the priority the time objective alone decides: it drops the costliest, the bedridden
    q = plan(g, origins, [s], vulnerable_first=False)
    assert q.unplaced == 3 and q.unplaced_by_class["bedridden"] == 3
    assert q.objective_s <= p.objective_s


def test_unreachable_buildings_are_reported_by_id():
    g = RoadGraph.from_lines(
        [RoadLine(1, [at(0, 0), at(300, 0)]), RoadLine(2, [at(0, 2000), at(300, 2000)])]  # two islands
    )
    origins = [Origin(5, *at(10, 0), {"normal": 3}), Origin(6, *at(200, 2000), {"normal": 2, "bedridden": 1})]
    p = plan(g, origins, [Shelter(1, *at(300, 0), 50)])
    assert p.unreachable_ids == [6]
    b6 = p.building(6)
    assert b6.unreachable and b6.routes == [] and b6.unplaced == {"normal": 2, "bedridden": 1}
    assert p.placed == 3 and p.unplaced == 3
    assert p.unplaced_by_class["bedridden"] == 1
    none = plan(g, origins, [])
    assert none.unreachable_ids == [5, 6] and none.placed == 0 and none.objective_s == 0


def test_cut_roads_change_the_route():
    lines = grid_lines(5, 5, 100, (LON0, LAT0))
    g = RoadGraph.from_lines(lines)
    origins = [Origin(1, *at(0, 0), {"normal": 4})]
    shelters = [Shelter(9, *at(400, 0), 100)]
    before = plan(g, origins, shelters).building(1).routes[0]
    assert before.distance_m == pytest.approx(400, abs=0.5)
    # cut the bottom street between 100 and 200 m east
    cut = [ln.id for ln in lines if np.allclose(sorted(ln.coords), sorted([at(100, 0), at(200, 0)]), rtol=0, atol=1e-8)]
    assert len(cut) == 1
    after = plan(g.without_edges(cut), origins, shelters).building(1).routes[0]
    assert after.distance_m == pytest.approx(600, abs=0.5)  # around the block
    assert after.path != before.path
    assert max(lat for _, lat in after.path) > LAT0 + 50 * DLAT


def test_clearance_is_warning_premovement_walk_and_queue():
    g = street()
    shelters = [Shelter(1, *at(1000, 0), 500, entrance_width_m=1.0)]
    origins = [Origin(1, *at(0, 0), {"normal": 130})]
    p = plan(g, origins, shelters, warning_s=120, premovement_s=240)
    c = p.clearance
    assert c.longest_walk_s == pytest.approx(1000 / 1.2, rel=1e-3)
    assert c.queue_s == pytest.approx(130 / 1.3)  # 130 persons through a 1 m entrance
    assert c.bottleneck["kind"] == "entrance" and c.bottleneck["id"] == 1
    assert c.total_s == pytest.approx(120 + 240 + c.longest_walk_s + c.queue_s)
    # a narrow footway on the way is the bottleneck once the entrance is wide
    lines = [RoadLine(1, [at(0, 0), at(500, 0)], "residential"), RoadLine(2, [at(500, 0), at(1000, 0)], "path")]
    g2 = RoadGraph.from_lines(lines)
    p2 = plan(g2, origins, [Shelter(1, *at(1000, 0), 500, entrance_width_m=20)], flow_rate=1.3)
    assert p2.clearance.bottleneck["kind"] == "road" and p2.clearance.bottleneck["id"] == 2
    assert p2.clearance.queue_s == pytest.approx(130 / (1.3 * 1.5))
    p3 = plan(g2, origins, [Shelter(1, *at(1000, 0), 500)], with_paths=False)
    assert p3.clearance.queue_s == 0 and p3.building(1).routes[0].path is None
    assert p3.objective_s == pytest.approx(p2.objective_s)


def test_speeds_are_configurable_and_checked():
    g = street()
    origins = [Origin(1, *at(0, 0), {"slow": 2})]
    shelters = [Shelter(1, *at(600, 0), 10)]
    p = plan(g, origins, shelters, speeds={"slow": 0.6})
    assert p.building(1).routes[0].time_s == pytest.approx(600 / 0.6, rel=1e-3)
    assert p.speeds["normal"] == pytest.approx(DEFAULT_SPEEDS["normal"], rel=1e-3)
    for bad in (0, -1, float("nan"), 50):
        with pytest.raises(ValueError, match="slow"):
            plan(g, origins, shelters, speeds={"slow": bad})
    with pytest.raises(ValueError, match="crawling"):
        plan(g, [Origin(1, *at(0, 0), {"crawling": 1})], shelters)
    with pytest.raises(ValueError, match="negative"):
        plan(g, [Origin(1, *at(0, 0), {"normal": -1})], shelters)
    with pytest.raises(ValueError, match="empty"):
        plan(RoadGraph.from_lines([]), origins, shelters)


def test_compare_names_who_gains_when_a_school_opens():
    g = street(2000)
    origins = [Origin(i, *at(x, 0), {"normal": 20}) for i, x in enumerate([100, 900, 1000, 1900], start=1)]
    park = Shelter(1, *at(0, 0), 60)
    school = Shelter(2, *at(1000, 0), 40)
    a = plan(g, origins, [park])
    b = plan(g, origins, [park, school])
    diff = compare(a, b)
    gained = {r["origin_id"] for r in diff["gains"]}
    assert a.unplaced == 20 and b.unplaced == 0
    # the school's 40 places save most for buildings 3 and 4 (1,000 m a person each), and building 4
    # no longer has anyone left out; building 2 would save only 800 m a person and stays with the park
    assert gained == {3, 4}
    assert a.building(4).unplaced == {"normal": 20} and b.building(4).unplaced == {}
    assert diff["losses"] == []
    assert diff["totals"]["unplaced_a"] == 20 and diff["totals"]["unplaced_b"] == 0
    row = next(r for r in diff["gains"] if r["origin_id"] == 3)
    assert row["shelters_b"] == [2]
    assert compare(b, b)["gains"] == [] and compare(b, b)["unchanged"] == 4
    back = compare(b, a)
    assert {r["origin_id"] for r in back["losses"]} == gained


def test_plan_is_json_serialisable():
    g, origins, shelters = random_instance(3)
    d = plan(g, origins, shelters).to_dict()
    again = json.loads(json.dumps(d))
    assert again["persons"] == sum(sum(o.counts.values()) for o in origins)
    assert again["clearance"]["total_s"] >= again["clearance"]["warning_s"]


# ---- the optimum against an LP --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(16))
def test_optimum_equals_lexicographic_lp(seed):
    g, origins, shelters = random_instance(seed, cut=seed % 4 * 5)
    vulnerable_first = seed % 2 == 0
    p = plan(g, origins, shelters, vulnerable_first=vulnerable_first, candidates=1 + seed % 3)
    check_feasible(p, origins, shelters)
    ref_cost, ref_unplaced = reference(g, origins, shelters, vulnerable_first)
    assert p.cost == pytest.approx(ref_cost, rel=1e-6, abs=1e-3)
    assert p.unplaced == pytest.approx(sum(ref_unplaced.values()), abs=1e-3)
    if vulnerable_first:  # otherwise who is left over may tie between classes
        for c in MOBILITY_CLASSES:
            assert p.unplaced_by_class[c] == pytest.approx(ref_unplaced[c], abs=1e-3)


def test_column_generation_reaches_the_same_optimum_from_one_candidate():
    g, origins, shelters = random_instance(99, nb=60, ns=8)
    narrow = plan(g, origins, shelters, candidates=1, with_paths=False)
    wide = plan(g, origins, shelters, candidates=8, with_paths=False)
    assert narrow.cost == wide.cost
    assert narrow.stats["rounds"] >= 1 and wide.stats["columns"] >= narrow.stats["sources"]


def test_optimum_equals_pulp_cbc():
    pulp = pytest.importorskip("pulp")
    if "PULP_CBC_CMD" not in pulp.listSolvers(onlyAvailable=True):
        pytest.skip("CBC not available")
    g, origins, shelters = random_instance(7, nb=30, ns=5)
    shelters = [Shelter(s.id, s.lon, s.lat, 10_000) for s in shelters]  # ample: a pure transport problem
    sources, cost = costs_of(g, origins, shelters)
    prob = pulp.LpProblem("evac", pulp.LpMinimize)
    x = {
        (k, j): prob.add_variable(f"x_{k}_{j}", lowBound=0)
        for k in range(len(sources))
        for j in range(len(shelters))
        if np.isfinite(cost[k, j])
    }
    prob += pulp.lpSum(float(cost[k, j]) * v for (k, j), v in x.items())
    for k, (*_, q) in enumerate(sources):
        prob += pulp.lpSum(v for (kk, _), v in x.items() if kk == k) == q
    for j, s in enumerate(shelters):
        prob += pulp.lpSum(v for (_, jj), v in x.items() if jj == j) <= s.capacity
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 3 renames its CBC wrapper
        prob.solve(pulp.PULP_CBC_CMD(msg=False))
    p = plan(g, origins, shelters)
    assert p.cost == pytest.approx(pulp.value(prob.objective), rel=1e-6)


def test_congested_instance_through_blocks_equals_lp():
    # many buildings, few shelters of very uneven size: blocks overflow, arcs are released and dropped
    g, origins, shelters = random_instance(2024, nb=70, ns=6)
    total = sum(sum(o.counts.values()) for o in origins)
    sizes = [0.05, 0.05, 0.1, 0.2, 0.3, 0.5]
    shelters = [Shelter(s.id, s.lon, s.lat, max(1, int(f * total))) for s, f in zip(shelters, sizes, strict=True)]
    p = plan(g, origins, shelters, with_paths=False)
    check_feasible(p, origins, shelters)
    assert p.stats["rounds"] > 1
    ref_cost, ref_unplaced = reference(g, origins, shelters)
    assert p.cost == pytest.approx(ref_cost, rel=1e-6)
    for c in MOBILITY_CLASSES:
        assert p.unplaced_by_class[c] == pytest.approx(ref_unplaced[c], abs=1e-3)


@settings(max_examples=20, deadline=None)
@given(
    counts=st.lists(st.lists(st.integers(0, 6), min_size=5, max_size=5), min_size=1, max_size=8),
    caps=st.lists(st.integers(0, 25), min_size=1, max_size=4),
    seed=st.integers(0, 1000),
)
def test_property_feasible_and_optimal(counts, caps, seed):
    rng = np.random.default_rng(seed)
    g = RoadGraph.from_lines(grid_lines(5, 4, 80, (LON0, LAT0)))
    origins = [
        Origin(i + 1, *at(rng.uniform(0, 320), rng.uniform(0, 240)), dict(zip(MOBILITY_CLASSES, row, strict=True)))
        for i, row in enumerate(counts)
    ]
    shelters = [Shelter(j + 1, *at(rng.uniform(0, 320), rng.uniform(0, 240)), c) for j, c in enumerate(caps)]
    p = plan(g, origins, shelters)
    usable = [s for s in shelters if s.capacity > 0]
    check_feasible(p, origins, usable)
    assert p.placed == min(p.persons, sum(s.capacity for s in usable))
    if usable and p.persons:
        ref_cost, _ = reference(g, origins, usable)
        assert p.cost == pytest.approx(ref_cost, rel=1e-6, abs=1e-3)
