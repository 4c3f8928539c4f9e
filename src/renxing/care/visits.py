"""Visits: recorded by a carer of the plan (or staff in scope), a problem raised into the closed loop."""

from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.care import rules
from renxing.care.models import CareAssignment, CarePlan, CarerKind, CareVisit
from renxing.care.rules import NOTE_MAX
from renxing.care.scope import load_plan, open_assignment, plan_scope
from renxing.db import utcnow
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.listing import Page, check_page
from renxing.people.models import Resident
from renxing.signals.bus import publish
from renxing.signals.catalog import VisitFlagged
from renxing.volunteers.models import TeamMember

VISIT_SKEW = timedelta(minutes=10)  # a phone's clock may run a little ahead


VISIT_BACKDATE = timedelta(days=31)  # visits written up later, but not months later


def visit_carer(session: Session, actor: Principal, plan: CarePlan, today: date) -> tuple[str, int | None, int | None]:
    """(carer kind, member id, user id) of the actor on this plan, or Forbidden/NotFound."""
    mine = (
        session.execute(
            select(CareAssignment)
            .outerjoin(TeamMember, TeamMember.id == CareAssignment.member_id)
            .where(
                CareAssignment.plan_id == plan.id,
                open_assignment(today),
                or_(CareAssignment.user_id == (actor.user_id or -1), TeamMember.user_id == (actor.user_id or -1)),
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
    raise NotFound(f"关怀计划不存在 / care plan {plan.id} not found")


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
        raise Forbidden(f"角色无此权限 / role {actor.role.value} may not record visits")
    now = now or utcnow()
    plan = load_plan(session, actor, plan_id)
    kind, member_id, user_id = visit_carer(session, actor, plan, now.date())
    errors = Collector()
    visited_at = visited_at or now
    if visited_at.tzinfo is None:
        errors.add("visited_at", "须带时区 / needs a time zone", value=visited_at)
    elif visited_at > now + VISIT_SKEW:
        errors.add("visited_at", "走访时间在未来 / visit in the future", value=visited_at)
    elif visited_at < now - VISIT_BACKDATE:
        errors.add(
            "visited_at", "只能补录一个月内的走访 / visits older than a month cannot be recorded", value=visited_at
        )
    if found not in rules.FOUND_LABELS:
        errors.add("found", "须为 ok 或 problem / must be ok or problem", value=found)
    if found == "problem" and problem_category not in rules.PROBLEM_CATEGORIES:
        errors.add(
            "problem_category",
            f"发现问题时须选类别 / pick one of {', '.join(rules.PROBLEM_CATEGORIES)}",
            value=problem_category,
        )
    if found == "problem" and not (note or "").strip():
        errors.add("note", "发现问题时须说明情况 / describe the problem")
    if note and len(note) > NOTE_MAX:
        errors.add("note", f"记录过长 / note too long ({NOTE_MAX})")
    if raise_report and found != "problem":
        errors.add("raise_report", "只有发现问题时才能上报 / only a problem can be reported")
    if plan.status != "active":
        errors.add("plan_id", "关怀计划已结束 / the care plan is closed")
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
    r = session.get(Resident, plan.resident_id)
    assert r is not None
    label = rules.PROBLEM_CATEGORIES.get(visit.problem_category or "other", ("其他", "other"))
    flagged = VisitFlagged(
        visit_id=visit.id,
        household_id=r.household_id,
        description=f"定点关怀走访发现问题（{label[0]} / {label[1]}）：{visit.note or ''}"[:4000],
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
        raise NotFound(f"走访记录不存在 / visit {visit_id} not found")
    plan = load_plan(session, actor, visit.plan_id)
    visit_carer(session, actor, plan, now.date())
    if visit.found != "problem":
        raise Invalid("这次走访没有发现问题 / this visit found no problem", [FieldError("visit_id", "no problem")])
    if visit.report_id is not None:
        raise Invalid(
            "已经上报过 / already reported", [FieldError("visit_id", "already reported", value=visit.report_id)]
        )
    _raise(session, actor, plan, visit, now)
    return visit


def list_visits(
    session: Session,
    actor: Principal,
    *,
    plan_id: int | None = None,
    problems_only: bool = False,
    page: int = 1,
    size: int | None = None,
) -> Page[tuple[CareVisit, str]]:
    """Visits of the plans the actor may see, newest first, with the resident's name."""
    clause = plan_scope(actor)
    stmt = (
        select(CareVisit, Resident.name)
        .join(CarePlan, CarePlan.id == CareVisit.plan_id)
        .join(Resident, Resident.id == CarePlan.resident_id)
        .order_by(CareVisit.visited_at.desc(), CareVisit.id.desc())
    )
    if clause is not None:
        stmt = stmt.where(clause)
    if plan_id is not None:
        load_plan(session, actor, plan_id)
        stmt = stmt.where(CareVisit.plan_id == plan_id)
    if problems_only:
        stmt = stmt.where(CareVisit.found == "problem")
    page, size = check_page(page, size)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = [(v, n) for v, n in session.execute(stmt.limit(size).offset((page - 1) * size))]
    return Page(items, total, page, size)
