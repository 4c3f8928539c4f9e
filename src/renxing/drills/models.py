"""Activities (drills, trainings, lectures), their partners and target units, and attendance."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow


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
    ActivityKind.evacuation_drill: ("疏散演练", "evacuation drill"),
    ActivityKind.fire_drill: ("消防演练", "fire drill"),
    ActivityKind.first_aid_training: ("急救培训", "first-aid training"),
    ActivityKind.lecture: ("宣讲/宣传", "lecture / publicity"),
    ActivityKind.tabletop: ("桌面推演", "tabletop exercise"),
}
HAZARD_LABELS = {
    Hazard.flood: ("洪涝", "flood"),
    Hazard.fire: ("火灾", "fire"),
    Hazard.earthquake: ("地震", "earthquake"),
    Hazard.gas: ("燃气", "gas"),
    Hazard.typhoon: ("台风", "typhoon"),
    Hazard.heat: ("高温", "heat"),
    Hazard.epidemic: ("传染病", "epidemic"),
    Hazard.general: ("综合", "general"),
}
STATUS_LABELS = {
    Status.planned: ("计划中", "planned"),
    Status.done: ("已完成", "done"),
    Status.cancelled: ("已取消", "cancelled"),
}
METHOD_LABELS = {
    Method.qr: ("扫码", "QR code"),
    Method.list: ("名单导入", "list upload"),
    Method.staff: ("工作人员登记", "by staff"),
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
