"""Stock counts (盘点): what was found on the shelves, posted as the differences against the balances.

A count lists lines (item, lot, counted quantity, reason). Each line whose quantity differs from
the balance of its lot becomes one ``adjustment`` entry carrying the reason (lost, found,
damaged …), all under one ``StockCount`` row, through :func:`ledger.post` — the one writer.
Lots the count does not list are left as they are (a count may cover part of a store). A count
of household kits made by survey (``source="survey"``) may leave the reason out: what is missing
was consumed, what is more was found. The point's balances are read once, so a count of
thousands of lines is a handful of statements; any bad line refuses the whole count, naming it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, FieldError, Invalid
from renxing.i18n import _
from renxing.supplies import ledger
from renxing.supplies.access import load_point
from renxing.supplies.ledger import Entry, Lot
from renxing.supplies.models import MovementKind, PointKind, Reason, StockCount, StoragePoint, SupplyItem
from renxing.supplies.movements import MAX_QUANTITY

MAX_LINES = 20_000
SOURCES = ("form", "sheet", "survey")
# Which reasons explain a shortfall and which a surplus ("found" is never a loss).
LOSS_REASONS = frozenset(
    {Reason.lost, Reason.damaged, Reason.expired, Reason.consumed, Reason.miscounted, Reason.other}
)
GAIN_REASONS = frozenset({Reason.found, Reason.miscounted, Reason.other})
# The request fields a line's errors name; a sheet names its own column headers instead.
FIELDS = {"item_id": "item_id", "lot": "lot", "expiry": "expiry", "counted": "counted", "reason": "reason"}


@dataclass(frozen=True)
class CountLine:
    item_id: int
    counted: int
    lot: str | None = None
    expiry: date | None = None
    reason: str | None = None
    row: int | None = None  # the list position or sheet row the line came from, for errors


@dataclass
class Difference:
    item_id: int
    lot: str
    book: int
    counted: int
    reason: str | None
    row: int | None

    @property
    def difference(self) -> int:
        return self.counted - self.book


@dataclass
class CountResult:
    count: StockCount
    movement_ids: list[int]
    differences: list[Difference] = field(default_factory=list)


def _when(counted_at: datetime | None, now: datetime) -> datetime:
    """When the count was made: may be in the past (entered late), never in the future."""
    if counted_at is None:
        return now
    if counted_at.tzinfo is None:
        message = _("时间须带时区")
        raise Invalid(message, [FieldError("counted_at", message, value=str(counted_at))])
    if counted_at > now:
        message = _("盘点时间不能晚于现在")
        raise Invalid(message, [FieldError("counted_at", message, value=counted_at.isoformat())])
    return counted_at


def _check_request(point: StoragePoint, lines: list[CountLine], source: str, note: str | None) -> None:
    errors = Collector()
    if source not in SOURCES:
        errors.add("source", _("来源应为 form、sheet、survey 之一"), value=source)
    elif source == "survey" and point.kind != PointKind.household_kits.value:
        errors.add("source", _("入户调查只用于家庭应急包"), value=source)
    if not lines:
        errors.add("lines", _("至少一行"))
    elif len(lines) > MAX_LINES:
        errors.add("lines", _("一次最多盘点 {n} 行").format(n=MAX_LINES), value=len(lines))
    if note is not None and len(note) > 200:
        errors.add("note", _("备注最长 200 个字"))
    errors.raise_if_any(_("盘点有误，未记录任何调整"))


class _Plan:
    """Checks each line against the balances read once, and gathers the differences to post."""

    def __init__(
        self,
        items: Mapping[int, SupplyItem],
        held: Mapping[tuple[int, str], Lot],
        source: str,
        errors: Collector,
        fields: Mapping[str, str],
    ) -> None:
        self.items, self.held, self.source, self.errors, self.fields = items, held, source, errors, fields
        self.seen: dict[tuple[int, str], int | None] = {}
        self.differences: list[Difference] = []
        self.expiries: dict[tuple[int, str], date | None] = {}

    def bad(self, key: str, message: str, line: CountLine, value: object = None) -> None:
        self.errors.add(self.fields.get(key, key), message, line.row, value)

    def add(self, line: CountLine) -> None:
        item = self.items.get(line.item_id)
        if item is None or not item.active:
            self.bad("item_id", _("物资 {item_id} 不存在").format(item_id=line.item_id), line, line.item_id)
            return
        if isinstance(line.counted, bool) or not 0 <= line.counted <= MAX_QUANTITY:
            self.bad("counted", _("实盘数量应为 0 到 {n} 之间的整数").format(n=MAX_QUANTITY), line, line.counted)
            return
        key = self._lot(item, line)
        if key is None:
            return
        if key in self.seen:
            where = self.seen[key]
            self.bad("lot", _("与第 {row} 行重复").format(row=where) if where else _("重复的行"), line, key[1] or None)
            return
        self.seen[key] = line.row
        book = self.held[key].quantity if key in self.held else 0
        if line.counted == book:
            return
        reason = self._reason(line, line.counted - book)
        if reason is not None:
            self.differences.append(Difference(item.id, key[1], book, line.counted, reason, line.row))

    def _lot(self, item: SupplyItem, line: CountLine) -> tuple[int, str] | None:
        """The balance a line counts: its lot (by number, or by expiry when it has none)."""
        lot = (line.lot or "").strip()
        if len(lot) > 40:
            self.bad("lot", _("批号最长 40 个字符"), line, lot)
            return None
        if not item.lot_tracked:
            if lot or line.expiry:
                self.bad("lot", _("{item}不记批次和有效期").format(item=item.name), line, lot or line.expiry)
                return None
            self.expiries[(item.id, "")] = None
            return (item.id, "")
        lot = lot or (line.expiry.isoformat() if line.expiry else "")
        if not lot:
            self.bad("lot", _("{item}须填写批号或有效期").format(item=item.name), line)
            return None
        held = self.held.get((item.id, lot))
        if held is not None:
            if line.expiry is not None and line.expiry != held.expiry:
                message = _("批次 {lot} 的有效期为 {expiry}").format(lot=lot, expiry=held.expiry)
                self.bad("expiry", message, line, line.expiry)
                return None
            self.expiries[(item.id, lot)] = held.expiry
        elif line.expiry is None and item.shelf_life_days and line.counted > 0:
            self.bad("expiry", _("{item}须填写有效期").format(item=item.name), line)
            return None
        else:
            self.expiries[(item.id, lot)] = line.expiry
        return (item.id, lot)

    def _reason(self, line: CountLine, difference: int) -> str | None:
        reason = line.reason
        if not reason and self.source == "survey":
            return Reason.consumed.value if difference < 0 else Reason.found.value
        if not reason:
            self.bad("reason", _("有差异（{difference:+d}），须填写原因").format(difference=difference), line)
            return None
        if reason not in Reason.__members__:
            allowed = ", ".join(Reason.__members__)
            self.bad("reason", _("原因应为 {allowed} 之一").format(allowed=allowed), line, reason)
            return None
        if reason not in (LOSS_REASONS if difference < 0 else GAIN_REASONS):  # StrEnum: a str matches
            self.bad("reason", _("原因与差异（{difference:+d}）不符").format(difference=difference), line, reason)
            return None
        return reason

    def entries(self) -> list[Entry]:
        return [
            Entry(
                MovementKind.adjustment.value,
                d.item_id,
                d.difference,
                d.lot,
                self.expiries.get((d.item_id, d.lot)),
                reason=d.reason,
                row=d.row,
            )
            for d in self.differences
        ]


def plan_count(
    session: Session,
    point: StoragePoint,
    lines: list[CountLine],
    *,
    source: str,
    errors: Collector,
    fields: Mapping[str, str] = FIELDS,
) -> tuple[list[Difference], list[Entry]]:
    """The differences of a count against the point's balances (locked: read once, then posted);
    each bad line is added to ``errors``, naming it."""
    ids = sorted({line.item_id for line in lines if isinstance(line.item_id, int)})
    items = {i.id: i for i in session.scalars(select(SupplyItem).where(SupplyItem.id.in_(ids)))} if ids else {}
    held = {(b.item_id, b.lot): b for b in ledger.lots(session, point.id, lock=True)}
    plan = _Plan(items, held, source, errors, fields)
    for line in lines:
        plan.add(line)
    return plan.differences, plan.entries()


def post_count(
    session: Session,
    actor: Principal,
    point_id: int,
    lines: list[CountLine],
    *,
    counted_at: datetime | None = None,
    source: str = "form",
    note: str | None = None,
    fields: Mapping[str, str] = FIELDS,
    errors: Collector | None = None,
) -> CountResult:
    """Record a count of a point and post each difference as an adjustment; all or nothing.
    ``errors`` may bring what was found wrong before (a sheet's unreadable cells): they are
    reported together with the lines' own."""
    point = load_point(session, actor, point_id, write=True)
    _check_request(point, lines, source, note)
    now = utcnow()
    at = _when(counted_at, now)
    errors = errors or Collector()
    differences, entries = plan_count(session, point, lines, source=source, errors=errors, fields=fields)
    errors.raise_if_any(_("盘点有误（{n} 处），未记录任何调整").format(n=len(errors.errors)))
    return _record(session, actor, point, len(lines), differences, entries, at=at, now=now, source=source, note=note)


def _record(
    session: Session,
    actor: Principal,
    point: StoragePoint,
    lines: int,
    differences: list[Difference],
    entries: list[Entry],
    *,
    at: datetime,
    now: datetime,
    source: str,
    note: str | None,
) -> CountResult:
    count = StockCount(
        point_id=point.id,
        counted_at=at,
        user_id=actor.user_id,
        lines=lines,
        adjustments=len(entries),
        source=source,
        note=note,
        created_at=now,
    )
    session.add(count)
    session.flush()
    for e in entries:
        e.refs["count_id"] = count.id
    ids = ledger.post(session, actor, point, entries, occurred_at=at, note=note, now=now)
    audit.record(
        session,
        actor,
        "create",
        "supply_count",
        count.id,
        after={"point_id": point.id, "lines": lines, "adjustments": len(ids), "source": source},
    )
    return CountResult(count, ids, differences)
