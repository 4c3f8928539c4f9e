"""A bus of its own for the tests: one event, and a subscriber that leaves a mark in the
audit table (any table would do: what matters is that it commits or not)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from renxing.auth.models import AuditEntry
from renxing.db import transaction, utcnow
from renxing.signals.bus import Bus, Event, Mode
from renxing.signals.models import OutboxRow


def declare(bus: Bus) -> type[Event]:
    @bus.event("tests.thing_happened", publisher="tests")
    @dataclass(frozen=True, kw_only=True)
    class ThingHappened(Event):
        """Something happened that the tests want told."""

        marker: str
        at: datetime
        ids: tuple[int, ...] = ()
        note: str | None = None

    return ThingHappened


def leave_mark(session: Session, e) -> None:
    """The subscriber's work: one row naming the event's marker."""
    row = {"at": utcnow(), "actor_name": "tests", "action": "signal", "entity": "signal", "summary": e.marker}
    session.execute(insert(AuditEntry.__table__).values(**row))


def marks(engine: Engine, marker: str | None = None) -> int:
    stmt = select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "signal")
    if marker is not None:
        stmt = stmt.where(AuditEntry.summary == marker)
    with transaction(engine) as s:
        return s.scalar(stmt) or 0


def outbox_rows(engine: Engine) -> list[OutboxRow]:
    with transaction(engine) as s:
        return list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


# One bus at module level, so that another process can publish on the same definitions.
LATER = Bus()
Thing = declare(LATER)
LATER.subscribe(Thing, leave_mark, name="tests.leave_mark", mode=Mode.after_commit)
