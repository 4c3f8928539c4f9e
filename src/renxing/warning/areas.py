"""Which communities an alert's areas reach. Pure: plain values in, (unit id, how) pairs out.

An area is matched by its shapes when it has any, else by its geocodes. CAP 1.2 asks issuers to
give a geocode "in concert with an equivalent description in the more universally understood
polygon and circle forms", so where both are present the shape is the more precise of the two
(a district's code would otherwise reach every community of the district).

- ``polygon``: the ring (CAP "lat,lon" pairs, turned here into lon/lat) overlaps the community's
  outline (GeoJSON, WGS-84) by more than a shared edge; a community without an outline is
  reached when the ring covers its point.
- ``circle``: the outline (or point) lies within the radius of the centre, measured in metres on
  a local plane around the centre (``geo.metric``); a radius of 0 is the centre point itself.
- ``geocode``: the value names understood are
  * China's administrative division codes (GB/T 2260 and the 12-digit statistical codes),
    ``valueName`` one of :data:`ADMIN_CODE_NAMES`: the code's significant prefix (``320106`` a
    district, ``320106013`` a street, ``320106013001`` a community; trailing zero groups dropped, so
    ``320100`` is the city ``3201``) is compared with the start of the community's own code and its
    street's; an installation whose units carry these codes is matched by them;
  * the platform's own unit codes, ``valueName`` one of :data:`UNIT_CODE_NAMES`: the value equals
    the code of a community, or of a street (all of its communities);
  * any other (SAME, FIPS, EMMA_ID …) is not understood and is reported as such.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from renxing.geo.metric import LocalPlane, buffer_m
from renxing.geo.outlines import parse_geojson
from renxing.warning.cap_read import Area, Circle, Pair

# Compared without whitespace and case: "GB/T 2260" is "gb/t2260".
ADMIN_CODE_NAMES = frozenset(
    {"行政区划代码", "行政区划编码", "区划代码", "行政区代码"}
    | {"adcode", "admincode", "admin_code", "gb/t2260", "gb2260", "cn-adcode"}
)
UNIT_CODE_NAMES = frozenset({"renxing", "renxing:unit", "网格编码", "unit_code"})
HOW_ORDER = ("polygon", "circle", "geocode")


@dataclass(frozen=True)
class Place:
    """A community as matching sees it: its own code and its street's, its outline or its point."""

    unit_id: int
    path: str
    codes: tuple[str, ...]  # the community's code first, then its street's
    outline: str | None = None  # GeoJSON geometry, WGS-84
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True)
class Matched:
    unit_id: int
    path: str
    how: str  # polygon, circle, geocode


def _name(value_name: str) -> str:
    return "".join(value_name.split()).lower()


def understood(value_name: str) -> bool:
    name = _name(value_name)
    return name in ADMIN_CODE_NAMES or name in UNIT_CODE_NAMES


def admin_prefix(code: str) -> str | None:
    """The significant prefix of an administrative division code; None if it is not one."""
    digits = code.strip()
    if not digits.isdigit() or len(digits) not in (6, 9, 12):
        return None
    if len(digits) == 12 and digits.endswith("000"):
        digits = digits[:9]
    if len(digits) == 9 and digits.endswith("000"):
        digits = digits[:6]
    while len(digits) <= 6 and len(digits) > 2 and digits.endswith("00"):
        digits = digits[:-2]
    return digits


def ring_lonlat(ring: Sequence[Pair]) -> list[list[float]]:
    """A CAP ring of (lat, lon) as GeoJSON positions (lon, lat)."""
    return [[lon, lat] for lat, lon in ring]


def polygon_of(ring: Sequence[Pair]) -> BaseGeometry:
    geom = shapely.Polygon([(lon, lat) for lat, lon in ring])
    return geom if geom.is_valid else shapely.make_valid(geom)


class _Target:
    """A place with its geometry parsed once."""

    def __init__(self, place: Place):
        self.place = place
        self.outline = parse_geojson(place.outline) if place.outline else None
        self.point = None if place.lon is None or place.lat is None else shapely.Point(place.lon, place.lat)
        if self.outline is not None:
            shapely.prepare(self.outline)


def _in_polygon(poly: BaseGeometry, t: _Target) -> bool:
    if t.outline is not None:
        return bool(poly.intersects(t.outline) and not poly.touches(t.outline))
    return t.point is not None and bool(poly.covers(t.point))


def _in_circle(circle: Circle, t: _Target) -> bool:
    shape = t.outline if t.outline is not None else t.point
    if shape is None:
        return False
    plane = LocalPlane(circle.lon, circle.lat)
    return bool(plane.to_m(shape).distance(shapely.Point(0, 0)) <= circle.radius_km * 1000)


def _by_code(name: str, value: str, t: _Target) -> bool:
    codes = t.place.codes
    if name in UNIT_CODE_NAMES:
        return value.strip() in codes
    prefix = admin_prefix(value)
    return prefix is not None and any(c.isdigit() and c.startswith(prefix) for c in codes)


def _area_reaches(area: Area, t: _Target, polygons: list[BaseGeometry]) -> str | None:
    if area.has_shape:
        if any(_in_polygon(p, t) for p in polygons):
            return "polygon"
        if any(_in_circle(c, t) for c in area.circles):
            return "circle"
        return None
    for value_name, value in area.geocodes:
        name = _name(value_name)
        if (name in ADMIN_CODE_NAMES or name in UNIT_CODE_NAMES) and _by_code(name, value, t):
            return "geocode"
    return None


def match(areas: Iterable[Area], places: Iterable[Place]) -> list[Matched]:
    """The communities any of the areas reach, each once with the most precise way it was reached,
    in the order of the places given."""
    shaped = [(a, [polygon_of(r) for r in a.polygons]) for a in areas]
    out = []
    for place in places:
        target = _Target(place)
        ways = {how for a, polys in shaped if (how := _area_reaches(a, target, polys))}
        if ways:
            out.append(Matched(place.unit_id, place.path, min(ways, key=HOW_ORDER.index)))
    return out


def unknown_geocodes(areas: Iterable[Area]) -> list[str]:
    """The geocode value names of shapeless areas that matching does not understand."""
    names = {n for a in areas if not a.has_shape for n, _v in a.geocodes if not understood(n)}
    return sorted(names)


def geojson(areas: Iterable[Area]) -> dict[str, Any]:
    """The areas' shapes for a map: polygons as they are, circles as polygons of their radius
    (a radius of 0 as a point); properties say which area and what kind."""
    features: list[dict[str, Any]] = []
    for k, area in enumerate(areas):
        for ring in area.polygons:
            geometry = {"type": "Polygon", "coordinates": [ring_lonlat(ring)]}
            features.append(_feature(geometry, area, k, "polygon"))
        for c in area.circles:
            centre = shapely.Point(c.lon, c.lat)
            shape = centre if c.radius_km == 0 else buffer_m(centre, c.radius_km * 1000, LocalPlane(c.lon, c.lat))
            feature = _feature(shapely.geometry.mapping(shape), area, k, "circle")
            feature["properties"]["radius_km"] = c.radius_km
            features.append(feature)
    return {"type": "FeatureCollection", "features": features}


def _feature(geometry: Any, area: Area, index: int, kind: str) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"area": index, "desc": area.desc, "kind": kind}}
