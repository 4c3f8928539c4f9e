"""WGS-84 ↔ GCJ-02 ↔ BD-09, the three datums Chinese map data arrives in. Pure, no I/O.

- WGS-84: GPS, OpenStreetMap; what Renxing stores.
- GCJ-02 ("Mars coordinates"): the obfuscated datum required of maps published in China (AMap/Gaode,
  Tencent, Google China). The forward formula below is the widely published reconstruction on the
  Krasovsky 1940 ellipsoid.
- BD-09: Baidu's extra rotation/scaling on top of GCJ-02.

The forward directions (WGS-84 → GCJ-02 → BD-09) are closed formulas. The inverse directions have no
closed form: they are solved by fixed-point iteration on the forward formula until the forward image
of the answer is within :data:`INVERSE_TOLERANCE_M` (1 cm) of the input. The forward maps are near
translations (their Jacobian differs from the identity by ~1e-5), so the position error of the answer
is of the same size: far below the 0.5 m the platform promises.

Points outside China (the usual rough bounding box) pass unchanged in every direction, as the datums
are only applied to Chinese map data.
"""

import math
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import numpy as np

from renxing.i18n import _

# Krasovsky 1940, the ellipsoid the GCJ-02 formula is built on.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

INVERSE_TOLERANCE_M = 0.01
_MAX_ITER = 30
_M_PER_DEG = 111_320.0


class CRS(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


class UnknownCRS(ValueError):
    """A CRS name that is none of wgs84, gcj02, bd09 (or their usual spellings)."""

    def __init__(self, name: object):
        self.name = name
        super().__init__(_("未知坐标系 {name!r}，可用 wgs84、gcj02 或 bd09").format(name=name))


_ALIASES = {
    "wgs84": CRS.wgs84,
    "wgs-84": CRS.wgs84,
    "epsg:4326": CRS.wgs84,
    "crs84": CRS.wgs84,
    "urn:ogc:def:crs:ogc:1.3:crs84": CRS.wgs84,
    "urn:ogc:def:crs:epsg::4326": CRS.wgs84,
    "gcj02": CRS.gcj02,
    "gcj-02": CRS.gcj02,
    "gcj": CRS.gcj02,
    "bd09": CRS.bd09,
    "bd-09": CRS.bd09,
    "bd09ll": CRS.bd09,
}


def parse_crs(name: str | CRS | None) -> CRS:
    """The CRS for a user-supplied name; raises :class:`UnknownCRS` for anything else."""
    if isinstance(name, CRS):
        return name
    if not isinstance(name, str):
        raise UnknownCRS(name)
    crs = _ALIASES.get(name.strip().lower())
    if crs is None:
        raise UnknownCRS(name)
    return crs


def out_of_china(lon: float, lat: float) -> bool:
    """The usual rough rectangle; GCJ-02 is not applied outside it."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _transform_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def _wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd_to_gcj_guess(lon: float, lat: float) -> tuple[float, float]:
    """Baidu's published closed-form inverse; close (centimetres) but not exact: a starting point."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def _invert(
    forward: Callable[[float, float], tuple[float, float]], lon: float, lat: float, guess: tuple[float, float]
) -> tuple[float, float]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration x ← x − (forward(x) − target)."""
    x, y = guess
    tol_deg = INVERSE_TOLERANCE_M / _M_PER_DEG
    for _step in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        if abs(ex) * math.cos(math.radians(lat)) < tol_deg and abs(ey) < tol_deg:
            break
        x, y = x - ex, y - ey
    return x, y


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    return _wgs_to_gcj(lon, lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    gx, gy = _wgs_to_gcj(lon, lat)
    return _invert(_wgs_to_gcj, lon, lat, (2 * lon - gx, 2 * lat - gy))


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    return _gcj_to_bd(lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    return _invert(_gcj_to_bd, lon, lat, _bd_to_gcj_guess(lon, lat))


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    return _gcj_to_bd(*_wgs_to_gcj(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat

    def forward(x: float, y: float) -> tuple[float, float]:
        return _gcj_to_bd(*_wgs_to_gcj(x, y))

    return _invert(forward, lon, lat, gcj02_to_wgs84(*_bd_to_gcj_guess(lon, lat)))


_DIRECT: dict[tuple[CRS, CRS], Callable[[float, float], tuple[float, float]]] = {
    (CRS.wgs84, CRS.gcj02): wgs84_to_gcj02,
    (CRS.gcj02, CRS.wgs84): gcj02_to_wgs84,
    (CRS.gcj02, CRS.bd09): gcj02_to_bd09,
    (CRS.bd09, CRS.gcj02): bd09_to_gcj02,
    (CRS.wgs84, CRS.bd09): wgs84_to_bd09,
    (CRS.bd09, CRS.wgs84): bd09_to_wgs84,
}


def converter(src: str | CRS, dst: str | CRS) -> Callable[[float, float], tuple[float, float]]:
    """The point function from ``src`` to ``dst`` (identity when they are the same)."""
    s, d = parse_crs(src), parse_crs(dst)
    if s == d:
        return lambda lon, lat: (lon, lat)
    return _DIRECT[(s, d)]


def convert(lon: float, lat: float, src: str | CRS, dst: str | CRS) -> tuple[float, float]:
    return converter(src, dst)(lon, lat)


# ---- the same on numpy arrays: whole layers at once -------------------------------------------


def _np_outside(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


def _np_wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    return lon + dlon, lat + dlat


def _np_gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _np_wgs_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _np_gcj_to_bd(*_np_wgs_to_gcj(lon, lat))


def _np_invert(forward, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fixed-point iteration of :func:`_invert`, for every point at once (converged points stay put)."""
    fx, fy = forward(lon, lat)
    x, y = 2 * lon - fx, 2 * lat - fy
    tol = INVERSE_TOLERANCE_M / _M_PER_DEG
    coslat = np.cos(np.radians(lat))
    for _step in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        todo = (np.abs(ex) * coslat >= tol) | (np.abs(ey) >= tol)
        if not todo.any():
            break
        x = np.where(todo, x - ex, x)
        y = np.where(todo, y - ey, y)
    return x, y


_NP_FORWARD = {
    (CRS.wgs84, CRS.gcj02): _np_wgs_to_gcj,
    (CRS.gcj02, CRS.bd09): _np_gcj_to_bd,
    (CRS.wgs84, CRS.bd09): _np_wgs_to_bd,
}


def convert_arrays(lon: Any, lat: Any, src: str | CRS, dst: str | CRS) -> tuple[np.ndarray, np.ndarray]:
    """:func:`convert` on arrays of longitudes and latitudes (same results, tolerance as above)."""
    s, d = parse_crs(src), parse_crs(dst)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if s == d or lon.size == 0:
        return lon.copy(), lat.copy()
    inside = ~_np_outside(lon, lat)
    out_x, out_y = lon.copy(), lat.copy()
    x, y = lon[inside], lat[inside]
    if (s, d) in _NP_FORWARD:
        rx, ry = _NP_FORWARD[(s, d)](x, y)
    else:
        rx, ry = _np_invert(_NP_FORWARD[(d, s)], x, y)
    out_x[inside], out_y[inside] = rx, ry
    return out_x, out_y


def _positions(coords: Any, out: list[list]) -> None:
    if coords and isinstance(coords[0], int | float):
        out.append(coords)
    else:
        for c in coords:
            _positions(c, out)


def _rebuild(coords: Any, it: Any) -> Any:
    if coords and isinstance(coords[0], int | float):
        lon, lat = next(it)
        return [lon, lat, *coords[2:]]  # keep an elevation if there is one
    return [_rebuild(c, it) for c in coords]


def _geometries(geometry: dict, out: list[dict]) -> None:
    if geometry.get("type") == "GeometryCollection":
        for g in geometry.get("geometries", []):
            _geometries(g, out)
    elif "coordinates" in geometry:
        out.append(geometry)


def convert_geometry(geometry: dict, src: str | CRS, dst: str | CRS) -> dict:
    """A GeoJSON geometry (any type, including GeometryCollection) with every position converted.

    Returns a new dict; the input is not modified. Members other than the coordinates are kept.
    All positions are converted in one vectorised call.
    """
    s, d = parse_crs(src), parse_crs(dst)
    parts: list[dict] = []
    _geometries(geometry, parts)
    flat: list[list] = []
    for g in parts:
        _positions(g["coordinates"], flat)
    xs = np.array([float(p[0]) for p in flat], dtype=float)
    ys = np.array([float(p[1]) for p in flat], dtype=float)
    cx, cy = convert_arrays(xs, ys, s, d)
    it = iter(zip(cx.tolist(), cy.tolist(), strict=True))

    def rebuild(g: dict) -> dict:
        out = dict(g)
        if g.get("type") == "GeometryCollection":
            out["geometries"] = [rebuild(x) for x in g.get("geometries", [])]
        elif "coordinates" in g:
            out["coordinates"] = _rebuild(g["coordinates"], it)
        return out

    return rebuild(geometry)
