"""Properties of the ledger over random sequences of movements (hypothesis, on SQLite): every
balance equals the sum of its entries and is never negative; a refused movement writes nothing;
a reversal restores the balances exactly; transfers conserve the total, in transit included."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.errors import Conflict, Invalid
from renxing.supplies import movements
from renxing.supplies.check import check
from renxing.supplies.counts import CountLine, post_count
from renxing.supplies.models import Balance, Movement, MovementKind, StockCount, Transfer, TransferStatus
from renxing.supplies.movements import ReceiptLine
from tests.kit.supplies_world import supplies_world
from tests.supplies.stock_kit import GONE, LATER, SOON

POINTS = ("store", "kits_b1", "store2")
EXPIRIES = {"A": SOON, "B": LATER, "X": GONE}
LEGS = (MovementKind.transfer_out.value, MovementKind.transfer_in.value)

point = st.sampled_from(POINTS)
item = st.sampled_from(("water", "blanket"))
qty = st.integers(1, 40)
lot = st.sampled_from(sorted(EXPIRIES))
pick = st.integers(0, 1_000)
receive = st.tuples(st.just("receive"), point, item, qty, lot)
issue = st.tuples(st.just("issue"), point, item, qty)
transfer = st.tuples(st.just("transfer"), point, point, item, qty, st.booleans())
write_off = st.tuples(st.just("write_off"), point, item, qty, lot)
count = st.tuples(st.just("count"), point, item, lot, st.integers(0, 60))
posting = st.one_of(receive, issue, transfer, write_off, count)
step = st.one_of(
    posting,
    st.tuples(st.just("arrive"), pick),
    st.tuples(st.just("cancel"), pick),
    st.tuples(st.just("reverse"), pick),
)


@pytest.fixture
def sw(engine, request):
    if engine.dialect.name != "sqlite":
        pytest.skip("the properties run on one database (SQLite); the rules are tested on both")
    return supplies_world(engine, request.getfixturevalue("world"))


def _nth(s, stmt, k: int) -> int | None:
    ids = list(s.scalars(stmt.order_by("id")))
    return ids[k % len(ids)] if ids else None


def _apply(s, sw, op: tuple) -> int:
    """Run one step; returns what it adds to the stock held or in transit (receipts, issues,
    write-offs, counts and their reversals change it, transfers do not)."""
    kind, *args = op
    it, pt = sw.items, sw.points
    if kind == "receive":
        p, i, q, lot_key = args
        extra = {"lot": lot_key, "expiry": EXPIRIES[lot_key]} if i == "water" else {}
        movements.receive(s, SYSTEM, pt[p], [ReceiptLine(it[i], q, **extra)])
        return q
    if kind == "issue":
        p, i, q = args
        movements.issue(s, SYSTEM, pt[p], it[i], q)
        return -q
    if kind == "transfer":
        a, b, i, q, received = args
        movements.transfer(s, SYSTEM, pt[a], pt[b], it[i], q, received=received)
        return 0
    if kind in ("arrive", "cancel"):
        t = _nth(s, select(Transfer.id).where(Transfer.status == TransferStatus.in_transit.value), args[0])
        if t is not None:
            (movements.receive_transfer if kind == "arrive" else _cancel)(s, SYSTEM, t)
        return 0
    if kind == "reverse":
        mid = _nth(s, select(Movement.id), args[0])
        if mid is None:
            return 0
        m = s.get(Movement, mid)
        movements.reverse(s, SYSTEM, mid)
        return 0 if (m.kind in LEGS) else -m.quantity
    if kind == "write_off":
        p, i, q, lot_key = args
        movements.write_off(s, SYSTEM, pt[p], it[i], q, reason="damaged", lot=lot_key if i == "water" else None)
        return -q
    p, i, lot_key, counted = args
    line = CountLine(it[i], counted, lot_key if i == "water" else None, EXPIRIES[lot_key] if i == "water" else None)
    if p == "kits_b1":  # households' kits by survey: no reason needed
        result = post_count(s, SYSTEM, pt[p], [line], source="survey")
    else:
        result = post_count(s, SYSTEM, pt[p], [replace(line, reason="miscounted")])
    return sum(d.difference for d in result.differences)


def _cancel(s, actor, transfer_id: int) -> None:
    out = s.scalar(
        select(Movement.id).where(Movement.transfer_id == transfer_id, Movement.kind == MovementKind.transfer_out.value)
    )
    movements.reverse(s, actor, out)


def _reset(engine, sw) -> int:
    """An empty ledger, then some of each lot at every point; returns the stock held."""
    with transaction(engine) as s:
        for table in (Movement, Balance, Transfer, StockCount):
            s.execute(delete(table))
        return sum(
            _apply(s, sw, ("receive", p, i, 30, lot_key))
            for p in POINTS
            for i in ("water", "blanket")
            for lot_key in EXPIRIES
        )


def _held_and_moving(engine) -> int:
    with transaction(engine) as s:
        held = s.scalar(select(func.coalesce(func.sum(Balance.quantity), 0)))
        moving = s.scalar(
            select(func.coalesce(func.sum(Transfer.quantity), 0)).where(
                Transfer.status == TransferStatus.in_transit.value
            )
        )
    return int(held) + int(moving)


def _balances(engine) -> dict[tuple, int]:
    with transaction(engine) as s:
        rows = s.execute(select(Balance.point_id, Balance.item_id, Balance.lot, Balance.quantity))
        return {(p, i, lot_): q for p, i, lot_, q in rows if q}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_any_sequence_keeps_balances_equal_to_the_ledger_and_conserves_stock(engine, sw, steps):
    total = _reset(engine, sw)
    for op in steps:
        before = _balances(engine)
        try:
            with transaction(engine) as s:
                total += _apply(s, sw, op)
            event(f"{op[0]} posted")
        except (Invalid, Conflict):
            event(f"{op[0]} refused")
            assert _balances(engine) == before, op  # a refusal writes nothing
        assert _held_and_moving(engine) == total, op
    with transaction(engine) as s:
        result = check(s)
        assert result.clean, result.differences
        assert (s.scalar(select(func.min(Balance.quantity))) or 0) >= 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(op=posting)
def test_reversing_every_entry_of_a_movement_restores_the_balances_exactly(engine, sw, op):
    _reset(engine, sw)
    before = _balances(engine)
    with transaction(engine) as s:
        last = s.scalar(select(func.coalesce(func.max(Movement.id), 0)))
    try:
        with transaction(engine) as s:
            _apply(s, sw, op)
    except (Invalid, Conflict):
        return
    with transaction(engine) as s:
        posted = list(s.scalars(select(Movement.id).where(Movement.id > last).order_by(Movement.id.desc())))
        for mid in posted:  # the in legs first, so a received transfer can be undone
            movements.reverse(s, SYSTEM, mid)
    assert _balances(engine) == before
