"""Shapes of the space layers going in: one model per layer, shared by the API and the imports.

The service validates a plain dict against these (so a GeoJSON feature's properties and a JSON
body pass the same checks), then checks the geometry itself with Shapely.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Id
from renxing.space.models import (
    DepthClass,
    Facility,
    FeatureLayer,
    HazardKind,
    RiskPointKind,
    ShelterClass,
    ShelterKind,
    ShelterStatus,
)

Geometry = dict[str, Any]


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", use_enum_values=True)

    unit_id: Id = Field(description="the community (grid unit id) the feature belongs to")
    name: str = Field(default="", max_length=120)
    geometry: Geometry | None = Field(default=None, description="GeoJSON geometry, WGS-84 unless a crs is given")


class HazardZoneIn(_In):
    geometry: Geometry
    kind: HazardKind
    level: int = Field(default=2, ge=1, le=4, description="1 low, 2 medium, 3 high, 4 very high")
    depth_class: DepthClass | None = None
    source_point_id: Id | None = None
    note: str | None = None


class RiskPointIn(_In):
    kind: RiskPointKind
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    buffer_m: float | None = Field(default=None, gt=0, le=5000)
    note: str | None = None


class PassageIn(_In):
    geometry: Geometry
    width_m: float | None = Field(default=None, gt=0, le=200)
    note: str | None = None


class ReservedLandIn(_In):
    geometry: Geometry
    note: str | None = None


class ShelterIn(_In):
    geometry: Geometry
    kind: ShelterKind
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    effective_area_m2: float = Field(gt=0, description="effective sheltering area in m² (must be above 0)")
    shelter_class: ShelterClass = ShelterClass.III
    per_person_m2: float | None = Field(default=None, gt=0, le=100)
    facilities: list[Facility] = Field(default_factory=list)
    exits: int = Field(default=1, ge=0, le=100)
    status: ShelterStatus = ShelterStatus.open
    note: str | None = None


class RoadIn(_In):
    geometry: Geometry
    kind: str = Field(min_length=1, max_length=32, description="the OSM highway value")
    osm_id: int | None = None
    width_m: float | None = Field(default=None, gt=0, le=200)
    walkable: bool = True


class MapFeatureIn(_In):
    geometry: Geometry
    layer: FeatureLayer
    kind: str = Field(min_length=1, max_length=32)
    osm_id: int | None = None
    props: dict[str, Any] | None = None
