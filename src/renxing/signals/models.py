"""The outbox: one row per (published event, after-commit subscriber), written in the
publisher's transaction and marked done in the transaction that delivers it."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow

PENDING, DONE = "pending", "done"


class OutboxRow(Base):
    """A delivery owed to one subscriber. Pending until delivered; a failed try leaves it
    pending with the error and a later ``next_attempt_at``, so nothing is ever dropped."""

    __tablename__ = "signal_outbox"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber"),
        # What a dispatcher asks for: the pending rows that are due, oldest first.
        Index(
            "ix_signal_outbox_due",
            "next_attempt_at",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(32))  # shared by the rows of one publication
    event: Mapped[str] = mapped_column(String(80))  # the event's stable name, e.g. care.visit_flagged
    subscriber: Mapped[str] = mapped_column(String(80))  # the subscription's stable name
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)  # pending | done
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
