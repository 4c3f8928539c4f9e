"""What the risk map draws: plain values (GeoJSON geometries in WGS-84, names, counts), gathered
by ``space.riskmap_data`` or built by hand in tests; and what was drawn (``RenderInfo``)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

Coords = Sequence[Sequence[float]]  # [[lon, lat], ...]


@dataclass
class HazardArea:
    kind: str  # flood, fire, wind_sand, geological, facility_buffer
    level: int  # 1 low … 4 very high
    geometry: dict  # GeoJSON Polygon / MultiPolygon, WGS-84
    name: str = ""
    depth_class: str | None = None


@dataclass
class Site:
    """A point on the map: a risk point, supply point, clinic or fire station."""

    name: str
    lon: float
    lat: float
    kind: str = ""


@dataclass
class ShelterArea:
    name: str
    capacity: int
    lon: float | None = None
    lat: float | None = None
    geometry: dict | None = None  # Polygon / MultiPolygon (or None: a point shelter)
    kind: str = ""
    status: str = "open"  # open, closed, candidate
    warning: str = ""  # e.g. 内涝时不可用: the routes' scenario cannot use it


@dataclass
class Route:
    """A walking route from a building to its shelter (first point at the building)."""

    coords: Coords
    shelter: str = ""
    persons: int = 0


@dataclass
class RoadLine:
    kind: str  # OSM highway value
    geometry: dict  # LineString / MultiLineString
    name: str = ""


@dataclass
class BuildingOutline:
    geometry: dict  # Polygon / MultiPolygon
    name: str = ""


@dataclass
class RiskMapData:
    community: str
    date: date  # the day shown (Asia/Shanghai)
    version: str  # data version: a fingerprint and/or the latest update time
    bounds: tuple[float, float, float, float] | None = None  # lon0, lat0, lon1, lat1; None: fit the data
    buildings: list[BuildingOutline] = field(default_factory=list)
    hazard_zones: list[HazardArea] = field(default_factory=list)
    risk_points: list[Site] = field(default_factory=list)
    shelters: list[ShelterArea] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    supply_points: list[Site] = field(default_factory=list)
    clinics: list[Site] = field(default_factory=list)
    fire_stations: list[Site] = field(default_factory=list)
    roads: list[RoadLine] = field(default_factory=list)
    boundary: dict | None = None  # the community's outline
    street: str = ""  # the street (街道) the community belongs to
    routes_note: str = ""  # where the routes come from (plan name or "nearest shelter")
    source: str = "韧性社区治理平台"


@dataclass
class RenderInfo:
    """What was drawn: for tests and for the CLI's summary."""

    format: str
    dpi: int
    size_mm: tuple[float, float]
    counts: dict[str, int] = field(default_factory=dict)
    legend: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # map labels placed
    dropped: list[str] = field(default_factory=list)  # labels left out because they would collide
    scale: int = 0  # 1:scale on paper
    scale_bar_m: float = 0.0
    font: str = ""
