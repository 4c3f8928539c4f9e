"""Tables of the space layers: hazard zones, risk points, passages, reserved land, shelters, roads, base features.

Every row belongs to a community (``unit_id`` → the community's ``grid_units`` row, whose path is the scope)
and keeps its geometry as WGS-84 GeoJSON text, like grid units do. Conversion to GCJ-02/BD-09 happens at the
edges (import, export, map layers), never in storage.
"""

from datetime import datetime
from enum import IntEnum, StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow


class HazardKind(StrEnum):
    flood = "flood"  # 洪涝/内涝
    fire = "fire"  # 火灾风险
    wind_sand = "wind_sand"  # 风沙
    geological = "geological"  # 地质灾害
    facility_buffer = "facility_buffer"  # 危险源缓冲区


class HazardLevel(IntEnum):
    low = 1
    medium = 2
    high = 3
    very_high = 4


class DepthClass(StrEnum):
    """Flood depth classes (积水深度), the bands used on Chinese waterlogging risk maps."""

    lt_0_3 = "<0.3"
    d_0_3_0_5 = "0.3-0.5"
    d_0_5_1 = "0.5-1"
    gt_1 = ">1"


class RiskPointKind(StrEnum):
    petrol_station = "petrol_station"  # 加油站
    gas_station = "gas_station"  # 燃气站/液化气供应点 (LPG)
    substation = "substation"  # 变电站
    chemical_store = "chemical_store"  # 危化品仓库
    old_wiring = "old_wiring"  # 老旧电线楼栋
    other = "other"


class ShelterKind(StrEnum):
    park = "park"  # 公园
    square = "square"  # 广场
    school_playground = "school_playground"  # 学校操场
    stadium = "stadium"  # 体育场馆
    air_defence = "air_defence"  # 人防工程
    indoor_hall = "indoor_hall"  # 室内场馆


class ShelterClass(StrEnum):
    """GB 21734-2008 classes by length of stay."""

    I = "I"  # noqa: E741 - the standard's name; more than 30 days
    II = "II"  # 10 to 30 days
    III = "III"  # under 10 days


class ShelterStatus(StrEnum):
    open = "open"
    closed = "closed"
    candidate = "candidate"  # could be converted (a school, a gym); a what-if may switch it on


class Facility(StrEnum):
    water = "water"
    toilets = "toilets"
    power = "power"
    medical = "medical"
    barrier_free = "barrier_free"


class FeatureLayer(StrEnum):
    building = "building"
    poi = "poi"


class _Layer:
    """Columns every layer row shares."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)  # the community
    name: Mapped[str] = mapped_column(String(120), default="")
    geometry: Mapped[str | None] = mapped_column(Text)  # WGS-84 GeoJSON geometry
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RiskPoint(_Layer, Base):
    """危险源: a hazardous facility or spot, with an optional buffer distance."""

    __tablename__ = "space_risk_points"

    kind: Mapped[str] = mapped_column(String(32), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    buffer_m: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


class HazardZone(_Layer, Base):
    """An area exposed to a hazard (Polygon/MultiPolygon)."""

    __tablename__ = "space_hazard_zones"

    kind: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[int] = mapped_column(Integer, default=2)
    depth_class: Mapped[str | None] = mapped_column(String(16))  # flood only
    source_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("space_risk_points.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)


class Passage(_Layer, Base):
    """Emergency passage (应急通道), a LineString with its clear width."""

    __tablename__ = "space_passages"

    width_m: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


class ReservedLand(_Layer, Base):
    """Land kept free for emergency use (应急预留用地), a Polygon."""

    __tablename__ = "space_reserved_land"

    area_m2: Mapped[float | None] = mapped_column(Float)  # computed from the geometry
    note: Mapped[str | None] = mapped_column(Text)


class Shelter(_Layer, Base):
    """应急避难场所. ``capacity`` = floor(effective_area_m2 / per-person area of its class)."""

    __tablename__ = "space_shelters"

    kind: Mapped[str] = mapped_column(String(32), index=True)
    lon: Mapped[float | None] = mapped_column(Float)  # entrance or representative point
    lat: Mapped[float | None] = mapped_column(Float)
    effective_area_m2: Mapped[float] = mapped_column(Float)
    shelter_class: Mapped[str] = mapped_column(String(4), default=ShelterClass.III.value)
    per_person_m2: Mapped[float | None] = mapped_column(Float)  # overrides the class default
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    facilities: Mapped[list | None] = mapped_column(JSON)
    exits: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=ShelterStatus.open.value, index=True)
    note: Mapped[str | None] = mapped_column(Text)


class Road(_Layer, Base):
    """A road or path segment (LineString); ``kind`` is the OSM highway value."""

    __tablename__ = "space_roads"

    osm_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    width_m: Mapped[float | None] = mapped_column(Float)
    walkable: Mapped[bool] = mapped_column(Boolean, default=True)


class MapFeature(_Layer, Base):
    """Other base data: buildings and POIs (school, park, clinic, fire station, ...), mostly from OSM."""

    __tablename__ = "space_map_features"

    layer: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    osm_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    props: Mapped[dict | None] = mapped_column(JSON)


# ---- evacuation scenarios (space.planning) -----------------------------------------------------


class EvacScenario(Base):
    """A saved evacuation scenario of a community and the last plan computed for it.

    ``plan`` caches that plan; ``plan_fingerprint`` hashes the inputs it came from (register,
    roads, shelters, zones, the scenario), so any change to them makes the cache stale.
    """

    __tablename__ = "space_evac_scenarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)  # the community
    name: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    hazard_zone_ids: Mapped[list] = mapped_column(JSON, default=list)
    cut_road_ids: Mapped[list] = mapped_column(JSON, default=list)
    open_candidate_ids: Mapped[list] = mapped_column(JSON, default=list)  # candidates switched on
    closed_shelter_ids: Mapped[list] = mapped_column(JSON, default=list)
    evacuate_all: Mapped[bool] = mapped_column(Boolean, default=False)  # not only the hit buildings
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    plan: Mapped[dict | None] = mapped_column(JSON)
    plan_fingerprint: Mapped[str | None] = mapped_column(String(64))
    plan_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
