"""Which care plans an actor reaches: staff by grid scope, a carer by their own assignments."""

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.care.models import CareAssignment, CarePlan
from renxing.errors import Forbidden, NotFound
from renxing.grid.models import GridUnit
from renxing.grid.scope import scope_clause, unit_in_scope
from renxing.i18n import _
from renxing.volunteers.directory import member_ids_of_account


def open_assignment(today: date):
    return or_(CareAssignment.until.is_(None), CareAssignment.until >= today)


def carer_clause(actor: Principal, today: date):
    """Plans the actor cares for: as a team member linked to their account, or as a user."""
    members = member_ids_of_account(actor.user_id or -1)
    return CarePlan.id.in_(
        select(CareAssignment.plan_id).where(
            open_assignment(today),
            or_(CareAssignment.user_id == (actor.user_id or -1), CareAssignment.member_id.in_(members)),
        )
    )


def plan_scope(actor: Principal, today: date | None = None):
    """A WHERE clause for the plans this actor may read (None: all), or Forbidden."""
    today = today or date.today()
    if actor.can(Perm.care_read):
        return scope_clause(CarePlan.path, actor)
    if actor.can(Perm.care_own):
        return carer_clause(actor, today)
    raise Forbidden(_("角色 {role} 无权 {perm}").format(role=actor.role.value, perm=Perm.care_read.value))


def load_plan(session: Session, actor: Principal, plan_id: int) -> CarePlan:
    plan = session.get(CarePlan, plan_id)
    clause = plan_scope(actor)
    if plan is None:
        raise NotFound(_("关怀计划 {plan_id} 不存在").format(plan_id=plan_id))
    if clause is not None and not session.scalar(select(CarePlan.id).where(CarePlan.id == plan_id, clause)):
        raise NotFound(_("关怀计划 {plan_id} 不存在").format(plan_id=plan_id))
    return plan


def care_unit(session: Session, actor: Principal, unit_id: int) -> GridUnit:
    """A unit the care lists are asked about: one outside what the actor sees is "not found"."""
    try:
        return unit_in_scope(session, actor, unit_id)
    except Forbidden:
        raise NotFound(_("网格单元 {unit_id} 不存在").format(unit_id=unit_id)) from None
