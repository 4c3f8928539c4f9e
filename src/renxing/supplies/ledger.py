"""Posting to the stock ledger: every change of stock is a new entry, and its balance row moves in
the same transaction.

``post`` is the one writer. It locks the balance rows it touches (``FOR UPDATE`` on PostgreSQL;
SQLite's writer lock does the same), refuses any entry that would take a lot below zero (naming
the row), inserts the entries in one statement and moves the balances with ``quantity = quantity
+ delta``, so two concurrent postings can never both spend the same stock. The use cases above it
(receipts, issues, transfers, counts, write-offs, reversals: ``movements.py``, ``counts.py``)
decide the lots and check the rules of each kind.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from renxing.auth.directory import staff_covering
from renxing.auth.principal import Principal
from renxing.bounds import INT_MAX
from renxing.db import utcnow
from renxing.errors import Collector
from renxing.i18n import _
from renxing.signals.bus import publish
from renxing.signals.catalog import StockBelowMinimum
from renxing.supplies.models import Balance, MinLevel, Movement, StoragePoint, SupplyItem

_BAL = Balance.__table__
_MOVE_UP = (
    update(_BAL)
    .where(_BAL.c.id == bindparam("b_id"))
    .values(quantity=_BAL.c.quantity + bindparam("delta"), updated_at=bindparam("at"))
)


# From this many rows a PostgreSQL posting sends arrays in one statement (a 5,000-line stock count
# would otherwise be parsed batch by batch); below it, and on SQLite, plain executemany.
BULK = 200
_COLUMNS = {
    "kind": "varchar",
    "item_id": "integer",
    "point_id": "integer",
    "path": "varchar",
    "lot": "varchar",
    "expiry": "date",
    "quantity": "integer",
    "reason": "varchar",
    "occurred_at": "timestamptz",
    "recorded_at": "timestamptz",
    "user_id": "integer",
    "note": "varchar",
    "transfer_id": "integer",
    "agreement_id": "integer",
    "count_id": "integer",
    "run_id": "integer",
    "reverses_id": "integer",
}
_PG_INSERT = text(
    f"INSERT INTO supply_movements ({', '.join(_COLUMNS)}) "
    f"SELECT {', '.join(_COLUMNS)} FROM unnest("
    + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in _COLUMNS.items())
    + f") WITH ORDINALITY AS x({', '.join(_COLUMNS)}, o) ORDER BY o RETURNING id"
)
_PG_MOVE_UP = text(
    "UPDATE supply_balances AS b SET quantity = b.quantity + d.delta, updated_at = :at "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:deltas AS integer[])) AS d(id, delta) WHERE b.id = d.id"
)


def _insert_entries(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the entries; their ids in the order given."""
    conn = session.connection()
    if len(rows) >= BULK and conn.dialect.name == "postgresql":
        arrays = {c: [r[c] for r in rows] for c in _COLUMNS}
        # Ids come from one sequence in the order the rows are inserted (ORDER BY o).
        return sorted(conn.execute(_PG_INSERT, arrays).scalars())
    return list(session.scalars(insert(Movement).returning(Movement.id, sort_by_parameter_order=True), rows))


@dataclass
class Entry:
    """One entry to post: ``quantity`` signed, in the item's unit."""

    kind: str
    item_id: int
    quantity: int
    lot: str = ""
    expiry: date | None = None
    reason: str | None = None
    row: int | None = None  # the sheet row or list position it came from, for errors
    refs: dict[str, Any] = field(default_factory=dict)  # transfer_id, agreement_id, count_id, run_id, reverses_id


@dataclass(frozen=True)
class Lot:
    """A balance row as the use cases read it."""

    id: int
    item_id: int
    lot: str
    expiry: date | None
    quantity: int


def lots(session: Session, point_id: int, item_ids: list[int] | None = None, *, lock: bool = False) -> list[Lot]:
    """The balance rows of a point (of some items), earliest expiry first; locked when posting."""
    stmt = select(Balance.id, Balance.item_id, Balance.lot, Balance.expiry, Balance.quantity).where(
        Balance.point_id == point_id
    )
    if item_ids is not None:
        stmt = stmt.where(Balance.item_id.in_(sorted(set(item_ids))))
    stmt = stmt.order_by(Balance.item_id, Balance.expiry.is_(None), Balance.expiry, Balance.lot, Balance.id)
    if lock:
        stmt = stmt.with_for_update()
    return [Lot(*row) for row in session.execute(stmt)]


def post(
    session: Session,
    actor: Principal,
    point: StoragePoint,
    entries: list[Entry],
    *,
    occurred_at: datetime,
    note: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Write the entries at ``point`` and move its balances; returns the new entries' ids.
    Raises ``Invalid`` (nothing written) when any lot would go below zero."""
    if not entries:
        return []
    now = now or utcnow()
    held = {(b.item_id, b.lot): b for b in lots(session, point.id, [e.item_id for e in entries], lock=True)}
    after: dict[tuple[int, str], int] = {k: b.quantity for k, b in held.items()}
    errors = Collector()
    for e in entries:
        key = (e.item_id, e.lot)
        level = after.get(key, 0) + e.quantity
        if level > INT_MAX:
            errors.add("quantity", _("数量过大：库存不能超过 {n}").format(n=INT_MAX), row=e.row, value=e.quantity)
        elif level < 0:
            have, want = after.get(key, 0), -e.quantity
            message = (
                _("库存不足：批次 {lot} 现有 {have}，不能减少 {want}").format(lot=e.lot, have=have, want=want)
                if e.lot
                else _("库存不足：现有 {have}，不能减少 {want}").format(have=have, want=want)
            )
            errors.add("quantity", message, row=e.row, value=want)
        after[key] = level
    errors.raise_if_any(_("库存不足"))
    rows = [
        {
            "kind": e.kind,
            "item_id": e.item_id,
            "point_id": point.id,
            "path": point.path,
            "lot": e.lot,
            "expiry": e.expiry,
            "quantity": e.quantity,
            "reason": e.reason,
            "occurred_at": occurred_at,
            "recorded_at": now,
            "user_id": actor.user_id,
            "note": note,
            **{k: e.refs.get(k) for k in ("transfer_id", "agreement_id", "count_id", "run_id", "reverses_id")},
        }
        for e in entries
    ]
    if session.new or session.dirty:
        session.flush()
    ids = _insert_entries(session, rows)
    _move_balances(session, point, entries, held, now)
    _check_minimums(session, point, {e.item_id for e in entries}, now)
    return ids


def _move_balances(
    session: Session, point: StoragePoint, entries: list[Entry], held: dict[tuple[int, str], Lot], now: datetime
) -> None:
    delta: dict[tuple[int, str], int] = defaultdict(int)
    expiry: dict[tuple[int, str], date | None] = {}
    for e in entries:
        delta[(e.item_id, e.lot)] += e.quantity
        expiry.setdefault((e.item_id, e.lot), e.expiry)
    moved = [{"b_id": held[k].id, "delta": d, "at": now} for k, d in delta.items() if k in held and d]
    new = [
        {
            "point_id": point.id,
            "item_id": k[0],
            "lot": k[1],
            "expiry": expiry[k],
            "path": point.path,
            "quantity": d,
            "updated_at": now,
        }
        for k, d in delta.items()
        if k not in held
    ]
    conn = session.connection()
    if len(moved) >= BULK and conn.dialect.name == "postgresql":
        # One statement over arrays: an executemany of thousands of updates costs a round each.
        conn.execute(
            _PG_MOVE_UP,
            {"ids": [m["b_id"] for m in moved], "deltas": [m["delta"] for m in moved], "at": now},
        )
    elif moved:
        conn.execute(_MOVE_UP, moved)
    if new:
        conn.execute(insert(_BAL), new)


def level(session: Session, point_id: int, item_id: int) -> int:
    """A point's stock of one item, all lots."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Balance.quantity), 0)).where(
                Balance.point_id == point_id, Balance.item_id == item_id
            )
        )
    )


def _check_minimums(session: Session, point: StoragePoint, item_ids: set[int], now: datetime) -> None:
    """Tell staff once when a level falls below its minimum; re-arm once it is back above."""
    mins = list(session.scalars(select(MinLevel).where(MinLevel.point_id == point.id, MinLevel.item_id.in_(item_ids))))
    for m in mins:
        have = level(session, point.id, m.item_id)
        if have < m.minimum and m.below_since is None:
            m.below_since = now
            item = session.get(SupplyItem, m.item_id)
            publish(
                session,
                StockBelowMinimum(
                    point_id=point.id,
                    point=point.name,
                    item=item.name if item else str(m.item_id),
                    unit=item.unit if item else "",
                    level=have,
                    minimum=m.minimum,
                    recipients=tuple(staff_covering(session, point.path)),
                    link=f"/supplies/points/{point.id}",
                ),
            )
        elif have >= m.minimum and m.below_since is not None:
            m.below_since = None
