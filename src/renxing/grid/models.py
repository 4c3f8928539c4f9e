"""Tables of the grid tree, buildings, households and the five-level responsibility chain."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow


class Level(StrEnum):
    street = "street"
    community = "community"
    compound = "compound"
    area = "area"
    building = "building"
    household = "household"  # only used by the responsibility chain; households have their own table


TREE_LEVELS = [Level.street, Level.community, Level.compound, Level.area, Level.building]


class Duty(StrEnum):
    """Who answers for a unit. The first five are the 五级负责制 in order from the top."""

    secretary = "secretary"  # 社区书记 → community
    branch_secretary = "branch_secretary"  # 支部书记 → compound
    branch_committee = "branch_committee"  # 支委委员 → area
    party_group_leader = "party_group_leader"  # 党小组长 → building
    party_member = "party_member"  # 党员 → household
    grid_worker = "grid_worker"  # 网格员 → area (works beside the chain)
    street_director = "street_director"  # 街道主任 → street


DUTY_LEVEL: dict[Duty, Level] = {
    Duty.street_director: Level.street,
    Duty.secretary: Level.community,
    Duty.branch_secretary: Level.compound,
    Duty.branch_committee: Level.area,
    Duty.grid_worker: Level.area,
    Duty.party_group_leader: Level.building,
    Duty.party_member: Level.household,
}


class GridUnit(Base):
    """One node of the grid tree. ``path`` ("/1/4/20/") makes any subtree a range scan."""

    __tablename__ = "grid_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grid_units.id"), index=True)
    level: Mapped[str] = mapped_column(String(16), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str | None] = mapped_column(String(40))  # e.g. old estate, high-rise, mixed
    path: Mapped[str] = mapped_column(String(255), index=True, default="")
    # WGS-84 GeoJSON geometry and a representative point, for maps and routing.
    geometry: Mapped[str | None] = mapped_column(Text)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Building(Base):
    """Attributes a building has beyond being a grid unit (楼栋)."""

    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(ForeignKey("grid_units.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str | None] = mapped_column(String(200))
    units: Mapped[int] = mapped_column(Integer, default=1)
    floors: Mapped[int] = mapped_column(Integer, default=1)
    year_built: Mapped[int | None] = mapped_column(Integer)
    structure: Mapped[str | None] = mapped_column(String(40))  # 砖混, 框架, 剪力墙, 钢结构 ...
    has_elevator: Mapped[bool] = mapped_column(default=False)


class Household(Base):
    """户. ``path`` copies the building's path so scope checks need no join."""

    __tablename__ = "households"
    __table_args__ = (Index("ix_households_building_unit_room", "building_id", "unit_no", "room", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    unit_no: Mapped[int] = mapped_column(Integer, default=1)
    room: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Responsibility(Base):
    """A person assigned to answer for a grid unit or household, for a period."""

    __tablename__ = "responsibilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    duty: Mapped[str] = mapped_column(String(32), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("grid_units.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
