"""Shapes of the space layers going in (one model per layer, shared by the API and the imports)
and of what the layer and analysis routes answer.

The service validates a plain dict against these (so a GeoJSON feature's properties and a JSON
body pass the same checks), then checks the geometry itself with Shapely.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

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
Number = int | float  # kept as computed: a whole number stays whole


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


# ---- going out: the layers ----------------------------------------------------------------------
# Times are ISO 8601 text as stored (UTC), geometries GeoJSON in the datum asked for.


class _Out(BaseModel):
    layer: str = Field(description="the layer's URL name (base features: building or poi)")
    id: int
    unit_id: int = Field(description="the community the feature belongs to")
    name: str
    geometry: Geometry | None
    created_at: str | None
    updated_at: str | None


class HazardZoneOut(_Out):
    kind: str
    level: int
    depth_class: str | None
    source_point_id: int | None
    note: str | None


class RiskPointOut(_Out):
    kind: str
    lon: float
    lat: float
    buffer_m: float | None
    note: str | None


class PassageOut(_Out):
    width_m: float | None
    note: str | None


class ReservedLandOut(_Out):
    area_m2: float | None = Field(description="computed from the outline")
    note: str | None


class ShelterOut(_Out):
    kind: str
    lon: float | None
    lat: float | None
    effective_area_m2: float
    shelter_class: str
    per_person_m2: float | None
    capacity: int = Field(description="persons: effective area / area per person of the class")
    facilities: list[str] | None
    exits: int
    status: str
    note: str | None


class RoadOut(_Out):
    osm_id: int | None
    kind: str
    width_m: float | None
    walkable: bool


class MapFeatureOut(_Out):
    kind: str
    osm_id: int | None
    props: dict[str, Any] | None


_OUT_BY_LAYER = {
    "hazard-zones": "zone",
    "risk-points": "point",
    "passages": "passage",
    "reserved-land": "land",
    "shelters": "shelter",
    "roads": "road",
}


def _which_layer(value: Any) -> str:
    layer = value.get("layer") if isinstance(value, dict) else getattr(value, "layer", None)
    return _OUT_BY_LAYER.get(layer or "", "feature")  # a base feature's layer is building or poi


FeatureOut = Annotated[
    Annotated[HazardZoneOut, Tag("zone")]
    | Annotated[RiskPointOut, Tag("point")]
    | Annotated[PassageOut, Tag("passage")]
    | Annotated[ReservedLandOut, Tag("land")]
    | Annotated[ShelterOut, Tag("shelter")]
    | Annotated[RoadOut, Tag("road")]
    | Annotated[MapFeatureOut, Tag("feature")],
    Discriminator(_which_layer),
]


class GeoFeatureOut(BaseModel):
    type: Literal["Feature"]
    id: int
    geometry: Geometry | None
    properties: dict[str, Any] = Field(description="the feature's fields, as in the layer's list")


class FeatureCollectionOut(BaseModel):
    type: Literal["FeatureCollection"]
    name: str = Field(description="the layer")
    crs_name: str = Field(description="the datum of the coordinates: wgs84, gcj02 or bd09")
    features: list[GeoFeatureOut]


class FeatureCollectionIn(BaseModel):
    """A GeoJSON FeatureCollection to import: each feature's properties are the layer's fields."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]] = Field(
        description='GeoJSON Features: {"type": "Feature", "properties", "geometry"}'
    )
    crs: dict[str, Any] | None = Field(
        default=None, description='legacy datum member, e.g. {"type": "name", "properties": {"name": "gcj02"}}'
    )


class ImportOut(BaseModel):
    imported: int
    ids: list[int]


class OkOut(BaseModel):
    ok: bool


# ---- going out: the analyses --------------------------------------------------------------------


class Named(BaseModel):
    id: int
    name: str


class CheckSettingsOut(BaseModel):
    high_hazard_level: int
    passage_min_width_m: float
    shelter_access_m: float
    shelter_service_radius_m: float


class ProblemOut(BaseModel):
    check: str = Field(
        description="building_in_high_hazard, shelter_in_hazard, shelter_access, narrow_passage, area_capacity"
    )
    layer: str
    id: int
    name: str
    message: str
    detail: dict[str, Any]


class ChecksOut(BaseModel):
    """The 让防避 checks of one community: problems grouped by check, and how many of each."""

    community: Named
    settings: CheckSettingsOut
    counts: dict[str, int]
    problems: list[ProblemOut]


class ExposedZoneOut(Named):
    kind: str
    level: int


class ExposedBuildingOut(Named):
    zones: list[int] = Field(description="the zones it lies in")
    households: int | None = Field(default=None, description="only for roles that read the register")
    residents: int | None = Field(default=None, description="only for roles that read the register")


class ExposureOut(BaseModel):
    """Counts only; ``masked`` when the role may not read the register (no people counts then)."""

    zones: list[ExposedZoneOut]
    buildings: int
    households: int | None
    residents: int | None
    vulnerable: dict[str, int] | None = Field(description="residents per vulnerability tag the role may see")
    vulnerable_any: int | None
    masked: bool
    building_list: list[ExposedBuildingOut]


# ---- going out: evacuation planning (counts per building and class, never a person) -------------
# ``persons`` and ``by_class`` map each mobility class (normal, slow, aided, wheelchair, bedridden)
# to a number of persons; ``persons`` adds ``total``.


class ScenarioOut(BaseModel):
    id: int
    community_id: int
    name: str
    note: str | None
    hazard_zone_ids: list[int]
    cut_road_ids: list[int]
    open_candidate_ids: list[int]
    closed_shelter_ids: list[int]
    evacuate_all: bool
    created_at: str | None
    updated_at: str | None
    plan_computed_at: str | None = Field(description="when the plan kept with the scenario was computed")
    plan_fingerprint: str | None


class SpecOut(BaseModel):
    """The scenario a plan was computed for."""

    community_id: int
    hazard_zone_ids: list[int]
    cut_road_ids: list[int]
    open_candidate_ids: list[int]
    closed_shelter_ids: list[int]
    evacuate_all: bool
    scenario_id: int | None
    name: str


class ClearanceOut(BaseModel):
    """Warning + pre-movement + the longest walk + the queue at the narrowest passage, in seconds."""

    warning_s: float
    premovement_s: float
    longest_walk_s: float
    queue_s: float
    total_s: float
    bottleneck: dict[str, Any] | None = Field(description="kind (road or entrance), id, persons, width_m, lon, lat")


class PlanTotalsOut(BaseModel):
    buildings: int
    persons: dict[str, int]
    placed: int
    unplaced: int
    carriers_needed: int
    clearance_s: float | None
    clearance: ClearanceOut | None
    person_time_s: Number
    mean_time_s: float | None
    open_shelters: int
    capacity: int


class RouteOut(BaseModel):
    shelter_id: int
    shelter_name: str
    persons: int
    by_class: dict[str, int]
    distance_m: float
    time_s: float = Field(description="the slowest class walking it")
    path: list[list[float]] = Field(description="[lon, lat] from the door to the entrance, WGS-84")


class PlanBuildingOut(BaseModel):
    id: int
    name: str
    lon: float | None
    lat: float | None
    zones: list[int]
    persons: dict[str, int]
    routes: list[RouteOut]
    unplaced: int
    unplaced_by_class: dict[str, int]
    unplaced_reason: str | None = Field(description="no_capacity, unreachable, no_location_building")
    bedridden: int
    shelter_id: int | None = Field(description="where most of its people go")
    shelter_name: str | None
    distance_m: float | None
    time_s: float | None


class PlanShelterOut(BaseModel):
    id: int
    name: str
    kind: str
    lon: float | None
    lat: float | None
    capacity: int
    assigned: int
    status: str = Field(description="open, candidate_open or closed")
    reason: str | None = Field(description="why it is closed in this scenario")


class UnplacedOut(BaseModel):
    building_id: int
    name: str
    persons: int
    by_class: dict[str, int]
    reason: str | None


class BedriddenOut(BaseModel):
    building_id: int
    name: str
    count: int
    shelter_name: str | None


class PlanZoneOut(BaseModel):
    id: int
    name: str
    kind: str
    level: int
    depth_class: str | None
    geometry: Geometry | None


class CutRoadOut(BaseModel):
    id: int
    name: str
    reason: str | None = Field(description="cut_by_scenario or flooded")
    coords: list[list[list[float]]]


class ReachOut(BaseModel):
    persons: int
    share: float | None


class GapOut(BaseModel):
    building_id: int
    name: str
    persons: int
    distance_m: float | None


class CoverageOut(BaseModel):
    """Residents within a 500 m and a 1,000 m walk of a usable shelter; the buildings beyond 1,000 m."""

    within_500: ReachOut = Field(alias="500")
    within_1000: ReachOut = Field(alias="1000")
    total: int
    gaps: list[GapOut]


class CommunityCoverageOut(CoverageOut):
    community_id: int


class PlanOut(BaseModel):
    community: Named
    spec: SpecOut
    totals: PlanTotalsOut
    buildings: list[PlanBuildingOut] = Field(description="the evacuating buildings, those in greatest need first")
    shelters: list[PlanShelterOut]
    unplaced: list[UnplacedOut]
    bedridden: list[BedriddenOut]
    zones: list[PlanZoneOut]
    cut_roads: list[CutRoadOut]
    fingerprint: str = Field(description="of the inputs: the plan is recomputed when they change")
    computed_at: str
    cached: bool
    coverage: CoverageOut | None = Field(default=None, description="with the plan of a scenario given in the body")


class CoverageChangeOut(BaseModel):
    within_500: float = Field(alias="500")
    within_1000: float = Field(alias="1000")


class PlanChangeOut(BaseModel):
    """The alternative's value minus the base's."""

    unplaced: Number | None
    placed: Number | None
    clearance_s: Number | None
    person_time_s: Number | None
    mean_time_s: Number | None
    capacity: Number | None
    coverage: CoverageChangeOut | None = None


class GainOut(BaseModel):
    building_id: int
    name: str
    newly_placed: int
    time_saved_s: float
    before_shelter: str | None
    after_shelter: str | None
    before_time_s: float | None
    after_time_s: float | None
    persons: int


class WhatIfOut(BaseModel):
    """The scenario as it is (``base``) and with the candidates switched on (``alt``)."""

    base: PlanOut
    alt: PlanOut
    opened: list[int]
    change: PlanChangeOut
    gains: list[GainOut]
    gaining_persons: int


class SiteChoiceOut(BaseModel):
    id: int
    name: str
    capacity: int


class SitingOut(BaseModel):
    community_id: int
    k: int
    status: str = Field(description="optimal, or the solver's status when stopped at its time limit")
    chosen: list[SiteChoiceOut]
    objective_m: float = Field(description="Σ persons × metres walked")
    objective_s: float
    unplaced: int
    persons: int
    seconds: float


# ---- coming in: evacuation planning ------------------------------------------------------------
# The planning routes read loose input (the pages post the same fields from forms), so these
# document the bodies; the service parses them and names each bad field.

IdList = list[int] | str


class ScenarioSpecIn(BaseModel):
    """A scenario. Id lists may also be one comma-separated text."""

    community_id: int
    hazard_zone_ids: IdList = Field(default=[], description="the hazard zones hit")
    cut_road_ids: IdList = Field(default=[], description="roads cut besides those under deep water")
    open_candidate_ids: IdList = Field(default=[], description="conversion candidates switched on")
    closed_shelter_ids: IdList = Field(default=[], description="shelters closed in this scenario")
    evacuate_all: bool = Field(
        default=False, description="every building leaves, not only those in the hit zones (always when none is hit)"
    )


class ScenarioIn(ScenarioSpecIn):
    name: str = Field(max_length=120)
    note: str | None = None


class ScenarioPatchIn(BaseModel):
    """The fields to change; a scenario cannot move to another community."""

    name: str | None = Field(default=None, max_length=120)
    note: str | None = None
    hazard_zone_ids: IdList | None = None
    cut_road_ids: IdList | None = None
    open_candidate_ids: IdList | None = None
    closed_shelter_ids: IdList | None = None
    evacuate_all: bool | None = None


class WhatIfIn(ScenarioSpecIn):
    open_candidates: IdList = Field(description="the candidates to switch on in the alternative")


class SitingIn(ScenarioSpecIn):
    k: int = Field(description="how many conversion candidates to open")
