"""The item catalogue and its needs: read by everyone working on supplies, changed by staff who
manage them; items deactivated, never deleted; the unit fixed once stock is recorded."""

import pytest
from sqlalchemy import select

from renxing.auth.models import AuditEntry, User
from renxing.auth.principal import SYSTEM
from renxing.auth.service import principal_for
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, Invalid, NotFound
from renxing.listing import ListQuery
from renxing.supplies import items, movements
from renxing.supplies.models import ItemNeed
from renxing.supplies.movements import ReceiptLine
from renxing.supplies.schemas import ItemIn, ItemPatch, NeedIn, NeedPatch
from tests.kit.supplies_world import supplies_world


def acting(engine, username):
    with transaction(engine) as s:
        return principal_for(s, s.scalar(select(User).where(User.username == username)))


def fields(exc) -> set[str]:
    return {e.field for e in exc.value.errors}


ROPE = {"code": "rope", "name": "救援绳", "category": "rescue", "unit": "米", "pack_unit": "卷", "pack_size": 50}


def test_the_seeded_catalogue_lists_searches_and_filters(engine, world):
    worker = acting(engine, "gridworker1")
    with transaction(engine) as s:
        everything = items.list_items(s, worker, ListQuery(size=100))
        water = items.list_items(s, worker, ListQuery(q="饮用"))
        medical = items.list_items(s, worker, ListQuery(filters={"category": "medical"}, sort="code"))
        rows = items.present_all(s, water.items)
        with pytest.raises(Invalid) as bad:
            items.list_items(s, worker, ListQuery(filters={"category": "toys"}))
        with pytest.raises(Forbidden):
            items.list_items(s, acting(engine, "resident1"), ListQuery())
    assert everything.total == 14
    assert [i.code for i in water.items] == ["water"]
    assert [i.code for i in medical.items] == ["first_aid", "medicine"]
    need = rows[0]["needs"][0]
    assert need["group"] == "everyone" and need["quantity"] == 15.0 and need["daily"] is True
    assert "Sphere" in need["source"] and rows[0]["category_label"] == "饮用水"
    assert fields(bad) == {"category"}


def test_staff_add_and_change_items_with_rules_across_fields(engine, world):
    staff = acting(engine, "staff2")  # the catalogue is the street's: any community's staff keep it
    with transaction(engine) as s:
        rope = items.create_item(s, staff, ItemIn(**ROPE))
        rope_id = rope.id
    with transaction(engine) as s, pytest.raises(Conflict) as twice:
        items.create_item(s, staff, ItemIn(**ROPE))
    assert fields(twice) == {"code"}
    for bad, field in [
        ({"pack_size": None}, "pack_size"),
        ({"pack_unit": "米"}, "pack_unit"),
        ({"shelf_life_days": 365}, "lot_tracked"),
        ({"category": "toys"}, "category"),
    ]:
        with transaction(engine) as s, pytest.raises(Invalid) as exc:
            items.create_item(s, staff, ItemIn(**{**ROPE, "code": "rope2", **bad}))
        assert fields(exc) == {field}, bad
    for who in ("volunteer1", "partner1", "gridworker1"):
        with transaction(engine) as s, pytest.raises(Forbidden):
            items.create_item(s, acting(engine, who), ItemIn(**{**ROPE, "code": "rope3"}))

    with transaction(engine) as s:
        items.update_item(s, staff, rope_id, ItemPatch(unit="m", active=False))
        assert items.get_item(s, staff, rope_id).active is False
        trail = s.scalars(select(AuditEntry).where(AuditEntry.entity == "supply_item", AuditEntry.entity_id == rope_id))
        assert [e.action for e in trail] == ["create", "update"]
    with transaction(engine) as s, pytest.raises(Invalid) as blank:
        items.update_item(s, staff, rope_id, ItemPatch(name=None, unit="m"))
    assert fields(blank) == {"name"}
    with transaction(engine) as s, pytest.raises(NotFound):
        items.get_item(s, staff, 999_999)


def test_the_unit_and_lots_are_fixed_once_stock_is_recorded(engine, world):
    sw = supplies_world(engine, world)
    staff = acting(engine, "secretary")
    with transaction(engine) as s:
        items.update_item(s, staff, sw.items["torch"], ItemPatch(unit="把"))  # no stock yet: allowed
        movements.receive(s, SYSTEM, sw.points["store"], [ReceiptLine(sw.items["torch"], 5)])
    with transaction(engine) as s, pytest.raises(Conflict) as exc:
        items.update_item(s, staff, sw.items["torch"], ItemPatch(unit="只", lot_tracked=True))
    assert fields(exc) == {"unit", "lot_tracked"}
    with transaction(engine) as s:  # the name and the pack may still change
        assert items.update_item(s, staff, sw.items["torch"], ItemPatch(name="强光手电")).unit == "把"


def test_needs_per_item_with_their_source(engine, world):
    staff = acting(engine, "secretary")
    with transaction(engine) as s:
        water = s.scalar(select(ItemNeed.item_id).where(ItemNeed.source.contains("WASH")))
        need = items.create_need(
            s, staff, water, NeedIn(group="vulnerable", quantity=3, daily=True, source="社区决定：慢病居民多备饮水")
        )
        need_id = need.id
        assert [n.group for n in items.list_needs(s, acting(engine, "leader1"), water)] == ["everyone", "vulnerable"]
    with transaction(engine) as s, pytest.raises(Conflict):
        items.create_need(s, staff, water, NeedIn(group="everyone", quantity=3, source="x"))
    with transaction(engine) as s, pytest.raises(Invalid) as bad:
        items.create_need(s, staff, water, NeedIn(group="pets", quantity=1, source="x"))
    assert fields(bad) == {"group"}
    with transaction(engine) as s, pytest.raises(Forbidden):
        items.create_need(s, acting(engine, "gridworker1"), water, NeedIn(group="infants", quantity=1, source="x"))
    with transaction(engine) as s:
        changed = items.update_need(s, staff, water, need_id, NeedPatch(quantity=2.5))
        assert changed.quantity == 2.5
    with transaction(engine) as s, pytest.raises(NotFound):  # a need is reached through its own item
        items.update_need(s, staff, water + 1, need_id, NeedPatch(quantity=1))
    with transaction(engine) as s:
        items.delete_need(s, staff, water, need_id)
        assert s.get(ItemNeed, need_id) is None
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "supply_item_need", AuditEntry.entity_id == need_id)
        )
        assert list(actions) == ["create", "update", "delete"]
