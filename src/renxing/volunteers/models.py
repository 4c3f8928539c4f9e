"""Tables of the volunteer teams: teams, members (residents or people from outside), skills with
certificates, and the service hours they give."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow
from renxing.i18n import _l


class TeamKind(StrEnum):
    silver_mutual_aid = "silver_mutual_aid"
    security_patrol = "security_patrol"
    culture_sports = "culture_sports"
    medical = "medical"
    youth = "youth"
    professional = "professional"
    party = "party"
    other = "other"


TEAM_KIND_LABELS: dict[str, tuple[str, str]] = {
    TeamKind.silver_mutual_aid: _l("银发互助队"),
    TeamKind.security_patrol: _l("治安巡逻队"),
    TeamKind.culture_sports: _l("文体益家"),
    TeamKind.medical: _l("医疗服务队"),
    TeamKind.youth: _l("青年志愿队"),
    TeamKind.professional: _l("专业服务队"),
    TeamKind.party: _l("党员先锋队"),
    TeamKind.other: _l("其他"),
}


class Skill(StrEnum):
    first_aid = "first_aid"
    nursing = "nursing"
    electrician = "electrician"
    plumber = "plumber"
    driver = "driver"
    sign_language = "sign_language"
    counselling = "counselling"
    other = "other"


SKILL_LABELS: dict[str, tuple[str, str]] = {
    Skill.first_aid: _l("急救"),
    Skill.nursing: _l("护理"),
    Skill.electrician: _l("电工"),
    Skill.plumber: _l("水暖工"),
    Skill.driver: _l("驾驶"),
    Skill.sign_language: _l("手语"),
    Skill.counselling: _l("心理疏导"),
    Skill.other: _l("其他"),
}

MEMBER_ROLES: dict[str, tuple[str, str]] = {
    "leader": _l("队长"),
    "deputy": _l("副队长"),
    "member": _l("队员"),
}


class VolunteerTeam(Base):
    """A team kept at its community (``unit_id``); ``path`` copies the community's path for scope."""

    __tablename__ = "volunteer_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    # The leader is one of the members; no foreign key so teams and members can be written in any order.
    leader_member_id: Mapped[int | None] = mapped_column(Integer)
    contact: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TeamMember(Base):
    """A person in a team: a resident of the register, or someone from outside (name and phone)."""

    __tablename__ = "team_members"
    __table_args__ = (Index("ix_team_members_team_resident", "team_id", "resident_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))  # copied from the register for residents
    phone: Mapped[str | None] = mapped_column(String(20))  # people from outside only
    role: Mapped[str] = mapped_column(String(16), default="member")
    joined_on: Mapped[date] = mapped_column(Date)
    max_care: Mapped[int] = mapped_column(Integer, default=3)
    # weekday (0 = Monday) → ["08:00-11:30", ...]
    availability: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Home: a resident's building, or a position given for people from outside.
    building_id: Mapped[int | None] = mapped_column(ForeignKey("grid_units.id"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MemberSkill(Base):
    """A skill with its certificate; an expired certificate does not count."""

    __tablename__ = "member_skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_members.id", ondelete="CASCADE"), index=True)
    skill: Mapped[str] = mapped_column(String(24), index=True)
    certificate_no: Mapped[str | None] = mapped_column(String(40))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)


class ServiceHours(Base):
    __tablename__ = "service_hours"
    __table_args__ = (Index("ix_service_hours_team_served_on", "team_id", "served_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_members.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id", ondelete="CASCADE"))
    served_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    activity: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
