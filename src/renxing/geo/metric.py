"""Metres on a local plane: areas, lengths and buffers of WGS-84 geometries. Pure.

Within a community (a few kilometres) an equirectangular plane around the geometry's own centre is
accurate to well under 0.1 %, which is what areas of shelters and widths of buffers need.
"""

import math

import shapely
from shapely.geometry.base import BaseGeometry

M_PER_DEG_LAT = 110_950.0  # mean over China's latitudes; the same figure the demo layout uses
_M_PER_DEG_LON_EQ = 111_320.0


class LocalPlane:
    """x east, y north in metres around (lon0, lat0)."""

    def __init__(self, lon0: float, lat0: float):
        self.lon0, self.lat0 = lon0, lat0
        self.kx = _M_PER_DEG_LON_EQ * math.cos(math.radians(lat0))
        self.ky = M_PER_DEG_LAT

    @classmethod
    def around(cls, geom: BaseGeometry) -> "LocalPlane":
        c = geom.centroid if not geom.is_empty else shapely.Point(0, 0)
        return cls(c.x, c.y)

    def to_m(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda a: (a - (self.lon0, self.lat0)) * (self.kx, self.ky))

    def to_deg(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda a: a / (self.kx, self.ky) + (self.lon0, self.lat0))


def area_m2(geom: BaseGeometry) -> float:
    return float(LocalPlane.around(geom).to_m(geom).area)


def length_m(geom: BaseGeometry) -> float:
    return float(LocalPlane.around(geom).to_m(geom).length)


def buffer_m(geom: BaseGeometry, metres: float, plane: LocalPlane | None = None) -> BaseGeometry:
    """The geometry grown by ``metres`` (a circle around a point), back in lon/lat."""
    plane = plane or LocalPlane.around(geom)
    return plane.to_deg(plane.to_m(geom).buffer(metres, quad_segs=16))
