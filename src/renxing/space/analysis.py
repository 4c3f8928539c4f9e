"""Service side of the analyses: exposure of hazard zones and the 让防避 checks, read from the database.

The pure work is in ``exposure.py`` and ``checks.py``; here we check permission and scope, load plain
values and shape the answer. Answers carry counts only, never a resident's data; the counts of
health-related vulnerability tags appear only for roles that see health data.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.errors import FieldError, Forbidden, Invalid, NotFound
from renxing.geo.outlines import parse_geojson
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import scope_clause, subtree_clause
from renxing.people.models import Resident
from renxing.people.service import tags_of, visible_tags
from renxing.space import checks, exposure
from renxing.space import service as space
from renxing.space.models import HazardZone, Shelter


def _no_residents(actor: Principal) -> None:
    if actor.role is Role.resident and not actor.is_system:
        raise Forbidden("居民不能查看风险分析 / residents may not read risk analyses")


def _buildings_near(session: Session, actor: Principal, bounds: tuple[float, float, float, float]) -> list[GridUnit]:
    """Buildings in the actor's scope whose point lies in the box (with a margin for outlines)."""
    x0, y0, x1, y1 = bounds
    pad = 0.002  # ≈ 200 m: a building whose point is just outside may still overlap
    stmt = select(GridUnit).where(
        GridUnit.level == Level.building.value,
        GridUnit.lon.between(x0 - pad, x1 + pad),
        GridUnit.lat.between(y0 - pad, y1 + pad),
    )
    clause = scope_clause(GridUnit.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return list(session.scalars(stmt))


def scenario_exposure(session: Session, actor: Principal, zone_ids: list[int]) -> dict[str, Any]:
    """Buildings, households, residents and vulnerable residents inside any of the zones."""
    _no_residents(actor)
    if not zone_ids:
        raise Invalid("请选择风险区 / choose at least one hazard zone", [FieldError("zones", "empty")])
    zones = [space.get_feature(session, actor, "hazard_zones", zid)[1] for zid in dict.fromkeys(zone_ids)]
    geoms = [parse_geojson(z.geometry) if z.geometry else None for z in zones]
    usable = [g for g in geoms if g is not None]
    if not usable:
        raise Invalid("风险区没有范围 / the zones have no geometry", [FieldError("zones", "no geometry")])
    x0 = min(g.bounds[0] for g in usable)
    y0 = min(g.bounds[1] for g in usable)
    x1 = max(g.bounds[2] for g in usable)
    y1 = max(g.bounds[3] for g in usable)
    buildings = _buildings_near(session, actor, (x0, y0, x1, y1))
    shapes = [exposure.BuildingShape(b.id, b.lon, b.lat, b.geometry) for b in buildings]
    hits = exposure.exposed_buildings(geoms, shapes)
    by_id = {b.id: b for b in buildings}
    sees_people = actor.can(Perm.residents_read)
    per_building: dict[int, dict[str, int]] = defaultdict(lambda: {"households": 0, "residents": 0})
    tag_lists: list[list[str]] = []
    if sees_people and hits:
        ids = list(hits)
        for bid, n in session.execute(
            select(Household.building_id, func.count())
            .where(Household.building_id.in_(ids))
            .group_by(Household.building_id)
        ):
            per_building[bid]["households"] = n
        rows = session.execute(
            select(Household.building_id, Resident)
            .join(Resident, Resident.household_id == Household.id)
            .where(Household.building_id.in_(ids), and_(Resident.deleted_at.is_(None), Resident.lives_here.is_(True)))
        )
        for bid, r in rows:
            per_building[bid]["residents"] += 1
            tag_lists.append([t.value for t in tags_of(r)])
    visible = [t.value for t in visible_tags(actor)] if sees_people else []
    listed = []
    for bid in sorted(hits, key=lambda i: by_id[i].code):
        b = by_id[bid]
        item: dict[str, Any] = {"id": b.id, "name": b.name, "zones": [zones[k].id for k in hits[bid]]}
        if sees_people:
            item.update(per_building[bid])
        listed.append(item)
    return {
        "zones": [{"id": z.id, "name": z.name, "kind": z.kind, "level": z.level} for z in zones],
        "buildings": len(hits),
        "households": sum(v["households"] for v in per_building.values()) if sees_people else None,
        "residents": sum(v["residents"] for v in per_building.values()) if sees_people else None,
        "vulnerable": exposure.tally_tags(tag_lists, visible) if sees_people else None,
        "vulnerable_any": sum(1 for t in tag_lists if set(t) & set(visible)) if sees_people else None,
        "masked": not sees_people,
        "building_list": listed,
    }


def zone_exposure(session: Session, actor: Principal, zone_id: int) -> dict[str, Any]:
    return scenario_exposure(session, actor, [zone_id])


def _population_by_area(session: Session, community: GridUnit) -> dict[str, int]:
    """Residents living here per area path (the area's subtree)."""
    areas = session.scalars(
        select(GridUnit).where(GridUnit.level == Level.area.value, subtree_clause(GridUnit.path, community.path))
    ).all()
    counts = dict(
        session.execute(
            select(Resident.path, func.count())
            .where(
                subtree_clause(Resident.path, community.path),
                Resident.deleted_at.is_(None),
                Resident.lives_here.is_(True),
            )
            .group_by(Resident.path)
        ).all()
    )
    return {a.path: sum(n for p, n in counts.items() if p.startswith(a.path)) for a in areas}


def run_checks(session: Session, actor: Principal, community_id: int) -> dict[str, Any]:
    """Every 让防避 check for one community; problems grouped by check."""
    _no_residents(actor)
    actor.require(Perm.space_read)
    community = session.get(GridUnit, community_id)
    if community is None or community.level != Level.community.value:
        raise NotFound(f"社区不存在 / community {community_id} not found")
    if not actor.sees_unit(community.path):
        raise Forbidden(f"不在您的网格范围内 / community {community_id} is outside your scope")
    settings = get_settings()
    zones = [
        checks.Zone(z.id, z.name, z.kind, z.level, g)
        for z in session.scalars(select(HazardZone).where(HazardZone.unit_id == community.id))
        if (g := parse_geojson(z.geometry or "")) is not None
    ]
    buildings = session.scalars(
        select(GridUnit).where(GridUnit.level == Level.building.value, subtree_clause(GridUnit.path, community.path))
    ).all()
    places = [
        checks.Place(b.id, b.name, b.lon, b.lat, parse_geojson(b.geometry) if b.geometry else None)
        for b in buildings
        if b.lon is not None and b.lat is not None
    ]
    shelter_rows = space.rows_of(session, actor, "shelters", community.id)
    sites = [
        checks.ShelterSite(s.id, s.name, g, s.lon, s.lat, s.exits, s.capacity, s.status)
        for s in shelter_rows
        if (g := parse_geojson(s.geometry or "")) is not None and s.lon is not None
    ]
    roads = [
        checks.Line(r.id, r.name, g, r.width_m)
        for r in space.rows_of(session, actor, "roads", community.id)
        if (g := parse_geojson(r.geometry or "")) is not None
    ]
    passages = [
        checks.Line(p.id, p.name, g, p.width_m)
        for p in space.rows_of(session, actor, "passages", community.id)
        if (g := parse_geojson(p.geometry or "")) is not None
    ]
    # Areas may also be served by open shelters of neighbouring communities of the same street.
    street_path = "/".join(community.path.split("/")[:2]) + "/"
    neighbours = session.scalars(
        select(Shelter)
        .join(GridUnit, GridUnit.id == Shelter.unit_id)
        .where(subtree_clause(GridUnit.path, street_path), Shelter.unit_id != community.id, Shelter.status == "open")
    ).all()
    serving = sites + [
        checks.ShelterSite(s.id, s.name, g, s.lon, s.lat, s.exits, s.capacity, s.status)
        for s in neighbours
        if (g := parse_geojson(s.geometry or "")) is not None and s.lon is not None
    ]
    population = _population_by_area(session, community)
    area_rows = session.scalars(
        select(GridUnit).where(GridUnit.level == Level.area.value, subtree_clause(GridUnit.path, community.path))
    ).all()
    areas = [
        checks.Place(a.id, a.name, a.lon, a.lat, population=population.get(a.path, 0))
        for a in area_rows
        if a.lon is not None and a.lat is not None
    ]
    active = [s for s in sites if s.status != "candidate"]
    results = {
        "building_in_high_hazard": checks.buildings_in_high_hazard(zones, places),
        "shelter_in_hazard": checks.shelters_in_hazard(zones, active),
        "shelter_access": checks.shelter_access(active, roads, settings.shelter_access_m),
        "narrow_passage": checks.narrow_passages(passages, settings.passage_min_width_m),
        "area_capacity": checks.area_capacity(areas, serving, settings.shelter_service_radius_m),
    }
    return {
        "community": {"id": community.id, "name": community.name},
        "settings": {
            "high_hazard_level": 3,
            "passage_min_width_m": settings.passage_min_width_m,
            "shelter_access_m": settings.shelter_access_m,
            "shelter_service_radius_m": settings.shelter_service_radius_m,
        },
        "counts": {k: len(v) for k, v in results.items()},
        "problems": [p.to_dict() for v in results.values() for p in v],
    }
