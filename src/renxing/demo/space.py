"""The demo street's space layers: road network, hazard zones, risk points, passages, reserved land, shelters.

Built from the grid already written (communities, compounds, areas and building footprints), in
local metres (see :mod:`renxing.demo.geo`), deterministic from the seed:

- a walkable network: the street's roads, a ring lane round every compound and every area, gates
  from each compound to the two nearest streets, a lane from each area to its compound's ring and a
  footway to every building; all lines are noded together (on a 1 cm grid), so each stored road is a
  segment whose end vertices are shared at junctions and a graph can be built from them;
- flood zones in bands along the river with depth classes, a fire-risk zone over the old estate's
  block of worn wiring, buffers round a petrol station, a substation, an LPG depot and a chemical store;
- emergency passages (the compound rings; those of the old estates are narrower than 4 m);
- a plot of land kept free in each community;
- 4-8 open shelters per community of fitting kinds, placed on open ground between buildings, plus a
  school playground and a gym as closed conversion candidates.
"""

import json
import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point, box, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.principal import SYSTEM
from renxing.demo import geo
from renxing.grid.models import GridUnit, Level
from renxing.i18n import bilingual
from renxing.space.features import shelter_capacity
from renxing.space.models import HazardZone, Passage, ReservedLand, RiskPoint, Road, Shelter

GRID = 0.01  # metres: the noding precision


_ORIGIN = (geo.ORIGIN_LON, geo.ORIGIN_LAT)
_SCALE = (geo.M_PER_DEG_LON, geo.M_PER_DEG_LAT)


def _to_local(g: BaseGeometry) -> BaseGeometry:
    return shapely.transform(g, lambda a: (a - _ORIGIN) * _SCALE)


def _to_lonlat(g: BaseGeometry) -> dict:
    out = shapely.transform(g, lambda a: a / _SCALE + _ORIGIN)
    return json.loads(json.dumps(mapping(shapely.set_precision(out, 1e-7))))


def _dump(g: BaseGeometry) -> str:
    return json.dumps(_to_lonlat(g), separators=(",", ":"))


@dataclass
class _Unit:
    id: int
    parent_id: int | None
    level: str
    name: str
    kind: str | None
    geom: BaseGeometry  # local metres


@dataclass
class SpaceSummary:
    roads: int = 0
    hazard_zones: int = 0
    risk_points: int = 0
    passages: int = 0
    reserved_land: int = 0
    shelters: int = 0
    candidates: int = 0


MAIN_KIND = {30.0: "primary", 24.0: "secondary", 20.0: "secondary", 16.0: "tertiary", 14.0: "residential"}
NARROW_HOUSING = ("walkup_1980s", "workunit_1960s")  # old estates: lanes narrower than a fire lane


def _load(session: Session) -> dict[int, _Unit]:
    units = {}
    for u in session.scalars(select(GridUnit).where(GridUnit.geometry.is_not(None))):
        units[u.id] = _Unit(u.id, u.parent_id, u.level, u.name, u.kind, _to_local(shape(json.loads(u.geometry))))
    return units


def _network(units: dict[int, _Unit]) -> tuple[list[tuple[LineString, str, str, float]], dict[int, LineString]]:
    """Source lines (geometry, kind, name, width) before noding, and each compound's ring."""
    lines: list[tuple[LineString, str, str, float]] = []
    mains = []
    for name, width, pts in geo.ROADS:
        ls = LineString(pts)
        mains.append((ls, name))
        lines.append((ls, MAIN_KIND.get(width, "residential"), name, width))
    rings: dict[int, LineString] = {}
    children: dict[int, list[_Unit]] = defaultdict(list)
    for u in units.values():
        if u.parent_id is not None:
            children[u.parent_id].append(u)
    for comp in sorted((u for u in units.values() if u.level == Level.compound.value), key=lambda u: u.id):
        narrow = comp.kind in NARROW_HOUSING
        ring = LineString(comp.geom.exterior.coords)
        rings[comp.id] = ring
        lines.append((ring, "residential", f"{comp.name}环路", 3.5 if narrow else 6.0))
        # gates to the two nearest streets
        by_dist = sorted(mains, key=lambda m: m[0].distance(ring))
        for road, road_name in by_dist[:2]:
            a, b = nearest_points(ring, road)
            if a.distance(b) > 0.05:
                lines.append((LineString([a, b]), "residential", f"{comp.name}{road_name}出入口", 6.0))
        for area in sorted((c for c in children[comp.id] if c.level == Level.area.value), key=lambda u: u.id):
            aring = LineString(area.geom.exterior.coords)
            lines.append((aring, "service", f"{comp.name}{area.name}巷", 3.0 if narrow else 4.5))
            a, b = nearest_points(aring, ring)
            if a.distance(b) > 0.05:
                lines.append((LineString([a, b]), "service", f"{comp.name}{area.name}支路", 4.0))
            for b_unit in children[area.id]:
                if b_unit.level != Level.building.value:
                    continue
                c = b_unit.geom.centroid
                p = nearest_points(c, aring)[1]
                if c.distance(p) > 0.05:
                    lines.append((LineString([c, p]), "footway", f"{b_unit.name}入户道", 2.0))
    return lines, rings


def _node(lines: list[tuple[LineString, str, str, float]]) -> list[tuple[LineString, str, str, float]]:
    """Split every line at every crossing; each piece keeps the attributes of the line it lies on."""
    merged = shapely.union_all([ln for ln, *_ in lines], grid_size=GRID)
    pieces = list(getattr(merged, "geoms", [merged]))
    tree = shapely.STRtree([ln for ln, *_ in lines])
    out = []
    for piece in pieces:
        if piece.length < GRID:
            continue
        mid = piece.interpolate(0.5, normalized=True)
        near = tree.query(mid, predicate="dwithin", distance=0.05)
        if len(near) == 0:
            near = [int(tree.nearest(mid))]
        src = lines[min(near)]  # the earliest source wins: streets before lanes before footways
        out.append((piece, src[1], src[2], src[3]))
    return out


def _free_rects(
    region: BaseGeometry, obstacles: list[BaseGeometry], sizes: list[tuple[float, float]], n: int, rng: random.Random
) -> list[BaseGeometry]:
    """Up to ``n`` axis-aligned rectangles of the given sizes (largest first) in ``region``, clear of
    ``obstacles`` and 25 m from each other, spread out."""
    x0, y0, x1, y1 = region.bounds
    tree = shapely.STRtree(obstacles)
    shapely.prepare(region)
    placed: list[BaseGeometry] = []
    for w, h in sizes:
        if len(placed) >= n:
            break
        xs = np.arange(x0 + w / 2, x1 - w / 2, 6.0)
        ys = np.arange(y0 + h / 2, y1 - h / 2, 6.0)
        if not len(xs) or not len(ys):
            continue
        gx, gy = np.meshgrid(xs, ys)
        cx, cy = gx.ravel(), gy.ravel()
        rects = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        ok = shapely.contains(region, rects)
        hit = tree.query(rects, predicate="intersects")
        ok[np.unique(hit[0])] = False
        fitting = [rects[i] for i in np.flatnonzero(ok)]
        rng.shuffle(fitting)
        while fitting and len(placed) < n:
            best = max(fitting, key=lambda r: min((r.distance(p) for p in placed), default=1e9))
            placed.append(best)
            fitting = [r for r in fitting if r.distance(best) > 25]
    return placed


# (kind, size options in metres, share of the outline that is effective area, class, facilities, exits)
_OPEN_KINDS = [
    ("square", "广场", 0.7, "III", ["water", "toilets", "power"], 2),
    ("park", "绿地", 0.6, "III", ["water", "toilets"], 3),
    ("square", "健身广场", 0.7, "III", ["power"], 2),
    ("park", "街心花园", 0.6, "III", ["water"], 1),
    ("square", "小广场", 0.7, "III", [], 2),
]
_SIZES = [(45.0, 30.0), (40.0, 18.0), (30.0, 14.0), (24.0, 12.0)]


def add_space(session: Session, *, seed: int = 2023) -> SpaceSummary:
    """Write the space layers of the demo street (already written to ``session``)."""
    rng = random.Random(f"space-{seed}")
    units = _load(session)
    communities = sorted((u for u in units.values() if u.level == Level.community.value), key=lambda u: u.id)
    if not communities:
        return SpaceSummary()
    summary = SpaceSummary()
    lines, rings = _network(units)
    pieces = _node(lines)

    def community_of(g: BaseGeometry) -> _Unit:
        c = g.centroid if not g.is_empty else Point(0, 0)
        return min(communities, key=lambda u: u.geom.distance(c))

    roads = [
        Road(
            unit_id=community_of(p).id,
            name=name,
            kind=kind,
            width_m=width,
            walkable=True,
            geometry=_dump(p),
        )
        for p, kind, name, width in pieces
    ]
    session.add_all(roads)
    summary.roads = len(roads)

    # ---- hazards ----
    river = LineString(geo.river_points(seed))
    bands = [(0, 80, 4, ">1"), (80, 160, 3, "0.5-1"), (160, 260, 2, "0.3-0.5"), (260, 360, 1, "<0.3")]
    zones: list[HazardZone] = []
    for lo, hi, level, depth in bands:
        band = river.buffer(hi)
        if lo:
            band = band.difference(river.buffer(lo))
        for c in communities:
            part = band.intersection(c.geom)
            if part.area > 200:
                part = shapely.make_valid(part)
                zones.append(
                    HazardZone(
                        unit_id=c.id,
                        name=f"{c.name}{geo.RIVER_NAME}内涝区（{depth} m）",
                        kind="flood",
                        level=level,
                        depth_class=depth,
                        geometry=_dump(part),
                        note=bilingual("沿河 {lo}-{hi} m 积水", lo=lo, hi=hi),
                    )
                )
    flagship = communities[0]
    old_buildings = [
        u for u in units.values() if u.level == Level.building.value and flagship.geom.contains(u.geom.centroid)
    ]
    points: list[tuple[RiskPoint, float, int]] = []
    if len(old_buildings) >= 6:
        # The old estate lies off the river, but its 1980s drains overflow in a rainstorm: the low
        # south-west corner of the courtyards stands in water (a waterlogging spot, 内涝积水点).
        corner = sorted(old_buildings, key=lambda b: b.geom.centroid.x + b.geom.centroid.y)
        low = corner[: max(3, len(old_buildings) // 10)]
        zones.append(
            HazardZone(
                unit_id=flagship.id,
                name=f"{flagship.name}低洼庭院积水区（0.3-0.5 m）",
                kind="flood",
                level=2,
                depth_class="0.3-0.5",
                geometry=_dump(shapely.union_all([b.geom for b in low]).convex_hull.buffer(15)),
                note=bilingual("老旧小区排水管网标准低，暴雨时低洼庭院积水"),
            )
        )
    if old_buildings:
        centre = shapely.union_all([b.geom for b in old_buildings]).centroid
        block = sorted(old_buildings, key=lambda b: b.geom.centroid.distance(centre))[:6]
        hull = shapely.union_all([b.geom for b in block]).convex_hull.buffer(12)
        zones.append(
            HazardZone(
                unit_id=flagship.id,
                name=f"{flagship.name}老旧电线火灾风险区",
                kind="fire",
                level=3,
                geometry=_dump(hull),
                note=bilingual("1980年代砖混楼，线路老化、电动车楼道充电"),
            )
        )
        c = hull.centroid
        points.append((RiskPoint(unit_id=flagship.id, name="老旧电线楼栋群", kind="old_wiring"), 0.0, -1))
        points[-1][0].geometry = _dump(c)
    # Hazardous facilities at fixed places of the plan, each in the community whose block holds it.
    facilities = [
        ("清溪路加油站", "petrol_station", (-700.0, -34.0), 50.0, 3),
        ("凤栖变电站", "substation", (560.0, 470.0), 30.0, 2),
        ("安康液化气供应站", "gas_station", (100.0, -470.0), 40.0, 3),
        ("滨河化工仓库", "chemical_store", (700.0, -360.0), 30.0, 2),
    ]
    for name, kind, xy, buffer, level in facilities:
        p = Point(xy)
        owner = community_of(p)
        rp = RiskPoint(unit_id=owner.id, name=name, kind=kind, buffer_m=buffer, geometry=_dump(p))
        points.append((rp, buffer, level))
    for rp, _, _ in points:
        pt = json.loads(rp.geometry)
        rp.lon, rp.lat = pt["coordinates"]
        rp.note = rp.note or bilingual("演示数据")
    session.add_all([rp for rp, _, _ in points])
    session.flush()
    for rp, buffer, level in points:
        if buffer > 0:
            circle = _to_local(shape(json.loads(rp.geometry))).buffer(buffer, quad_segs=16)
            zones.append(
                HazardZone(
                    unit_id=rp.unit_id,
                    name=f"{rp.name}{int(buffer)}米缓冲区",
                    kind="facility_buffer",
                    level=level,
                    source_point_id=rp.id,
                    geometry=_dump(circle),
                )
            )
    session.add_all(zones)
    summary.hazard_zones, summary.risk_points = len(zones), len(points)

    # ---- passages: the compound rings are the fire lanes ----
    passages = []
    for comp_id, ring in rings.items():
        comp = units[comp_id]
        narrow = comp.kind in NARROW_HOUSING
        width = round(rng.uniform(3.0, 3.8), 1) if narrow else round(rng.uniform(4.5, 7.0), 1)
        passages.append(
            Passage(
                unit_id=community_of(ring).id,
                name=f"{comp.name}消防通道",
                width_m=width,
                geometry=_dump(ring),
                note=bilingual("两侧停车挤占") if narrow else None,
            )
        )
    session.add_all(passages)
    summary.passages = len(passages)

    # ---- open ground: reserved land and shelters ----
    buildings = [u.geom for u in units.values() if u.level == Level.building.value]
    lanes = [p for p, kind, *_ in pieces if kind in ("service", "residential", "primary", "secondary", "tertiary")]
    obstacles = [g.buffer(3) for g in buildings] + [ln.buffer(2) for ln in lanes]
    # Planners keep shelters off deeply flooded ground; shallow bands may still hold one (a check finds it).
    obstacles += [_to_local(shape(json.loads(z.geometry))) for z in zones if z.kind == "flood" and z.level >= 3]
    shelters: list[Shelter] = []
    reserved: list[ReservedLand] = []
    for ci, c in enumerate(communities):
        crng = random.Random(f"space-{seed}-{c.name}")  # names, not ids: the same street for the same seed
        big = ci == 0 or c.kind == "riverside"  # these also get the large open spaces below
        extras = 1 + (2 if c.kind == "riverside" else 1 if big else 0)  # the air-defence work and those
        n_open = max(1, 5 + crng.randint(0, 3) - extras)  # 5-8 open shelters in all
        region = c.geom.buffer(-2)
        rects = _free_rects(region, obstacles, _SIZES, n_open + 1, crng)
        if rects:
            land = rects.pop()  # the smallest spot is kept free for emergency use
            reserved.append(
                ReservedLand(
                    unit_id=c.id,
                    name=f"{c.name}应急预留用地",
                    area_m2=round(land.area, 1),
                    geometry=_dump(land),
                    note=bilingual("临时安置、物资堆放"),
                )
            )
            obstacles.append(land.buffer(10))
        for k, r in enumerate(rects):
            kind, label, share, klass, facil, exits = _OPEN_KINDS[k % len(_OPEN_KINDS)]
            shelters.append(_shelter(c, f"{c.name}{label}{k + 1}", kind, r, r.area * share, klass, facil, exits))
            obstacles.append(r.buffer(10))
        # Under a compound, a civil air-defence basement (its own effective area, not the ground's).
        comp = next((u for u in units.values() if u.parent_id == c.id and u.level == Level.compound.value), None)
        if comp is not None:
            cc = comp.geom.centroid
            basement = box(cc.x - 20, cc.y - 15, cc.x + 20, cc.y + 15)
            shelters.append(
                _shelter(
                    c, f"{comp.name}人防工程", "air_defence", basement, 900, "II", ["power", "toilets", "water"], 2
                )
            )
        if big:
            _extra_open_ground(c, shelters)
    session.add_all(reserved + shelters)
    summary.reserved_land = len(reserved)
    summary.shelters = sum(1 for s in shelters if s.status == "open")
    summary.candidates = sum(1 for s in shelters if s.status == "candidate")
    session.flush()
    audit.record(
        session,
        SYSTEM,
        "import",
        "space.demo",
        None,
        summary=bilingual("演示空间数据", roads=summary.roads, shelters=summary.shelters),
        after=summary.__dict__,
    )
    return summary


def _shelter(
    c: _Unit,
    name: str,
    kind: str,
    outline: BaseGeometry,
    effective: float,
    klass: str,
    facilities: list[str],
    exits: int,
    status: str = "open",
) -> Shelter:
    p = outline.representative_point()
    lonlat = _to_lonlat(p)["coordinates"]
    effective = round(effective, 0)
    return Shelter(
        unit_id=c.id,
        name=name,
        kind=kind,
        geometry=_dump(outline),
        lon=lonlat[0],
        lat=lonlat[1],
        effective_area_m2=effective,
        shelter_class=klass,
        capacity=shelter_capacity(effective, klass, None),
        facilities=sorted(facilities),
        exits=exits,
        status=status,
    )


def _extra_open_ground(c: _Unit, shelters: list[Shelter]) -> None:
    """The big open spaces: across 凤栖路 for the flagship (a park, and the school and gym that could be
    converted), the riverside park for the riverside community."""
    if c.kind == "riverside":
        park = geo.PARK_RECT
        half = (park.x0 + park.x1) / 2
        for i, (x0, x1) in enumerate(((park.x0, half - 10), (half + 10, park.x1)), start=1):
            outline = box(x0, park.y0, x1, park.y1)
            shelters.append(
                _shelter(
                    c,
                    f"{geo.PARK_NAME}{'西东'[i - 1]}区",
                    "park",
                    outline,
                    outline.area * 0.6,
                    "II",
                    ["medical", "toilets", "water", "barrier_free"],
                    4,
                )
            )
        return
    north = 540.0
    shelters.append(
        _shelter(
            c,
            "凤栖公园",
            "park",
            box(-420, north, -250, north + 90),
            170 * 90 * 0.65,
            "II",
            ["barrier_free", "medical", "power", "toilets", "water"],
            4,
        )
    )
    shelters.append(
        _shelter(
            c,
            "桂花小学操场",
            "school_playground",
            box(-640, north, -520, north + 70),
            120 * 70 * 0.85,
            "II",
            ["power", "toilets", "water"],
            2,
            status="candidate",
        )
    )
    shelters.append(
        _shelter(
            c,
            "凤栖体育馆",
            "stadium",
            box(-180, north, -110, north + 45),
            70 * 45 * 0.7,
            "I",
            ["barrier_free", "power", "toilets", "water"],
            3,
            status="candidate",
        )
    )
