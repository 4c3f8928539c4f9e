"""Geometry for drawing: GeoJSON to Shapely (repaired when invalid), its polygons and lines, one
compound matplotlib path for polygons with holes, arrowheads and text angles along a line."""

import math
from collections.abc import Iterable

import numpy as np
import shapely
from matplotlib.path import Path as MplPath
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry


def geom(raw: dict | None) -> BaseGeometry | None:
    if not raw:
        return None
    try:
        g = shape(raw)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
        return None
    if g.is_empty:
        return None
    if not g.is_valid:
        g = shapely.make_valid(g)
    return g


def polygons(g: BaseGeometry | None) -> list[shapely.Polygon]:
    if g is None or g.is_empty:
        return []
    if g.geom_type == "Polygon":
        return [g]
    if hasattr(g, "geoms"):
        return [p for part in g.geoms for p in polygons(part)]
    return []


def lines(g: BaseGeometry | None) -> list[np.ndarray]:
    if g is None or g.is_empty:
        return []
    if g.geom_type in ("LineString", "LinearRing"):
        return [np.asarray(g.coords)[:, :2]]
    if hasattr(g, "geoms"):
        return [a for part in g.geoms for a in lines(part)]
    return []


def poly_path(polys: Iterable[shapely.Polygon]) -> MplPath | None:
    """One compound path (holes included) for polygons already in metres."""
    paths = []
    for p in polys:
        for ring in (p.exterior, *p.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
            codes[0] = MplPath.MOVETO
            codes[-1] = MplPath.CLOSEPOLY
            paths.append(MplPath(xy, codes))
    return MplPath.make_compound_path(*paths) if paths else None


def arrowhead(x: float, y: float, dx: float, dy: float, size: float, tip: bool = False) -> np.ndarray:
    """A triangle pointing along (dx, dy), centred on (x, y) — or with its tip at (x, y)."""
    n = math.hypot(dx, dy)
    ux, uy = dx / n, dy / n
    px, py = -uy, ux
    back = size if tip else size / 2
    front = 0.0 if tip else size / 2
    tx, ty = x + ux * front, y + uy * front
    bx, by = x - ux * back, y - uy * back
    half = size * 0.55
    return np.array([[tx, ty], [bx + px * half, by + py * half], [bx - px * half, by - py * half]])


def along(line: np.ndarray) -> tuple[float, float, float] | None:
    """Midpoint of a polyline's longest segment and an upright text angle along it."""
    if len(line) < 2:
        return None
    d = np.diff(line, axis=0)
    i = int(np.argmax(np.hypot(d[:, 0], d[:, 1])))
    (ax_, ay), (bx, by) = line[i], line[i + 1]
    angle = math.degrees(math.atan2(by - ay, bx - ax_))
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    return (ax_ + bx) / 2, (ay + by) / 2, angle
