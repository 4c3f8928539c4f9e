"""Which buildings lie inside a warned area. Pure: plain values in, building ids out.

The area is a GeoJSON polygon (WGS-84): the one staff drew, or the outline of the warned unit.
A building counts by its representative point (``grid_units`` lon/lat); a point on the edge is
inside. The test runs vectorised over all buildings at once (shapely 2 ``intersects_xy`` on numpy
arrays against the prepared polygon), so 5,000 buildings take a millisecond.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from renxing.geo.outlines import parse_geojson

POLYGONAL = ("Polygon", "MultiPolygon")


class BadArea(ValueError):
    """The GeoJSON text describes no polygonal area."""


@dataclass(frozen=True)
class Place:
    """A building as the selection sees it: its id and its point, when it has one."""

    id: int
    lon: float | None
    lat: float | None


def area_of(text: str) -> BaseGeometry:
    """The polygonal area a GeoJSON geometry (or Feature) describes, made valid when it crosses
    itself; :class:`BadArea` when it describes none."""
    geom = parse_geojson(text)
    if geom is None or geom.is_empty:
        raise BadArea("no geometry")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in POLYGONAL]
        geom = shapely.union_all(parts) if parts else None
        if geom is None or geom.is_empty:
            raise BadArea("no valid polygon")
    if geom.geom_type not in POLYGONAL:
        raise BadArea(f"a {geom.geom_type} is not an area")
    return geom


def inside(area: BaseGeometry, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Which of the points lie inside or on the edge of ``area`` (NaN coordinates: not inside)."""
    hit = np.zeros(len(lons), dtype=bool)
    located = ~(np.isnan(lons) | np.isnan(lats))
    if located.any():
        shapely.prepare(area)
        hit[located] = shapely.intersects_xy(area, lons[located], lats[located])
    return hit


def chosen(places: Sequence[Place], area: BaseGeometry | None, *, keep_unlocated: bool) -> list[int]:
    """The ids of the buildings inside ``area`` (all of them when there is none). A building
    without a point cannot be placed: kept when ``keep_unlocated`` (it belongs to the warned unit by
    the register), else left out."""
    if area is None:
        return [p.id for p in places]
    lons = np.array([np.nan if p.lon is None else p.lon for p in places], dtype=float)
    lats = np.array([np.nan if p.lat is None else p.lat for p in places], dtype=float)
    keep = inside(area, lons, lats)
    if keep_unlocated:
        keep |= np.isnan(lons) | np.isnan(lats)
    return [p.id for p, k in zip(places, keep.tolist(), strict=True) if k]
