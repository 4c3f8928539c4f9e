"""Which grid unit a point lies in: point-in-polygon over unit outlines. Pure: no I/O.

Coordinates are WGS-84 longitude/latitude. :class:`GeoIndex` is built once from plain rows
(the events placing module caches one per database and rebuilds it when the units change) and
answers "which unit contains this point" with an STR-tree of prepared Shapely geometries, else
the nearest building point within a distance.
"""

import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from renxing.geo.sphere import EARTH_RADIUS_M

log = logging.getLogger(__name__)

LEVEL_DEPTH = {"street": 0, "community": 1, "compound": 2, "area": 3, "building": 4}


def parse_geojson(text: str) -> BaseGeometry | None:
    """A Geometry, Feature or FeatureCollection as one Shapely geometry; None if unusable."""
    try:
        obj = json.loads(text)
        if obj.get("type") == "Feature":
            obj = obj["geometry"]
        if obj.get("type") == "FeatureCollection":
            parts = [shape(f["geometry"]) for f in obj["features"] if f.get("geometry")]
            geom = shapely.union_all(parts) if parts else None
        else:
            geom = shape(obj)
    except (ValueError, KeyError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
        log.warning("unusable GeoJSON geometry skipped: %s", exc)
        return None
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


@dataclass(frozen=True)
class UnitShape:
    unit_id: int
    level: str
    path: str
    geometry: str  # GeoJSON text


@dataclass(frozen=True)
class UnitPoint:
    unit_id: int
    path: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Hit:
    unit_id: int
    level: str
    path: str
    source: str  # polygon | nearest
    distance_m: float = 0.0


class GeoIndex:
    """Point-in-polygon over unit outlines, and the nearest building point."""

    def __init__(self, shapes: Iterable[UnitShape], buildings: Iterable[UnitPoint]):
        self.units: list[UnitShape] = []
        geoms: list[BaseGeometry] = []
        for u in shapes:
            g = parse_geojson(u.geometry)
            if g is not None:
                shapely.prepare(g)
                self.units.append(u)
                geoms.append(g)
        self.geoms = geoms
        self.tree = shapely.STRtree(geoms) if geoms else None
        self.buildings = list(buildings)
        self.b_lon = np.radians(np.array([b.lon for b in self.buildings], dtype=float))
        self.b_lat = np.radians(np.array([b.lat for b in self.buildings], dtype=float))

    def containing(self, lon: float, lat: float) -> list[UnitShape]:
        """Every unit whose outline contains the point (or has it on its edge)."""
        if self.tree is None:
            return []
        pt = shapely.Point(lon, lat)
        idx = self.tree.query(pt, predicate="intersects")
        return [self.units[i] for i in sorted(idx)]

    def nearest_building(self, lon: float, lat: float, max_m: float) -> tuple[UnitPoint, float] | None:
        if not self.buildings:
            return None
        p, lam = math.radians(lat), math.radians(lon)
        a = np.sin((self.b_lat - p) / 2) ** 2 + np.cos(p) * np.cos(self.b_lat) * np.sin((self.b_lon - lam) / 2) ** 2
        d = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        i = int(np.argmin(d))
        return (self.buildings[i], float(d[i])) if d[i] <= max_m else None

    def locate(self, lon: float, lat: float, *, nearest_m: float = 100.0) -> Hit | None:
        """The deepest unit of a community or below containing the point, else the nearest
        building within ``nearest_m``; None when the point is outside every community."""
        inside = [u for u in self.containing(lon, lat) if LEVEL_DEPTH.get(u.level, 0) >= 1]
        if inside:
            best = max(inside, key=lambda u: (LEVEL_DEPTH.get(u.level, 0), len(u.path)))
            if best.level == "building":
                return Hit(best.unit_id, best.level, best.path, "polygon")
            # Inside an area but not drawn into a building: a building right there is more precise.
            near = self.nearest_building(lon, lat, min(nearest_m, 30.0))
            if near is not None and near[0].path.startswith(best.path):
                return Hit(near[0].unit_id, "building", near[0].path, "nearest", near[1])
            return Hit(best.unit_id, best.level, best.path, "polygon")
        near = self.nearest_building(lon, lat, nearest_m)
        if near is not None:
            return Hit(near[0].unit_id, "building", near[0].path, "nearest", near[1])
        return None
