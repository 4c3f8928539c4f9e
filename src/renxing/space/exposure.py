"""Which buildings lie in a hazard zone (or in any zone of a scenario), and tallies of who lives there. Pure.

A building is exposed when its outline overlaps a zone, or, when it has no outline, when its
representative point lies in (or on the edge of) a zone.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from renxing.geo.outlines import parse_geojson


@dataclass(frozen=True)
class BuildingShape:
    id: int
    lon: float | None
    lat: float | None
    geometry: str | None  # GeoJSON text of the outline, if drawn


def exposed_buildings(zones: Sequence[BaseGeometry], buildings: Sequence[BuildingShape]) -> dict[int, list[int]]:
    """Building id → indices of the zones it lies in (only buildings in at least one zone)."""
    hits: dict[int, list[int]] = {}
    outlined: list[tuple[int, BaseGeometry]] = []
    pts: list[BuildingShape] = []
    for b in buildings:
        geom = parse_geojson(b.geometry) if b.geometry else None
        if geom is not None and geom.geom_type in ("Polygon", "MultiPolygon"):
            outlined.append((b.id, geom))
        elif b.lon is not None and b.lat is not None:
            pts.append(b)
    xs = np.array([b.lon for b in pts], dtype=float)
    ys = np.array([b.lat for b in pts], dtype=float)
    tree = shapely.STRtree([g for _, g in outlined]) if outlined else None
    for zi, zone in enumerate(zones):
        if zone is None or zone.is_empty:
            continue
        shapely.prepare(zone)
        if len(pts):
            inside = shapely.intersects_xy(zone, xs, ys)
            for k in np.flatnonzero(inside):
                hits.setdefault(pts[k].id, []).append(zi)
        if tree is not None:
            for k in tree.query(zone, predicate="intersects"):
                # touching the zone's edge only is not being in it
                if outlined[k][1].intersection(zone).area > 0:
                    hits.setdefault(outlined[k][0], []).append(zi)
    return hits


def tally_tags(tag_lists: Iterable[Iterable[str]], visible: Iterable[str]) -> dict[str, int]:
    """How many residents carry each visible tag (every visible tag listed, zero included)."""
    keep = list(visible)
    counts: Counter[str] = Counter()
    for tags in tag_lists:
        counts.update(t for t in set(tags) if t in keep)
    return {t: counts.get(t, 0) for t in keep}
