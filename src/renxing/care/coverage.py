"""Coverage of a unit: vulnerable residents by kind, share covered, carers' load, the over-served
(fed to the pure ``care.coverage_calc``). Street admins get the figures without names."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.policy import Field, Perm
from renxing.auth.principal import Principal
from renxing.care import coverage_calc as cov
from renxing.care import rules
from renxing.care.carers import carer_key, community_carers, service_kind
from renxing.care.models import CareAssignment, CarePlan
from renxing.care.residents import Places, kinds_of, present_resident, vulnerable_residents
from renxing.care.scope import care_unit, open_assignment
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import community_of
from renxing.volunteers import directory as volunteers


@dataclass
class CoverageView:
    unit: GridUnit
    community: GridUnit | None
    report: cov.CoverageReport
    names: dict[int, str]  # unit id → name (areas, buildings)
    positions: dict[int, tuple[float, float]]  # building id → lon, lat
    team_names: dict[int, str]
    residents: dict[int, dict[str, Any]]  # presented, only for roles that read names
    carer_names: dict[str, str]
    by_kind: list[tuple[str, int, int, float]]


def coverage(session: Session, actor: Principal, unit_id: int, *, today: date | None = None) -> CoverageView:
    """Per area and building: vulnerable residents by kind, share covered, carers' load; the
    uncovered and the over-served. Street admins get the figures without names."""
    actor.require(Perm.care_coverage)
    today = today or date.today()
    unit = care_unit(session, actor, unit_id)
    community = community_of(session, unit.path)
    residents = vulnerable_residents(session, actor, unit, today)
    places = Places.load(session, residents)
    clear = actor.clear_fields()
    health = Field.health in clear
    recips = []
    for r in residents:
        b, a = places.building(r), places.area(r)
        kinds = [k for k in kinds_of(r, today) if health or k not in rules.HEALTH_KINDS]
        recips.append(cov.CareRecipient(r.id, b.id if b else None, a.id if a else None, frozenset(kinds)))
    links, team_names, carer_names = _care_links(session, [r.id for r in residents], today)
    infos = []
    if community is not None:
        for c in community_carers(session, community, today):
            infos.append(cov.CarerInfo(c.key, c.max_care, c.building_id, c.area_id, c.team.id if c.team else None))
            carer_names[c.key] = c.name
            if c.team:
                team_names[c.team.id] = c.team.name
    report = cov.coverage(recips, links, infos)
    unit_ids = set(report.areas) | set(report.buildings)
    units = {u.id: u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(unit_ids)))} if unit_ids else {}
    shown: dict[int, dict[str, Any]] = {}
    if actor.can(Perm.care_read):
        shown = {
            r.id: present_resident(r, clear, places, today)
            for r in residents
            if r.id in set(report.uncovered) or any(o.level == "resident" and o.id == r.id for o in report.over_served)
        }
    return CoverageView(
        unit,
        community,
        report,
        {u.id: u.name for u in units.values()},
        {
            u.id: (u.lon, u.lat)
            for u in units.values()
            if u.level == Level.building.value and u.lon is not None and u.lat is not None
        },
        team_names,
        shown,
        carer_names,
        cov.counts_by_kind(report),
    )


def _care_links(
    session: Session, resident_ids: list[int], today: date
) -> tuple[list[cov.CareLink], dict[int, str], dict[str, str]]:
    """The open assignments of these residents' active plans as links, with team and carer names."""
    links: list[cov.CareLink] = []
    team_names: dict[int, str] = {}
    carer_names: dict[str, str] = {}
    if not resident_ids:
        return links, team_names, carer_names
    rows = session.execute(
        select(CarePlan.resident_id, CareAssignment)
        .join(CareAssignment, CareAssignment.plan_id == CarePlan.id)
        .where(CarePlan.status == "active", CarePlan.resident_id.in_(resident_ids), open_assignment(today))
    ).all()
    members = {
        m.id: (m, t) for m, t in volunteers.members_with_teams(session, [a.member_id for _, a in rows if a.member_id])
    }
    for rid, a in rows:
        m, team = members.get(a.member_id, (None, None)) if a.member_id else (None, None)
        key = carer_key(a.member_id, a.user_id)
        links.append(cov.CareLink(rid, key, team.id if team else None, service_kind(team)))
        if team:
            team_names[team.id] = team.name
        if m:
            carer_names[key] = m.name
    return links, team_names, carer_names
