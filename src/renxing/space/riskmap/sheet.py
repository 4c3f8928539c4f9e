"""The map frame on its local metric plane: the data's geometry in metres, the extent that fits
the frame's aspect, the scale, and what the drawing steps leave for the later ones."""

from collections import defaultdict
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from renxing.geo.metric import LocalPlane
from renxing.space.riskmap.inputs import RiskMapData, RoadLine, ShelterArea, Site
from renxing.space.riskmap.shapes import geom
from renxing.space.riskmap.style import frame_mm


class Sheet:
    """One drawing of the map: the data, its plane and extent, and the matplotlib objects."""

    def __init__(self, data: RiskMapData, dpi: int):
        self.data = data
        self.dpi = dpi
        self.counts: dict[str, int] = defaultdict(int)
        self.legend: list[str] = []
        self.boundary = geom(data.boundary)
        self.zones = [(z, geom(z.geometry)) for z in data.hazard_zones]
        self.buildings = [(b, geom(b.geometry)) for b in data.buildings]
        self.shelters = [(s, geom(s.geometry)) for s in data.shelters]
        self.roads = [(r, geom(r.geometry)) for r in data.roads]
        lon0, lat0, lon1, lat1 = data.bounds if data.bounds is not None else self._fit()
        self.plane = LocalPlane((lon0 + lon1) / 2, (lat0 + lat1) / 2)
        self.extent = self._extent(lon0, lat0, lon1, lat1)
        _, _, fw, _ = frame_mm()
        x0, x1, _, _ = self.extent
        self.m_per_mm = (x1 - x0) / fw  # ground metres per paper millimetre
        # Symbol widths scale a little with the map scale so a district-sized map is not all roads.
        self.k = float(np.clip(4.5 / self.m_per_mm, 0.55, 1.4))
        # Set by the drawing steps (render.draw), read by the later ones.
        self.fig: Any = None
        self.ax: Any = None
        self.renderer: Any = None
        self.labels: Any = None
        self.road_lines: list[tuple[RoadLine, list[np.ndarray]]] = []
        self.shelter_marks: list[tuple[ShelterArea, float, float]] = []
        self.sites: dict[str, list[Site]] = {}

    def _fit(self) -> tuple[float, float, float, float]:
        """Bounds that take in everything drawn (roads only when there is nothing else)."""
        d = self.data
        parts: list[BaseGeometry] = []
        parts += [x for x in (self.boundary,) if x is not None]
        parts += [x for _, x in self.buildings if x is not None]
        parts += [x for _, x in self.zones if x is not None]
        parts += [x for _, x in self.shelters if x is not None]
        pts = [(s.lon, s.lat) for s in self.all_sites()]
        pts += [(s.lon, s.lat) for s in d.shelters if s.lon is not None and s.lat is not None]
        pts += [(c[0], c[1]) for r in d.routes for c in r.coords]
        if pts:
            parts.append(shapely.MultiPoint(pts))
        if not parts:
            parts += [x for _, x in self.roads if x is not None]
        if not parts:
            raise ValueError("nothing to draw: no geometry and no bounds")
        lon0, lat0, lon1, lat1 = shapely.GeometryCollection(parts).bounds
        return lon0, lat0, lon1, lat1

    def _extent(self, lon0: float, lat0: float, lon1: float, lat1: float) -> tuple[float, float, float, float]:
        """The bounds in metres, padded, and widened on the short side to the frame's aspect."""
        kx, ky = self.plane.kx, self.plane.ky
        x0, x1 = (lon0 - self.plane.lon0) * kx, (lon1 - self.plane.lon0) * kx
        y0, y1 = (lat0 - self.plane.lat0) * ky, (lat1 - self.plane.lat0) * ky
        pad = max(x1 - x0, y1 - y0, 50.0) * 0.06
        x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
        _, _, fw, fh = frame_mm()
        w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        if w / h > fw / fh:
            extra = w * fh / fw - h
            y0, y1 = y0 - extra / 2, y1 + extra / 2
        else:
            extra = h * fw / fh - w
            x0, x1 = x0 - extra / 2, x1 + extra / 2
        return x0, x1, y0, y1

    def all_sites(self) -> list[Site]:
        d = self.data
        return [*d.risk_points, *d.supply_points, *d.clinics, *d.fire_stations]

    def inside(self, x: float, y: float) -> bool:
        x0, x1, y0, y1 = self.extent
        return x0 <= x <= x1 and y0 <= y <= y1

    def m(self, g: BaseGeometry) -> BaseGeometry:
        return self.plane.to_m(g)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.plane.lon0) * self.plane.kx, (lat - self.plane.lat0) * self.plane.ky
