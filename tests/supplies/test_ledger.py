"""The rules the ledger enforces, through the use cases (receive, issue, transfer, write off,
reverse): each refusal names its field and writes nothing; who may see and move what."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction, utcnow
from renxing.errors import Conflict, Forbidden, Invalid, NotFound
from renxing.listing import ListQuery
from renxing.notify.models import Notification
from renxing.supplies import movements, stock
from renxing.supplies.models import MinLevel, Movement, Transfer
from renxing.supplies.movements import ReceiptLine
from tests.kit.supplies_world import supplies_world
from tests.supplies.stock_kit import GONE, LATER, SOON, acting, entries, level, lots


@pytest.fixture
def sw(engine, world):
    """The warehouse with water in three lots at the store (one expired), food at the market."""
    sw = supplies_world(engine, world)
    it = sw.items
    with transaction(engine) as s:
        movements.receive(
            s,
            SYSTEM,
            sw.points["store"],
            [
                ReceiptLine(it["water"], 100, lot="W-LATE", expiry=LATER),
                ReceiptLine(it["water"], 50, lot="W-SOON", expiry=SOON),
                ReceiptLine(it["water"], 30, lot="W-GONE", expiry=GONE),
                ReceiptLine(it["blanket"], 20),
            ],
        )
        movements.receive(s, SYSTEM, sw.points["market"], [ReceiptLine(it["food"], 200, expiry=LATER)])
    return sw


def refused(exc: pytest.ExceptionInfo) -> list[str]:
    return [e.field for e in exc.value.errors]


def test_an_issue_beyond_usable_stock_is_refused_naming_quantity_and_nothing_is_written(engine, sw):
    before = entries(engine)
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        # 150 usable (the 30 expired do not count)
        movements.issue(s, SYSTEM, sw.points["store"], sw.items["water"], 151)
    assert refused(exc) == ["quantity"]
    assert "150" in exc.value.errors[0].message
    assert entries(engine) == before
    assert level(engine, sw.points["store"], sw.items["water"]) == 180


def test_issues_take_the_earliest_expiring_usable_lot_first(engine, sw):
    with transaction(engine) as s:
        movements.issue(s, SYSTEM, sw.points["store"], sw.items["water"], 60)
    # W-SOON (50) emptied first, then 10 from W-LATE; the expired lot is never touched
    assert lots(engine, sw.points["store"], sw.items["water"]) == {"W-LATE": 90, "W-GONE": 30}


def test_a_named_lot_is_taken_even_when_another_expires_first(engine, sw):
    with transaction(engine) as s:
        movements.issue(s, SYSTEM, sw.points["store"], sw.items["water"], 5, lot="W-LATE")
    assert lots(engine, sw.points["store"], sw.items["water"]) == {"W-LATE": 95, "W-SOON": 50, "W-GONE": 30}


def test_an_expired_lot_cannot_be_issued_but_can_be_written_off(engine, sw):
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        movements.issue(s, SYSTEM, sw.points["store"], sw.items["water"], 5, lot="W-GONE")
    assert refused(exc) == ["lot"]
    with transaction(engine) as s:
        movements.write_off(s, SYSTEM, sw.points["store"], sw.items["water"], 30, reason="expired", lot="W-GONE")
    assert "W-GONE" not in lots(engine, sw.points["store"], sw.items["water"])
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        movements.write_off(s, SYSTEM, sw.points["store"], sw.items["water"], 1, reason="found", lot="W-LATE")
    assert refused(exc) == ["reason"]


def test_a_transfer_to_itself_or_to_an_unknown_point_is_refused(engine, sw):
    for to in (sw.points["store"], 999_999):
        with pytest.raises(Invalid) as exc, transaction(engine) as s:
            movements.transfer(s, SYSTEM, sw.points["store"], to, sw.items["blanket"], 1)
        assert refused(exc) == ["to_point_id"]
    assert level(engine, sw.points["store"], sw.items["blanket"]) == 20


def test_a_quantity_in_a_wrong_unit_is_refused_and_a_pack_is_converted(engine, sw):
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        movements.receive(s, SYSTEM, sw.points["store"], [ReceiptLine(sw.items["water"], 3, unit="kg", expiry=LATER)])
    assert refused(exc) == ["unit"]
    with transaction(engine) as s:
        # 箱 of 12 L
        movements.receive(
            s, SYSTEM, sw.points["store"], [ReceiptLine(sw.items["water"], 2, unit="箱", lot="BOX", expiry=LATER)]
        )
    assert lots(engine, sw.points["store"], sw.items["water"])["BOX"] == 24


def test_drawing_on_a_partner_needs_an_agreement_in_force(engine, sw):
    with transaction(engine) as s:
        movements.receive(s, SYSTEM, sw.points["school"], [ReceiptLine(sw.items["blanket"], 40)])
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        movements.issue(s, SYSTEM, sw.points["school"], sw.items["blanket"], 5)
    assert refused(exc) == ["agreement_id"]
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        movements.issue(s, SYSTEM, sw.points["school"], sw.items["blanket"], 5, agreement_id=sw.agreements["school"])
    assert refused(exc) == ["agreement_id"]
    assert level(engine, sw.points["school"], sw.items["blanket"]) == 40
    with transaction(engine) as s:
        (mid,) = movements.issue(s, SYSTEM, sw.points["market"], sw.items["food"], 10)
        assert s.get(Movement, mid).agreement_id == sw.agreements["market"]


def test_a_reversal_restores_the_balance_exactly_and_only_once(engine, sw):
    with transaction(engine) as s:
        ids = movements.issue(s, SYSTEM, sw.points["store"], sw.items["water"], 60)
    assert len(ids) == 2  # two lots
    with transaction(engine) as s:
        back = [movements.reverse(s, SYSTEM, m) for m in ids]
    assert lots(engine, sw.points["store"], sw.items["water"]) == {"W-LATE": 100, "W-SOON": 50, "W-GONE": 30}
    with pytest.raises(Conflict), transaction(engine) as s:
        movements.reverse(s, SYSTEM, ids[0])
    with pytest.raises(Conflict), transaction(engine) as s:
        movements.reverse(s, SYSTEM, back[0])
    with transaction(engine) as s:
        original = s.get(Movement, ids[0])
        assert original.quantity < 0 and original.reverses_id is None  # never edited


def test_a_transfer_is_in_transit_until_received_or_cancelled(engine, sw):
    store, kits, water = sw.points["store"], sw.points["kits_b1"], sw.items["water"]
    with transaction(engine) as s:
        (sent,) = movements.transfer(s, SYSTEM, store, kits, water, 20, lot="W-LATE")
        (other,) = movements.transfer(s, SYSTEM, store, kits, water, 5, lot="W-LATE")
        sent_id, other_id = sent.id, other.id
    assert level(engine, store, water) == 155 and level(engine, kits, water) == 0
    with transaction(engine) as s:
        moving = stock.transfers_page(s, SYSTEM, ListQuery(filters={"status": "in_transit"}))
        assert {r.transfer.id for r in moving.items} == {sent_id, other_id}
        movements.receive_transfer(s, SYSTEM, sent_id)
        stock.cancel_transfer(s, SYSTEM, other_id)
    assert level(engine, store, water) == 160 and level(engine, kits, water) == 20
    with transaction(engine) as s:
        assert s.get(Transfer, sent_id).status == "received"
        assert s.get(Transfer, other_id).status == "cancelled"
        _, kit_levels = stock.point_levels(s, SYSTEM, kits)
        assert [(v.code, v.quantity, v.in_transit) for v in kit_levels] == [("water", 20, 0)]
    for again in (movements.receive_transfer, stock.cancel_transfer):
        with pytest.raises(Conflict), transaction(engine) as s:
            again(s, SYSTEM, other_id if again is movements.receive_transfer else sent_id)


def test_an_entry_made_late_keeps_when_it_happened_and_when_it_was_recorded(engine, sw):
    happened = utcnow() - timedelta(days=2, hours=3)
    with transaction(engine) as s:
        (mid,) = movements.issue(s, SYSTEM, sw.points["store"], sw.items["blanket"], 2, occurred_at=happened)
    with transaction(engine) as s:
        m = s.get(Movement, mid)
        assert m.occurred_at == happened
        assert abs((m.recorded_at - utcnow()).total_seconds()) < 60
    with pytest.raises(Invalid) as exc, transaction(engine) as s:
        later = utcnow() + timedelta(hours=1)
        movements.issue(s, SYSTEM, sw.points["store"], sw.items["blanket"], 1, occurred_at=later)
    assert refused(exc) == ["occurred_at"]


def test_a_partner_sees_and_moves_only_its_own_points(engine, sw):
    partner = acting(engine, "partner1")  # speaks for the supermarket
    with transaction(engine) as s:
        movements.receive(s, partner, sw.points["market"], [ReceiptLine(sw.items["water"], 10, expiry=LATER)])
        for call in (
            lambda: stock.point_levels(s, partner, sw.points["store"]),
            lambda: movements.issue(s, partner, sw.points["store"], sw.items["blanket"], 1),
        ):
            with pytest.raises(NotFound):
                call()
        seen = stock.ledger_page(s, partner, ListQuery(size=100))
        assert {r.movement.point_id for r in seen.items} == {sw.points["market"]}
        _, totals = stock.community_stock(s, partner)
        assert {(v.code, v.quantity) for v in totals} == {("food", 200), ("water", 10)}


def test_a_grid_worker_moves_only_the_kits_of_its_buildings(engine, world, sw):
    worker = acting(engine, "gridworker1")  # area A1, building B1
    with transaction(engine) as s:
        movements.receive(s, worker, sw.points["kits_b1"], [ReceiptLine(sw.items["torch"], 2)])
        _, store_levels = stock.point_levels(s, worker, sw.points["store"])  # may read the store above
        assert {v.code for v in store_levels} == {"water", "blanket"}
        with pytest.raises(Forbidden):
            movements.issue(s, worker, sw.points["store"], sw.items["blanket"], 1)
        with pytest.raises(NotFound):
            stock.point_levels(s, worker, sw.points["store2"])  # the other community
    assert level(engine, sw.points["kits_b1"], sw.items["torch"]) == 2


def test_falling_below_a_minimum_tells_staff_once_until_restocked(engine, world, sw):
    store, blanket = sw.points["store"], sw.items["blanket"]
    with transaction(engine) as s:
        s.add(MinLevel(point_id=store, item_id=blanket, minimum=15))

    def notices() -> int:
        with transaction(engine) as s:
            return len(
                s.scalars(
                    select(Notification).where(
                        Notification.user_id == world.users["secretary"], Notification.topic == "supplies.minimum"
                    )
                ).all()
            )

    for quantity in (6, 2):  # 14, then 12: one notice
        with transaction(engine) as s:
            movements.issue(s, SYSTEM, store, blanket, quantity)
    assert notices() == 1
    with transaction(engine) as s:
        movements.receive(s, SYSTEM, store, [ReceiptLine(blanket, 10)])  # 22: re-armed
        assert s.scalar(select(MinLevel.below_since)) is None
    with transaction(engine) as s:
        movements.issue(s, SYSTEM, store, blanket, 8)  # 14 again: a second notice
    assert notices() == 2
