"""What the printed community risk map shows, gathered from live data (the renderer is ``riskmap``).

Reading needs ``Perm.space_analysis`` and a scope that reaches the community. Residents lack it:
the printed map carries risk points and the evacuation plan, which are not their layers (they see
hazard zones and shelters on the interactive map). Every layer is read through ``space.layers``,
so its own scope rules apply too.

The evacuation routes come from the community's default flood scenario: a saved scenario that hits
a flood zone (the one named for floods first), else every flood zone of the community with everyone
evacuating. Its plan is the exact optimum of ``space.planning.plan``. When that cannot be planned (no road
network yet, say) each building gets the walk to its nearest open shelter instead.

The data version is the latest update time of the rows drawn plus a short fingerprint of them, so
two prints of the same data carry the same version, and any edit changes it.
"""

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, Forbidden, Invalid, NotFound, ServiceError
from renxing.geo.metric import LocalPlane
from renxing.geo.shapes import stored_shape
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import sees, subtree_clause
from renxing.i18n import _
from renxing.space import layers, population
from renxing.space.models import EvacScenario, HazardKind, ShelterStatus
from renxing.space.network import RoadGraph
from renxing.space.network import RoadLine as NetLine
from renxing.space.planning.plan import plan_for_community
from renxing.space.planning.spec import Spec, spec_of
from renxing.space.riskmap import render
from renxing.space.riskmap.fonts import FontMissing
from renxing.space.riskmap.inputs import (
    BuildingOutline,
    HazardArea,
    RenderInfo,
    RiskMapData,
    RoadLine,
    Route,
    ShelterArea,
    Site,
)

Progress = Callable[[str], None]

CLINIC_KINDS = frozenset({"clinic", "hospital", "doctors", "health_station"})
FIRE_KINDS = frozenset({"fire_station"})
SUPPLY_KINDS = frozenset({"supply_point", "emergency_supply", "warehouse"})
RESOURCE_GROUPS = {"clinic": CLINIC_KINDS, "fire": FIRE_KINDS, "supply": SUPPLY_KINDS}
NEARBY_M = 400.0  # resources and shelters this close outside the community still belong on its map
DOOR_LEG_M = 60.0  # the door-to-road leg is drawn when at most this long


def _tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


# ---- the community ----------------------------------------------------------------------------


def find_community(session: Session, actor: Principal, ref: int | str) -> GridUnit:
    """The community named by id, code or name, if the actor may print its map."""
    actor.require(Perm.space_analysis)
    text = str(ref).strip()
    unit: GridUnit | None = None
    if text.isdigit():
        unit = session.get(GridUnit, int(text))
    if unit is None and text:
        rows = list(
            session.scalars(
                select(GridUnit).where(
                    GridUnit.level == Level.community.value, or_(GridUnit.code == text, GridUnit.name == text)
                )
            )
        )
        if len(rows) > 1:
            raise Invalid(
                _("有多个同名社区，请用编号"),
                [FieldError("community", "ambiguous", value=text)],
            )
        unit = rows[0] if rows else None
    if unit is None or unit.level != Level.community.value:
        raise NotFound(_("社区不存在").format(text=text))
    if not sees(actor, unit):
        raise Forbidden(_("社区 {community_id} 不在您的网格范围内").format(community_id=unit.id))
    return unit


# ---- evacuation routes ------------------------------------------------------------------------


def default_flood_spec(session: Session, community: GridUnit, flood_zone_ids: list[int]) -> Spec:
    """The saved flood scenario of the community, else all its flood zones with everyone leaving."""
    saved = list(
        session.scalars(select(EvacScenario).where(EvacScenario.unit_id == community.id).order_by(EvacScenario.id))
    )
    flood = set(flood_zone_ids)
    hits = [s for s in saved if flood & set(s.hazard_zone_ids or [])]
    if hits:
        named = [s for s in hits if any(w in s.name.lower() for w in ("洪", "涝", "flood"))]
        return spec_of((named or hits)[0])
    return Spec(
        community_id=community.id,
        hazard_zone_ids=tuple(sorted(flood)),
        evacuate_all=True,
        name="默认洪涝情景（全员疏散）" if flood else "全员疏散演练情景",
    )


def _plan_routes(session: Session, community: GridUnit, spec: Spec) -> tuple[list[Route], str, str, dict[int, str]]:
    """Routes of the plan (one per building and shelter, with its people), its name, its fingerprint,
    and the shelters the scenario's hazard puts out of use (id → reason)."""
    # The actor's right to the community was checked by find_community; the plan holds counts only.
    result = plan_for_community(session, community, spec)
    routes = []
    for b in result.get("buildings", []):
        for r in b.get("routes", []):
            path = [tuple(p) for p in (r.get("path") or [])]
            door = (b.get("lon"), b.get("lat"))
            if door[0] is not None and (not path or path[0] != door):
                path.insert(0, door)
            if len(path) >= 3 and not _near(path[0], path[1], DOOR_LEG_M):
                # The plan walks from the door to the nearest usable road; a long first leg means the
                # near roads are cut (flooded), and a straight line across the blocks would mislead.
                path = path[1:]
            if len(path) >= 2:
                routes.append(Route(path, r.get("shelter_name") or "", int(r.get("persons") or 0)))
    unusable = {sh["id"]: sh["reason"] for sh in result.get("shelters", []) if sh.get("reason") == "in_hazard_zone"}
    return routes, spec.name or "疏散方案", str(result.get("fingerprint") or ""), unusable


def _near(a: tuple[float, float], b: tuple[float, float], metres: float) -> bool:
    plane = LocalPlane(a[0], a[1])
    return float(np.hypot((b[0] - a[0]) * plane.kx, (b[1] - a[1]) * plane.ky)) <= metres


def nearest_shelter_routes(
    roads: list[tuple[int, list[list[list[float]]], str]],
    buildings: list[tuple[float, float, int]],
    shelters: list[tuple[float, float, str]],
) -> list[Route]:
    """Each building's walk to the nearest shelter on the road network (straight when there is none).

    ``roads``: (id, lines of [lon, lat], kind); ``buildings``: (lon, lat, persons); ``shelters``:
    (lon, lat, name) of the open ones. Pure.
    """
    if not shelters or not buildings:
        return []
    lines = [
        NetLine(rid, [tuple(p) for p in part], kind) for rid, parts, kind in roads for part in parts if len(part) >= 2
    ]
    graph = RoadGraph.from_lines(lines) if lines else None
    if graph is None or graph.n_nodes == 0:
        plane = LocalPlane(buildings[0][0], buildings[0][1])
        s_xy = np.array([[(s[0] - plane.lon0) * plane.kx, (s[1] - plane.lat0) * plane.ky] for s in shelters])
        out = []
        for lon, lat, persons in buildings:
            x, y = (lon - plane.lon0) * plane.kx, (lat - plane.lat0) * plane.ky
            j = int(np.argmin(np.hypot(s_xy[:, 0] - x, s_xy[:, 1] - y)))
            out.append(Route([(lon, lat), (shelters[j][0], shelters[j][1])], shelters[j][2], persons))
        return out
    s_nodes, _ = graph.snap([s[0] for s in shelters], [s[1] for s in shelters])
    b_nodes, _ = graph.snap([b[0] for b in buildings], [b[1] for b in buildings])
    dist, pred = graph.distances(s_nodes, predecessors=True)
    out = []
    for (lon, lat, persons), node in zip(buildings, b_nodes, strict=True):
        j = int(np.argmin(dist[:, node]))
        if not np.isfinite(dist[j, node]):
            continue
        nodes = graph.path(pred[j], int(node))[::-1]  # building → shelter
        path = [(lon, lat), *graph.coords(nodes), (shelters[j][0], shelters[j][1])]
        out.append(Route(path, shelters[j][2], persons))
    return out


# ---- gathering ----------------------------------------------------------------------------------


def gather(
    session: Session, actor: Principal, ref: int | str, *, today: date | None = None, progress: Progress | None = None
) -> RiskMapData:
    """Everything the risk map of a community shows, from the live tables."""
    step = progress or (lambda _stage: None)
    community = find_community(session, actor, ref)
    step(_("读取图层"))
    seen = _Seen()
    zones_rows = seen.rows(session, actor, "hazard_zones", community.id)
    points_rows = seen.rows(session, actor, "risk_points", community.id)
    shelter_rows = seen.rows(session, actor, "shelters", community.id)
    road_rows = seen.rows(session, actor, "roads", community.id)
    feature_rows = seen.rows(session, actor, "features", community.id)
    boundary = stored_shape(community.geometry)
    units = list(
        session.scalars(
            select(GridUnit)
            .where(GridUnit.level == Level.building.value, subtree_clause(GridUnit.path, community.path))
            .order_by(GridUnit.code)
        )
    )
    seen.finger.append(("buildings", [(u.id, u.geometry, u.lon, u.lat) for u in units]))
    seen.finger.append(("community", community.name, community.geometry))
    buildings = [BuildingOutline(json.loads(u.geometry), u.name) for u in units if _polygonal(u.geometry)]
    sites = _resources(feature_rows, buildings)
    step(_("疏散方案"))
    flood_ids = [z.id for z in zones_rows if z.kind == HazardKind.flood.value]
    spec = default_flood_spec(session, community, flood_ids)
    routes, note, unusable = _routes(session, community, spec, units, shelter_rows, road_rows, seen)
    shelters = _shelter_areas(shelter_rows, unusable, "内涝" if spec.hazard_zone_ids else "本情景")
    tz = _tz()
    street = session.get(GridUnit, community.parent_id) if community.parent_id else None
    return RiskMapData(
        community=community.name,
        street=street.name if street is not None else "",
        date=today or utcnow().astimezone(tz).date(),
        version=seen.version(community, tz),
        bounds=_bounds(boundary, buildings, shelters, sites),
        buildings=buildings,
        hazard_zones=[
            HazardArea(z.kind, int(z.level or 1), json.loads(z.geometry), z.name, z.depth_class)
            for z in zones_rows
            if z.geometry
        ],
        risk_points=[
            Site(p.name, p.lon, p.lat, p.kind) for p in points_rows if p.lon is not None and p.lat is not None
        ],
        shelters=shelters,
        routes=routes,
        supply_points=sites["supply"],
        clinics=sites["clinic"],
        fire_stations=sites["fire"],
        roads=[RoadLine(r.kind, json.loads(r.geometry), r.name) for r in road_rows if r.geometry],
        boundary=json.loads(community.geometry) if boundary is not None else None,
        routes_note=note,
    )


class _Seen:
    """The rows drawn, for the data version: their latest update and a fingerprint of all of them."""

    def __init__(self) -> None:
        self.stamps: list[datetime] = []
        self.finger: list[Any] = []

    def rows(self, session: Session, actor: Principal, layer: str, community_id: int) -> list[Any]:
        out = layers.rows_of(session, actor, layer, community_id)
        for r in out:
            if r.updated_at is not None:
                self.stamps.append(r.updated_at)
            self.finger.append((layer, r.id, r.updated_at.isoformat() if r.updated_at else None))
        return out

    def version(self, community: GridUnit, tz: ZoneInfo) -> str:
        latest = max(self.stamps) if self.stamps else community.created_at or utcnow()
        fp = hashlib.sha256(json.dumps(self.finger, default=str, separators=(",", ":")).encode()).hexdigest()[:8]
        return f"{latest.astimezone(tz):%Y-%m-%d %H:%M} · {fp}"


def _resources(feature_rows: list[Any], buildings: list[BuildingOutline]) -> dict[str, list[Site]]:
    """Clinics, fire stations and supply points among the base features; drawn buildings join ``buildings``."""
    sites: dict[str, list[Site]] = {"clinic": [], "fire": [], "supply": []}
    for f in feature_rows:
        if f.layer == "building":
            if _polygonal(f.geometry):
                buildings.append(BuildingOutline(json.loads(f.geometry), f.name))
            continue
        group = next((name for name, kinds in RESOURCE_GROUPS.items() if f.kind in kinds), None)
        g = stored_shape(f.geometry)
        if group is None or g is None:
            continue
        p = g if g.geom_type == "Point" else g.representative_point()
        sites[group].append(Site(f.name, p.x, p.y, f.kind))
    return sites


def _routes(
    session: Session,
    community: GridUnit,
    spec: Spec,
    units: list[GridUnit],
    shelter_rows: list[Any],
    road_rows: list[Any],
    seen: _Seen,
) -> tuple[list[Route], str, dict[int, str]]:
    """The plan's routes and where they come from; nearest-shelter walks when no plan can be made."""
    unusable: dict[int, str] = {}
    try:
        routes, note, plan_fp, unusable = _plan_routes(session, community, spec)
        note = f"按“{note}”的疏散方案（最优分配）"
    except Invalid:
        open_shelters = [
            (s.lon, s.lat, s.name) for s in shelter_rows if s.status == ShelterStatus.open.value and s.lon is not None
        ]
        road_lines = [(r.id, _parts(r.geometry), r.kind) for r in road_rows if r.walkable and r.geometry]
        people = population.residents_by_building(session, community.path)
        located = [(u.lon, u.lat, people.get(u.id, 0)) for u in units if u.lon is not None and u.lat is not None]
        routes = nearest_shelter_routes(road_lines, located, open_shelters)
        note, plan_fp = "各楼栋前往最近的开放避难场所", ""
    seen.finger.append(("plan", plan_fp))
    return routes, note, unusable


def _shelter_areas(shelter_rows: list[Any], unusable: dict[int, str], hazard_word: str) -> list[ShelterArea]:
    shelters = []
    for s in shelter_rows:
        g = json.loads(s.geometry) if s.geometry else None
        if s.lon is None and g is None:
            continue
        shelters.append(
            ShelterArea(
                s.name,
                int(s.capacity or 0),
                s.lon,
                s.lat,
                g if _polygonal(s.geometry) else None,
                s.kind,
                s.status,
                f"{hazard_word}时不可用（位于风险区）" if s.id in unusable else "",
            )
        )
    return shelters


def _polygonal(text: str | None) -> bool:
    g = stored_shape(text)
    return g is not None and g.geom_type in ("Polygon", "MultiPolygon")


def _parts(text: str | None) -> list[list[list[float]]]:
    g = stored_shape(text)
    if g is None:
        return []
    if g.geom_type == "LineString":
        return [[list(c[:2]) for c in g.coords]]
    if g.geom_type == "MultiLineString":
        return [[list(c[:2]) for c in part.coords] for part in g.geoms]
    return []


def _bounds(
    boundary: BaseGeometry | None,
    buildings: list[BuildingOutline],
    shelters: list[ShelterArea],
    sites: dict[str, list[Site]],
) -> tuple[float, float, float, float] | None:
    """The community, grown to take in shelters and resources just outside it (not the whole street)."""
    core = boundary
    if core is None and buildings:
        core = shapely.union_all([shape(b.geometry) for b in buildings]).envelope
    if core is None:
        return None
    plane = LocalPlane.around(core)
    reach = plane.to_deg(plane.to_m(core).buffer(NEARBY_M))
    parts = [core]
    for s in shelters:
        g = shape(s.geometry) if s.geometry else shapely.Point(s.lon, s.lat)
        if reach.intersects(g):
            parts.append(g)
    for group in sites.values():
        for p in group:
            pt = shapely.Point(p.lon, p.lat)
            if reach.contains(pt):
                parts.append(pt)
    return tuple(shapely.GeometryCollection(parts).bounds)  # type: ignore[return-value]


class RendererUnavailable(ServiceError):
    """The map cannot be drawn on this server (no CJK font)."""

    status = 503


DPI_RANGE = (72, 300)

# Drawn sheets by the exact data they show: embedding the CJK font in a PDF takes seconds, and a
# community often prints the same unchanged map several times. Any change of the data is a new key.
_RENDERED_SIZE = 8
_rendered: "OrderedDict[tuple[str, str, int], tuple[bytes, RenderInfo]]" = OrderedDict()
_rendered_lock = threading.Lock()


def render_community(
    session: Session,
    actor: Principal,
    ref: int | str,
    fmt: str,
    *,
    dpi: int = render.DEFAULT_DPI,
    progress: Progress | None = None,
) -> tuple[bytes, RenderInfo, RiskMapData]:
    """The community's risk map as PDF or PNG bytes, drawn from live data."""
    fmt = (fmt or "").lower()
    if fmt not in render.FORMATS:
        raise Invalid(_("格式应为 pdf 或 png"), [FieldError("format", "pdf or png", value=fmt)])
    if not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise Invalid(
            _("分辨率应在 {value}–{value2} 之间").format(value=DPI_RANGE[0], value2=DPI_RANGE[1]),
            [FieldError("dpi", "out of range", value=dpi)],
        )
    data = gather(session, actor, ref, progress=progress)
    if progress is not None:
        progress(_("绘制地图"))
    if not _drawable(data):
        raise Invalid(
            _("该社区还没有可绘制的地图数据（边界、楼栋或图层）"),
            [FieldError("community", "no map data", value=data.community)],
        )
    key = (hashlib.sha256(repr(data).encode()).hexdigest(), fmt, dpi)
    with _rendered_lock:
        hit = _rendered.get(key)
        if hit is not None:
            _rendered.move_to_end(key)
            return hit[0], hit[1], data
    try:
        body, info = render.render_bytes(data, fmt, dpi)
    except FontMissing as exc:
        raise RendererUnavailable(str(exc)) from exc
    with _rendered_lock:
        _rendered[key] = (body, info)
        while len(_rendered) > _RENDERED_SIZE:
            _rendered.popitem(last=False)
    return body, info, data


def _drawable(d: RiskMapData) -> bool:
    return bool(d.boundary or d.bounds or d.buildings or d.hazard_zones or d.shelters or d.roads or d.routes)
