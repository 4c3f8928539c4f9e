"""The carer assignment: exact optimum (brute force, MILP), constraints, reasons, explanations, what-if."""

import itertools
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renxing.care.assignment import (
    Carer,
    Problem,
    Vulnerable,
    Weights,
    assign,
    explain,
    plane_for,
    required_skills,
    solve,
    to_xy,
)
from renxing.care.assignment_milp import solve_milp
from renxing.care.assignment_whatif import what_if
from renxing.errors import Invalid
from renxing.geo.sphere import haversine_m
from renxing.i18n import use_lang

SKILLS = ["nursing", "sign_language"]


def pair_cost(r: Vulnerable, c: Carer, w: Weights = Weights()) -> int:
    """The documented cost, written out independently of the solver's matrices."""
    surcharge = 0.0
    if r.building_id is None or r.building_id != c.building_id:
        surcharge += w.other_building_m
    if r.area_id is None or r.area_id != c.area_id:
        surcharge += w.other_area_m
    return round((math.dist((r.x, r.y), (c.x, c.y)) + surcharge) / w.unit_m)


def allowed(r: Vulnerable, c: Carer, max_m: float | None) -> bool:
    return r.needs <= c.skills and (max_m is None or math.dist((r.x, r.y), (c.x, c.y)) <= max_m)


def brute_force(p: Problem) -> tuple[int, int]:
    """(most residents covered, least cost among those) by enumerating every feasible assignment."""
    options = [
        [None, *[j for j, c in enumerate(p.carers) if c.capacity > 0 and allowed(r, c, p.max_distance_m)]]
        for r in p.residents
    ]
    best = (0, 0)
    for choice in itertools.product(*options):
        load = [0] * len(p.carers)
        for j in choice:
            if j is not None:
                load[j] += 1
        if any(load[j] > c.capacity for j, c in enumerate(p.carers)):
            continue
        covered = sum(j is not None for j in choice)
        cost = sum(
            pair_cost(r, p.carers[j], p.weights) for r, j in zip(p.residents, choice, strict=True) if j is not None
        )
        if covered > best[0] or (covered == best[0] and cost < best[1]):
            best = (covered, cost)
    return best


def random_problem(rng: random.Random, n: int, m: int, size: float = 800.0, k: int | None = None) -> Problem:
    def needs():
        return frozenset(s for s in SKILLS if rng.random() < 0.3)

    residents = [
        Vulnerable(i, rng.uniform(0, size), rng.uniform(0, size), rng.randint(1, 4), rng.randint(1, 2), needs())
        for i in range(n)
    ]
    carers = [
        Carer(
            100 + j,
            rng.uniform(0, size),
            rng.uniform(0, size),
            rng.choice([None, 1, 2, 3, 4]),
            rng.choice([None, 1, 2]),
            frozenset(s for s in SKILLS if rng.random() < 0.5),
            rng.randint(0, 2),
            rng.choice(["volunteer", "party_member", "neighbour", "grid_worker"]),
        )
        for j in range(m)
    ]
    return Problem(residents, carers, max_distance_m=rng.choice([None, 500.0, 700.0]), k_nearest=k)


def check_feasible(p: Problem, a) -> None:
    res = {r.id: r for r in p.residents}
    car = {c.id: c for c in p.carers}
    seen = set()
    load: dict = {}
    for pair in a.pairs:
        r, c = res[pair.resident_id], car[pair.carer_id]
        assert pair.resident_id not in seen
        seen.add(pair.resident_id)
        assert r.needs <= c.skills, "a needed skill is missing"
        assert allowed(r, c, p.max_distance_m)
        assert pair.cost == pair_cost(r, c, p.weights)
        load[c.id] = load.get(c.id, 0) + 1
    for cid, n in load.items():
        assert n <= car[cid].capacity, "carer above capacity"
    assert load == a.carer_load
    assert seen.isdisjoint(u.resident_id for u in a.uncovered)
    assert len(seen) + len(a.uncovered) == len(p.residents)
    assert a.cost == sum(pr.cost for pr in a.pairs)
    # every reason is true of the instance and of the optimum
    for u in a.uncovered:
        r = res[u.resident_id]
        skilled = [c for c in p.carers if r.needs <= c.skills]
        near = [c for c in skilled if allowed(r, c, p.max_distance_m)]
        if u.reason == "no_skilled_carer":
            assert not skilled
        elif u.reason == "none_within_reach":
            assert skilled and not near
        else:
            assert u.reason == "all_full" and near
            assert all(load.get(c.id, 0) == c.capacity for c in near), "a free carer could have covered them"
            assert set(u.candidates) <= {c.id for c in near}
            # the nearest few, nearest first
            shown = [math.dist((r.x, r.y), (car[cid].x, car[cid].y)) for cid in u.candidates]
            rest = [math.dist((r.x, r.y), (c.x, c.y)) for c in near if c.id not in u.candidates]
            assert 1 <= len(shown) <= 5 and shown == sorted(shown)
            assert len(shown) == 5 or not rest
            assert not rest or max(shown) <= min(rest)


@pytest.mark.parametrize("seed", range(60))
def test_equals_brute_force(seed):
    rng = random.Random(seed)
    p = random_problem(rng, rng.randint(1, 6), rng.randint(1, 4), k=rng.choice([None, 1, 2]))
    a = solve(p)
    check_feasible(p, a)
    assert (a.covered, a.cost) == brute_force(p)
    assert a.stats.certified


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 5), m=st.integers(0, 4), k=st.sampled_from([None, 1, 2, 3]))
def test_property_small_optimal_and_feasible(seed, n, m, k):
    p = random_problem(random.Random(seed), n, m, k=k)
    a = solve(p)
    check_feasible(p, a)
    assert (a.covered, a.cost) == brute_force(p)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), k=st.sampled_from([1, 2, 4]))
def test_property_pruned_equals_full_graph(seed, k):
    rng = random.Random(seed)
    p = random_problem(rng, rng.randint(20, 60), rng.randint(5, 15), size=1500.0)
    for c_i, c in enumerate(p.carers):  # more capacity so that pruning matters
        p.carers[c_i] = Carer(c.id, c.x, c.y, c.building_id, c.area_id, c.skills, c.capacity + rng.randint(0, 3))
    full = solve(Problem(p.residents, p.carers, max_distance_m=p.max_distance_m, k_nearest=None))
    pruned = solve(Problem(p.residents, p.carers, max_distance_m=p.max_distance_m, k_nearest=k))
    check_feasible(p, pruned)
    assert (pruned.covered, pruned.cost) == (full.covered, full.cost)


def test_pruned_first_round_is_repaired():
    # Ten residents in a row, all nearest to carer A (capacity 1); B and C further away. With one arc
    # per resident, the first flow leaves nine uncovered; the reduced-cost check must add arcs.
    residents = [Vulnerable(i, float(i), 0.0) for i in range(10)]
    carers = [Carer("A", 0.0, 1.0, capacity=1), Carer("B", 300.0, 0.0, capacity=5), Carer("C", -300.0, 0.0, capacity=5)]
    pruned = solve(Problem(residents, carers, k_nearest=1))
    full = solve(Problem(residents, carers, k_nearest=None))
    assert pruned.stats.rounds > 1
    assert pruned.stats.arcs > len(residents)
    assert (pruned.covered, pruned.cost) == (full.covered, full.cost) == (10, full.cost)
    assert pruned.carer_load == {"A": 1, "B": 5, "C": 4}


def test_coverage_first_then_distance():
    # r1 could take c1 (near) but then r2 (who can only reach c1) would be left out: cover both.
    r1, r2 = Vulnerable("r1", 0, 0), Vulnerable("r2", 900, 0)
    c1, c2 = Carer("c1", 450, 0, capacity=1), Carer("c2", -1500, 0, capacity=1)
    a = assign([r1, r2], [c1, c2], max_distance_m=2000)
    assert a.covered == 2
    assert {p.resident_id: p.carer_id for p in a.pairs} == {"r1": "c2", "r2": "c1"}


def test_same_building_then_area_preferred_and_weights_configurable():
    r = Vulnerable("r", 0, 0, building_id=1, area_id=10)
    same_building = Carer("b", 60, 0, building_id=1, area_id=10)
    same_area = Carer("a", 20, 0, building_id=2, area_id=10)
    other_area = Carer("o", 5, 0, building_id=3, area_id=11)
    a = assign([r], [same_building, same_area, other_area])
    assert a.carer_of("r") == "b"  # 60 m in the building beats 20 m + 50 m elsewhere in the area
    a = assign([r], [same_area, other_area])
    assert a.carer_of("r") == "a"  # 20 + 50 < 5 + 50 + 150
    a = assign([r], [same_building, same_area, other_area], weights=Weights(0.0, 0.0))
    assert a.carer_of("r") == "o"  # pure walking distance
    assert a.total_distance_m == pytest.approx(5.0)


def test_skills_needed_all_in_one_carer():
    r = Vulnerable("deaf-oxygen", 0, 0, needs=frozenset({"nursing", "sign_language"}))
    nurse, signer = (
        Carer("n", 10, 0, skills=frozenset({"nursing"})),
        Carer("s", 10, 0, skills=frozenset({"sign_language"})),
    )
    a = assign([r], [nurse, signer])
    assert a.covered == 0
    [u] = a.uncovered
    assert u.reason == "no_skilled_carer" and u.missing_skills == ()
    assert u.message == "没有照护人同时具备护理、手语技能"
    with use_lang("en"):  # messages follow the reader's language
        assert assign([r], [nurse, signer]).uncovered[0].message == "no single carer has all of: nursing, sign language"
    both = Carer("both", 500, 0, skills=frozenset({"nursing", "sign_language", "driver"}))
    a = assign([r], [nurse, signer, both])
    assert a.carer_of("deaf-oxygen") == "both"
    assert a.pairs[0].matched_skills == ("nursing", "sign_language")


def test_uncovered_reasons():
    residents = [
        Vulnerable("deaf", 0, 0, needs=frozenset({"sign_language"})),
        Vulnerable("far", 0, 0, needs=frozenset({"nursing"})),
        Vulnerable("full1", 0, 0),
        Vulnerable("full2", 1, 0),
    ]
    carers = [Carer("nurse", 5000, 0, skills=frozenset({"nursing"})), Carer("v", 10, 0, capacity=1)]
    a = assign(residents, carers, max_distance_m=2000)
    reasons = {u.resident_id: u for u in a.uncovered}
    assert reasons["deaf"].reason == "no_skilled_carer"
    assert reasons["deaf"].missing_skills == ("sign_language",)
    assert reasons["deaf"].message == "没有照护人具备手语技能"
    with use_lang("en"):
        english = {u.resident_id: u.message for u in assign(residents, carers, max_distance_m=2000).uncovered}
    assert english["deaf"] == "no carer has the sign language skill"
    assert reasons["far"].reason == "none_within_reach"
    assert reasons["far"].nearest_m == pytest.approx(5000)
    assert "2000" in reasons["far"].message
    full = [u for u in a.uncovered if u.reason == "all_full"]
    assert len(full) == 1 and full[0].candidates == ("v",)
    assert a.covered == 1


def test_zero_capacity_carer_is_full_not_missing():
    a = assign([Vulnerable("r", 0, 0)], [Carer("c", 5, 0, capacity=0)])
    assert a.uncovered[0].reason == "all_full"


def test_explanations():
    assert (
        explain(118.0, True, True, ["nursing"])
        == "同楼栋，步行约 120 米，具备护理技能 / same building, ~120 m walk, has nursing skill"
    )
    assert explain(4.0, False, True, []) == "同片区，步行不到 10 米 / same area, under 10 m walk"
    assert (
        explain(1234.0, False, False, ["sign_language", "nursing"]) == "跨片区，步行约 1.2 公里，具备护理、手语技能 / "
        "another area, ~1.2 km walk, has nursing, sign language skills"
    )
    r = Vulnerable("r", 0, 0, building_id=7, area_id=1, needs=frozenset({"nursing"}))
    a = assign([r], [Carer("c", 0, 118, building_id=7, area_id=1, skills=frozenset({"nursing", "driver"}))])
    assert a.pairs[0].explanation == explain(118.0, True, True, ["nursing"])
    assert a.pairs[0].same_building and a.pairs[0].same_area


def test_required_skills_from_register_values():
    assert required_skills("wheelchair,oxygen") == {"nursing"}
    assert required_skills(["dialysis"], disability_kind="听力") == {"nursing", "sign_language"}
    assert required_skills(None, bedridden=True) == {"nursing"}
    assert required_skills("", disability_kind="肢体") == frozenset()


def test_distance_matrix_and_callback_agree_with_positions():
    rng = random.Random(5)
    p = random_problem(rng, 12, 5, k=None)
    base = solve(p)
    matrix = np.array([[math.dist((r.x, r.y), (c.x, c.y)) for c in p.carers] for r in p.residents])
    by_matrix = solve(Problem(p.residents, p.carers, max_distance_m=p.max_distance_m, distance=matrix))
    by_callback = solve(
        Problem(
            p.residents,
            p.carers,
            max_distance_m=p.max_distance_m,
            distance=lambda r, c: math.dist((r.x, r.y), (c.x, c.y)),
        )
    )
    assert (base.covered, base.cost) == (by_matrix.covered, by_matrix.cost) == (by_callback.covered, by_callback.cost)
    # a matrix can forbid a pair (a river, no bridge): inf is unreachable
    matrix[:, :] = np.inf
    blocked = solve(Problem(p.residents, p.carers, distance=matrix))
    assert blocked.covered == 0
    assert all(u.reason in {"none_within_reach", "no_skilled_carer"} for u in blocked.uncovered)


def test_bad_input_names_the_field():
    with pytest.raises(Invalid) as err:
        assign([Vulnerable("r", 0, 0)], [Carer("c", 0, 0, capacity=-1)])
    assert err.value.errors[0].field == "capacity"
    with pytest.raises(Invalid) as err:
        assign([Vulnerable("r", 0, 0), Vulnerable("r", 1, 1)], [])
    assert err.value.errors[0].field == "residents"
    with pytest.raises(Invalid) as err:
        solve(Problem([Vulnerable("r", 0, 0)], [Carer("c", 0, 0)], distance=np.zeros((2, 2))))
    assert err.value.errors[0].field == "distance"
    with pytest.raises(Invalid) as err:
        assign([Vulnerable("r", float("nan"), 0)], [])
    assert err.value.errors[0].field == "residents"
    with pytest.raises(Invalid) as err:
        what_if(Problem([Vulnerable("r", 0, 0)], []), extra_carers=-2)
    assert err.value.errors[0].field == "extra_carers"


def test_empty_inputs():
    assert assign([], []).coverage == 1.0
    a = assign([Vulnerable("r", 0, 0)], [])
    assert a.covered == 0 and a.uncovered[0].reason == "no_skilled_carer"
    assert assign([], [Carer("c", 0, 0)]).carer_load == {}


def test_what_if_adds_coverage_in_the_area():
    residents = [
        Vulnerable("deaf1", 0, 0, building_id=1, area_id="A", needs=frozenset({"sign_language"})),
        Vulnerable("deaf2", 40, 0, building_id=2, area_id="A", needs=frozenset({"sign_language"})),
        Vulnerable("elder", 30, 30, building_id=2, area_id="A"),
        Vulnerable("far", 9000, 0, building_id=9, area_id="B", needs=frozenset({"sign_language"})),
    ]
    carers = [Carer("v", 10, 10, building_id=1, area_id="A", capacity=1)]
    base = Problem(residents, carers)
    result = what_if(base, extra_carers=1, skill="sign_language", area="A", capacity=2)
    assert result.before.covered == 1
    assert result.after.covered == 3
    assert result.gain == 2
    assert result.newly_covered == ["deaf1", "deaf2"]
    assert result.no_longer_covered == []
    assert result.added[0].skills == {"sign_language"} and result.added[0].area_id == "A"
    assert "1/4" in result.summary and "3/4" in result.summary
    # a carer placed where nobody in reach needs them adds nothing
    useless = what_if(base, extra_carers=2, skill="nursing", position=(50_000.0, 0.0), before=result.before)
    assert useless.gain == 0 and useless.newly_covered == []


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), extra=st.integers(0, 3))
def test_property_what_if_never_loses_coverage(seed, extra):
    rng = random.Random(seed)
    p = random_problem(rng, rng.randint(1, 15), rng.randint(0, 4), k=2)
    result = what_if(p, extra_carers=extra, skill=rng.choice([None, "nursing", "sign_language"]), area=1)
    assert result.after.covered >= result.before.covered
    assert result.after.covered - result.before.covered == len(result.newly_covered) - len(result.no_longer_covered)
    check_feasible(Problem(p.residents, [*p.carers, *result.added], max_distance_m=p.max_distance_m), result.after)


@pytest.mark.parametrize("seed", range(4))
def test_equals_milp_medium(seed):
    pytest.importorskip("pulp")
    rng = random.Random(100 + seed)
    p = random_problem(rng, 120, 30, size=2000.0, k=6)
    for j, c in enumerate(p.carers):
        p.carers[j] = Carer(c.id, c.x, c.y, c.building_id, c.area_id, c.skills, rng.randint(1, 5))
    a = solve(p)
    check_feasible(p, a)
    for solver in ("cbc", "highs"):
        ref = solve_milp(p, solver)
        assert ref.covered == a.covered
        assert abs(ref.cost - a.cost) / max(1, ref.cost) < 1e-6


people = st.tuples(
    st.floats(0, 1000),
    st.floats(0, 1000),
    st.sampled_from([None, 1, 2]),
    st.frozensets(st.sampled_from(SKILLS), max_size=2),
)


@settings(max_examples=80, deadline=None)
@given(
    rs=st.lists(people, max_size=5),
    cs=st.lists(st.tuples(people, st.integers(0, 3)), max_size=3),
    max_m=st.sampled_from([None, 300.0, 900.0]),
    k=st.sampled_from([None, 1]),
)
def test_property_drawn_instances(rs, cs, max_m, k):
    residents = [Vulnerable(i, x, y, b, b, needs) for i, (x, y, b, needs) in enumerate(rs)]
    carers = [Carer(f"c{j}", x, y, b, None, skills, cap) for j, ((x, y, b, skills), cap) in enumerate(cs)]
    p = Problem(residents, carers, max_distance_m=max_m, k_nearest=k)
    a = solve(p)
    check_feasible(p, a)
    assert (a.covered, a.cost) == brute_force(p)


def test_lonlat_positions_in_metres():
    points = [(118.78, 32.04), (118.79, 32.05), (118.775, 32.035)]
    plane = plane_for(points)
    (x1, y1), (x2, y2) = to_xy(plane, *points[0]), to_xy(plane, *points[1])
    assert math.dist((x1, y1), (x2, y2)) == pytest.approx(haversine_m(*points[0], *points[1]), rel=2e-3)
