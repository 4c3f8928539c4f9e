"""The stock-count sheet (盘点表) as .xlsx: printed with the book quantities of a point, filled in
on the shelves, read back and posted as one count — all rows or none.

Headers are Chinese (物资编码, 物资名称, 单位, 批号, 有效期, 账面数量, 实盘数量, 差异原因, 备注); the English
keys (code, name, unit, lot, expiry, book, counted, reason, note) are read too. A row whose 实盘数量
is blank was not counted and is left out. Every bad row is reported by its row number and the
column at fault, and nothing is written.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing import importing as cells
from renxing.auth.principal import Principal
from renxing.errors import Collector, FieldError, Invalid
from renxing.exporting import to_xlsx
from renxing.i18n import _, _l, in_each_lang
from renxing.supplies import counts
from renxing.supplies.access import load_point
from renxing.supplies.counts import CountLine, CountResult
from renxing.supplies.models import REASON_LABELS, Balance, Reason, StoragePoint, SupplyItem
from renxing.supplies.movements import MAX_QUANTITY

COLUMNS = [
    ("code", _l("物资编码")),
    ("name", _l("物资名称")),
    ("unit", _l("单位")),
    ("lot", _l("批号")),
    ("expiry", _l("有效期")),
    ("book", _l("账面数量")),
    ("counted", _l("实盘数量")),
    ("reason", _l("差异原因")),
    ("note", _l("备注")),
]
# Headers read back, besides the printed ones (in either language) and the English keys.
ALIASES = {
    "code": ("编码", "物资代码", "item_code"),
    "name": ("名称", "物资", "item"),
    "lot": ("批次", "批次号", "lot_no"),
    "expiry": ("有效期至", "失效日期", "到期日", "expiry_date"),
    "book": ("账存数量", "系统数量"),
    "counted": ("盘点数量", "实存数量", "实际数量", "quantity"),
    "reason": ("原因", "盘点原因"),
    "note": ("说明",),
}
REASON_WORDS = {
    "盘亏": Reason.lost,
    "遗失": Reason.lost,
    "破损": Reason.damaged,
    "损毁": Reason.damaged,
    "已用": Reason.consumed,
    "使用": Reason.consumed,
    "消耗": Reason.consumed,
    "其它": Reason.other,
    "错记": Reason.miscounted,
}


def sheet_name(point: StoragePoint) -> str:
    return _("{point}盘点表").format(point=point.name)


def count_sheet(session: Session, actor: Principal, point_id: int) -> tuple[StoragePoint, bytes]:
    """The count sheet of a point: one row per lot held, then one per active item it does not
    hold (a count may find some); 实盘数量 and 差异原因 left to fill."""
    point = load_point(session, actor, point_id)
    rows: list[list[Any]] = []
    stmt = (
        select(SupplyItem.code, SupplyItem.name, SupplyItem.unit, Balance.lot, Balance.expiry, Balance.quantity)
        .join(SupplyItem, SupplyItem.id == Balance.item_id)
        .where(Balance.point_id == point.id, Balance.quantity != 0)
        .order_by(SupplyItem.code, Balance.expiry.is_(None), Balance.expiry, Balance.lot)
    )
    for code, name, unit, lot, expiry, quantity in session.execute(stmt):
        rows.append([code, name, unit, lot or None, expiry, quantity, None, None, None])
    held = {r[0] for r in rows}
    for item in session.scalars(select(SupplyItem).where(SupplyItem.active.is_(True)).order_by(SupplyItem.code)):
        if item.code not in held:
            rows.append([item.code, item.name, item.unit, None, None, 0, None, None, None])
    return point, to_xlsx([str(label) for _key, label in COLUMNS], rows, sheet=sheet_name(point))


def _accepted() -> dict[str, str]:
    """Every accepted header, normalised, → its key."""
    out: dict[str, str] = {}
    for key, label in COLUMNS:
        for name in (key, *in_each_lang(label).values(), *ALIASES.get(key, ())):
            out.setdefault(cells.normalise_header(name), key)
    return out


def _columns(headers: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Which column holds each key, and the header it was read under (errors name it)."""
    accepted = _accepted()
    where: dict[str, int] = {}
    names: dict[str, str] = {}
    for i, header in enumerate(headers):
        key = accepted.get(cells.normalise_header(header))
        if key is not None and key not in where:
            where[key], names[key] = i, header
    errors = Collector()
    if "code" not in where and "name" not in where:
        errors.add(str(COLUMNS[0][1]), _("缺少“物资编码”或“物资名称”列"), row=1)
    if "counted" not in where:
        errors.add(str(COLUMNS[6][1]), _("缺少“实盘数量”列"), row=1)
    errors.raise_if_any(_("表头有误"))
    for key, label in COLUMNS:
        names.setdefault(key, str(label))
    return where, names


def _reasons() -> dict[str, str]:
    out = {normal(k): v.value for k, v in REASON_WORDS.items()}
    for reason, label in REASON_LABELS.items():
        out[normal(reason.value)] = reason.value
        for text in in_each_lang(label).values():
            out[normal(text)] = reason.value
    return out


def normal(text: str) -> str:
    return cells.normalise_header(text)


class _Reader:
    """Turns the sheet's rows into count lines, collecting every bad cell."""

    def __init__(self, session: Session, where: dict[str, int], names: dict[str, str], errors: Collector) -> None:
        self.where, self.names, self.errors = where, names, errors
        items = list(session.scalars(select(SupplyItem)))
        self.by_code = {normal(i.code): i for i in items}
        self.by_name = {normal(i.name): i for i in items}
        self.reasons = _reasons()

    def cell(self, row: list[Any], key: str) -> Any:
        i = self.where.get(key)
        return row[i] if i is not None and i < len(row) else None

    def line(self, number: int, row: list[Any]) -> CountLine | None:
        try:
            counted = cells.parse_int(self.cell(row, "counted"), low=0, high=MAX_QUANTITY)
        except cells.CellError as exc:
            self.errors.add(self.names["counted"], str(exc), number, self.cell(row, "counted"))
            return None
        if counted is None:
            return None  # not counted
        item = self._item(number, row)
        try:
            lot = cells.code_text(self.cell(row, "lot"), 40)
        except cells.CellError as exc:
            self.errors.add(self.names["lot"], str(exc), number)
            return None
        try:
            expiry = cells.parse_date(self.cell(row, "expiry"))
        except cells.CellError as exc:
            self.errors.add(self.names["expiry"], str(exc), number, self.cell(row, "expiry"))
            return None
        reason = self._reason(number, row)
        if item is None or reason is False:
            return None
        counted = self._in_units(number, row, item, counted)
        if counted is None:
            return None
        return CountLine(item.id, counted, lot, expiry, reason or None, row=number)

    def _item(self, number: int, row: list[Any]) -> SupplyItem | None:
        code, name = self.cell(row, "code"), self.cell(row, "name")
        item = None
        if code is not None and str(code).strip():
            item = self.by_code.get(normal(str(code)))
            if item is None:
                self.errors.add(self.names["code"], _("物资编码不存在"), number, code)
                return None
        elif name is not None and str(name).strip():
            item = self.by_name.get(normal(str(name)))
            if item is None:
                self.errors.add(self.names["name"], _("物资名称不存在"), number, name)
                return None
        else:
            self.errors.add(self.names["code"], _("必填"), number)
        return item

    def _reason(self, number: int, row: list[Any]) -> str | bool | None:
        value = self.cell(row, "reason")
        if value is None or not str(value).strip():
            return None
        reason = self.reasons.get(normal(str(value)))
        if reason is None:
            allowed = "、".join(str(label) for label in REASON_LABELS.values())
            self.errors.add(self.names["reason"], _("无效的值，可填：{allowed}").format(allowed=allowed), number, value)
            return False
        return reason

    def _in_units(self, number: int, row: list[Any], item: SupplyItem, counted: int) -> int | None:
        """A count written in packs (箱, 盒) is turned into the item's unit."""
        unit = cells.text(self.cell(row, "unit"))
        if unit is None or unit == item.unit:
            return counted
        if item.pack_unit and unit == item.pack_unit and item.pack_size:
            if counted * item.pack_size > MAX_QUANTITY:
                self.errors.add(self.names["counted"], _("数量过大"), number, counted)
                return None
            return counted * item.pack_size
        allowed = " / ".join(u for u in (item.unit, item.pack_unit) if u)
        message = _("{item}的单位应为 {allowed}").format(item=item.name, allowed=allowed)
        self.errors.add(self.names["unit"], message, number, unit)
        return None


def read_count_sheet(session: Session, data: bytes, file_name: str, errors: Collector) -> tuple[list[CountLine], dict]:
    """The count lines of a sheet and the names its columns go by (for errors)."""
    try:
        table = cells.read_table(data, file_name, max_rows=counts.MAX_LINES)
    except cells.SheetError as exc:
        raise Invalid(str(exc), [FieldError("file", str(exc))]) from exc
    where, names = _columns(table.headers)
    reader = _Reader(session, where, names, errors)
    lines = [line for number, row in table.rows if (line := reader.line(number, row)) is not None]
    return lines, names


def import_count_sheet(
    session: Session,
    actor: Principal,
    point_id: int,
    data: bytes,
    file_name: str,
    *,
    counted_at: datetime | None = None,
    note: str | None = None,
) -> CountResult:
    """Post a filled count sheet of a point as one count; any bad row refuses the whole sheet."""
    point = load_point(session, actor, point_id, write=True)
    errors = Collector()
    lines, names = read_count_sheet(session, data, file_name, errors)
    if not lines:
        errors.raise_if_any(_("盘点表有误（{n} 处），未记录任何调整").format(n=len(errors.errors)))
        message = _("没有填写实盘数量的行")
        raise Invalid(message, [FieldError(names["counted"], message)])
    fields = {"item_id": names["code"], "lot": names["lot"], "expiry": names["expiry"]}
    fields |= {"counted": names["counted"], "reason": names["reason"]}
    return counts.post_count(
        session,
        actor,
        point.id,
        lines,
        counted_at=counted_at,
        source="sheet",
        note=note,
        fields=fields,
        errors=errors,
    )
