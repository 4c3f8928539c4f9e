"""The item catalogue and the per-person needs that size days of autonomy and allocation demand.

The catalogue is the street's: anyone who may read supplies reads it, staff who manage supplies
change it. An item is never deleted, only deactivated: the ledger refers to it for ever. Its
counting unit and whether it keeps lots are fixed once stock of it has been recorded, since every
quantity in the ledger is in that unit and every balance is per lot.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Collector, Conflict, FieldError, Invalid, NotFound
from renxing.i18n import _, _l
from renxing.listing import Filter, ListQuery, ListSpec, Page, apply, list_page
from renxing.supplies.autonomy import Group
from renxing.supplies.models import ItemNeed, Movement, SupplyItem
from renxing.supplies.schemas import CATEGORIES, ItemIn, ItemPatch, NeedIn, NeedPatch

CATEGORY_LABELS = {
    "water": _l("饮用水"),
    "food": _l("食品"),
    "shelter": _l("住宿保暖"),
    "medical": _l("医疗"),
    "hygiene": _l("卫生防疫"),
    "lighting": _l("照明"),
    "power": _l("电力"),
    "rescue": _l("救援器材"),
    "other": _l("其他"),
}
GROUP_LABELS = {
    Group.everyone: _l("所有人"),
    Group.vulnerable: _l("特殊需要人群"),
    Group.bedridden: _l("卧床居民"),
    Group.infants: _l("婴幼儿"),
}
MAX_EXPORT = 10_000


def _category(value: str) -> str:
    if value not in CATEGORIES:
        raise ValueError(value)
    return value


ITEMS = ListSpec(
    sorts={"code": SupplyItem.code, "name": SupplyItem.name, "category": (SupplyItem.category, SupplyItem.code)},
    default_sort="category",
    tiebreaker=SupplyItem.id,
    search=(SupplyItem.name, SupplyItem.code, SupplyItem.name_en),
    filters={"category": Filter(SupplyItem.category, parse=_category), "active": Filter(SupplyItem.active)},
)


def list_items(session: Session, actor: Principal, query: ListQuery) -> Page[SupplyItem]:
    actor.require(Perm.supplies_read)
    return list_page(session, select(SupplyItem), ITEMS, query)


def all_items(session: Session, actor: Principal, query: ListQuery) -> list[SupplyItem]:
    """Every item of the list's filters and order, for the export."""
    actor.require(Perm.supplies_read)
    return list(session.scalars(apply(select(SupplyItem), ITEMS, query).limit(MAX_EXPORT)))


def get_item(session: Session, actor: Principal, item_id: int) -> SupplyItem:
    actor.require(Perm.supplies_read)
    item = session.get(SupplyItem, item_id)
    if item is None:
        raise NotFound(_("物资 {item_id} 不存在").format(item_id=item_id))
    return item


def needs_of(session: Session, item_ids: list[int]) -> dict[int, list[ItemNeed]]:
    found: dict[int, list[ItemNeed]] = defaultdict(list)
    if item_ids:
        stmt = select(ItemNeed).where(ItemNeed.item_id.in_(item_ids)).order_by(ItemNeed.item_id, ItemNeed.id)
        for need in session.scalars(stmt):
            found[need.item_id].append(need)
    return found


def present_need(need: ItemNeed) -> dict[str, Any]:
    label = GROUP_LABELS.get(Group(need.group)) if need.group in Group.__members__ else None
    return {
        "id": need.id,
        "item_id": need.item_id,
        "group": need.group,
        "group_label": str(label) if label is not None else need.group,
        "quantity": need.quantity,
        "daily": need.daily,
        "source": need.source,
    }


def present(item: SupplyItem, needs: list[ItemNeed]) -> dict[str, Any]:
    return {
        "id": item.id,
        "code": item.code,
        "name": item.name,
        "name_en": item.name_en,
        "category": item.category,
        "category_label": str(CATEGORY_LABELS.get(item.category, item.category)),
        "unit": item.unit,
        "pack_unit": item.pack_unit,
        "pack_size": item.pack_size,
        "shelf_life_days": item.shelf_life_days,
        "lot_tracked": item.lot_tracked,
        "active": item.active,
        "note": item.note,
        "needs": [present_need(n) for n in needs],
    }


def present_all(session: Session, items: list[SupplyItem]) -> list[dict[str, Any]]:
    needs = needs_of(session, [i.id for i in items])
    return [present(i, needs.get(i.id, [])) for i in items]


def _check_item(values: dict[str, Any], errors: Collector) -> None:
    """Rules across fields of the item as it will be (``values``: every column)."""
    if values["category"] not in CATEGORIES:
        errors.add("category", _("应为 {join} 之一").format(join=", ".join(CATEGORIES)), value=values["category"])
    if bool(values.get("pack_unit")) != bool(values.get("pack_size")):
        field = "pack_size" if values.get("pack_unit") else "pack_unit"
        errors.add(field, _("包装单位和每包数量须同时填写"))
    if values.get("pack_unit") and values["pack_unit"] == values["unit"]:
        errors.add("pack_unit", _("包装单位不能与计量单位相同"), value=values["pack_unit"])
    if values.get("shelf_life_days") and not values.get("lot_tracked"):
        errors.add("lot_tracked", _("有保质期的物资须按批次记录有效期"))


def _has_stock_history(session: Session, item_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Movement.item_id == item_id))))


def _unique_code(session: Session, code: str, own_id: int | None) -> None:
    other = session.scalar(select(SupplyItem.id).where(SupplyItem.code == code))
    if other is not None and other != own_id:
        raise Conflict(_("物资编码 {code} 已存在").format(code=code), [FieldError("code", _("已存在"), value=code)])


def create_item(session: Session, actor: Principal, data: ItemIn) -> SupplyItem:
    actor.require(Perm.supplies_manage)
    values = data.model_dump()
    errors = Collector()
    _check_item(values, errors)
    errors.raise_if_any()
    _unique_code(session, values["code"], None)
    item = SupplyItem(**values)
    session.add(item)
    session.flush()
    audit.record(session, actor, "create", "supply_item", item.id, after=audit.snapshot(item))
    return item


def update_item(session: Session, actor: Principal, item_id: int, patch: ItemPatch) -> SupplyItem:
    item = get_item(session, actor, item_id)
    actor.require(Perm.supplies_manage)
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key in ("code", "name", "category", "unit", "lot_tracked", "active"):
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    before = audit.snapshot(item)
    merged = {**before, **changes}
    _check_item(merged, errors)
    errors.raise_if_any()
    fixed = [k for k in ("unit", "lot_tracked") if k in changes and changes[k] != before[k]]
    if fixed and _has_stock_history(session, item.id):
        why = _("已有库存记录，计量单位和批次管理不能再改")
        raise Conflict(why, [FieldError(k, why, value=changes[k]) for k in fixed])
    if "code" in changes:
        _unique_code(session, changes["code"], item.id)
    for key, value in changes.items():
        setattr(item, key, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(item))
    if new:
        audit.record(session, actor, "update", "supply_item", item.id, before=old, after=new)
    return item


# ---- needs ------------------------------------------------------------------------------------


def list_needs(session: Session, actor: Principal, item_id: int) -> list[ItemNeed]:
    item = get_item(session, actor, item_id)
    return needs_of(session, [item.id]).get(item.id, [])


def _load_need(session: Session, actor: Principal, item_id: int, need_id: int) -> tuple[SupplyItem, ItemNeed]:
    item = get_item(session, actor, item_id)
    actor.require(Perm.supplies_manage)
    need = session.get(ItemNeed, need_id)
    if need is None or need.item_id != item.id:
        raise NotFound(_("需求 {need_id} 不存在").format(need_id=need_id))
    return item, need


def _check_group(group: str) -> None:
    if group not in Group.__members__:
        message = _("应为 {join} 之一").format(join=", ".join(Group))
        raise Invalid(message, [FieldError("group", message, value=group)])


def _unique_group(session: Session, item_id: int, group: str, own_id: int | None) -> None:
    other = session.scalar(select(ItemNeed.id).where(ItemNeed.item_id == item_id, ItemNeed.group == group))
    if other is not None and other != own_id:
        why = _("该物资已有此人群的需求标准")
        raise Conflict(why, [FieldError("group", why, value=group)])


def create_need(session: Session, actor: Principal, item_id: int, data: NeedIn) -> ItemNeed:
    item = get_item(session, actor, item_id)
    actor.require(Perm.supplies_manage)
    _check_group(data.group)
    _unique_group(session, item.id, data.group, None)
    need = ItemNeed(item_id=item.id, **data.model_dump())
    session.add(need)
    session.flush()
    audit.record(session, actor, "create", "supply_item_need", need.id, after=audit.snapshot(need))
    return need


def update_need(session: Session, actor: Principal, item_id: int, need_id: int, patch: NeedPatch) -> ItemNeed:
    item, need = _load_need(session, actor, item_id, need_id)
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key, value in changes.items():
        if value is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    if "group" in changes:
        _check_group(changes["group"])
        _unique_group(session, item.id, changes["group"], need.id)
    before = audit.snapshot(need)
    for key, value in changes.items():
        setattr(need, key, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(need))
    if new:
        audit.record(session, actor, "update", "supply_item_need", need.id, before=old, after=new)
    return need


def delete_need(session: Session, actor: Principal, item_id: int, need_id: int) -> None:
    _item, need = _load_need(session, actor, item_id, need_id)
    before = audit.snapshot(need)
    session.execute(delete(ItemNeed).where(ItemNeed.id == need.id))
    audit.record(session, actor, "delete", "supply_item_need", need.id, before=before)


# ---- export -------------------------------------------------------------------------------------


def export_rows(session: Session, items: list[SupplyItem]) -> tuple[list[str], list[list[Any]]]:
    """The catalogue as a sheet: one row per item, its needs in words."""
    headers = [
        _("编码"),
        _("名称"),
        _("类别"),
        _("计量单位"),
        _("包装单位"),
        _("每包数量"),
        _("保质期（天）"),
        _("按批次"),
        _("启用"),
        _("人均需求"),
    ]
    needs = needs_of(session, [i.id for i in items])
    rows = []
    for i in items:
        words = "；".join(
            f"{present_need(n)['group_label']} {n.quantity:g}{i.unit}{_('/人/天') if n.daily else _('/人')}"
            for n in needs.get(i.id, [])
        )
        rows.append(
            [
                i.code,
                i.name,
                str(CATEGORY_LABELS.get(i.category, i.category)),
                i.unit,
                i.pack_unit,
                i.pack_size,
                i.shelf_life_days,
                _("是") if i.lot_tracked else _("否"),
                _("是") if i.active else _("否"),
                words,
            ]
        )
    return headers, rows
