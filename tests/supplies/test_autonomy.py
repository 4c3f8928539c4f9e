"""Days of autonomy, one-off coverage and demand, checked on examples worked by hand and on random stock."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renxing.supplies.autonomy import (
    WATER_ALL_USES_L,
    Group,
    ItemDays,
    Need,
    coverage,
    days_of_autonomy,
    demand,
)

WATER, RICE, BLANKET, MILK, DIAPERS, KIT = 1, 2, 3, 4, 5, 6


def test_water_for_300_people_lasts_two_days():
    # 300 people × 15 L a day = 4500 L a day; 9000 L last 2 days.
    result = days_of_autonomy({WATER: 9000}, [Need(WATER, WATER_ALL_USES_L, daily=True)], {Group.everyone: 300})
    assert result.days == pytest.approx(2.0)
    assert result.binding_item_id == WATER
    assert result.items == [ItemDays(WATER, 9000, 4500.0, pytest.approx(2.0))]


def test_the_item_that_runs_out_first_binds():
    # Water: 6000 L / (200 × 15 L) = 2 days; rice: 500 kg / (200 × 0.5 kg) = 5 days.
    needs = [Need(WATER, 15, daily=True), Need(RICE, 0.5, daily=True)]
    result = days_of_autonomy({WATER: 6000, RICE: 500}, needs, {Group.everyone: 200})
    assert result.binding_item_id == WATER
    assert result.days == pytest.approx(2.0)
    assert [(i.item_id, i.days) for i in result.items] == [(WATER, pytest.approx(2.0)), (RICE, pytest.approx(5.0))]


def test_an_item_without_stock_lasts_no_day_and_binds():
    needs = [Need(WATER, 15, daily=True), Need(RICE, 0.5, daily=True)]
    result = days_of_autonomy({WATER: 6000}, needs, {Group.everyone: 200})
    assert result.days == 0
    assert result.binding_item_id == RICE
    assert result.items[0] == ItemDays(RICE, 0, 100.0, 0.0)


def test_several_needs_on_one_item_add_up():
    # Everyone 100 × 15 L, and the 10 bedridden 5 L more each: 1550 L a day; 3100 L last 2 days.
    needs = [Need(WATER, 15, daily=True), Need(WATER, 5, daily=True, group=Group.bedridden)]
    result = days_of_autonomy({WATER: 3100}, needs, {Group.everyone: 100, Group.bedridden: 10})
    assert result.items == [ItemDays(WATER, 3100, 1550.0, pytest.approx(2.0))]


def test_a_group_not_present_does_not_limit():
    # Infant milk: no infants here, so no daily need, and water binds.
    needs = [Need(WATER, 15, daily=True), Need(MILK, 1, daily=True, group=Group.infants)]
    result = days_of_autonomy({WATER: 1500}, needs, {Group.everyone: 50})
    assert result.binding_item_id == WATER
    assert result.days == pytest.approx(2.0)
    assert result.items[-1] == ItemDays(MILK, 0, 0.0, None)


def test_a_special_group_can_bind():
    # 4 infants × 2 cans a day of milk, 12 cans: 1.5 days, before water's 3.
    needs = [Need(WATER, 15, daily=True), Need(MILK, 2, daily=True, group=Group.infants)]
    result = days_of_autonomy({WATER: 4500, MILK: 12}, needs, {Group.everyone: 100, Group.infants: 4})
    assert result.binding_item_id == MILK
    assert result.days == pytest.approx(1.5)


def test_zero_population_nothing_limits():
    result = days_of_autonomy({WATER: 100}, [Need(WATER, 15, daily=True)], {})
    assert result.days is None
    assert result.binding_item_id is None
    assert result.items == [ItemDays(WATER, 100, 0.0, None)]


def test_no_daily_needs_nothing_limits_and_one_off_needs_are_not_items():
    result = days_of_autonomy({BLANKET: 10}, [Need(BLANKET, 1, daily=False)], {Group.everyone: 30})
    assert result == days_of_autonomy({}, [], {Group.everyone: 30})
    assert result.days is None and result.items == []


def test_ties_go_to_the_lowest_item_id():
    needs = [Need(RICE, 1, daily=True), Need(WATER, 1, daily=True)]
    result = days_of_autonomy({WATER: 20, RICE: 20}, needs, {Group.everyone: 10})
    assert result.binding_item_id == WATER
    assert [i.item_id for i in result.items] == [WATER, RICE]


def test_an_overdrawn_ledger_counts_as_empty():
    result = days_of_autonomy({WATER: -5}, [Need(WATER, 1, daily=True)], {Group.everyone: 10})
    assert result.items == [ItemDays(WATER, 0, 10.0, 0.0)]


def test_coverage_of_one_off_needs():
    # Blankets: 120 people + 1 more for each of 7 bedridden = 127; a hygiene kit per 4 people → 30.
    needs = [
        Need(BLANKET, 1, daily=False),
        Need(BLANKET, 1, daily=False, group=Group.bedridden),
        Need(WATER, 15, daily=True),
        Need(KIT, 0.25, daily=False),
    ]
    population = {Group.everyone: 120, Group.bedridden: 7}
    assert coverage({BLANKET: 100, WATER: 9}, needs, population) == [(BLANKET, 127, 100), (KIT, 30, 0)]


def test_demand_for_a_scenario():
    # 300 evacuated for 3 days: water 300 × 15 × 3 = 13500 L; rice 300 × 0.1 × 3 = 90 kg (not 91:
    # float products are not rounded up past the whole number); infant diapers 6 × 5.5 × 3 = 99;
    # blankets once per person = 300 + 20 vulnerable = 320; milk for absent bedridden omitted.
    needs = [
        Need(WATER, 15, daily=True),
        Need(RICE, 0.1, daily=True),
        Need(DIAPERS, 5.5, daily=True, group=Group.infants),
        Need(BLANKET, 1, daily=False),
        Need(BLANKET, 1, daily=False, group=Group.vulnerable),
        Need(MILK, 1, daily=True, group=Group.bedridden),
    ]
    population = {Group.everyone: 300, Group.infants: 6, Group.vulnerable: 20}
    assert demand(needs, population, days=3) == {WATER: 13500, RICE: 90, BLANKET: 320, DIAPERS: 99}


def test_demand_rounds_each_item_total_up():
    # 7 people × 2.5 L × 1 day = 17.5 L → 18; two needs of 0.3 on one item for 5 people → 3, not 2 + 2.
    needs = [Need(WATER, 2.5, daily=True), Need(RICE, 0.3, daily=True), Need(RICE, 0.3, daily=True)]
    assert demand(needs, {Group.everyone: 7}, days=1) == {WATER: 18, RICE: 5}
    assert demand(needs, {Group.everyone: 5}, days=1) == {WATER: 13, RICE: 3}
    assert demand(needs, {Group.everyone: 5}, days=0) == {}
    # 3 people × 0.1 kg × 10 days is 3.0000000000000004 in floats: still 3 kg, not 4.
    assert demand([Need(RICE, 0.1, daily=True)], {Group.everyone: 3}, days=10) == {RICE: 3}


@pytest.mark.parametrize(
    ("needs", "population", "days"),
    [
        ([Need(WATER, -1, daily=True)], {Group.everyone: 1}, 1),
        ([Need(WATER, math.nan, daily=True)], {Group.everyone: 1}, 1),
        ([Need(WATER, 1, daily=True)], {Group.everyone: -1}, 1),
        ([Need(WATER, 1, daily=True)], {Group.everyone: 1}, -1),
    ],
)
def test_bad_input_is_refused(needs, population, days):
    with pytest.raises(ValueError):
        demand(needs, population, days)


_needs = st.lists(
    st.builds(
        Need,
        item_id=st.integers(1, 6),
        quantity=st.one_of(st.just(0.0), st.floats(0.001, 50)),
        daily=st.booleans(),
        group=st.sampled_from(list(Group)),
    ),
    max_size=10,
)
_population = st.dictionaries(st.sampled_from(list(Group)), st.integers(0, 5000))
_stock = st.dictionaries(st.integers(1, 6), st.integers(0, 10**6))


@settings(max_examples=200, deadline=None)
@given(stock=_stock, needs=_needs, population=_population)
def test_days_never_promise_more_than_the_stock(stock, needs, population):
    result = days_of_autonomy(stock, needs, population)
    daily_items = {n.item_id for n in needs if n.daily}
    assert sorted(i.item_id for i in result.items) == sorted(daily_items)
    for item in result.items:
        assert item.stock == stock.get(item.item_id, 0)
        if item.days is None:
            assert item.daily_need == 0
        else:
            assert item.days * item.daily_need <= item.stock * (1 + 1e-12) + 1e-9
            assert item.days == pytest.approx(item.stock / item.daily_need)
    limiting = [i for i in result.items if i.days is not None]
    if limiting:
        least = min(i.days for i in limiting)
        assert result.days == least
        assert result.binding_item_id == min(i.item_id for i in limiting if i.days == least)
    else:
        assert result.days is None and result.binding_item_id is None
    # A scenario of that many whole days needs no more than the stock of any limiting item.
    if result.days is not None and math.isfinite(result.days):
        whole = math.floor(result.days)
        wanted = demand([n for n in needs if n.daily], population, whole)
        for item in limiting:
            assert wanted.get(item.item_id, 0) <= item.stock
