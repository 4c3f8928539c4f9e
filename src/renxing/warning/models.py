"""Tables of early warning: the colour levels and their CAP mapping, alerts received (CAP 1.2)
with the communities they match and the feeds polled for them, warnings sent, and their reach:
one target per household in the warned area, one delivery per household × channel, and each
step the unreached climbed up the responsibility chain.

A sent warning is frozen: ``cap_xml`` holds the message as transmitted and is never rewritten;
an Update or Cancel is a new warning referencing it.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow
from renxing.i18n import _l


class Level(StrEnum):
    """China's four warning colours, from the least to the most serious."""

    blue = "blue"  # 蓝色 Ⅳ 一般
    yellow = "yellow"  # 黄色 Ⅲ 较重
    orange = "orange"  # 橙色 Ⅱ 严重
    red = "red"  # 红色 Ⅰ 特别严重


LEVEL_LABELS = {
    Level.blue: _l("蓝色"),
    Level.yellow: _l("黄色"),
    Level.orange: _l("橙色"),
    Level.red: _l("红色"),
}


class WarningLevel(Base):
    """The colour → CAP severity, urgency and certainty table, which staff may change (seeded)."""

    __tablename__ = "warning_levels"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)  # 1 blue … 4 red
    name_zh: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(16))  # CAP: Extreme, Severe, Moderate, Minor, Unknown
    urgency: Mapped[str] = mapped_column(String(16))  # CAP: Immediate, Expected, Future, Past, Unknown
    certainty: Mapped[str] = mapped_column(String(16))  # CAP: Observed, Likely, Possible, Unlikely, Unknown
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)  # a second staff member approves
    step_minutes: Mapped[int] = mapped_column(Integer, default=30)  # deadline before the unreached climb
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# ---- alerts received ---------------------------------------------------------------------------


class AlertFeed(Base):
    """An Atom or RSS feed of CAP alerts, polled every ``interval_seconds``."""

    __tablename__ = "alert_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500), unique=True)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(200))
    modified: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IncomingAlert(Base):
    """A CAP 1.2 alert as received (``xml`` kept as it came), with what the platform read of it."""

    __tablename__ = "incoming_alerts"
    __table_args__ = (
        UniqueConstraint("identifier", "sender", "sent", name="uq_incoming_alerts_key"),
        Index("ix_incoming_alerts_feed_entry", "feed_id", "feed_entry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(200))
    sent: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_text: Mapped[str] = mapped_column(String(40))  # as written, with its offset (references quote it)
    status: Mapped[str] = mapped_column(String(16))  # Actual, Exercise, System, Test, Draft
    msg_type: Mapped[str] = mapped_column(String(16))  # Alert, Update, Cancel, Ack, Error
    scope: Mapped[str] = mapped_column(String(16))
    references: Mapped[str | None] = mapped_column(Text)
    event: Mapped[str | None] = mapped_column(String(200))
    headline: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    instruction: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[str | None] = mapped_column(String(16))
    certainty: Mapped[str | None] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(8))  # the colour read from the alert or mapped back
    effective: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime())
    area_desc: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="active")  # active, updated, cancelled, expired
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_alerts.id"))
    source: Mapped[str] = mapped_column(String(40))  # upload, cli, feed
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("alert_feeds.id", ondelete="SET NULL"))
    feed_entry: Mapped[str | None] = mapped_column(String(500))  # the feed entry it came from: polled once
    xml: Mapped[str] = mapped_column(Text)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IncomingAlertMatch(Base):
    """A community an incoming alert's area reaches, and how it was matched."""

    __tablename__ = "incoming_alert_matches"

    alert_id: Mapped[int] = mapped_column(ForeignKey("incoming_alerts.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    how: Mapped[str] = mapped_column(String(16))  # polygon, circle, geocode


# ---- warnings sent -----------------------------------------------------------------------------


class WarningStatus(StrEnum):
    draft = "draft"
    pending = "pending"  # waits for a second staff member's approval
    sent = "sent"  # frozen as transmitted
    rejected = "rejected"  # the approver refused it
    withdrawn = "withdrawn"  # taken back before it was sent


class WarningMessage(Base):
    """A warning the community sends (an Alert, or an Update/Cancel of an earlier one)."""

    __tablename__ = "warnings"
    __table_args__ = (Index("ix_warnings_path_id", "path", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(120), unique=True)
    msg_type: Mapped[str] = mapped_column(String(8), default="Alert")  # Alert, Update, Cancel
    references_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id"))
    incoming_alert_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_alerts.id", ondelete="SET NULL"))
    trigger_id: Mapped[int | None] = mapped_column(Integer)  # the sensor trigger that proposed it
    status: Mapped[str] = mapped_column(String(12), default=WarningStatus.draft, index=True)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)  # CAP status Exercise; no approval needed
    level: Mapped[str] = mapped_column(String(8))
    event: Mapped[str] = mapped_column(String(120))  # 暴雨内涝, 火灾 …
    category: Mapped[str] = mapped_column(String(16), default="Met")  # CAP category
    headline: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    instruction: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)  # the community or area warned
    path: Mapped[str] = mapped_column(String(255))
    polygon: Mapped[str | None] = mapped_column(Text)  # GeoJSON Polygon (WGS-84) when drawn; else the unit's outline
    area_desc: Mapped[str] = mapped_column(String(300))
    effective: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channels: Mapped[list] = mapped_column(JSON, default=list)  # in_app, sms, voice, email, log
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # CAP scope Public: in the Atom feed
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    sent_text: Mapped[str | None] = mapped_column(String(40))  # CAP <sent> as transmitted (+08:00)
    cap_xml: Mapped[str | None] = mapped_column(Text)  # frozen at sending
    households: Mapped[int] = mapped_column(Integer, default=0)  # targets at sending
    acknowledged: Mapped[int] = mapped_column(Integer, default=0)  # kept in step with the targets
    next_climb_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class WarningTarget(Base):
    """One household inside a sent warning's area: reached when acknowledged."""

    __tablename__ = "warning_targets"
    __table_args__ = (
        UniqueConstraint("warning_id", "household_id", name="uq_warning_targets_household"),
        Index("ix_warning_targets_warning_building", "warning_id", "building_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # No foreign keys on warning_id and household_id (nor on a delivery's warning_id and target_id):
    # sending a warning writes 50,000 targets and a delivery per channel at once, and PostgreSQL
    # checks each key row by row, which was half of its work. The rows are written only by
    # ``reach.start``, from the warning being sent and the households and targets it selects in
    # the same transaction; a sent warning is frozen and never deleted, nor is a household.
    warning_id: Mapped[int] = mapped_column(Integer)
    household_id: Mapped[int] = mapped_column(Integer)
    building_id: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(255))
    vulnerability: Mapped[int] = mapped_column(Integer, default=0)  # higher first on the call list
    door_to_door: Mapped[bool] = mapped_column(Boolean, default=False)  # vulnerable: building leader and carers check
    rung: Mapped[int] = mapped_column(Integer, default=0)  # how far up the chain it has climbed
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ack_how: Mapped[str | None] = mapped_column(String(16))  # link, call, door, app
    ack_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ack_note: Mapped[str | None] = mapped_column(String(200))


class DeliveryState(StrEnum):
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    acknowledged = "acknowledged"
    failed = "failed"  # retried until attempts run out


class WarningDelivery(Base):
    """One household × channel of a warning, through queued → sent → delivered → acknowledged."""

    __tablename__ = "warning_deliveries"
    __table_args__ = (
        UniqueConstraint("target_id", "channel", name="uq_warning_deliveries_target_channel"),
        Index("ix_warning_deliveries_state_next", "state", "next_attempt_at"),
        Index("ix_warning_deliveries_warning", "warning_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    warning_id: Mapped[int] = mapped_column(Integer)  # no keys: see WarningTarget
    target_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    channel: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(14), default=DeliveryState.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gateway_ref: Mapped[str | None] = mapped_column(String(120), index=True)
    last_error: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WarningClimb(Base):
    """Unreached households of a warning handed one rung up the chain at a deadline."""

    __tablename__ = "warning_climbs"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    rung: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    households: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[list] = mapped_column(JSON, default=list)  # user ids told
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # per building: who was told of how many
