"""What the care pages show: the overview, the visit form, the coverage page."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.care.assignment_whatif import WhatIf
from renxing.care.coverage import CoverageView, coverage
from renxing.care.matching import Uncovered, uncovered, what_if
from renxing.care.models import CarePlan
from renxing.care.plans import OverdueRow, PlanRow, overdue, plan_rows
from renxing.care.residents import vulnerable_residents
from renxing.care.scope import care_unit, load_plan
from renxing.care.visits import visit_carer
from renxing.db import utcnow
from renxing.errors import NotFound
from renxing.grid import service as grid
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import path_ids, scope_clause, subtree_clause
from renxing.i18n import _


def care_units(session: Session, actor: Principal) -> list[GridUnit]:
    """Units a user can pick on the care pages: their scope, with the communities under a street."""
    roots = (
        grid.roots(session, actor)
        if actor.is_global or not actor.scope_paths
        else [u for p in actor.scope_paths if (u := session.get(GridUnit, path_ids(p)[-1])) is not None]
    )
    out: list[GridUnit] = []
    for u in roots:
        out.append(u)
        if u.level == Level.street.value:
            out.extend(
                session.scalars(
                    select(GridUnit)
                    .where(GridUnit.parent_id == u.id, GridUnit.level == Level.community.value)
                    .order_by(GridUnit.name)
                )
            )
    return out


@dataclass
class Overview:
    units: list[GridUnit]
    unit: GridUnit | None
    uncovered: list[Uncovered]
    overdue: list[OverdueRow]
    plans: int
    vulnerable: int


def overview(
    session: Session, actor: Principal, unit_id: int | None = None, *, now: datetime | None = None
) -> Overview:
    """The secretary's page: who nobody cares for, whose visit is overdue, in one unit."""
    actor.require(Perm.care_read)
    now = now or utcnow()
    units = care_units(session, actor)
    if unit_id is None:
        unit = next((u for u in units if u.level != Level.street.value), units[0] if units else None)
    else:
        unit = care_unit(session, actor, unit_id)
    if unit is None:
        return Overview(units, None, [], [], 0, 0)
    gaps = uncovered(session, actor, unit.id, today=now.date())
    late = overdue(session, actor, unit_id=unit.id, now=now)
    stmt = (
        select(func.count())
        .select_from(CarePlan)
        .where(CarePlan.status == "active", subtree_clause(CarePlan.path, unit.path))
    )
    clause = scope_clause(CarePlan.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    plans = session.scalar(stmt) or 0
    vulnerable = len(vulnerable_residents(session, actor, unit, now.date()))
    return Overview(units, unit, gaps, late, plans, vulnerable)


def visit_form(session: Session, actor: Principal, plan_id: int, *, now: datetime | None = None) -> PlanRow:
    """The plan as the visit form shows it; only someone who may record a visit gets it."""
    now = now or utcnow()
    plan = load_plan(session, actor, plan_id)
    visit_carer(session, actor, plan, now.date())
    return plan_rows(session, actor, [plan], now.date())[0]


@dataclass
class CoveragePage:
    units: list[GridUnit]
    view: CoverageView
    areas: list[GridUnit]
    what_if: WhatIf | None


def coverage_page(
    session: Session,
    actor: Principal,
    unit_id: int | None = None,
    *,
    extra: int | None = None,
    skill: str | None = None,
    area_id: int | None = None,
) -> CoveragePage:
    """The coverage map and tables of a unit (default: the first community in scope), and, when
    ``extra`` is given and the role may assign, the what-if with that many more volunteers."""
    actor.require(Perm.care_coverage)
    units = care_units(session, actor)
    if unit_id is None:
        unit_id = next((u.id for u in units if u.level != Level.street.value), units[0].id if units else None)
    if unit_id is None:
        raise NotFound(_("没有可查看的单元"))
    view = coverage(session, actor, unit_id)
    areas = [u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(list(view.report.areas))))]
    areas.sort(key=lambda u: u.path)
    result = None
    if extra is not None and actor.can(Perm.care_write):
        result = what_if(session, actor, unit_id, extra=extra, skill=skill or None, area_id=area_id)
    return CoveragePage(units, view, areas, result)
