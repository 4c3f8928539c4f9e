"""Care coverage per area and building, carers' load and over-service, on a hand-made street."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renxing.care.coverage_calc import (
    CareLink,
    CareRecipient,
    CarerInfo,
    counts_by_kind,
    coverage,
    overloaded,
)

# Area A: building 1 (r1 elderly alone + disabled, r2 bedridden), building 2 (r3 elderly alone)
# Area B: building 3 (r4 disabled, r5 elderly alone)
RESIDENTS = [
    CareRecipient("r1", 1, "A", frozenset({"elderly_alone", "disabled"})),
    CareRecipient("r2", 1, "A", frozenset({"bedridden"})),
    CareRecipient("r3", 2, "A", frozenset({"elderly_alone"})),
    CareRecipient("r4", 3, "B", frozenset({"disabled"})),
    CareRecipient("r5", 3, "B", frozenset({"elderly_alone"})),
]
LINKS = [
    CareLink("r1", "silver1", "silver", "visit"),
    CareLink("r1", "youth1", "youth", "visit"),  # two teams visit r1: over-served
    CareLink("r1", "medic1", "medical", "medical"),
    CareLink("r2", "silver1", "silver", "visit"),
    CareLink("r2", "neigh", None, "meals"),
    CareLink("r2", "grid", None, "meals"),  # two individuals bring meals to r2: over-served
    CareLink("r4", "silver2", "silver", "visit"),
    CareLink("r9", "silver1", "silver", "visit"),  # someone outside these residents: counts in load only
]
CARERS = [
    CarerInfo("silver1", 2, building_id=1, area_id="A", team_id="silver"),
    CarerInfo("youth1", 4, building_id=2, area_id="A", team_id="youth"),
    CarerInfo("medic1", 5, area_id="B", team_id="medical"),
    CarerInfo("silver2", 3, building_id=3, area_id="B"),
    CarerInfo("idle", 2, building_id=3, area_id="B", team_id="silver"),
]


def test_hand_made_street():
    rep = coverage(RESIDENTS, LINKS, CARERS)
    t = rep.total
    assert (t.vulnerable, t.covered) == (5, 3)
    assert t.share == pytest.approx(0.6)
    assert t.by_kind == {"elderly_alone": 3, "disabled": 2, "bedridden": 1}
    assert t.covered_by_kind == {"elderly_alone": 1, "disabled": 2, "bedridden": 1}
    assert t.share_by_kind["elderly_alone"] == pytest.approx(1 / 3)
    assert rep.uncovered == ["r3", "r5"]

    a, b = rep.areas["A"], rep.areas["B"]
    assert (a.vulnerable, a.covered, a.uncovered) == (3, 2, ["r3"])
    assert (b.vulnerable, b.covered, b.uncovered) == (2, 1, ["r5"])
    assert rep.buildings[1].share == 1.0 and rep.buildings[2].share == 0.0
    assert rep.buildings[3].area_id == "B"
    assert a.over_served_residents == 2 and b.over_served_residents == 0

    # load: silver1 serves r1, r2 and r9 (3 > 2); carers homed in A are silver1 and youth1
    loads = {c.carer_id: c for c in rep.carers}
    assert loads["silver1"].assigned == 3 and loads["silver1"].over_limit
    assert loads["idle"].assigned == 0 and loads["idle"].load == 0
    assert loads["neigh"].max_care is None and loads["neigh"].load is None and not loads["neigh"].over_limit
    assert (a.carers, a.assigned, a.max_care) == (2, 4, 6)
    assert (b.carers, b.assigned, b.max_care) == (3, 2, 10)
    assert a.load == pytest.approx(4 / 6)
    assert rep.buildings[1].load == pytest.approx(3 / 2)
    assert [c.carer_id for c in overloaded(rep)] == ["silver1"]
    assert rep.carers[0].carer_id == "silver1"  # most loaded first
    assert loads["silver2"].team_id == "silver"  # team taken from the links when not given
    assert t.carers == 7  # five with limits, two seen in the links only

    over = {(o.level, o.id, o.service_kind): o for o in rep.over_served}
    assert set(over) == {("resident", "r1", "visit"), ("resident", "r2", "meals"), ("building", 1, "visit")}
    assert over[("resident", "r1", "visit")].providers == ("silver", "youth")
    assert set(over[("resident", "r2", "meals")].providers) == {("carer", "neigh"), ("carer", "grid")}
    bld = over[("building", 1, "visit")]
    assert bld.providers == ("silver", "youth") and bld.residents == 2
    # surplus next to a gap: building 1 is over-served while r3 in the same area has nobody
    assert bld.uncovered_in_area == 1 and bld.area_id == "A"


def test_building_overlap_needs_different_teams():
    residents = [CareRecipient("x", 7, "C"), CareRecipient("y", 7, "C")]
    same_team = [CareLink("x", "a", "t1"), CareLink("y", "b", "t1")]
    assert coverage(residents, same_team).over_served == []
    two_teams = [CareLink("x", "a", "t1"), CareLink("y", "b", "t2")]
    [o] = coverage(residents, two_teams).over_served
    assert (o.level, o.id, o.providers, o.residents, o.uncovered_in_area) == ("building", 7, ("t1", "t2"), 2, 0)
    # different service kinds are not an overlap
    assert coverage(residents, [CareLink("x", "a", "t1", "visit"), CareLink("y", "b", "t2", "meals")]).over_served == []
    # a stricter threshold
    assert coverage(residents, two_teams, min_providers=3).over_served == []


def test_nothing_to_cover():
    rep = coverage([], [], [CarerInfo("c", 3, area_id="A")])
    assert rep.total.share is None and rep.areas["A"].share is None
    assert rep.areas["A"].load == 0
    assert counts_by_kind(rep) == []


def test_counts_by_kind():
    rep = coverage(RESIDENTS, LINKS, CARERS)
    assert counts_by_kind(rep)[0] == ("elderly_alone", 3, 1, pytest.approx(1 / 3))


@settings(max_examples=50, deadline=None)
@given(
    homes=st.lists(st.tuples(st.integers(1, 4), st.sampled_from(["A", "B"])), max_size=12),
    links=st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 3), st.sampled_from([None, "t1", "t2"]), st.sampled_from("vm")),
        max_size=20,
    ),
)
def test_property_totals_add_up(homes, links):
    residents = [CareRecipient(i, b, a, frozenset({"k"})) for i, (b, a) in enumerate(homes)]
    care = [CareLink(r, f"c{c}", t, s) for r, c, t, s in links if r < len(residents)]
    rep = coverage(residents, care)
    linked = {ln.resident_id for ln in care}
    assert rep.total.covered == len(linked)
    assert sorted(rep.uncovered) == sorted(r.id for r in residents if r.id not in linked)
    assert sum(u.vulnerable for u in rep.areas.values()) == rep.total.vulnerable == len(residents)
    assert sum(u.covered for u in rep.buildings.values()) == rep.total.covered
    for o in rep.over_served:
        assert len(o.providers) >= 2
        if o.level == "resident":
            kinds = [ln for ln in care if ln.resident_id == o.id and ln.service_kind == o.service_kind]
            assert len({ln.team_id or ("carer", ln.carer_id) for ln in kinds}) == len(o.providers)
