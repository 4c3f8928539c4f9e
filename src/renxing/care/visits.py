"""Visits: recorded by a carer of the plan (or staff in scope), a problem raised into the closed loop."""

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.care import rules
from renxing.care.models import CareAssignment, CarePlan, CarerKind, CareVisit
from renxing.care.residents import residents_by_id
from renxing.care.rules import NOTE_MAX
from renxing.care.scope import load_plan, open_assignment, plan_scope
from renxing.db import utcnow
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.i18n import _, bilingual
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.people.models import Resident
from renxing.signals.bus import publish
from renxing.signals.catalog import VisitFlagged
from renxing.volunteers.directory import member_ids_of_account

VISIT_SKEW = timedelta(minutes=10)  # a phone's clock may run a little ahead


VISIT_BACKDATE = timedelta(days=31)  # visits written up later, but not months later


def visit_carer(session: Session, actor: Principal, plan: CarePlan, today: date) -> tuple[str, int | None, int | None]:
    """(carer kind, member id, user id) of the actor on this plan, or Forbidden/NotFound."""
    mine = (
        session.execute(
            select(CareAssignment).where(
                CareAssignment.plan_id == plan.id,
                open_assignment(today),
                or_(
                    CareAssignment.user_id == (actor.user_id or -1),
                    CareAssignment.member_id.in_(member_ids_of_account(actor.user_id or -1)),
                ),
            )
        )
        .scalars()
        .first()
    )
    if mine is not None:
        return mine.carer_kind, mine.member_id, mine.user_id
    if actor.can(Perm.care_write) and actor.covers_path(plan.path):
        kind = CarerKind.grid_worker if actor.role is Role.grid_worker else CarerKind.volunteer
        return kind, None, actor.user_id
    raise NotFound(_("关怀计划 {plan_id} 不存在").format(plan_id=plan.id))


def record_visit(
    session: Session,
    actor: Principal,
    plan_id: int,
    *,
    visited_at: datetime | None = None,
    found: str = "ok",
    note: str | None = None,
    problem_category: str | None = None,
    raise_report: bool = False,
    now: datetime | None = None,
) -> CareVisit:
    """A visit by the actor (a carer of the plan, or staff in scope). ``raise_report`` with a
    problem found raises it into the closed loop (困难求助) at once."""
    if not (actor.can(Perm.care_write) or actor.can(Perm.care_own)):
        raise Forbidden(_("角色 {role} 不能记录走访").format(role=actor.role.value))
    now = now or utcnow()
    plan = load_plan(session, actor, plan_id)
    kind, member_id, user_id = visit_carer(session, actor, plan, now.date())
    errors = Collector()
    visited_at = visited_at or now
    if visited_at.tzinfo is None:
        errors.add("visited_at", _("须带时区"), value=visited_at)
    elif visited_at > now + VISIT_SKEW:
        errors.add("visited_at", _("走访时间在未来"), value=visited_at)
    elif visited_at < now - VISIT_BACKDATE:
        errors.add("visited_at", _("只能补录一个月内的走访"), value=visited_at)
    if found not in rules.FOUND_LABELS:
        errors.add("found", _("须为 ok 或 problem"), value=found)
    if found == "problem" and problem_category not in rules.PROBLEM_CATEGORIES:
        errors.add(
            "problem_category",
            _("发现问题时须选类别 {join} 之一").format(join=", ".join(rules.PROBLEM_CATEGORIES)),
            value=problem_category,
        )
    if found == "problem" and not (note or "").strip():
        errors.add("note", _("发现问题时须说明情况"))
    if note and len(note) > NOTE_MAX:
        errors.add("note", _("记录过长（{note_max}）").format(note_max=NOTE_MAX))
    if raise_report and found != "problem":
        errors.add("raise_report", _("只有发现问题时才能上报"))
    if plan.status != "active":
        errors.add("plan_id", _("关怀计划已结束"))
    errors.raise_if_any()
    visit = CareVisit(
        plan_id=plan.id,
        carer_kind=kind,
        member_id=member_id,
        user_id=user_id,
        visited_at=visited_at,
        found=found,
        problem_category=problem_category if found == "problem" else None,
        note=(note or "").strip() or None,
        created_by=actor.user_id,
    )
    session.add(visit)
    session.flush()
    audit.record(session, actor, "create", "care_visit", visit.id, after=audit.snapshot(visit))
    if raise_report:
        _raise(session, actor, plan, visit, now)
    return visit


def _raise(session: Session, actor: Principal, plan: CarePlan, visit: CareVisit, now: datetime) -> None:
    r = residents_by_id(session, [plan.resident_id])[plan.resident_id]
    assert r is not None
    label = rules.PROBLEM_CATEGORIES.get(visit.problem_category or "other", rules.PROBLEM_CATEGORIES["other"])
    # The report's description is stored text: the category in both languages, the note as written.
    flagged = VisitFlagged(
        visit_id=visit.id,
        household_id=r.household_id,
        description=f"定点关怀走访发现问题（{bilingual(label)}）：{visit.note or ''}"[:4000],
        source=f"定点关怀走访 {actor.display_name or actor.username}",
        at=now,
    )
    publish(session, flagged)  # the closed loop raises the report; its answer links it to the visit
    session.expire(visit, ["report_id"])  # written by that answer's subscriber: read it again
    audit.record(session, actor, "update", "care_visit", visit.id, summary=f"raised report {visit.report_id}")


def raise_problem(session: Session, actor: Principal, visit_id: int, *, now: datetime | None = None) -> CareVisit:
    """One action: a visit's problem into the closed loop (困难求助) at the resident's household."""
    now = now or utcnow()
    visit = session.get(CareVisit, visit_id)
    if visit is None:
        raise NotFound(_("走访记录 {visit_id} 不存在").format(visit_id=visit_id))
    plan = load_plan(session, actor, visit.plan_id)
    visit_carer(session, actor, plan, now.date())
    if visit.found != "problem":
        raise Invalid(_("这次走访没有发现问题"), [FieldError("visit_id", "no problem")])
    if visit.report_id is not None:
        raise Invalid(_("已经上报过"), [FieldError("visit_id", "already reported", value=visit.report_id)])
    _raise(session, actor, plan, visit, now)
    return visit


VISITS = ListSpec(
    sorts={"visited": CareVisit.visited_at},
    default_sort="-visited",
    tiebreaker=CareVisit.id,
    filters={"plan_id": Filter(CareVisit.plan_id), "found": Filter(CareVisit.found)},
)


def list_visits(session: Session, actor: Principal, query: ListQuery | None = None) -> Page[tuple[CareVisit, str]]:
    """Visits of the plans the actor may see, newest first, with the resident's name."""
    query = query or ListQuery()
    if (plan_id := query.filters.get("plan_id")) is not None:
        load_plan(session, actor, plan_id)
    stmt = (
        select(CareVisit, Resident.name)
        .join(CarePlan, CarePlan.id == CareVisit.plan_id)
        .join(Resident, Resident.id == CarePlan.resident_id)
    )
    if (clause := plan_scope(actor)) is not None:
        stmt = stmt.where(clause)
    result = list_page(session, stmt, VISITS, query, scalars=False)
    return Page([(v, name) for v, name in result.items], result.total, result.page, result.size)
