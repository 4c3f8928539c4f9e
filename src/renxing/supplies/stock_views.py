"""Stock as the API and the pages show it, and every stock list as an .xlsx workbook."""

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from renxing.exporting import to_xlsx
from renxing.i18n import _, _l, localized
from renxing.supplies.counts import CountResult
from renxing.supplies.models import (
    MOVEMENT_LABELS,
    POINT_KIND_LABELS,
    REASON_LABELS,
    StoragePoint,
    SupplyItem,
    Transfer,
    TransferStatus,
)
from renxing.supplies.stock import ACTION_LABELS, ExpiryRow, ItemLevel, LedgerRow, TransferRow

TRANSFER_LABELS = {
    TransferStatus.in_transit: _l("在途"),
    TransferStatus.received: _l("已签收"),
    TransferStatus.cancelled: _l("已取消"),
}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _label(labels: dict, code: str | None) -> str:
    # StrEnum keys look up by their plain string value.
    return "" if code is None else str(labels.get(code, code))


def point_ref(p: StoragePoint) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "kind": p.kind, "unit_id": p.unit_id, "path": p.path, "org_id": p.org_id}


def level_row(level: ItemLevel) -> dict[str, Any]:
    return {
        "item_id": level.item_id,
        "code": level.code,
        "name": level.name,
        "name_en": level.name_en,
        "unit": level.unit,
        "quantity": level.quantity,
        "usable": level.usable,
        "expired": level.expired,
        "in_transit": level.in_transit,
        "minimum": level.minimum,
        "below_minimum": level.below_minimum,
        "points": level.points,
        "lots": [{"lot": x.lot, "expiry": x.expiry, "quantity": x.quantity, "expired": x.expired} for x in level.lots],
    }


def movement_row(r: LedgerRow) -> dict[str, Any]:
    m = r.movement
    return {
        "id": m.id,
        "kind": m.kind,
        "kind_label": _label(MOVEMENT_LABELS, m.kind),
        "point_id": m.point_id,
        "point": r.point,
        "item_id": m.item_id,
        "item_code": r.item_code,
        "item": r.item,
        "unit": r.unit,
        "lot": m.lot,
        "expiry": m.expiry,
        "quantity": m.quantity,
        "reason": m.reason,
        "occurred_at": _iso(m.occurred_at),
        "recorded_at": _iso(m.recorded_at),
        "user_id": m.user_id,
        "reverses_id": m.reverses_id,
        "transfer_id": m.transfer_id,
        "agreement_id": m.agreement_id,
        "count_id": m.count_id,
        "run_id": m.run_id,
        "note": m.note,
    }


def transfer_row(r: TransferRow) -> dict[str, Any]:
    t = r.transfer
    return {
        "id": t.id,
        "status": t.status,
        "item_id": t.item_id,
        "item_code": r.item_code,
        "item": r.item,
        "unit": r.unit,
        "from_point_id": t.from_point_id,
        "from_point": r.from_point,
        "to_point_id": t.to_point_id,
        "to_point": r.to_point,
        "lot": t.lot,
        "expiry": t.expiry,
        "quantity": t.quantity,
        "sent_at": _iso(t.sent_at),
        "received_at": _iso(t.received_at),
        "run_id": t.run_id,
    }


def transfer_rows(session: Session, transfers: list[Transfer]) -> list[dict[str, Any]]:
    """Transfers just posted, with the names of their points and item."""
    out = []
    for t in transfers:
        source, target = session.get(StoragePoint, t.from_point_id), session.get(StoragePoint, t.to_point_id)
        item = session.get(SupplyItem, t.item_id)
        assert source is not None and target is not None and item is not None
        out.append(transfer_row(TransferRow(t, source.name, target.name, item.code, item.name, item.unit)))
    return out


def expiry_row(r: ExpiryRow) -> dict[str, Any]:
    return {
        "balance_id": r.balance_id,
        "point_id": r.point_id,
        "point": r.point,
        "point_kind": r.point_kind,
        "item_id": r.item_id,
        "item_code": r.item_code,
        "item": r.item,
        "unit": r.unit,
        "lot": r.lot,
        "expiry": r.expiry,
        "quantity": r.quantity,
        "days_left": r.days_left,
        "expired": r.expired,
        "action": r.action,
        "action_label": str(ACTION_LABELS[r.action]),
    }


def count_answer(result: CountResult) -> dict[str, Any]:
    c = result.count
    return {
        "id": c.id,
        "point_id": c.point_id,
        "counted_at": _iso(c.counted_at),
        "source": c.source,
        "lines": c.lines,
        "adjustments": c.adjustments,
        "movement_ids": result.movement_ids,
        "differences": [
            {
                "item_id": d.item_id,
                "lot": d.lot,
                "book": d.book,
                "counted": d.counted,
                "difference": d.difference,
                "reason": d.reason,
                "row": d.row,
            }
            for d in result.differences
        ],
    }


# ---- workbooks -------------------------------------------------------------------------------


def _name(level: ItemLevel) -> str:
    return localized(level.name, level.name_en)


def levels_xlsx(title: str, levels: list[ItemLevel], *, by_lot: bool) -> bytes:
    """A point's stock (a row per lot) or an area's (a row per item)."""
    if by_lot:
        headers = [
            _("物资编码"),
            _("物资名称"),
            _("单位"),
            _("批号"),
            _("有效期"),
            _("数量"),
            _("已过期"),
            _("最低库存"),
        ]
        rows: list[list[Any]] = []
        for v in levels:
            for x in v.lots or [None]:
                lot_cells = [x.lot, x.expiry, x.quantity, _("是") if x.expired else ""] if x else ["", None, 0, ""]
                rows.append([v.code, _name(v), v.unit, *lot_cells, v.minimum])
        return to_xlsx(headers, rows, sheet=title)
    headers = [_("物资编码"), _("物资名称"), _("单位"), _("库存"), _("可用"), _("已过期"), _("在途"), _("储备点数")]
    rows = [[v.code, _name(v), v.unit, v.quantity, v.usable, v.expired, v.in_transit, v.points] for v in levels]
    return to_xlsx(headers, rows, sheet=title)


def ledger_xlsx(rows: list[LedgerRow]) -> bytes:
    headers = [
        _("流水号"),
        _("类型"),
        _("储备点"),
        _("物资编码"),
        _("物资名称"),
        _("单位"),
        _("批号"),
        _("有效期"),
        _("数量"),
        _("原因"),
        _("发生时间"),
        _("登记时间"),
        _("冲销流水"),
        _("调拨单"),
        _("协议"),
        _("盘点单"),
        _("备注"),
    ]
    body = [
        [
            r.movement.id,
            _label(MOVEMENT_LABELS, r.movement.kind),
            r.point,
            r.item_code,
            r.item,
            r.unit,
            r.movement.lot,
            r.movement.expiry,
            r.movement.quantity,
            _label(REASON_LABELS, r.movement.reason) if r.movement.reason else "",
            r.movement.occurred_at,
            r.movement.recorded_at,
            r.movement.reverses_id,
            r.movement.transfer_id,
            r.movement.agreement_id,
            r.movement.count_id,
            r.movement.note,
        ]
        for r in rows
    ]
    return to_xlsx(headers, body, sheet=_("库存流水"))


def transfers_xlsx(rows: list[TransferRow]) -> bytes:
    headers = [
        _("调拨单"),
        _("状态"),
        _("调出点"),
        _("调入点"),
        _("物资编码"),
        _("物资名称"),
        _("单位"),
        _("批号"),
        _("有效期"),
        _("数量"),
        _("发出时间"),
        _("签收时间"),
    ]
    body = [
        [
            r.transfer.id,
            _label(TRANSFER_LABELS, r.transfer.status),
            r.from_point,
            r.to_point,
            r.item_code,
            r.item,
            r.unit,
            r.transfer.lot,
            r.transfer.expiry,
            r.transfer.quantity,
            r.transfer.sent_at,
            r.transfer.received_at,
        ]
        for r in rows
    ]
    return to_xlsx(headers, body, sheet=_("调拨"))


def expiry_xlsx(rows: list[ExpiryRow], today: date) -> bytes:
    headers = [
        _("储备点"),
        _("类型"),
        _("物资编码"),
        _("物资名称"),
        _("单位"),
        _("批号"),
        _("有效期"),
        _("数量"),
        _("剩余天数"),
        _("处理建议"),
    ]
    body = [
        [
            r.point,
            _label(POINT_KIND_LABELS, r.point_kind),
            r.item_code,
            r.item,
            r.unit,
            r.lot,
            r.expiry,
            r.quantity,
            r.days_left,
            str(ACTION_LABELS[r.action]),
        ]
        for r in rows
    ]
    return to_xlsx(headers, body, sheet=_("临期与过期 {today}").format(today=today.isoformat()))
