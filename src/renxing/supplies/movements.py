"""Use cases of the ledger: receive, issue, transfer (send and receive), write off, reverse.

Every function checks the permission and the point's scope first, validates the whole request,
then posts through :func:`ledger.post`; a refusal raises before anything is written, and one
request is one transaction, so nothing is ever half-posted. Issues take the earliest-expiring
lot first unless a lot is named; expired lots are never issued or sent, only written off.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Conflict, FieldError, Invalid, NotFound
from renxing.i18n import _
from renxing.supplies import ledger
from renxing.supplies.access import load_point, local_day
from renxing.supplies.drawing import agreement_for_draw
from renxing.supplies.ledger import Entry
from renxing.supplies.models import (
    Movement,
    MovementKind,
    Reason,
    StoragePoint,
    SupplyItem,
    Transfer,
    TransferStatus,
)

MAX_QUANTITY = 10_000_000


def _bad(field: str, message: str, value: object = None, row: int | None = None) -> Invalid:
    return Invalid(message, [FieldError(field, message, row, None if value is None else str(value))])


def load_item(session: Session, item_id: int, *, row: int | None = None, field: str = "item_id") -> SupplyItem:
    item = session.get(SupplyItem, item_id)
    if item is None or not item.active:
        raise _bad(field, _("物资 {item_id} 不存在").format(item_id=item_id), item_id, row)
    return item


def in_units(item: SupplyItem, quantity: int, unit: str | None, *, row: int | None = None) -> int:
    """A quantity given in the item's unit or its pack, in the item's unit."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= MAX_QUANTITY:
        raise _bad("quantity", _("数量应为 1 到 {n} 之间的整数").format(n=MAX_QUANTITY), quantity, row)
    if unit is None or unit == item.unit:
        return quantity
    if item.pack_unit and unit == item.pack_unit and item.pack_size:
        return quantity * item.pack_size
    allowed = " / ".join(u for u in (item.unit, item.pack_unit) if u)
    raise _bad("unit", _("{item}的单位应为 {allowed}").format(item=item.name, allowed=allowed), unit, row)


def lot_of(
    item: SupplyItem, lot: str | None, expiry: date | None, *, row: int | None = None
) -> tuple[str, date | None]:
    """The lot key and expiry of a receipt: items with a shelf life need their expiry; the lot
    defaults to the expiry date (what a carton shows when it has no lot number)."""
    lot = (lot or "").strip()
    if len(lot) > 40:
        raise _bad("lot", _("批号最长 40 个字符"), lot, row)
    if not item.lot_tracked:
        if lot or expiry:
            raise _bad("lot", _("{item}不记批次和有效期").format(item=item.name), lot or expiry, row)
        return "", None
    if expiry is None and item.shelf_life_days:
        raise _bad("expiry", _("{item}须填写有效期").format(item=item.name), None, row)
    return (lot or (expiry.isoformat() if expiry else "")), expiry


def _when(occurred_at: datetime | None, now: datetime) -> datetime:
    """When it happened: may be in the past (entered late), never in the future."""
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None:
        raise _bad("occurred_at", _("时间须带时区"), occurred_at)
    if occurred_at > now:
        raise _bad("occurred_at", _("发生时间不能晚于现在"), occurred_at)
    return occurred_at


@dataclass(frozen=True)
class ReceiptLine:
    item_id: int
    quantity: int
    unit: str | None = None
    lot: str | None = None
    expiry: date | None = None


def receive(
    session: Session,
    actor: Principal,
    point_id: int,
    lines: list[ReceiptLine],
    *,
    occurred_at: datetime | None = None,
    note: str | None = None,
) -> list[int]:
    """Goods received at a point (入库): one entry per line."""
    point = load_point(session, actor, point_id, write=True)
    now = utcnow()
    at = _when(occurred_at, now)
    if not lines:
        raise _bad("lines", _("至少一行"))
    entries = []
    known: dict[tuple[int, str], date | None] = {(b.item_id, b.lot): b.expiry for b in ledger.lots(session, point.id)}
    for n, line in enumerate(lines, start=1):
        item = load_item(session, line.item_id, row=n)
        qty = in_units(item, line.quantity, line.unit, row=n)
        lot, expiry = lot_of(item, line.lot, line.expiry, row=n)
        if (item.id, lot) in known and known[(item.id, lot)] != expiry:
            raise _bad(
                "expiry", _("批次 {lot} 的有效期为 {expiry}").format(lot=lot, expiry=known[(item.id, lot)]), expiry, n
            )
        known[(item.id, lot)] = expiry
        entries.append(Entry(MovementKind.receipt.value, item.id, qty, lot, expiry, row=n))
    ids = ledger.post(session, actor, point, entries, occurred_at=at, note=note, now=now)
    audit.record(session, actor, "create", "supply_receipt", point.id, after={"movements": ids})
    return ids


def pick_lots(
    session: Session, point: StoragePoint, item: SupplyItem, quantity: int, day: date, lot: str | None
) -> list[tuple[ledger.Lot, int]]:
    """Which lots an issue of ``quantity`` takes: the named lot, or the earliest-expiring first.
    Expired lots are never taken; not enough usable stock is refused naming what there is."""
    held = [b for b in ledger.lots(session, point.id, [item.id], lock=True) if b.quantity > 0]
    if lot:
        held = [b for b in held if b.lot == lot]
        if not held:
            raise _bad("lot", _("该储备点没有批次 {lot}").format(lot=lot), lot)
        if held[0].expiry is not None and held[0].expiry < day:
            raise _bad("lot", _("批次 {lot} 已于 {expiry} 过期，只能报废").format(lot=lot, expiry=held[0].expiry), lot)
    usable = [b for b in held if b.expiry is None or b.expiry >= day]
    have = sum(b.quantity for b in usable)
    if have < quantity:
        raise _bad(
            "quantity",
            _("{item}可用库存 {have}{unit}，不足 {want}{unit}").format(
                item=item.name, have=have, want=quantity, unit=item.unit
            ),
            quantity,
        )
    taken, left = [], quantity
    for b in usable:
        if left == 0:
            break
        q = min(b.quantity, left)
        taken.append((b, q))
        left -= q
    return taken


def issue(
    session: Session,
    actor: Principal,
    point_id: int,
    item_id: int,
    quantity: int,
    *,
    unit: str | None = None,
    lot: str | None = None,
    agreement_id: int | None = None,
    occurred_at: datetime | None = None,
    note: str | None = None,
) -> list[int]:
    """Goods handed out from a point (出库)."""
    point = load_point(session, actor, point_id, write=True)
    now = utcnow()
    at = _when(occurred_at, now)
    item = load_item(session, item_id)
    qty = in_units(item, quantity, unit)
    drawn_on = agreement_for_draw(session, point, local_day(at), agreement_id)
    entries = [
        Entry(MovementKind.issue.value, item.id, -q, b.lot, b.expiry, refs={"agreement_id": drawn_on})
        for b, q in pick_lots(session, point, item, qty, local_day(at), lot)
    ]
    ids = ledger.post(session, actor, point, entries, occurred_at=at, note=note, now=now)
    audit.record(session, actor, "create", "supply_issue", point.id, after={"movements": ids, "agreement_id": drawn_on})
    return ids


def transfer(
    session: Session,
    actor: Principal,
    from_point_id: int,
    to_point_id: int,
    item_id: int,
    quantity: int,
    *,
    unit: str | None = None,
    lot: str | None = None,
    agreement_id: int | None = None,
    occurred_at: datetime | None = None,
    received: bool = False,
    run_id: int | None = None,
    note: str | None = None,
) -> list[Transfer]:
    """Send goods to another point (调拨): the out leg now, the in leg when they arrive (at once
    when ``received``). Between the two the quantity is in transit."""
    source = load_point(session, actor, from_point_id, write=True)
    if to_point_id == from_point_id:
        raise _bad("to_point_id", _("不能调拨到同一储备点"), to_point_id)
    target = session.get(StoragePoint, to_point_id)
    if target is None or not target.active:
        raise _bad("to_point_id", _("储备点 {point_id} 不存在").format(point_id=to_point_id), to_point_id)
    now = utcnow()
    at = _when(occurred_at, now)
    item = load_item(session, item_id)
    qty = in_units(item, quantity, unit)
    drawn_on = agreement_for_draw(session, source, local_day(at), agreement_id)
    picked = pick_lots(session, source, item, qty, local_day(at), lot)
    transfers = [
        Transfer(
            item_id=item.id,
            from_point_id=source.id,
            to_point_id=target.id,
            lot=b.lot,
            expiry=b.expiry,
            quantity=q,
            status=TransferStatus.in_transit.value,
            sent_at=at,
            run_id=run_id,
        )
        for b, q in picked
    ]
    session.add_all(transfers)
    session.flush()
    out = [
        Entry(
            MovementKind.transfer_out.value,
            item.id,
            -t.quantity,
            t.lot,
            t.expiry,
            refs={"transfer_id": t.id, "agreement_id": drawn_on, "run_id": run_id},
        )
        for t in transfers
    ]
    ledger.post(session, actor, source, out, occurred_at=at, note=note, now=now)
    if received:
        _receive(session, actor, target, transfers, at, now)
    audit.record(
        session,
        actor,
        "create",
        "supply_transfer",
        source.id,
        after={"to_point_id": target.id, "transfers": [t.id for t in transfers], "quantity": qty},
    )
    return transfers


def _receive(
    session: Session, actor: Principal, target: StoragePoint, transfers: list[Transfer], at: datetime, now: datetime
) -> None:
    entries = [
        Entry(
            MovementKind.transfer_in.value,
            t.item_id,
            t.quantity,
            t.lot,
            t.expiry,
            refs={"transfer_id": t.id, "run_id": t.run_id},
        )
        for t in transfers
    ]
    ledger.post(session, actor, target, entries, occurred_at=at, now=now)
    for t in transfers:
        t.status = TransferStatus.received.value
        t.received_at = at


def receive_transfer(
    session: Session, actor: Principal, transfer_id: int, *, occurred_at: datetime | None = None
) -> Transfer:
    """The goods of a transfer arrived at their point."""
    t = session.get(Transfer, transfer_id)
    if t is None:
        raise NotFound(_("调拨单 {transfer_id} 不存在").format(transfer_id=transfer_id))
    target = load_point(session, actor, t.to_point_id, write=True)
    if t.status != TransferStatus.in_transit.value:
        raise Conflict(_("调拨单已签收") if t.status == TransferStatus.received.value else _("调拨单已取消"))
    now = utcnow()
    at = _when(occurred_at, now)
    if at < t.sent_at:
        raise _bad("occurred_at", _("签收时间不能早于发出时间"), at)
    _receive(session, actor, target, [t], at, now)
    audit.record(session, actor, "update", "supply_transfer", t.id, after={"status": t.status})
    return t


def write_off(
    session: Session,
    actor: Principal,
    point_id: int,
    item_id: int,
    quantity: int,
    *,
    reason: str,
    lot: str | None = None,
    unit: str | None = None,
    occurred_at: datetime | None = None,
    note: str | None = None,
) -> list[int]:
    """Stock taken out as expired, damaged or lost (报废); expired lots may only leave this way."""
    point = load_point(session, actor, point_id, write=True)
    if reason not in Reason.__members__ or reason == Reason.found.value:
        raise _bad("reason", _("报废原因应为 lost、damaged、expired、consumed、other 之一"), reason)
    now = utcnow()
    at = _when(occurred_at, now)
    item = load_item(session, item_id)
    qty = in_units(item, quantity, unit)
    key = (lot or "").strip()
    if item.lot_tracked and not key:
        raise _bad("lot", _("{item}报废须指明批次").format(item=item.name))
    entries = [Entry(MovementKind.write_off.value, item.id, -qty, key if item.lot_tracked else "", reason=reason)]
    held = {b.lot: b for b in ledger.lots(session, point.id, [item.id])}
    if entries[0].lot not in held:
        raise _bad("lot", _("该储备点没有批次 {lot}").format(lot=key), key)
    entries[0].expiry = held[entries[0].lot].expiry
    ids = ledger.post(session, actor, point, entries, occurred_at=at, note=note, now=now)
    audit.record(session, actor, "create", "supply_write_off", point.id, after={"movements": ids, "reason": reason})
    return ids


def reverse(session: Session, actor: Principal, movement_id: int, *, note: str | None = None) -> int:
    """Undo one entry exactly with a reversing entry (冲销): the entry itself is never edited."""
    m = session.get(Movement, movement_id)
    if m is None:
        raise NotFound(_("流水 {movement_id} 不存在").format(movement_id=movement_id))
    point = load_point(session, actor, m.point_id, write=True)
    if m.kind == MovementKind.reversal.value:
        raise Conflict(_("冲销记录不能再冲销，请重新登记"))
    if session.scalar(select(Movement.id).where(Movement.reverses_id == m.id)) is not None:
        raise Conflict(_("该流水已冲销"))
    transfer = session.get(Transfer, m.transfer_id) if m.transfer_id else None
    if transfer is not None and m.kind == MovementKind.transfer_out.value:
        if transfer.status != TransferStatus.in_transit.value:
            raise Conflict(_("物资已签收，请先冲销调入记录"))
        transfer.status = TransferStatus.cancelled.value
    elif transfer is not None:
        transfer.status = TransferStatus.in_transit.value
        transfer.received_at = None
    now = utcnow()
    entry = Entry(
        MovementKind.reversal.value,
        m.item_id,
        -m.quantity,
        m.lot,
        m.expiry,
        reason=m.reason,
        refs={"reverses_id": m.id, "transfer_id": m.transfer_id, "run_id": m.run_id},
    )
    (new_id,) = ledger.post(session, actor, point, [entry], occurred_at=now, note=note, now=now)
    audit.record(session, actor, "create", "supply_reversal", m.id, after={"reversal_id": new_id})
    return new_id
