"""Activities (drills, trainings, lectures), their partners and target units, and attendance."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow
from renxing.i18n import _l


class ActivityKind(StrEnum):
    evacuation_drill = "evacuation_drill"
    fire_drill = "fire_drill"
    first_aid_training = "first_aid_training"
    lecture = "lecture"
    tabletop = "tabletop"


class Hazard(StrEnum):
    flood = "flood"
    fire = "fire"
    earthquake = "earthquake"
    gas = "gas"
    typhoon = "typhoon"
    heat = "heat"
    epidemic = "epidemic"
    general = "general"


class Status(StrEnum):
    planned = "planned"
    done = "done"
    cancelled = "cancelled"


class Method(StrEnum):
    qr = "qr"  # the resident scanned the code at the event
    list = "list"  # from an uploaded sign-in sheet
    staff = "staff"  # ticked by staff on the activity page


KIND_LABELS = {
    ActivityKind.evacuation_drill: _l("疏散演练"),
    ActivityKind.fire_drill: _l("消防演练"),
    ActivityKind.first_aid_training: _l("急救培训"),
    ActivityKind.lecture: _l("宣讲/宣传"),
    ActivityKind.tabletop: _l("桌面推演"),
}
HAZARD_LABELS = {
    Hazard.flood: _l("洪涝"),
    Hazard.fire: _l("火灾"),
    Hazard.earthquake: _l("地震"),
    Hazard.gas: _l("燃气"),
    Hazard.typhoon: _l("台风"),
    Hazard.heat: _l("高温"),
    Hazard.epidemic: _l("传染病"),
    Hazard.general: _l("综合"),
}
STATUS_LABELS = {
    Status.planned: _l("计划中"),
    Status.done: _l("已完成"),
    Status.cancelled: _l("已取消"),
}
METHOD_LABELS = {
    Method.qr: _l("扫码"),
    Method.list: _l("名单导入"),
    Method.staff: _l("工作人员登记"),
}


class Activity(Base):
    """One drill, training or lecture held by a community; ``path`` is the community's grid path."""

    __tablename__ = "drill_activities"
    __table_args__ = (Index("ix_drill_activities_path_starts_at", "path", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)  # the community
    path: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(24))
    hazard: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str | None] = mapped_column(String(200))
    place_unit_id: Mapped[int | None] = mapped_column(ForeignKey("grid_units.id"))  # a building or area
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    organizer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organizer_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer_teams.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), default=Status.planned.value)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ActivityPartner(Base):
    """A partner unit that took part in (or ran) an activity: police, fire station, clinic …"""

    __tablename__ = "drill_activity_partners"

    activity_id: Mapped[int] = mapped_column(ForeignKey("drill_activities.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("partner_organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ActivityTarget(Base):
    """A grid unit an activity is meant for (none: the whole community)."""

    __tablename__ = "drill_activity_targets"

    activity_id: Mapped[int] = mapped_column(ForeignKey("drill_activities.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id", ondelete="CASCADE"), primary_key=True)


class Attendance(Base):
    """A resident signed in at an activity; one row per activity and resident."""

    __tablename__ = "drill_attendance"
    __table_args__ = (
        UniqueConstraint("activity_id", "resident_id", name="uq_drill_attendance_activity_id_resident_id"),
        # Coverage looks up "has this resident attended anything in the window" by resident.
        Index("ix_drill_attendance_resident_id_activity_id", "resident_id", "activity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("drill_activities.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
