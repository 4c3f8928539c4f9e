"""Who nobody cares for, and the optimal carers for them (fed to the pure ``care.assignment``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.care import assignment as opt
from renxing.care.assignment_whatif import WhatIf
from renxing.care.assignment_whatif import what_if as solve_what_if
from renxing.care.carers import CarerInfo, community_carers
from renxing.care.models import CareAssignment, CarePlan
from renxing.care.residents import Places, audit_health, needs_of, present_resident, vulnerable_residents
from renxing.care.scope import care_unit, open_assignment
from renxing.config import get_settings
from renxing.errors import FieldError, Invalid
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import community_of
from renxing.i18n import _
from renxing.volunteers.models import SKILL_LABELS as VOLUNTEER_SKILLS

if TYPE_CHECKING:  # types only: rows are read through the owning domain's functions
    from renxing.people.models import Resident


@dataclass
class Uncovered:
    resident: dict[str, Any]
    plan_id: int | None


def covered_ids(session: Session, resident_ids: list[int], today: date) -> set[int]:
    if not resident_ids:
        return set()
    return set(
        session.scalars(
            select(CarePlan.resident_id)
            .join(CareAssignment, CareAssignment.plan_id == CarePlan.id)
            .where(CarePlan.status == "active", CarePlan.resident_id.in_(resident_ids), open_assignment(today))
        )
    )


def uncovered_residents(session: Session, actor: Principal, unit: GridUnit, today: date) -> list[Resident]:
    residents = vulnerable_residents(session, actor, unit, today)
    covered = covered_ids(session, [r.id for r in residents], today)
    return [r for r in residents if r.id not in covered]


def uncovered(session: Session, actor: Principal, unit_id: int, *, today: date | None = None) -> list[Uncovered]:
    """Vulnerable residents in the unit (and scope) whom nobody cares for."""
    actor.require(Perm.care_read)
    today = today or date.today()
    unit = care_unit(session, actor, unit_id)
    rows = uncovered_residents(session, actor, unit, today)
    places = Places.load(session, rows)
    clear = actor.clear_fields()
    plans = (
        dict(
            session.execute(
                select(CarePlan.resident_id, CarePlan.id).where(
                    CarePlan.status == "active", CarePlan.resident_id.in_([r.id for r in rows])
                )
            ).all()
        )
        if rows
        else {}
    )
    audit_health(session, actor, rows, clear)
    return [Uncovered(present_resident(r, clear, places, today), plans.get(r.id)) for r in rows]


@dataclass
class ProposedPair:
    resident: dict[str, Any]
    carer_key: str
    carer_name: str
    carer_kind: str
    team: str | None
    distance_m: float
    explanation: str


@dataclass
class ProposedGap:
    resident: dict[str, Any]
    reason: str
    message: str


@dataclass
class Proposal:
    community: GridUnit
    pairs: list[ProposedPair]
    gaps: list[ProposedGap]
    total_distance_m: float
    carers_available: int
    stats: opt.SolveStats | None = None

    @property
    def total(self) -> int:
        return len(self.pairs) + len(self.gaps)


def _problem(
    session: Session, actor: Principal, unit: GridUnit, today: date
) -> tuple[GridUnit, list[Resident], Places, list[CarerInfo], opt.Problem]:
    community = community_of(session, unit.path)
    if community is None:
        raise Invalid(_("须在社区或其下级单元内"), [FieldError("unit_id", "no community")])
    residents = uncovered_residents(session, actor, unit, today)
    places = Places.load(session, residents)
    carers = [c for c in community_carers(session, community, today) if c.free > 0 and c.lon is not None]
    points = [(b.lon, b.lat) for r in residents if (b := places.building(r)) is not None and b.lon is not None]
    plane = opt.plane_for(points + [(c.lon, c.lat) for c in carers if c.lon is not None and c.lat is not None])
    vulnerable = []
    for r in residents:
        b = places.building(r)
        a = places.area(r)
        lon, lat = (b.lon, b.lat) if b is not None and b.lon is not None else (community.lon, community.lat)
        if lon is None or lat is None:
            continue
        x, y = opt.to_xy(plane, lon, lat)
        vulnerable.append(opt.Vulnerable(r.id, x, y, b.id if b else None, a.id if a else None, frozenset(needs_of(r))))
    pool = []
    for c in carers:
        assert c.lon is not None and c.lat is not None
        x, y = opt.to_xy(plane, c.lon, c.lat)
        pool.append(opt.Carer(c.key, x, y, c.building_id, c.area_id, c.skills, c.free, c.kind))
    problem = opt.Problem(vulnerable, pool, max_distance_m=get_settings().care_max_distance_m)
    return community, residents, places, carers, problem


def propose_assignments(session: Session, actor: Principal, unit_id: int, *, today: date | None = None) -> Proposal:
    """The optimal carers for every uncovered vulnerable resident in the unit (see ``care.assignment``)."""
    actor.require(Perm.care_write)
    today = today or date.today()
    unit = care_unit(session, actor, unit_id)
    community, residents, places, carers, problem = _problem(session, actor, unit, today)
    result = opt.solve(problem)
    clear = actor.clear_fields()
    by_id = {r.id: r for r in residents}
    info = {c.key: c for c in carers}
    pairs = []
    for p in result.pairs:
        c = info[p.carer_id]
        pairs.append(
            ProposedPair(
                present_resident(by_id[p.resident_id], clear, places, today),
                c.key,
                c.name,
                c.kind,
                c.team.name if c.team else None,
                round(p.distance_m, 1),
                p.explanation,
            )
        )
    placed = {p.resident_id for p in result.pairs}
    gaps = [
        ProposedGap(present_resident(by_id[u.resident_id], clear, places, today), u.reason, u.message)
        for u in result.uncovered
    ]
    for r in residents:  # residents without any position never reach the optimiser
        if r.id not in placed and all(g.resident["id"] != r.id for g in gaps):
            gaps.append(ProposedGap(present_resident(r, clear, places, today), "no_position", _("没有位置")))
    audit_health(session, actor, residents, clear)
    return Proposal(community, pairs, gaps, round(result.total_distance_m, 1), len(carers), result.stats)


def what_if(
    session: Session,
    actor: Principal,
    unit_id: int,
    *,
    extra: int = 1,
    skill: str | None = None,
    area_id: int | None = None,
    capacity: int = 3,
    today: date | None = None,
) -> WhatIf:
    """How many more uncovered residents would be covered with ``extra`` more volunteers of a skill in an area."""
    actor.require(Perm.care_write)
    today = today or date.today()
    unit = care_unit(session, actor, unit_id)
    if skill is not None and skill not in VOLUNTEER_SKILLS:
        raise Invalid(_("未知技能"), [FieldError("skill", "unknown", value=skill)])
    if area_id is not None:
        area = session.get(GridUnit, area_id)
        if area is None or area.level != Level.area.value or not area.path.startswith(unit.path):
            raise Invalid(
                _("片区不在该单元内"),
                [FieldError("area_id", "not an area here", value=area_id)],
            )
    problem = _problem(session, actor, unit, today)[-1]
    return solve_what_if(problem, extra, skill=skill, area=area_id, capacity=capacity)
