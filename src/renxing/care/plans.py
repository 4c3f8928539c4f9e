"""Care plans: the list (due first), one plan, opening, changing and closing, overdue visits."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Float, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from renxing.auth import audit
from renxing.auth.models import User
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.care import rules
from renxing.care.carers import CARER_KIND_LABELS, carer_key
from renxing.care.models import CareAssignment, CarePlan, CareVisit
from renxing.care.residents import Places, audit_health, kinds_of, needs_of, present_resident, residents_by_id
from renxing.care.rules import NOTE_MAX
from renxing.care.scope import care_unit, carer_clause, load_plan, open_assignment, plan_scope
from renxing.config import get_settings
from renxing.db import UTCDateTime, utcnow
from renxing.errors import Collector, FieldError, Invalid, NotFound
from renxing.grid import service as grid
from renxing.grid.models import Duty
from renxing.grid.scope import subtree_clause
from renxing.i18n import _, bilingual, in_each_lang
from renxing.listing import ListQuery, ListSpec, Page, list_page
from renxing.people.directory import living_resident
from renxing.people.models import Resident
from renxing.volunteers import directory as volunteers


@dataclass
class PlanRow:
    plan: CarePlan
    resident: dict[str, Any]
    carers: list[dict[str, Any]]
    last_visit_at: datetime | None
    due_at: datetime
    frequency_days: int

    def overdue(self, now: datetime) -> bool:
        return self.due_at < now

    def days_overdue(self, now: datetime) -> int:
        return max(0, (now - self.due_at).days)


def _carers_of(session: Session, plan_ids: list[int], today: date) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not plan_ids:
        return out
    rows = list(
        session.execute(
            select(CareAssignment, User)
            .outerjoin(User, User.id == CareAssignment.user_id)
            .where(CareAssignment.plan_id.in_(plan_ids), open_assignment(today))
            .order_by(CareAssignment.id)
        ).all()
    )
    members = {
        m.id: (m, t) for m, t in volunteers.members_with_teams(session, [a.member_id for a, _ in rows if a.member_id])
    }
    for a, user in rows:
        m, team = members.get(a.member_id, (None, None)) if a.member_id else (None, None)
        out[a.plan_id].append(
            {
                "assignment_id": a.id,
                "key": carer_key(a.member_id, a.user_id),
                "name": m.name if m else (user.display_name or user.username if user else "?"),
                "kind": a.carer_kind,
                "kind_label": list(in_each_lang(CARER_KIND_LABELS.get(a.carer_kind, a.carer_kind)).values()),
                "team": team.name if team else None,
                "team_id": team.id if team else None,
                "since": a.since.isoformat(),
                "reason": a.reason,
            }
        )
    return out


def _last_visits(session: Session, plan_ids: list[int]) -> dict[int, datetime]:
    if not plan_ids:
        return {}
    rows = session.execute(
        select(CareVisit.plan_id, func.max(CareVisit.visited_at))
        .where(CareVisit.plan_id.in_(plan_ids))
        .group_by(CareVisit.plan_id)
    ).all()
    # SQLite returns aggregates as text, without the column's type.
    out = {}
    for pid, at in rows:
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        out[pid] = at if at.tzinfo else at.replace(tzinfo=UTC)
    return out


def plan_rows(
    session: Session, actor: Principal, plans: list[CarePlan], today: date, *, audit_clear: bool = True
) -> list[PlanRow]:
    residents = residents_by_id(session, [p.resident_id for p in plans])
    places = Places.load(session, list(residents.values()))
    clear = actor.clear_fields()
    carers = _carers_of(session, [p.id for p in plans], today)
    last = _last_visits(session, [p.id for p in plans])
    emergency = get_settings().care_emergency_mode
    out = []
    for p in plans:
        r = residents[p.resident_id]
        freq = rules.effective_frequency(p.frequency_days, plan_emergency=p.emergency, emergency_mode=emergency)
        view = present_resident(r, clear, places, today)
        out.append(
            PlanRow(
                p, view, carers.get(p.id, []), last.get(p.id), rules.due_at(last.get(p.id), p.created_at, freq), freq
            )
        )
    if audit_clear:
        audit_health(session, actor, list(residents.values()), clear)
    return out


class day_number(FunctionElement):
    """A moment as a (fractional) number of days, so that due dates computed from it sort and
    compare in SQL the same way on SQLite and PostgreSQL."""

    type = Float()
    inherit_cache = True
    name = "day_number"


@compiles(day_number)
def _day_number_sqlite(element, compiler, **kw):
    return f"julianday({compiler.process(element.clauses, **kw)})"


@compiles(day_number, "postgresql")
def _day_number_postgresql(element, compiler, **kw):
    return f"(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) / 86400.0)"


def _due_day(emergency_mode: bool):
    """A plan's next visit as a day number: last visit (or the plan's start) plus the effective
    frequency (``rules.effective_frequency``, ``rules.due_at``)."""
    last = (
        select(func.max(CareVisit.visited_at))
        .where(CareVisit.plan_id == CarePlan.id)
        .correlate(CarePlan)
        .scalar_subquery()
    )
    every = (
        literal(rules.EMERGENCY_DAYS)
        if emergency_mode
        else case((CarePlan.emergency.is_(True), rules.EMERGENCY_DAYS), else_=CarePlan.frequency_days)
    )
    return day_number(func.coalesce(last, CarePlan.created_at)) + every


@cache
def plan_list(emergency_mode: bool) -> ListSpec:
    """The care plan list: due first by default (the due date depends on the emergency mode)."""
    return ListSpec(
        sorts={"due": _due_day(emergency_mode), "name": Resident.name, "building": CarePlan.path},
        default_sort="due",
        tiebreaker=CarePlan.id,
        search=(Resident.name,),
    )


def list_plans(
    session: Session,
    actor: Principal,
    query: ListQuery | None = None,
    *,
    unit_id: int | None = None,
    status: str = "active",
    only_mine: bool = False,
    overdue_only: bool = False,
    now: datetime | None = None,
) -> Page[PlanRow]:
    """Care plans this actor may see, one page. ``only_mine``: the actor's own care list."""
    query = query or ListQuery()
    now = now or utcnow()
    today = now.date()
    if status not in ("active", "closed"):
        raise Invalid(_("状态无效"), [FieldError("status", "active or closed", value=status)])
    spec = plan_list(get_settings().care_emergency_mode)
    stmt = select(CarePlan).join(Resident, Resident.id == CarePlan.resident_id).where(CarePlan.status == status)
    if only_mine:
        actor.require(Perm.care_own)
        stmt = stmt.where(carer_clause(actor, today))
    elif (clause := plan_scope(actor, today)) is not None:
        stmt = stmt.where(clause)
    if unit_id is not None:
        stmt = stmt.where(subtree_clause(CarePlan.path, care_unit(session, actor, unit_id).path))
    if overdue_only:
        stmt = stmt.where(spec.sorts["due"] < day_number(literal(now, UTCDateTime())))
    result = list_page(session, stmt, spec, query)
    return Page(plan_rows(session, actor, result.items, today), result.total, result.page, result.size)


def get_plan(
    session: Session, actor: Principal, plan_id: int, *, now: datetime | None = None
) -> tuple[PlanRow, list[CareVisit]]:
    now = now or utcnow()
    plan = load_plan(session, actor, plan_id)
    row = plan_rows(session, actor, [plan], now.date())[0]
    visits = list(
        session.scalars(
            select(CareVisit).where(CareVisit.plan_id == plan.id).order_by(CareVisit.visited_at.desc()).limit(50)
        )
    )
    return row, visits


def new_plan(
    session: Session,
    actor: Principal,
    r: Resident,
    today: date,
    *,
    frequency_days: int | None = None,
    emergency: bool = False,
    note: str | None = None,
) -> CarePlan:
    kinds = kinds_of(r, today)
    plan = CarePlan(
        resident_id=r.id,
        path=r.path,
        frequency_days=frequency_days or rules.default_frequency(kinds, r.special_needs, emergency=emergency),
        needs=",".join(needs_of(r)) or None,
        emergency=emergency,
        status="active",
        note=note,
        created_by=actor.user_id,
    )
    session.add(plan)
    session.flush()
    audit.record(session, actor, "create", "care_plan", plan.id, after=audit.snapshot(plan))
    return plan


def active_plan(session: Session, resident_id: int) -> CarePlan | None:
    return session.scalar(select(CarePlan).where(CarePlan.resident_id == resident_id, CarePlan.status == "active"))


def create_plan(
    session: Session,
    actor: Principal,
    resident_id: int,
    *,
    frequency_days: int | None = None,
    emergency: bool = False,
    note: str | None = None,
) -> CarePlan:
    actor.require(Perm.care_write)
    r = living_resident(session, resident_id)
    if r is None or not actor.covers_path(r.path):
        raise NotFound(_("居民 {resident_id} 不存在").format(resident_id=resident_id))
    errors = Collector()
    if frequency_days is not None and not 1 <= frequency_days <= 90:
        errors.add("frequency_days", _("走访间隔须在 1–90 天"), value=frequency_days)
    if active_plan(session, r.id) is not None:
        errors.add("resident_id", _("该居民已有进行中的关怀计划"), value=resident_id)
    if note and len(note) > NOTE_MAX:
        errors.add("note", _("备注过长（{note_max}）").format(note_max=NOTE_MAX))
    errors.raise_if_any()
    return new_plan(session, actor, r, date.today(), frequency_days=frequency_days, emergency=emergency, note=note)


def update_plan(
    session: Session,
    actor: Principal,
    plan_id: int,
    *,
    frequency_days: int | None = None,
    emergency: bool | None = None,
    status: str | None = None,
) -> CarePlan:
    actor.require(Perm.care_write)
    plan = load_plan(session, actor, plan_id)
    if not actor.covers_path(plan.path):
        raise NotFound(_("关怀计划 {plan_id} 不存在").format(plan_id=plan_id))
    errors = Collector()
    if frequency_days is not None and not 1 <= frequency_days <= 90:
        errors.add("frequency_days", _("走访间隔须在 1–90 天"), value=frequency_days)
    if status is not None and status not in ("active", "closed"):
        errors.add("status", _("状态须为 active 或 closed"), value=status)
    if status == "active" and plan.status == "closed" and active_plan(session, plan.resident_id) is not None:
        errors.add("status", _("该居民已有进行中的关怀计划"))
    errors.raise_if_any()
    before = audit.snapshot(plan)
    if frequency_days is not None:
        plan.frequency_days = frequency_days
    if emergency is not None:
        plan.emergency = emergency
    if status is not None and status != plan.status:
        plan.status = status
        plan.closed_at = utcnow() if status == "closed" else None
        if status == "closed":
            for a in session.scalars(
                select(CareAssignment).where(CareAssignment.plan_id == plan.id, CareAssignment.until.is_(None))
            ):
                a.until = date.today()
    session.flush()
    b, a = audit.changed(before, audit.snapshot(plan))
    audit.record(session, actor, "update", "care_plan", plan.id, before=b, after=a)
    return plan


def end_assignment(
    session: Session, actor: Principal, assignment_id: int, *, reason: str | None = None
) -> CareAssignment:
    actor.require(Perm.care_write)
    a = session.get(CareAssignment, assignment_id)
    if a is None:
        raise NotFound(_("照护安排 {assignment_id} 不存在").format(assignment_id=assignment_id))
    plan = load_plan(session, actor, a.plan_id)
    if not actor.covers_path(plan.path):
        raise NotFound(_("照护安排 {assignment_id} 不存在").format(assignment_id=assignment_id))
    if a.until is not None and a.until < date.today():
        raise Invalid(_("该安排已结束"), [FieldError("assignment_id", "ended")])
    a.until = date.today()
    if reason:
        a.reason = ((a.reason or "") + "；" + bilingual("结束：{reason}", reason=reason.strip()))[:NOTE_MAX]
    audit.record(session, actor, "update", "care_assignment", a.id, summary="ended", after=audit.snapshot(a))
    return a


@dataclass
class OverdueRow:
    row: PlanRow
    days_overdue: int
    grid_workers: list[str]


def overdue(
    session: Session,
    actor: Principal,
    *,
    unit_id: int | None = None,
    only_mine: bool = False,
    now: datetime | None = None,
    limit: int = 500,
) -> list[OverdueRow]:
    """Plans whose next visit is past due (last visit + frequency < now), most overdue first, each
    with its carers and the grid workers of the resident's area (from the responsibility chain)."""
    now = now or utcnow()
    first = ListQuery(page=1, size=min(limit, get_settings().max_page_size), sort="due")
    page = list_plans(session, actor, first, unit_id=unit_id, only_mine=only_mine, overdue_only=True, now=now)
    workers: dict[int | None, list[str]] = {}
    out = []
    for row in page.items:
        # Grid workers answer for areas: one look-up per building serves all its households.
        key = row.resident["building_id"]
        if key not in workers:
            links = (
                grid.chain(session, unit_id=key, on=now.date())
                if key is not None
                else grid.chain(session, household_id=row.resident["household_id"], on=now.date())
            )
            workers[key] = [p.person_name for link in links if link.duty is Duty.grid_worker for p in link.people]
        out.append(OverdueRow(row, row.days_overdue(now), workers[key]))
    return out
