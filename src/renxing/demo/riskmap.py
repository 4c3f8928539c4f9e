"""The emergency resources the demo's risk maps show: in each community a health station (社区卫生服务站),
an emergency supply store (应急物资储备点) and a mini fire station (微型消防站), as base-map POIs.

Each is put beside one of the community's lanes, on open ground (clear of buildings, shelters and the
deeper flood bands): the health station near the middle of the community, the supply store next to
its largest open shelter, the fire station at the corner nearest the street's main crossroads.
Deterministic from the seed.
"""

import json
import random

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.principal import SYSTEM
from renxing.demo import geo
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import subtree_clause
from renxing.i18n import bilingual
from renxing.space.models import FeatureLayer, HazardZone, MapFeature, Road, Shelter, ShelterStatus

_ORIGIN = (geo.ORIGIN_LON, geo.ORIGIN_LAT)
_SCALE = (geo.M_PER_DEG_LON, geo.M_PER_DEG_LAT)
CLEARANCE_M = 8.0  # from any building outline


def _local(text: str | None) -> BaseGeometry | None:
    if not text:
        return None
    g = shape(json.loads(text))
    return None if g.is_empty else shapely.transform(g, lambda a: (a - _ORIGIN) * _SCALE)


def _point_json(p: Point) -> str:
    lon, lat = geo.to_lonlat(p.x, p.y)
    return json.dumps({"type": "Point", "coordinates": [lon, lat]}, separators=(",", ":"))


def _spots(
    roads: list[BaseGeometry], blocked: BaseGeometry | None, area: BaseGeometry, rng: random.Random
) -> list[Point]:
    """Open points a few metres off the lanes, inside the community."""
    out = []
    for line in roads:
        if line.length < 30:
            continue
        for t in (0.3, 0.5, 0.7):
            mid = line.interpolate(t, normalized=True)
            ahead = line.interpolate(min(t + 0.02, 1.0), normalized=True)
            dx, dy = ahead.x - mid.x, ahead.y - mid.y
            n = (dx * dx + dy * dy) ** 0.5 or 1.0
            side = rng.choice((-1, 1))
            for s in (side, -side):
                p = Point(mid.x - dy / n * 9 * s, mid.y + dx / n * 9 * s)
                if area.contains(p) and (blocked is None or blocked.distance(p) > CLEARANCE_M):
                    out.append(p)
                    break
    return out


def add_resources(session: Session, *, seed: int = 2023) -> int:
    """Write the POIs of every community; returns how many."""
    rng = random.Random(f"riskmap-{seed}")
    communities = list(
        session.scalars(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.id))
    )
    added: list[MapFeature] = []
    for c in communities:
        area = _local(c.geometry)
        if area is None:
            continue
        blocked_parts = [
            g
            for u in session.scalars(
                select(GridUnit).where(GridUnit.level == Level.building.value, subtree_clause(GridUnit.path, c.path))
            )
            if (g := _local(u.geometry)) is not None
        ]
        shelters = list(session.scalars(select(Shelter).where(Shelter.unit_id == c.id)))
        blocked_parts += [g for s in shelters if (g := _local(s.geometry)) is not None]
        zones = session.scalars(select(HazardZone).where(HazardZone.unit_id == c.id, HazardZone.level >= 3))
        blocked_parts += [g for z in zones if (g := _local(z.geometry)) is not None]
        blocked = shapely.union_all(blocked_parts) if blocked_parts else None
        lanes = [
            g
            for r in session.scalars(select(Road).where(Road.unit_id == c.id).order_by(Road.id))
            if r.kind in ("service", "residential", "living_street") and (g := _local(r.geometry)) is not None
        ]
        spots = _spots(lanes, blocked, area, rng)
        if len(spots) < 3:
            continue
        open_shelters = [s for s in shelters if s.status == ShelterStatus.open.value and s.geometry]
        biggest = max(open_shelters, key=lambda s: s.capacity, default=None)
        shelter_at = _local(biggest.geometry).centroid if biggest is not None else area.centroid
        corner = min(
            (Point(x, y) for x, y in area.exterior.coords) if area.geom_type == "Polygon" else [area.centroid],
            key=lambda p: p.distance(Point(0, 0)),
        )
        short = c.name.removesuffix("社区")
        wanted = [
            ("clinic", f"{short}社区卫生服务站", area.centroid),
            ("supply_point", f"{short}社区应急物资储备点", shelter_at),
            ("fire_station", f"{short}社区微型消防站", corner),
        ]
        for kind, name, target in wanted:
            spot = min(spots, key=lambda p, t=target: p.distance(t))
            spots = [p for p in spots if p.distance(spot) > 40] or spots
            added.append(
                MapFeature(
                    unit_id=c.id,
                    layer=FeatureLayer.poi.value,
                    kind=kind,
                    name=name,
                    geometry=_point_json(spot),
                    props={"source": "demo"},
                )
            )
    session.add_all(added)
    session.flush()
    audit.record(
        session,
        SYSTEM,
        "import",
        "space.demo",
        None,
        summary=bilingual("演示应急资源点", len=len(added)),
        after={"pois": len(added)},
    )
    return len(added)
