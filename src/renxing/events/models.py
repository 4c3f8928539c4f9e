"""Tables of the closed loop for risks (事件闭环): categories, deadlines, routing rules, the
state machine as data, reports with their timeline, photos and followers.

A report's ``next_due_at`` (in ``report_schedule``) is the moment the escalation sweep must
look at it again (the deadline of its current step, or the auto-close time of a resolved
report); it is NULL when nothing is due, so the partial index on it holds exactly the work
of the scheduler.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from renxing.db import Base, UTCDateTime, utcnow


class EventCategory(Base):
    """A kind of problem (消防隐患, 积水内涝 ...); staff may edit those marked ``editable``."""

    __tablename__ = "event_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    group_name: Mapped[str | None] = mapped_column(String(40))  # 安全 / 环境 / 民生, the Open311 "group"
    default_severity: Mapped[str] = mapped_column(String(10), default="normal")
    # Who usually handles it: grid_worker, party_chain, property, utility, police, volunteer_team, community.
    handler_kind: Mapped[str] = mapped_column(String(24), default="grid_worker")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    editable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Reports of a private category are never shown to the public, whatever the reporter agreed.
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SeverityDeadline(Base):
    """Minutes allowed, from submission, to accept, to be on site and to resolve."""

    __tablename__ = "severity_deadlines"

    severity: Mapped[str] = mapped_column(String(10), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(20))
    label_en: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)  # 1 = most urgent
    accept_minutes: Mapped[int] = mapped_column(Integer)
    on_site_minutes: Mapped[int] = mapped_column(Integer)
    resolve_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RoutingRule(Base):
    """Category × place → handler, like FixMyStreet's contacts per body and category.

    A rule matches a report when each of its set keys matches: ``category_code``, the
    ``level`` of the place (building, area ...) and ``unit_id`` (the place lies in that
    unit's subtree). Among matching rules the smallest ``priority`` wins; a rule whose
    handler cannot be found (e.g. nobody holds the duty) is skipped, and when none is left
    the report falls back to the area's grid worker.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str | None] = mapped_column(
        ForeignKey("event_categories.code", ondelete="CASCADE"), index=True
    )
    level: Mapped[str | None] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("grid_units.id", ondelete="CASCADE"), index=True)
    handler_kind: Mapped[str] = mapped_column(String(16))  # duty | user | partner | team
    duty: Mapped[str | None] = mapped_column(String(32))  # for handler_kind duty
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    org_name: Mapped[str | None] = mapped_column(String(120))  # partner or team name
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportState(Base):
    __tablename__ = "report_states"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(20))
    label_en: Mapped[str] = mapped_column(String(30))
    terminal: Mapped[bool] = mapped_column(Boolean, default=False)
    # The deadline the state waits for: accept, on_site, resolve, feedback, or none.
    step: Mapped[str | None] = mapped_column(String(12))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class ReportTransition(Base):
    """From a state, an action leads to a state; ``actors`` lists who may take it."""

    __tablename__ = "report_transitions"
    __table_args__ = (UniqueConstraint("from_state", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_state: Mapped[str] = mapped_column(ForeignKey("report_states.code"))
    action: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(ForeignKey("report_states.code"))
    actors: Mapped[str] = mapped_column(String(60))  # comma list of reporter, handler, staff, system
    requires_note: Mapped[bool] = mapped_column(Boolean, default=False)


# The report's own row. The escalation sweep's changing columns live beside it in
# ``report_schedule`` (one narrow row per report), so that a sweep over 100,000 due reports
# rewrites narrow rows with three indexes instead of wide ones with nine.
reports = Table(
    "reports",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("token", String(24), nullable=False, unique=True),  # public reference, Open311 token
    Column("category_code", ForeignKey("event_categories.code"), nullable=False),
    Column("description", Text, nullable=False),
    Column("channel", String(16), nullable=False),
    # The reporter: a user, or a name and phone recorded by staff for a call.
    Column("reporter_user_id", ForeignKey("users.id"), index=True),
    Column("reporter_name", String(60)),
    Column("reporter_phone", String(20)),
    Column("reporter_email", String(120)),
    Column("show_name_publicly", Boolean, nullable=False, default=False),
    # The reporter agreed that a moderated, scrubbed copy may be public (愿意公开).
    Column("public_consent", Boolean, nullable=False, default=False, server_default=false()),
    Column("recorded_by_user_id", ForeignKey("users.id")),
    # The place: a WGS-84 point and/or the unit (deepest known: building, area ...) and household.
    Column("lon", Float),
    Column("lat", Float),
    Column("unit_id", ForeignKey("grid_units.id"), nullable=False),
    Column("household_id", ForeignKey("households.id")),
    Column("path", String(255), nullable=False),  # the unit's grid path, for scope checks
    Column("address", String(200)),
    Column("place_source", String(16), nullable=False),  # household | unit | polygon | nearest
    Column("severity", String(10), nullable=False),
    Column("state", ForeignKey("report_states.code"), nullable=False),
    # Who handles it and why it went there.
    Column("handler_user_id", ForeignKey("users.id")),
    Column("handler_label", String(160)),
    Column("handler_kind", String(16)),
    Column("routing_rule_id", ForeignKey("routing_rules.id", ondelete="SET NULL")),
    Column("routing", JSON),  # the explanation shown to staff
    # Deadlines from severity (the service level, kept for statistics).
    Column("due_accept", UTCDateTime(), nullable=False),
    Column("due_on_site", UTCDateTime(), nullable=False),
    Column("due_resolve", UTCDateTime(), nullable=False),
    # Milestones.
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    Column("assigned_at", UTCDateTime()),
    Column("accepted_at", UTCDateTime()),
    Column("on_site_at", UTCDateTime()),
    Column("resolved_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False, default=utcnow),
    Column("close_reason", String(16)),  # feedback | staff | no_feedback
    Column("resolution_note", Text),
    Column("reject_reason", Text),  # shown to the reporter
    Column("merged_into_id", ForeignKey("reports.id")),
    Column("reopen_count", Integer, nullable=False, default=0),
    # The reporter's feedback (回访).
    Column("feedback_solved", Boolean),
    Column("feedback_rating", Integer),
    Column("feedback_comment", Text),
    Column("feedback_at", UTCDateTime()),
    # Channel extras: Open311 attributes, the source of an internal report.
    Column("attributes", JSON),
    Column("external_ref", String(120)),
    Index("ix_reports_path_id", "path", "id"),  # scoped lists
    Index("ix_reports_category_created", "category_code", "created_at"),  # merge candidates
    Index("ix_reports_state_created", "state", "created_at"),
    Index("ix_reports_handler_state", "handler_user_id", "state"),
)

# What the escalation sweep reads and rewrites: the next look and how far up the chain it went.
report_schedule = Table(
    "report_schedule",
    Base.metadata,
    Column("report_id", ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    # When the sweep must look again; NULL when nothing is due, so the partial index holds
    # exactly the scheduler's work.
    Column("next_due_at", UTCDateTime()),
    # Escalation up the five-level chain: 0 none, 1 party member … 5 community secretary.
    Column("escalation_level", Integer, nullable=False, default=0),
    Column("escalated_to_user_id", ForeignKey("users.id"), index=True),
    Column("escalated_to_label", String(160)),
    Column("escalated_at", UTCDateTime()),
    Index(
        "ix_report_schedule_next_due_at",
        "next_due_at",
        sqlite_where=text("next_due_at IS NOT NULL"),
        postgresql_where=text("next_due_at IS NOT NULL"),
    ),
)


class Report(Base):
    """One raised risk (事件) from any channel, followed from intake to closure.

    Mapped over ``reports`` joined with its ``report_schedule`` row: the ORM writes both
    (``id`` is the key of both), readers see one object. New reports are written by
    :func:`renxing.events.intake.write_reports`, one or many at a time.
    """

    __table__ = reports.join(report_schedule, reports.c.id == report_schedule.c.report_id)
    id = column_property(reports.c.id, report_schedule.c.report_id)

    if TYPE_CHECKING:  # the columns, for readers and type checkers
        token: str
        category_code: str
        description: str
        channel: str
        reporter_user_id: int | None
        reporter_name: str | None
        reporter_phone: str | None
        reporter_email: str | None
        show_name_publicly: bool
        public_consent: bool
        recorded_by_user_id: int | None
        lon: float | None
        lat: float | None
        unit_id: int
        household_id: int | None
        path: str
        address: str | None
        place_source: str
        severity: str
        state: str
        handler_user_id: int | None
        handler_label: str | None
        handler_kind: str | None
        routing_rule_id: int | None
        routing: dict | None
        escalation_level: int
        escalated_to_user_id: int | None
        escalated_to_label: str | None
        escalated_at: datetime | None
        due_accept: datetime
        due_on_site: datetime
        due_resolve: datetime
        next_due_at: datetime | None
        created_at: datetime
        assigned_at: datetime | None
        accepted_at: datetime | None
        on_site_at: datetime | None
        resolved_at: datetime | None
        closed_at: datetime | None
        updated_at: datetime
        close_reason: str | None
        resolution_note: str | None
        reject_reason: str | None
        merged_into_id: int | None
        reopen_count: int
        feedback_solved: bool | None
        feedback_rating: int | None
        feedback_comment: str | None
        feedback_at: datetime | None
        attributes: dict | None
        external_ref: str | None


class CacheVersion(Base):
    """A token that changes (by database triggers, migration 0004) whenever the tables behind
    a per-process cache change: ``grid`` (grid unit outlines and points) and ``routing``
    (rules, the chain, users and their scopes, categories, deadlines, units)."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class ReportEvent(Base):
    """One step of a report's timeline: who, when, what, from which state to which."""

    __tablename__ = "report_events"
    __table_args__ = (Index("ix_report_events_report_id_id", "report_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    # Check-in: the position on the ground.
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    escalation_level: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict | None] = mapped_column(JSON)


class ReportPhoto(Base):
    """A photo stored under ``Settings.media_dir`` (``path`` is relative to it), metadata stripped."""

    __tablename__ = "report_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("report_events.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12))  # report | check_in | resolve
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportFollower(Base):
    """Users who get a report's updates: its reporter, and reporters of duplicates merged into it."""

    __tablename__ = "report_followers"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    reason: Mapped[str] = mapped_column(String(12))  # reporter | merged
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportPublicText(Base):
    """The text staff chose to show the public for a report (the reporter's own words stay in
    ``reports.description``); scrubbed again whenever it is shown."""

    __tablename__ = "report_public_texts"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    moderated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotencyKey(Base):
    """One ``Idempotency-Key`` a client sent with a report-creating request: a retry with the
    same key is answered from here instead of filing again. ``client`` is ``user:<id>`` or
    ``apikey:<id>``; ``fingerprint`` a SHA-256 of what was sent, so a reused key with another
    body is refused; ``answer`` the first answer where it must be repeated verbatim (Open311)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("client", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    answer: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
