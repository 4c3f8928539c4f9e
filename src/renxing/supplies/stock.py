"""Reading stock: the levels of a point, a community's (or an area's) stock by item, the ledger,
lots expiring or expired with what to do about them, and goods in transit.

Levels come from ``supply_balances`` (one row per point × item × lot, kept by ``ledger.post`` in
the same transaction as each entry), never from summing the ledger: a point's level or a whole
community's is a few hundred rows read, whatever the size of the ledger.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, Invalid, NotFound
from renxing.grid.models import GridUnit
from renxing.grid.scope import subtree_clause, unit_in_scope, visible_clause
from renxing.i18n import _, _l
from renxing.listing import Filter, ListQuery, ListSpec, Page, apply, list_page
from renxing.supplies import movements
from renxing.supplies.access import load_point, local_day, narrow, partner_orgs, points_clause
from renxing.supplies.models import (
    Balance,
    MinLevel,
    Movement,
    MovementKind,
    PointKind,
    StoragePoint,
    SupplyItem,
    Transfer,
    TransferStatus,
)

EXPIRY_DAYS = 60  # lots expiring within this many days are listed for rotation
MAX_EXPIRY_DAYS = 3650
MAX_EXPORT_ROWS = 50_000


def today_here() -> date:
    return local_day(utcnow())


def aware(moment: datetime) -> datetime:
    """A filter time without a zone is the platform's local time."""
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(get_settings().timezone))


def point_kind(value: str | None, field_name: str = "kind") -> str | None:
    if value is None or value == "":
        return None
    if value not in PointKind.__members__:
        allowed = ", ".join(PointKind.__members__)
        raise Invalid(_("储备点类型无效"), [FieldError(field_name, f"one of {allowed}", value=value)])
    return value


def _listed(session: Session, stmt: Select, spec: ListSpec, query: ListQuery, *, export: bool) -> Page[Any]:
    """One page of a list, or for an export every row of it (at most ``MAX_EXPORT_ROWS``)."""
    if not export:
        return list_page(session, stmt, spec, query, scalars=False)
    rows = list(session.execute(apply(stmt, spec, query).limit(MAX_EXPORT_ROWS + 1)))
    if len(rows) > MAX_EXPORT_ROWS:
        message = _("超过 {n} 条，请缩小范围分批导出").format(n=MAX_EXPORT_ROWS)
        raise Invalid(message, [FieldError("page", message)])
    return Page(items=rows, total=len(rows), page=1, size=max(1, len(rows)))


# ---- levels ----------------------------------------------------------------------------------


@dataclass
class LotLevel:
    lot: str
    expiry: date | None
    quantity: int
    expired: bool


@dataclass
class ItemLevel:
    """One item at one point (or summed over many): what is held, what of it has expired."""

    item_id: int
    code: str
    name: str
    name_en: str | None
    unit: str
    quantity: int = 0
    expired: int = 0  # of ``quantity``: in lots past their expiry, to be written off
    in_transit: int = 0  # sent towards the point(s), not yet received
    minimum: int | None = None
    points: int = 0  # points holding some (community stock)
    lots: list[LotLevel] = field(default_factory=list)

    @property
    def usable(self) -> int:
        return self.quantity - self.expired

    @property
    def below_minimum(self) -> bool:
        return self.minimum is not None and self.quantity < self.minimum


def _items(session: Session, ids: set[int]) -> dict[int, SupplyItem]:
    if not ids:
        return {}
    return {i.id: i for i in session.scalars(select(SupplyItem).where(SupplyItem.id.in_(sorted(ids))))}


def _level(item: SupplyItem) -> ItemLevel:
    return ItemLevel(item.id, item.code, item.name, item.name_en, item.unit)


def point_levels(
    session: Session, actor: Principal, point_id: int, *, today: date | None = None
) -> tuple[StoragePoint, list[ItemLevel]]:
    """A point's stock by item, each with its lots earliest expiry first; items at zero shown
    only where a minimum level is set. Goods on their way to the point are counted apart."""
    point = load_point(session, actor, point_id)
    today = today or today_here()
    rows = session.execute(
        select(Balance.item_id, Balance.lot, Balance.expiry, Balance.quantity)
        .where(Balance.point_id == point.id, Balance.quantity != 0)
        .order_by(Balance.item_id, Balance.expiry.is_(None), Balance.expiry, Balance.lot)
    ).all()
    minimums = dict(
        session.execute(select(MinLevel.item_id, MinLevel.minimum).where(MinLevel.point_id == point.id)).all()
    )
    coming = dict(
        session.execute(
            select(Transfer.item_id, func.sum(Transfer.quantity))
            .where(Transfer.to_point_id == point.id, Transfer.status == TransferStatus.in_transit.value)
            .group_by(Transfer.item_id)
        ).all()
    )
    items = _items(session, {r.item_id for r in rows} | set(minimums) | set(coming))
    out: dict[int, ItemLevel] = {}
    for item_id, lot, expiry, quantity in rows:
        level = out.get(item_id) or out.setdefault(item_id, _level(items[item_id]))
        expired = expiry is not None and expiry < today
        level.lots.append(LotLevel(lot, expiry, quantity, expired))
        level.quantity += quantity
        level.expired += quantity if expired else 0
    for item_id, minimum in minimums.items():
        out.setdefault(item_id, _level(items[item_id])).minimum = minimum
    for item_id, quantity in coming.items():
        out.setdefault(item_id, _level(items[item_id])).in_transit = int(quantity)
    return point, sorted(out.values(), key=lambda x: (x.code, x.item_id))


def area_of(session: Session, actor: Principal, unit_id: int | None) -> GridUnit | None:
    """The unit whose subtree is summed (the actor must see it); None: everything visible."""
    if unit_id is None:
        return None
    return unit_in_scope(session, actor, unit_id)


def community_stock(
    session: Session,
    actor: Principal,
    unit_id: int | None = None,
    *,
    kind: str | None = None,
    today: date | None = None,
) -> tuple[GridUnit | None, list[ItemLevel]]:
    """Stock by item summed over the points the actor may read in a unit's subtree (a community,
    an area), optionally of one kind of point. One grouped read of the balances."""
    actor.require(Perm.supplies_read)
    unit = area_of(session, actor, unit_id)
    kind = point_kind(kind)
    today = today or today_here()
    expired = case((and_(Balance.expiry.is_not(None), Balance.expiry < today), Balance.quantity), else_=0)
    holding = case((Balance.quantity > 0, Balance.point_id))
    stmt = (
        select(
            Balance.item_id,
            func.sum(Balance.quantity),
            func.sum(expired),
            func.count(func.distinct(holding)),
        )
        .join(StoragePoint, StoragePoint.id == Balance.point_id)
        .where(Balance.quantity != 0)
        .group_by(Balance.item_id)
    )
    stmt = _within(session, actor, stmt, unit, kind)
    sums = session.execute(stmt).all()
    moving = (
        select(Transfer.item_id, func.sum(Transfer.quantity))
        .join(StoragePoint, StoragePoint.id == Transfer.to_point_id)
        .where(Transfer.status == TransferStatus.in_transit.value)
        .group_by(Transfer.item_id)
    )
    coming = dict(session.execute(_within(session, actor, moving, unit, kind)).all())
    items = _items(session, {r[0] for r in sums} | set(coming))
    out: dict[int, ItemLevel] = {}
    for item_id, quantity, gone, points in sums:
        level = out[item_id] = _level(items[item_id])
        level.quantity, level.expired, level.points = int(quantity), int(gone or 0), int(points)
    for item_id, quantity in coming.items():
        out.setdefault(item_id, _level(items[item_id])).in_transit = int(quantity)
    return unit, sorted(out.values(), key=lambda x: (x.code, x.item_id))


def _within(session: Session, actor: Principal, stmt: Select, unit: GridUnit | None, kind: str | None) -> Select:
    """A statement joined to the points, narrowed to those the actor reads in the unit's subtree.
    Every condition is on the points (not on the balances' copy of the path), so that PostgreSQL's
    cached plan reads the points first and their balances by index."""
    stmt = narrow(session, actor, stmt)
    if unit is not None:
        stmt = stmt.where(subtree_clause(StoragePoint.path, unit.path))
    if kind is not None:
        stmt = stmt.where(StoragePoint.kind == kind)
    return stmt


# ---- the ledger ------------------------------------------------------------------------------


def _int(value: Any) -> int:
    number = int(value)
    if not 1 <= number <= 2**31 - 1:
        raise ValueError(number)
    return number


def _moment(value: Any) -> datetime:
    return aware(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


LEDGER = ListSpec(
    sorts={"occurred_at": Movement.occurred_at, "recorded_at": Movement.recorded_at, "id": Movement.id},
    default_sort="-occurred_at",
    tiebreaker=Movement.id,
    search=(Movement.note, Movement.lot),
    filters={
        "point_id": Filter(Movement.point_id, parse=_int),
        "item_id": Filter(Movement.item_id, parse=_int),
        "kind": Filter(Movement.kind, parse=lambda v: MovementKind(v).value),
        "since": Filter(Movement.occurred_at, ">=", parse=_moment),
        "until": Filter(Movement.occurred_at, "<", parse=_moment),
        "lot": Filter(Movement.lot, parse=lambda v: str(v)[:40]),
        "transfer_id": Filter(Movement.transfer_id, parse=_int),
        "count_id": Filter(Movement.count_id, parse=_int),
        "run_id": Filter(Movement.run_id, parse=_int),
    },
)


@dataclass
class LedgerRow:
    movement: Movement
    point: str
    item_code: str
    item: str
    unit: str


def _ledger_stmt(session: Session, actor: Principal, unit: GridUnit | None) -> Select:
    """The movements the actor may read. Movements alone (no join), so counting a long ledger
    reads one table; the scope is the points' rule of ``access`` said on the movement's own copy
    of its point's path (a partner: the points of its organizations). Joined to the points, a
    plan PostgreSQL caches for the statement loops over them and takes seconds at 1,000,000."""
    stmt = select(Movement)
    orgs = partner_orgs(session, actor)
    if orgs is not None:
        stmt = stmt.where(Movement.point_id.in_(select(StoragePoint.id).where(StoragePoint.org_id.in_(orgs))))
    else:
        clause = visible_clause(Movement.path, actor)
        if clause is not None:
            stmt = stmt.where(clause)
    if unit is not None:
        stmt = stmt.where(subtree_clause(Movement.path, unit.path))
    return stmt


def _with_names(session: Session, found: list[Movement]) -> list[LedgerRow]:
    points = dict(
        session.execute(
            select(StoragePoint.id, StoragePoint.name).where(StoragePoint.id.in_({m.point_id for m in found}))
        ).all()
    )
    items = {i.id: i for i in session.scalars(select(SupplyItem).where(SupplyItem.id.in_({m.item_id for m in found})))}
    return [
        LedgerRow(m, points[m.point_id], items[m.item_id].code, items[m.item_id].name, items[m.item_id].unit)
        for m in found
    ]


def ledger_page(
    session: Session, actor: Principal, query: ListQuery, *, unit_id: int | None = None, export: bool = False
) -> Page[LedgerRow]:
    """One page of the ledger the actor may read (a unit's subtree when given), filtered."""
    actor.require(Perm.supplies_read)
    unit = area_of(session, actor, unit_id)
    page = _listed(session, _ledger_stmt(session, actor, unit), LEDGER, query, export=export)
    page.items = _with_names(session, [m for (m,) in page.items]) if page.items else []
    return page


# ---- expiry ----------------------------------------------------------------------------------


class Action:
    """What to do with a lot: write off what has expired, use first what expires soonest, and in
    families' kits, ask the households to replace it."""

    write_off = "write_off"
    use_first = "use_first"
    replace = "replace"


ACTION_LABELS = {
    Action.write_off: _l("已过期：报废出库"),
    Action.use_first: _l("临期：优先发放或调拨（先到期先出）"),
    Action.replace: _l("临期：提醒住户更换应急包物资"),
}


@dataclass
class ExpiryRow:
    balance_id: int
    point_id: int
    point: str
    point_kind: str
    item_id: int
    item_code: str
    item: str
    unit: str
    lot: str
    expiry: date
    quantity: int
    days_left: int  # negative: expired that many days ago
    action: str

    @property
    def expired(self) -> bool:
        return self.days_left < 0


EXPIRY = ListSpec(
    sorts={"expiry": Balance.expiry, "quantity": Balance.quantity, "point": StoragePoint.name},
    default_sort="expiry",
    tiebreaker=Balance.id,
    search=(Balance.lot, SupplyItem.name, StoragePoint.name),
    filters={
        "point_id": Filter(Balance.point_id, parse=_int),
        "item_id": Filter(Balance.item_id, parse=_int),
        "kind": Filter(StoragePoint.kind, parse=lambda v: PointKind(v).value),
    },
)


def check_days(days: int) -> int:
    if not 0 <= days <= MAX_EXPIRY_DAYS:
        raise Invalid(_("天数无效"), [FieldError("days", f"0..{MAX_EXPIRY_DAYS}", value=str(days))])
    return days


def expiry_page(
    session: Session,
    actor: Principal,
    query: ListQuery,
    *,
    unit_id: int | None = None,
    days: int = EXPIRY_DAYS,
    expired_only: bool = False,
    today: date | None = None,
    export: bool = False,
) -> Page[ExpiryRow]:
    """Lots in stock that have expired or expire within ``days``, earliest first, each with what
    to do: write off the expired, issue or transfer the expiring before anything else."""
    actor.require(Perm.supplies_read)
    unit = area_of(session, actor, unit_id)
    today = today or today_here()
    limit = today if expired_only else today + timedelta(days=check_days(days))
    stmt = (
        select(Balance, StoragePoint.name, StoragePoint.kind, SupplyItem.code, SupplyItem.name, SupplyItem.unit)
        .join(StoragePoint, StoragePoint.id == Balance.point_id)
        .join(SupplyItem, SupplyItem.id == Balance.item_id)
        .where(Balance.quantity > 0, Balance.expiry.is_not(None))
        .where(Balance.expiry < limit if expired_only else Balance.expiry <= limit)
    )
    stmt = _within(session, actor, stmt, unit, None)
    page = _listed(session, stmt, EXPIRY, query, export=export)
    page.items = [_expiry_row(b, today, *rest) for b, *rest in page.items]
    return page


def _expiry_row(b: Balance, today: date, point: str, kind: str, code: str, item: str, unit: str) -> ExpiryRow:
    assert b.expiry is not None
    left = (b.expiry - today).days
    if left < 0:
        action = Action.write_off
    elif kind == PointKind.household_kits.value:
        action = Action.replace
    else:
        action = Action.use_first
    return ExpiryRow(
        b.id, b.point_id, point, kind, b.item_id, code, item, unit, b.lot, b.expiry, b.quantity, left, action
    )


# ---- transfers -------------------------------------------------------------------------------

_FROM = aliased(StoragePoint, name="from_point")
_TO = aliased(StoragePoint, name="to_point")


def _status(value: Any) -> str:
    return TransferStatus(value).value


TRANSFERS = ListSpec(
    sorts={"sent_at": Transfer.sent_at, "id": Transfer.id, "quantity": Transfer.quantity},
    default_sort="sent_at",
    tiebreaker=Transfer.id,
    search=(Transfer.lot, SupplyItem.name, _FROM.name, _TO.name),
    filters={
        "status": Filter(Transfer.status, parse=_status),
        "from_point_id": Filter(Transfer.from_point_id, parse=_int),
        "to_point_id": Filter(Transfer.to_point_id, parse=_int),
        "item_id": Filter(Transfer.item_id, parse=_int),
        "run_id": Filter(Transfer.run_id, parse=_int),
    },
)


@dataclass
class TransferRow:
    transfer: Transfer
    from_point: str
    to_point: str
    item_code: str
    item: str
    unit: str


def transfers_page(
    session: Session, actor: Principal, query: ListQuery, *, unit_id: int | None = None, export: bool = False
) -> Page[TransferRow]:
    """Transfers with either end at a point the actor may read (in transit unless filtered)."""
    actor.require(Perm.supplies_read)
    unit = area_of(session, actor, unit_id)
    stmt = (
        select(Transfer, _FROM.name, _TO.name, SupplyItem.code, SupplyItem.name, SupplyItem.unit)
        .join(_FROM, _FROM.id == Transfer.from_point_id)
        .join(_TO, _TO.id == Transfer.to_point_id)
        .join(SupplyItem, SupplyItem.id == Transfer.item_id)
    )
    readable = points_clause(session, actor)
    if readable is not None:
        ids = select(StoragePoint.id).where(readable)
        stmt = stmt.where(or_(Transfer.from_point_id.in_(ids), Transfer.to_point_id.in_(ids)))
    if unit is not None:
        stmt = stmt.where(or_(subtree_clause(_FROM.path, unit.path), subtree_clause(_TO.path, unit.path)))
    page = _listed(session, stmt, TRANSFERS, query, export=export)
    page.items = [TransferRow(*row) for row in page.items]
    return page


def cancel_transfer(session: Session, actor: Principal, transfer_id: int, *, note: str | None = None) -> Transfer:
    """Call back goods still in transit: the out leg is reversed, the stock is back at its point."""
    t = session.get(Transfer, transfer_id)
    if t is None:
        raise NotFound(_("调拨单 {transfer_id} 不存在").format(transfer_id=transfer_id))
    load_point(session, actor, t.from_point_id)  # 404 for a transfer the actor may not see
    out = session.scalar(
        select(Movement.id).where(Movement.transfer_id == t.id, Movement.kind == MovementKind.transfer_out.value)
    )
    if out is None:
        raise NotFound(_("调拨单 {transfer_id} 不存在").format(transfer_id=transfer_id))
    movements.reverse(session, actor, out, note=note)
    return t
