"""The demo street's layout: blocks, rectangles, building footprints and the little geography
around them (a river, a park, roads). Pure: plain numbers in, GeoJSON dicts out.

Work is done in metres on a local plane centred on the street, then turned into WGS-84
longitude and latitude; over two kilometres the flat-earth error is far below a metre.
"""

import json
import math
import random
from dataclasses import dataclass

# The street's centre, in Nanjing's old city between Gulou and Qinhuai (WGS-84).
ORIGIN_LON = 118.776
ORIGIN_LAT = 32.052
_M_PER_DEG_LAT = 110_950.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(ORIGIN_LAT))
M_PER_DEG_LAT, M_PER_DEG_LON = _M_PER_DEG_LAT, _M_PER_DEG_LON  # for code converting back to metres

# The street's boundary in local metres (x east, y north).
STREET_BOUNDS = (-820.0, -530.0, 850.0, 520.0)


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def inset(self, d: float) -> "Rect":
        d = min(d, self.width / 4, self.height / 4)
        return Rect(self.x0 + d, self.y0 + d, self.x1 - d, self.y1 - d)

    def corners(self) -> list[tuple[float, float]]:
        return [(self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1), (self.x0, self.y1)]


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    return round(ORIGIN_LON + x / _M_PER_DEG_LON, 6), round(ORIGIN_LAT + y / _M_PER_DEG_LAT, 6)


def polygon(points: list[tuple[float, float]]) -> dict:
    """A GeoJSON Polygon from a ring of local points (closed here)."""
    ring = [list(to_lonlat(x, y)) for x, y in points]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def line(points: list[tuple[float, float]]) -> dict:
    return {"type": "LineString", "coordinates": [list(to_lonlat(x, y)) for x, y in points]}


def dumps(geometry: dict) -> str:
    return json.dumps(geometry, separators=(",", ":"))


def split(rect: Rect, shares: list[float], gap: float) -> list[Rect]:
    """Cut a rectangle across its longer side into pieces proportional to ``shares``."""
    total = sum(shares) or 1.0
    along_x = rect.width >= rect.height
    length = (rect.width if along_x else rect.height) - gap * (len(shares) - 1)
    out: list[Rect] = []
    pos = rect.x0 if along_x else rect.y0
    for share in shares:
        size = length * share / total
        if along_x:
            out.append(Rect(pos, rect.y0, pos + size, rect.y1))
        else:
            # From north to south, so that numbering reads like a map.
            top = rect.y1 - (pos - rect.y0)
            out.append(Rect(rect.x0, top - size, rect.x1, top))
        pos += size + gap
    return out


def grid_cells(rect: Rect, n: int, slot_w: float, slot_h: float) -> list[Rect]:
    """``n`` cells in reading order (rows from the north), shaped as close to a slot as fits."""
    if n <= 0:
        return []
    cols = max(1, math.ceil(math.sqrt(n * rect.width * slot_h / (rect.height * slot_w))))
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    cw, ch = rect.width / cols, rect.height / rows
    cells = []
    for i in range(n):
        r, c = divmod(i, cols)
        x0 = rect.x0 + c * cw
        y1 = rect.y1 - r * ch
        cells.append(Rect(x0, y1 - ch, x0 + cw, y1))
    return cells


def footprint(
    cell: Rect, width: float, depth: float, angle_deg: float, rng: random.Random
) -> list[tuple[float, float]]:
    """A building's rotated rectangle inside a cell, a little off centre as real ones are."""
    w = min(width, cell.width * 0.8)
    d = min(depth, cell.height * 0.6)
    cx, cy = cell.centre
    cx += rng.uniform(-0.05, 0.05) * cell.width
    cy += rng.uniform(-0.05, 0.05) * cell.height
    a = math.radians(angle_deg)
    ca, sa = math.cos(a), math.sin(a)
    pts = []
    for dx, dy in ((-w / 2, -d / 2), (w / 2, -d / 2), (w / 2, d / 2), (-w / 2, d / 2)):
        pts.append((cx + dx * ca - dy * sa, cy + dx * sa + dy * ca))
    return pts


# ---- the geography around the street ----------------------------------------------------

RIVER_NAME = "清溪河"
PARK_NAME = "清溪河滨公园"
# The park: a green strip along the river in the south-east, an evacuation open space.
PARK_RECT = Rect(320.0, -505.0, 790.0, -400.0)
# (name, width in metres, points in local metres)
ROADS: tuple[tuple[str, float, tuple[tuple[float, float], ...]], ...] = (
    ("清溪路", 30.0, ((-860.0, 0.0), (880.0, 0.0))),
    ("凤栖路", 24.0, ((-860.0, 520.0), (880.0, 520.0))),
    ("桂花路", 20.0, ((-820.0, -560.0), (-820.0, 560.0))),
    ("银杏路", 20.0, ((0.0, 0.0), (0.0, 520.0))),
    ("安康路", 16.0, ((-250.0, -530.0), (-250.0, 0.0))),
    ("锦绣路", 16.0, ((300.0, -530.0), (300.0, 0.0))),
    ("滨河路", 14.0, ((-820.0, -530.0), (850.0, -530.0))),
)
_RIVER = (
    (-900.0, -575.0),
    (-500.0, -562.0),
    (-100.0, -588.0),
    (300.0, -566.0),
    (700.0, -556.0),
    (860.0, -480.0),
    (885.0, -200.0),
    (872.0, 100.0),
    (892.0, 560.0),
)


def river_points(seed: int) -> list[tuple[float, float]]:
    """The river's course; the seed only shifts its bends by a few metres."""
    rng = random.Random(f"river-{seed}")
    pts = list(_RIVER)
    return [pts[0], *[(x + rng.uniform(-8, 8), y + rng.uniform(-8, 8)) for x, y in pts[1:-1]], pts[-1]]


def demo_geography(seed: int = 2023) -> dict:
    """A FeatureCollection of the river, the park and the roads of the demo street (WGS-84)."""
    features = [
        {
            "type": "Feature",
            "geometry": line(river_points(seed)),
            "properties": {"kind": "river", "name": RIVER_NAME, "width_m": 40},
        },
        {
            "type": "Feature",
            "geometry": polygon(PARK_RECT.corners()),
            "properties": {"kind": "park", "name": PARK_NAME, "area_m2": round(PARK_RECT.width * PARK_RECT.height)},
        },
    ]
    for name, width, pts in ROADS:
        features.append(
            {
                "type": "Feature",
                "geometry": line(list(pts)),
                "properties": {"kind": "road", "name": name, "width_m": width},
            }
        )
    return {"type": "FeatureCollection", "features": features}
