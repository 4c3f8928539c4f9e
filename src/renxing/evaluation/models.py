"""Ratings of volunteer teams and partner organizations by the residents they served."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow
from renxing.i18n import _l


class TargetKind(StrEnum):
    team = "team"  # volunteers.VolunteerTeam
    organization = "organization"  # partners.Organization


DIMENSIONS = ("variety", "quality", "responsiveness")
DIMENSION_LABELS = {
    "variety": _l("多样性"),
    "quality": _l("质量"),
    "responsiveness": _l("响应速度"),
}


class Rating(Base):
    """One resident's scores for one team or organization in one period (a quarter, "2026Q4").

    ``target_id`` repeats whichever of ``team_id`` / ``organization_id`` is set, so that "one rating
    per rater × target × period" is a plain unique constraint on both databases.
    """

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint(
            "resident_id", "target_kind", "target_id", "period", name="uq_ratings_resident_id_target_period"
        ),
        Index("ix_ratings_target_period", "target_kind", "target_id", "period"),
        CheckConstraint("variety BETWEEN 1 AND 5", name="variety_range"),
        CheckConstraint("quality BETWEEN 1 AND 5", name="quality_range"),
        CheckConstraint("responsiveness BETWEEN 1 AND 5", name="responsiveness_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(255), index=True)  # the rater's building path, for scope
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_teams.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("partner_organizations.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    variety: Mapped[int] = mapped_column(Integer)
    quality: Mapped[int] = mapped_column(Integer)
    responsiveness: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(String(16))  # care_visit | activity | report: the service received
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
