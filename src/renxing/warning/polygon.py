"""The area of a warning drawn on a map: a GeoJSON Polygon checked and brought to WGS-84, and the
rings of a unit's stored outline. Pure.

A drawn polygon is one closed ring (no holes: CAP cannot carry them) of at least four positions,
the first equal to the last, simple (its edges do not cross), with an area, inside WGS-84's ranges
and no wider than :data:`MAX_SPAN_DEG` in either direction (a community's warning, not a
province's). Coordinates drawn on GCJ-02 or BD-09 maps are converted at the edge.
"""

import json
import math
from typing import Any

from shapely.geometry import Polygon

from renxing.geo.coords import CRS, UnknownCRS, convert_geometry, parse_crs
from renxing.i18n import _

MAX_SPAN_DEG = 0.5  # about 50 km north–south
MAX_POSITIONS = 2000

Ring = list[tuple[float, float]]  # (lon, lat)


class PolygonError(ValueError):
    """Why a drawn polygon is refused (in words for the person who drew it)."""


def _position(value: Any) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise PolygonError(_("每个坐标应为 [经度, 纬度]"))
    lon, lat = value[0], value[1]
    if (
        isinstance(lon, bool)
        or isinstance(lat, bool)
        or not isinstance(lon, int | float)
        or not isinstance(lat, int | float)
    ):
        raise PolygonError(_("坐标应为数字"))
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise PolygonError(_("坐标应为有限数字"))
    return float(lon), float(lat)


def _ring_of(value: Any) -> Ring:
    if not isinstance(value, dict) or value.get("type") != "Polygon":
        raise PolygonError(_("应为 GeoJSON Polygon"))
    rings = value.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise PolygonError(_("多边形没有坐标"))
    if len(rings) > 1:
        raise PolygonError(_("只能有一个外环（CAP 多边形不含孔洞）"))
    ring = rings[0]
    if not isinstance(ring, list) or len(ring) > MAX_POSITIONS:
        raise PolygonError(_("外环应为不超过 {count} 个坐标的列表").format(count=MAX_POSITIONS))
    return [_position(p) for p in ring]


def _check_shape(ring: Ring) -> None:
    if len(ring) < 4:
        raise PolygonError(_("闭合多边形至少需要 4 个坐标（3 个顶点，再重复第一个）"))
    if ring[0] != ring[-1]:
        raise PolygonError(_("多边形未闭合：最后一个坐标应与第一个相同"))
    if len(set(ring[:-1])) < 3:
        raise PolygonError(_("多边形至少需要 3 个不同的顶点"))
    for lon, lat in ring:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise PolygonError(_("坐标超出范围（经度 −180…180，纬度 −90…90）"))
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    if max(lons) - min(lons) > MAX_SPAN_DEG or max(lats) - min(lats) > MAX_SPAN_DEG:
        raise PolygonError(_("区域跨度超过 {span}°（应为社区范围）").format(span=MAX_SPAN_DEG))
    shape = Polygon(ring)
    if not shape.is_valid:
        raise PolygonError(_("多边形的边自相交"))
    if shape.area <= 0:
        raise PolygonError(_("多边形面积为零"))


def parse_polygon(value: Any, crs: str | CRS = CRS.wgs84) -> Ring:
    """The drawn polygon's ring in WGS-84 (lon, lat), or :class:`PolygonError` saying why not."""
    try:
        source = parse_crs(crs)
    except UnknownCRS as exc:
        raise PolygonError(str(exc)) from exc
    ring = _ring_of(value)
    _check_shape(ring)  # closed as drawn, before any conversion
    if source is not CRS.wgs84:
        converted = convert_geometry({"type": "Polygon", "coordinates": [ring]}, source, CRS.wgs84)
        ring = [(float(x), float(y)) for x, y in converted["coordinates"][0]]
        ring[-1] = ring[0]
        _check_shape(ring)
    return ring


def as_geojson(ring: Ring) -> str:
    """The ring stored as GeoJSON text."""
    return json.dumps({"type": "Polygon", "coordinates": [[[lon, lat] for lon, lat in ring]]}, separators=(",", ":"))


def outline_rings(text: str | None) -> list[Ring]:
    """The outer rings of a stored outline (Polygon or MultiPolygon GeoJSON); none when absent or
    unreadable, so a warning without one carries its area's name and code only."""
    if not text:
        return []
    try:
        geometry = json.loads(text)
        if geometry.get("type") == "Polygon":
            polygons = [geometry["coordinates"]]
        elif geometry.get("type") == "MultiPolygon":
            polygons = geometry["coordinates"]
        else:
            return []
        rings = [[(float(p[0]), float(p[1])) for p in polygon[0]] for polygon in polygons if polygon]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return []
    return [r if r[0] == r[-1] else [*r, r[0]] for r in rings if len(r) >= 3]
