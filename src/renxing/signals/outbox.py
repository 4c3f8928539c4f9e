"""Delivery of after-commit subscriptions through the ``signal_outbox`` table.

Publishing writes one row per (event, subscriber) in the publisher's transaction, so the rows
exist exactly when the publisher's work does. After the commit the rows of that transaction
are delivered at once, in this process; whatever is left (the process died in between, a
subscriber failed) is delivered by :func:`deliver`, which the scheduler runs with the
escalation sweep and ``renxing signals deliver`` runs by hand.

One delivery is one transaction: claim the row, run the subscriber inside a savepoint, mark
the row done. The subscriber's writes and the mark commit together, so a delivery is never
doubled; a failure rolls back to the savepoint and records the error, the attempt and the
next try (backing off from 30 s up to an hour), so a delivery is never lost either. The
claim is one ``UPDATE … WHERE id = (SELECT … LIMIT 1)``: on PostgreSQL the inner select is
``FOR UPDATE SKIP LOCKED``, so concurrent dispatchers take different rows; SQLite has one
writer at a time, and the claim is that transaction's first write.
"""

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, delete, event, func, insert, select, update
from sqlalchemy.orm import Session

from renxing.db import session_factory, utcnow
from renxing.signals import payload
from renxing.signals.models import DONE, PENDING, OutboxRow

if TYPE_CHECKING:
    from renxing.signals.bus import Bus

log = logging.getLogger("renxing.signals")
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
ERROR_MAX = 2000
_AFTER_COMMIT = "renxing.signals.after_commit"  # session.info: what to deliver once it commits
_o = OutboxRow.__table__


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


@dataclass
class Delivered:
    done: int = 0
    failed: int = 0


# ---- writing, in the publisher's transaction -----------------------------------------------


def enqueue(session: Session, bus: "Bus", event: str, data: dict[str, Any], subscribers: list[str]) -> None:
    """One pending row per subscriber, on the session's connection; delivered after commit."""
    now = utcnow()
    event_id = uuid.uuid4().hex
    rows = [
        {
            "event_id": event_id,
            "event": event,
            "subscriber": name,
            "payload": data,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for name in subscribers
    ]
    written = session.connection().execute(insert(_o).returning(_o.c.id, sort_by_parameter_order=True), rows)
    ids = list(written.scalars())
    bind = session.get_bind()
    session.info.setdefault(_AFTER_COMMIT, []).append((bus, getattr(bind, "engine", bind), ids))


def _outer_still_open(session: Session) -> bool:
    """SQLAlchemy also fires these hooks when a SAVEPOINT is released or rolled back; the outer
    transaction is then still active, and its rows must wait for its own end."""
    transaction = session.get_transaction()
    return transaction is not None and transaction.is_active


def _after_commit(session: Session) -> None:
    if _outer_still_open(session):
        return
    for bus, engine, ids in session.info.pop(_AFTER_COMMIT, ()):
        try:
            bus.deliver_pending(engine, ids=ids)
        except Exception:  # the commit stands; the rows stay pending for the next round
            log.exception("delivering %s outbox row(s) after commit failed", len(ids))


def _after_rollback(session: Session) -> None:
    if _outer_still_open(session):
        return
    session.info.pop(_AFTER_COMMIT, None)


if not event.contains(Session, "after_commit", _after_commit):
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)


# ---- delivering, each row in its own transaction -------------------------------------------


def _claim(session: Session, now: datetime, ids: list[int] | None) -> Any:
    """Take the oldest due row (of ``ids``, when given) for this transaction; None when none is left."""
    due = select(_o.c.id).where(_o.c.status == PENDING, _o.c.next_attempt_at <= now)
    if ids is not None:
        due = due.where(_o.c.id.in_(ids))
    pick = due.order_by(_o.c.next_attempt_at, _o.c.id).limit(1).with_for_update(skip_locked=True)
    claim = (
        update(_o)
        .where(_o.c.id == pick.scalar_subquery(), _o.c.status == PENDING)
        .values(attempts=_o.c.attempts + 1)
        .returning(_o.c.id, _o.c.event, _o.c.subscriber, _o.c.payload, _o.c.attempts)
    )
    return session.execute(claim).first()


def _run(session: Session, bus: "Bus", row: Any) -> None:
    """The subscriber's work inside a savepoint, so that a failure undoes it and nothing else."""
    subscription = bus.subscription(row.subscriber)
    cls = bus.event_type(row.event)
    if subscription is None or cls is None:
        raise LookupError(f"nobody is subscribed as {row.subscriber!r} to {row.event!r}")
    event = payload.decode(cls, row.payload)
    with session.begin_nested():
        subscription.handler(session, event)


def _deliver_one(session: Session, bus: "Bus", now: datetime | None, ids: list[int] | None) -> bool | None:
    """Claim and deliver one row; True delivered, False failed (retried later), None nothing due."""
    at = now or utcnow()
    row = _claim(session, at, ids)
    if row is None:
        return None
    mark = update(_o).where(_o.c.id == row.id)
    try:
        _run(session, bus, row)
    except Exception as exc:  # any failure of a subscriber is kept on its row, never raised
        error = f"{exc.__class__.__name__}: {exc}"[:ERROR_MAX]
        log.warning("%s for %s failed (attempt %s): %s", row.event, row.subscriber, row.attempts, error)
        session.execute(mark.values(last_error=error, next_attempt_at=at + backoff(row.attempts)))
        return False
    session.execute(mark.values(status=DONE, delivered_at=at, last_error=None))
    return True


def deliver(
    bus: "Bus", engine: Engine, *, ids: list[int] | None = None, now: datetime | None = None, limit: int = 1000
) -> Delivered:
    """Deliver up to ``limit`` due rows (only ``ids``, when given), oldest first. ``now`` is
    the clock (tests move it to see the backoff end)."""
    result = Delivered()
    factory = session_factory(engine)
    for _ in range(limit):
        with factory() as session, session.begin():
            outcome = _deliver_one(session, bus, now, ids)
        if outcome is None:
            break
        if outcome:
            result.done += 1
        else:
            result.failed += 1
    return result


def run_relays(relays: Mapping[str, Callable[[Engine], object]], engine: Engine) -> None:
    for name, relay in relays.items():
        try:
            relay(engine)
        except Exception:  # one failing relay does not keep the others from running
            log.exception("relay %s failed", name)


# ---- looking at it --------------------------------------------------------------------------


@dataclass
class Status:
    pending: int  # waiting for delivery, failing ones included
    failing: int  # pending after at least one failed try
    done: int
    oldest_pending_at: datetime | None


def status(session: Session) -> Status:
    pending = _o.c.status == PENDING
    counts = select(
        func.count().filter(pending),
        func.count().filter(pending & (_o.c.attempts > 0)),
        func.count().filter(_o.c.status == DONE),
        func.min(_o.c.created_at).filter(pending),
    )
    row = session.execute(counts).one()
    return Status(row[0] or 0, row[1] or 0, row[2] or 0, row[3])


def failing(session: Session, limit: int = 20) -> list[OutboxRow]:
    """The pending rows that failed at least once, the most tried first."""
    stmt = select(OutboxRow).where(OutboxRow.status == PENDING, OutboxRow.attempts > 0)
    return list(session.scalars(stmt.order_by(OutboxRow.attempts.desc(), OutboxRow.id).limit(limit)))


def purge_delivered(session: Session, before: datetime) -> int:
    """Forget deliveries done before ``before``; pending rows are never removed."""
    stmt = delete(_o).where(_o.c.status == DONE, _o.c.delivered_at < before)
    return session.execute(stmt).rowcount or 0
