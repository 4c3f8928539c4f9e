"""Service side of the analyses: exposure of hazard zones and the 让防避 checks, read from the database.

The pure work is in ``exposure.py`` and ``checks.py``; here we check permission and scope, load plain
values and shape the answer. Answers carry counts only, never a resident's data; the counts of
health-related vulnerability tags appear only for roles that see health data.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.errors import FieldError, Invalid, NotFound
from renxing.geo.outlines import parse_geojson
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import community_in_scope, scope_clause, subtree_clause
from renxing.i18n import _
from renxing.people.service import visible_tags
from renxing.space import checks, exposure, layers, population
from renxing.space.models import HazardZone, Shelter


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
    actor.require(Perm.space_analysis)
    if not zone_ids:
        raise Invalid(_("请选择风险区"), [FieldError("zones", "empty")])
    zones = [layers.get_feature(session, actor, "hazard_zones", zid)[1] for zid in dict.fromkeys(zone_ids)]
    geoms = [parse_geojson(z.geometry) if z.geometry else None for z in zones]
    usable = [g for g in geoms if g is not None]
    if not usable:
        raise Invalid(_("风险区没有范围"), [FieldError("zones", "no geometry")])
    x0 = min(g.bounds[0] for g in usable)
    y0 = min(g.bounds[1] for g in usable)
    x1 = max(g.bounds[2] for g in usable)
    y1 = max(g.bounds[3] for g in usable)
    buildings = _buildings_near(session, actor, (x0, y0, x1, y1))
    shapes = [exposure.BuildingShape(b.id, b.lon, b.lat, b.geometry) for b in buildings]
    hits = exposure.exposed_buildings(geoms, shapes)
    by_id = {b.id: b for b in buildings}
    sees_people = actor.can(Perm.residents_read)
    per_building, tag_lists = population.people_in_buildings(session, list(hits) if sees_people else [])
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


def run_checks(session: Session, actor: Principal, community_id: int) -> dict[str, Any]:
    """Every 让防避 check for one community; problems grouped by check."""
    actor.require(Perm.space_analysis)
    try:
        community = community_in_scope(session, actor, community_id, field="community")
    except Invalid as exc:  # this route has always answered 404 for an id that is not a community
        raise NotFound(_("社区不存在").format(community_id=community_id)) from exc
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
    shelter_rows = layers.rows_of(session, actor, "shelters", community.id)
    sites = [
        checks.ShelterSite(s.id, s.name, g, s.lon, s.lat, s.exits, s.capacity, s.status)
        for s in shelter_rows
        if (g := parse_geojson(s.geometry or "")) is not None and s.lon is not None
    ]
    roads = [
        checks.Line(r.id, r.name, g, r.width_m)
        for r in layers.rows_of(session, actor, "roads", community.id)
        if (g := parse_geojson(r.geometry or "")) is not None
    ]
    passages = [
        checks.Line(p.id, p.name, g, p.width_m)
        for p in layers.rows_of(session, actor, "passages", community.id)
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
    people_per_area = population.residents_by_area(session, community)
    area_rows = session.scalars(
        select(GridUnit).where(GridUnit.level == Level.area.value, subtree_clause(GridUnit.path, community.path))
    ).all()
    areas = [
        checks.Place(a.id, a.name, a.lon, a.lat, population=people_per_area.get(a.path, 0))
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
