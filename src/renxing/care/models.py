"""Tables of 定点关怀: a care plan per vulnerable resident, who cares for them, and the visits."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow


class CarerKind(StrEnum):
    volunteer = "volunteer"
    party_member = "party_member"
    neighbour = "neighbour"
    grid_worker = "grid_worker"


class CarePlan(Base):
    """At most one active plan per resident (a partial unique index); ``path`` copies the
    resident's building path for scope checks."""

    __tablename__ = "care_plans"
    __table_args__ = (
        Index(
            "ix_care_plans_active_resident",
            "resident_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    frequency_days: Mapped[int] = mapped_column(Integer, default=7)
    needs: Mapped[str | None] = mapped_column(String(120))  # comma list of skills a carer must hold
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)  # daily visits while it lasts
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | closed
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CareAssignment(Base):
    """A carer for a plan from ``since`` until ``until`` (open: still caring). The carer is a team
    member or a user (a grid worker)."""

    __tablename__ = "care_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), index=True)
    carer_kind: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CareVisit(Base):
    __tablename__ = "care_visits"
    __table_args__ = (Index("ix_care_visits_plan_visited", "plan_id", "visited_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"))
    carer_kind: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    found: Mapped[str] = mapped_column(String(8), default="ok")  # ok | problem
    problem_category: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
