"""The demo's ledger in memory: a year of stock movements played in time order, then posted.

Actions (deliveries, issues, transfers, counts, write-offs) are queued with the moment they
happen and run in that order on a copy of every point's lots, so an issue takes the
earliest-expiring usable lot first (as :func:`renxing.supplies.movements.pick_lots` does) and
nothing goes below zero. Each action becomes one occasion; :meth:`Book.write` posts every
occasion through :func:`renxing.supplies.ledger.post`, in time order, one call with all its lines.
"""

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.supplies import ledger
from renxing.supplies.ledger import Entry
from renxing.supplies.models import (
    MinLevel,
    MovementKind,
    StockCount,
    StoragePoint,
    SupplyItem,
    Transfer,
    TransferStatus,
)


@dataclass(frozen=True)
class Line:
    code: str  # catalogue code
    quantity: int
    expiry: date | None = None


@dataclass
class _Occasion:
    at: datetime
    point: StoragePoint
    entries: list[Entry]
    note: str | None = None
    late: timedelta = timedelta(minutes=20)  # recorded this long after it happened
    transfers: list[tuple[Entry, Transfer]] = field(default_factory=list)
    count: StockCount | None = None


class Book:
    def __init__(self, items: dict[str, SupplyItem], tz: ZoneInfo):
        self.items = items
        self.tz = tz
        self.held: dict[int, dict[tuple[int, str], list]] = {}  # point id → (item id, lot) → [quantity, expiry]
        self.occasions: list[_Occasion] = []
        self._queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = 0

    # ---- planning ---------------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, action))

    def run(self) -> None:
        """Play every queued action in time order (an action may queue later ones)."""
        while self._queue:
            _when, _seq, action = heapq.heappop(self._queue)
            action()

    def _lots(self, point: StoragePoint) -> dict[tuple[int, str], list]:
        return self.held.setdefault(point.id, {})

    def _lot_of(self, item: SupplyItem, expiry: date | None) -> tuple[str, date | None]:
        # Cartons show their production date as the lot number.
        if not item.lot_tracked or expiry is None:
            return "", None
        made = expiry - timedelta(days=item.shelf_life_days or 0)
        return made.strftime("%Y%m%d"), expiry

    def _usable(self, point: StoragePoint, item_id: int, day: date) -> list[tuple[str, list]]:
        """Lots with stock that have not expired on ``day``, earliest expiry first."""
        lots = [
            (lot, held)
            for (i, lot), held in self._lots(point).items()
            if i == item_id and held[0] > 0 and (held[1] is None or held[1] >= day)
        ]
        return sorted(lots, key=lambda x: (x[1][1] is None, x[1][1] or date.max, x[0]))

    def _take(
        self, point: StoragePoint, code: str, quantity: int, when: datetime
    ) -> list[tuple[str, date | None, int]]:
        """Earliest-expiring usable lots first; as much as there is, up to ``quantity``."""
        taken, left = [], quantity
        for lot, held in self._usable(point, self.items[code].id, when.astimezone(self.tz).date()):
            if left <= 0:
                break
            q = min(held[0], left)
            held[0] -= q
            left -= q
            taken.append((lot, held[1], q))
        return taken

    def _add(self, point: StoragePoint, item_id: int, lot: str, expiry: date | None, quantity: int) -> None:
        held = self._lots(point).setdefault((item_id, lot), [0, expiry])
        held[0] += quantity

    def _occasion(self, occasion: _Occasion) -> None:
        if occasion.entries:
            self.occasions.append(occasion)

    # ---- actions ----------------------------------------------------------------------------

    def receive(
        self, point: StoragePoint, when: datetime, lines: list[Line], note: str, late: timedelta | None = None
    ) -> None:
        def act() -> None:
            entries = []
            for line in lines:
                item = self.items[line.code]
                lot, expiry = self._lot_of(item, line.expiry)
                if line.quantity > 0:
                    entries.append(Entry(MovementKind.receipt.value, item.id, line.quantity, lot, expiry))
                    self._add(point, item.id, lot, expiry, line.quantity)
            self._occasion(_Occasion(when, point, entries, note, late or timedelta(minutes=25)))

        self.at(when, act)

    def level(self, point: StoragePoint, code: str) -> int:
        item_id = self.items[code].id
        return sum(h[0] for (i, _lot), h in self._lots(point).items() if i == item_id)

    def issue(
        self,
        point: StoragePoint,
        when: datetime,
        code: str,
        share: float,
        note: str,
        agreement_id: int | None = None,
    ) -> None:
        """Hand out ``share`` of what the point then holds of the item."""

        def act() -> None:
            item = self.items[code]
            taken = self._take(point, code, round(self.level(point, code) * share), when)
            entries = [
                Entry(MovementKind.issue.value, item.id, -q, lot, expiry, refs={"agreement_id": agreement_id})
                for lot, expiry, q in taken
            ]
            self._occasion(_Occasion(when, point, entries, note))

        self.at(when, act)

    def transfer(
        self,
        source: StoragePoint,
        target: StoragePoint,
        when: datetime,
        moves: list[tuple[str, float]],
        arrives: datetime | None,
        note: str,
    ) -> None:
        """Send ``share`` of each item's stock; it arrives later, or is still on its way."""

        def act() -> None:
            pairs: list[tuple[Entry, Transfer]] = []
            for code, share in moves:
                item = self.items[code]
                for lot, expiry, q in self._take(source, code, round(self.level(source, code) * share), when):
                    t = Transfer(
                        item_id=item.id,
                        from_point_id=source.id,
                        to_point_id=target.id,
                        lot=lot,
                        expiry=expiry,
                        quantity=q,
                        status=(TransferStatus.received if arrives else TransferStatus.in_transit).value,
                        sent_at=when,
                        received_at=arrives,
                    )
                    pairs.append((Entry(MovementKind.transfer_out.value, item.id, -q, lot, expiry), t))
            self._occasion(_Occasion(when, source, [e for e, _t in pairs], note, transfers=pairs))
            if arrives is not None and pairs:
                self.at(arrives, lambda: self._arrive(target, arrives, [t for _e, t in pairs]))

        self.at(when, act)

    def _arrive(self, target: StoragePoint, when: datetime, transfers: list[Transfer]) -> None:
        pairs = []
        for t in transfers:
            pairs.append((Entry(MovementKind.transfer_in.value, t.item_id, t.quantity, t.lot, t.expiry), t))
            self._add(target, t.item_id, t.lot, t.expiry, t.quantity)
        self._occasion(_Occasion(when, target, [e for e, _t in pairs], "调拨签收", transfers=pairs))

    def count(
        self, point: StoragePoint, when: datetime, differences: list[tuple[str, int, str]], source: str, note: str
    ) -> None:
        """A stock count: each difference goes to the item's largest lot, never below zero."""

        def act() -> None:
            entries = []
            for code, delta, reason in differences:
                item = self.items[code]
                lots = sorted(
                    ((lot, h) for (i, lot), h in self._lots(point).items() if i == item.id and h[0] > 0),
                    key=lambda x: (-x[1][0], x[0]),
                )
                if not lots:
                    continue
                lot, held = lots[0]
                q = max(delta, -held[0])
                if q:
                    held[0] += q
                    entries.append(Entry(MovementKind.adjustment.value, item.id, q, lot, held[1], reason=reason))
            counted = len({i for (i, _lot), h in self._lots(point).items() if h[0] > 0})
            count = StockCount(
                point_id=point.id, counted_at=when, lines=counted, adjustments=len(entries), source=source, note=note
            )
            self._occasion(_Occasion(when, point, entries, note, count=count))

        self.at(when, act)

    def write_off_expired(self, point: StoragePoint, when: datetime, code: str, note: str) -> None:
        """Take out every lot of the item that has expired by then (报废, reason expired)."""

        def act() -> None:
            item, day = self.items[code], when.astimezone(self.tz).date()
            entries = []
            for (i, lot), held in sorted(self._lots(point).items()):
                if i == item.id and held[0] > 0 and held[1] is not None and held[1] < day:
                    entries.append(Entry(MovementKind.write_off.value, i, -held[0], lot, held[1], reason="expired"))
                    held[0] = 0
            self._occasion(_Occasion(when, point, entries, note))

        self.at(when, act)

    # ---- writing ----------------------------------------------------------------------------

    def write(self, session: Session, actor: Principal, *, minimums_at: datetime, minimums: list[MinLevel]) -> int:
        """Post every occasion in time order; minimum levels are set at ``minimums_at``, so later
        movements that take a point below one raise the notice. Returns the entries posted."""
        session.add_all([t for o in self.occasions for _e, t in o.transfers])
        session.add_all([o.count for o in self.occasions if o.count is not None])
        session.flush()
        for o in self.occasions:
            for e, t in o.transfers:
                e.refs["transfer_id"] = t.id
            for e in o.entries:
                if o.count is not None:
                    e.refs["count_id"] = o.count.id
        pending = list(minimums)
        posted = 0
        for o in sorted(self.occasions, key=lambda o: o.at):
            if pending and o.at >= minimums_at:
                session.add_all(pending)
                session.flush()
                pending = []
            ledger.post(session, actor, o.point, o.entries, occurred_at=o.at, note=o.note, now=o.at + o.late)
            posted += len(o.entries)
        if pending:
            session.add_all(pending)
        return posted
