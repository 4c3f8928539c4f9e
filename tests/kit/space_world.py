"""Helpers for the space tests: put the ``world`` buildings on a map and draw shapes in metres."""

import math

from sqlalchemy import Engine, update

from renxing.db import transaction
from renxing.grid.models import GridUnit

LON0, LAT0 = 118.79, 32.06
KX = 111_320.0 * math.cos(math.radians(LAT0))
KY = 110_950.0

# x, y in metres east/north of (LON0, LAT0)
PLACES = {"B1": (0, 0), "B2": (200, 0), "B3": (900, 0), "A1": (0, 0), "A2": (200, 0), "A3": (900, 0)}


def ll(x: float, y: float) -> list[float]:
    return [round(LON0 + x / KX, 7), round(LAT0 + y / KY, 7)]


def square(cx: float, cy: float, half: float) -> dict:
    ring = [ll(cx - half, cy - half), ll(cx + half, cy - half), ll(cx + half, cy + half), ll(cx - half, cy + half)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def line(*pts: tuple[float, float]) -> dict:
    return {"type": "LineString", "coordinates": [ll(x, y) for x, y in pts]}


def place_world(engine: Engine, world) -> None:
    with transaction(engine) as s:
        for key, (x, y) in PLACES.items():
            lon, lat = ll(x, y)
            s.execute(update(GridUnit).where(GridUnit.id == world.units[key]).values(lon=lon, lat=lat))
