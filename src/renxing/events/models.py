"""Tables of the closed loop for risks (事件闭环): categories, deadlines, routing rules, the
state machine as data, reports with their timeline, photos and followers.

A report's ``next_due_at`` is the moment the escalation sweep must look at it again (the
deadline of its current step, or the auto-close time of a resolved report); it is NULL
when nothing is due, so the partial index on it holds exactly the work of the scheduler.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

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


class Report(Base):
    """One raised risk (事件) from any channel, followed from intake to closure."""

    __tablename__ = "reports"
    __table_args__ = (
        # The scheduler's work: only rows with something due are in this index.
        Index(
            "ix_reports_next_due_at",
            "next_due_at",
            sqlite_where=text("next_due_at IS NOT NULL"),
            postgresql_where=text("next_due_at IS NOT NULL"),
        ),
        Index("ix_reports_path_id", "path", "id"),  # scoped lists
        Index("ix_reports_category_created", "category_code", "created_at"),  # merge candidates
        Index("ix_reports_state_created", "state", "created_at"),
        Index("ix_reports_handler_state", "handler_user_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(24), unique=True)  # public reference, Open311 token
    category_code: Mapped[str] = mapped_column(ForeignKey("event_categories.code"))
    description: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    # The reporter: a user, or a name and phone recorded by staff for a call.
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reporter_name: Mapped[str | None] = mapped_column(String(60))
    reporter_phone: Mapped[str | None] = mapped_column(String(20))
    reporter_email: Mapped[str | None] = mapped_column(String(120))
    show_name_publicly: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The place: a WGS-84 point and/or the unit (deepest known: building, area ...) and household.
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    path: Mapped[str] = mapped_column(String(255))  # the unit's grid path, for scope checks
    address: Mapped[str | None] = mapped_column(String(200))
    place_source: Mapped[str] = mapped_column(String(16))  # household | unit | polygon | nearest
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(ForeignKey("report_states.code"))
    # Who handles it and why it went there.
    handler_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handler_label: Mapped[str | None] = mapped_column(String(160))
    handler_kind: Mapped[str | None] = mapped_column(String(16))
    routing_rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id", ondelete="SET NULL"))
    routing: Mapped[dict | None] = mapped_column(JSON)  # the explanation shown to staff
    # Escalation up the five-level chain: 0 none, 1 party member … 5 community secretary.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    escalated_to_label: Mapped[str | None] = mapped_column(String(160))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Deadlines from severity (the service level, kept for statistics) and the sweep's next look.
    due_accept: Mapped[datetime] = mapped_column(UTCDateTime())
    due_on_site: Mapped[datetime] = mapped_column(UTCDateTime())
    due_resolve: Mapped[datetime] = mapped_column(UTCDateTime())
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Milestones.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    on_site_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    close_reason: Mapped[str | None] = mapped_column(String(16))  # feedback | staff | no_feedback
    resolution_note: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)  # shown to the reporter
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # The reporter's feedback (回访).
    feedback_solved: Mapped[bool | None] = mapped_column(Boolean)
    feedback_rating: Mapped[int | None] = mapped_column(Integer)
    feedback_comment: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Channel extras: Open311 attributes, the source of an internal report.
    attributes: Mapped[dict | None] = mapped_column(JSON)
    external_ref: Mapped[str | None] = mapped_column(String(120))


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
