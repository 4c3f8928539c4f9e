"""The seven map layers: what each stores, which geometries it takes, whether residents may read
it, and its name in URLs; and the datum parameter every layer route takes."""

from dataclasses import dataclass
from typing import Any

from renxing.errors import FieldError, Invalid
from renxing.geo.coords import CRS, UnknownCRS, parse_crs
from renxing.i18n import _, _l
from renxing.space import schemas
from renxing.space.models import (
    HazardZone,
    MapFeature,
    Passage,
    ReservedLand,
    RiskPoint,
    Road,
    Shelter,
)

POLYGONS = ("Polygon", "MultiPolygon")
LINES = ("LineString", "MultiLineString")


@dataclass(frozen=True)
class LayerSpec:
    key: str  # hazard_zones; the URL uses hyphens (hazard-zones)
    model: type
    schema: type[schemas._In]
    geom_types: tuple[str, ...]
    public: bool  # residents may read it (public safety information)
    label: Any  # a lazy label

    @property
    def slug(self) -> str:
        return self.key.replace("_", "-")

    @property
    def entity(self) -> str:
        return f"space.{self.key}"


LAYERS: dict[str, LayerSpec] = {
    s.key: s
    for s in [
        LayerSpec("hazard_zones", HazardZone, schemas.HazardZoneIn, POLYGONS, True, _l("风险区")),
        LayerSpec("risk_points", RiskPoint, schemas.RiskPointIn, ("Point",), False, _l("危险源")),
        LayerSpec("passages", Passage, schemas.PassageIn, LINES, False, _l("应急通道")),
        LayerSpec("reserved_land", ReservedLand, schemas.ReservedLandIn, POLYGONS, False, _l("应急预留地")),
        LayerSpec("shelters", Shelter, schemas.ShelterIn, (*POLYGONS, "Point"), True, _l("避难场所")),
        LayerSpec("roads", Road, schemas.RoadIn, LINES, False, _l("道路")),
        LayerSpec(
            "features",
            MapFeature,
            schemas.MapFeatureIn,
            ("Point", "MultiPoint", *LINES, *POLYGONS),
            False,
            _l("底图要素"),
        ),
    ]
}


def layer_spec(name: str) -> LayerSpec:
    key = (name or "").strip().lower().replace("-", "_")
    if key.endswith(".geojson"):
        key = key[: -len(".geojson")]
    spec = LAYERS.get(key)
    if spec is None:
        raise Invalid(
            _("未知图层"),
            [FieldError("layer", f"one of {', '.join(s.slug for s in LAYERS.values())}", value=name)],
        )
    return spec


def crs_param(name: str | None, field: str = "crs") -> CRS:
    try:
        return parse_crs(name or "wgs84")
    except UnknownCRS as exc:
        raise Invalid(str(exc), [FieldError(field, str(exc), value=str(name))]) from exc
