"""Use cases of 定点关怀: care plans, carers, visits, overdue lists, proposals, coverage.

Who sees what: staff and grid workers (``care_read``/``care_write``) every plan in their scope,
building leaders their building; a carer (``care_own``, e.g. a volunteer) only the residents they
care for; street admins (``care_coverage``) the aggregates without names. Health needs follow the
health field's masking and each clear read is audited.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User, UserScope
from renxing.auth.policy import Field, Perm, Role
from renxing.auth.principal import Principal
from renxing.bounds import valid_id
from renxing.care import assignment as opt
from renxing.care import coverage_calc as cov
from renxing.care import rules
from renxing.care.models import CareAssignment, CarePlan, CarerKind, CareVisit
from renxing.config import get_settings
from renxing.db import contains, utcnow
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.events import service as events
from renxing.grid import service as grid
from renxing.grid.models import Duty, GridUnit, Household, Level
from renxing.grid.scope import path_ids, scope_clause, subtree_clause
from renxing.listing import Page, check_page
from renxing.people.masking import HIDDEN, mask_phone
from renxing.people.models import Resident
from renxing.people.service import years_ago
from renxing.volunteers.models import SKILL_LABELS as VOLUNTEER_SKILLS
from renxing.volunteers.models import TeamKind, TeamMember, VolunteerTeam
from renxing.volunteers.service import community_of, skills_of, valid_skills

CARER_KIND_LABELS = opt.KIND_LABELS
PLAN_SORTS = ("due", "name", "building")
VISIT_SKEW = timedelta(minutes=10)  # a phone's clock may run a little ahead
VISIT_BACKDATE = timedelta(days=31)  # visits written up later, but not months later
NOTE_MAX = 2000


# ---- loading within scope ----------------------------------------------------------------


def _open_assignment(today: date):
    return or_(CareAssignment.until.is_(None), CareAssignment.until >= today)


def _carer_clause(actor: Principal, today: date):
    """Plans the actor cares for: as a team member linked to their account, or as a user."""
    members = select(TeamMember.id).where(TeamMember.user_id == (actor.user_id or -1))
    return CarePlan.id.in_(
        select(CareAssignment.plan_id).where(
            _open_assignment(today),
            or_(CareAssignment.user_id == (actor.user_id or -1), CareAssignment.member_id.in_(members)),
        )
    )


def plan_scope(actor: Principal, today: date | None = None):
    """A WHERE clause for the plans this actor may read (None: all), or Forbidden."""
    today = today or date.today()
    if actor.can(Perm.care_read):
        return scope_clause(CarePlan.path, actor)
    if actor.can(Perm.care_own):
        return _carer_clause(actor, today)
    raise Forbidden(f"角色无此权限 / role {actor.role.value} may not {Perm.care_read.value}")


def _load_plan(session: Session, actor: Principal, plan_id: int) -> CarePlan:
    plan = session.get(CarePlan, plan_id)
    clause = plan_scope(actor)
    if plan is None:
        raise NotFound(f"关怀计划不存在 / care plan {plan_id} not found")
    if clause is not None and not session.scalar(select(CarePlan.id).where(CarePlan.id == plan_id, clause)):
        raise NotFound(f"关怀计划不存在 / care plan {plan_id} not found")
    return plan


def _scoped_unit(session: Session, actor: Principal, unit_id: int) -> GridUnit:
    unit = session.get(GridUnit, unit_id)
    if unit is None or not actor.sees_unit(unit.path):
        raise NotFound(f"网格单元不存在 / grid unit {unit_id} not found")
    return unit


def _vulnerable_clause(today: date):
    return or_(
        Resident.birth_date <= years_ago(today, 80),
        and_(Resident.living_alone.is_(True), Resident.birth_date <= years_ago(today, 60)),
        Resident.bedridden.is_(True),
        Resident.disability_kind.is_not(None),
        Resident.special_needs.is_not(None),
    )


def kinds_of(r: Resident, today: date | None = None) -> list[str]:
    return rules.care_kinds(
        birth_date=r.birth_date,
        living_alone=r.living_alone,
        bedridden=r.bedridden,
        disability_kind=r.disability_kind,
        special_needs=r.special_needs,
        today=today or date.today(),
    )


def needs_of(r: Resident) -> list[str]:
    return rules.plan_needs(r.special_needs, bedridden=r.bedridden, disability_kind=r.disability_kind)


def _vulnerable(session: Session, actor: Principal, unit: GridUnit, today: date) -> list[Resident]:
    stmt = select(Resident).where(
        Resident.deleted_at.is_(None),
        Resident.lives_here.is_(True),
        subtree_clause(Resident.path, unit.path),
        _vulnerable_clause(today),
    )
    clause = scope_clause(Resident.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return list(session.scalars(stmt.order_by(Resident.path, Resident.id)))


# ---- presenting --------------------------------------------------------------------------


@dataclass
class Places:
    """Buildings, areas and addresses of households, looked up once per request."""

    households: dict[int, Household] = field(default_factory=dict)
    units: dict[int, GridUnit] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, residents: list[Resident]) -> "Places":
        hh_ids = {r.household_id for r in residents}
        households = (
            {h.id: h for h in session.scalars(select(Household).where(Household.id.in_(hh_ids)))} if hh_ids else {}
        )
        unit_ids = {i for r in residents for i in path_ids(r.path)}
        units = (
            {u.id: u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(unit_ids)))} if unit_ids else {}
        )
        return cls(households, units)

    def building(self, r: Resident) -> GridUnit | None:
        hh = self.households.get(r.household_id)
        return self.units.get(hh.building_id) if hh else None

    def area(self, r: Resident) -> GridUnit | None:
        for uid in reversed(path_ids(r.path)):
            u = self.units.get(uid)
            if u is not None and u.level == Level.area.value:
                return u
        return None

    def address(self, r: Resident) -> str:
        hh = self.households.get(r.household_id)
        b = self.building(r)
        if hh is None:
            return ""
        return f"{b.name if b else ''} {hh.unit_no}单元{hh.room}"


def present_resident(r: Resident, clear: frozenset[Field], places: Places, today: date) -> dict[str, Any]:
    kinds = kinds_of(r, today)
    health = Field.health in clear
    b = places.building(r)
    a = places.area(r)
    return {
        "id": r.id,
        "name": r.name,
        "household_id": r.household_id,
        "address": places.address(r),
        "building_id": b.id if b else None,
        "building": b.name if b else None,
        "area_id": a.id if a else None,
        "area": a.name if a else None,
        "phone": r.phone if Field.phone in clear else mask_phone(r.phone),
        "kinds": [k for k in kinds if health or k not in rules.HEALTH_KINDS],
        "needs": needs_of(r) if health else ([HIDDEN] if needs_of(r) else []),
        "masked": not health,
    }


def _audit_health(session: Session, actor: Principal, residents: list[Resident], clear: frozenset[Field]) -> None:
    """Each resident whose health needs were shown in the clear gets an audit entry."""
    if Field.health not in clear:
        return
    for r in residents:
        if r.bedridden or r.disability_kind or r.special_needs:
            audit.record(session, actor, "read_personal", "resident", r.id, summary="health (care)")


def _clear(actor: Principal) -> frozenset[Field]:
    return actor.clear_fields()


# ---- carers ------------------------------------------------------------------------------


def carer_key(member_id: int | None = None, user_id: int | None = None) -> str:
    return f"m{member_id}" if member_id is not None else f"u{user_id}"


def parse_carer_key(key: str) -> tuple[str, int] | None:
    if not key or key[0] not in "mu" or not key[1:].isdigit() or not valid_id(int(key[1:])):
        return None
    return key[0], int(key[1:])


def _loads(session: Session, today: date) -> dict[str, int]:
    """Residents each carer looks after now (open assignments of active plans)."""
    rows = session.execute(
        select(CareAssignment.member_id, CareAssignment.user_id, func.count(func.distinct(CareAssignment.plan_id)))
        .join(CarePlan, CarePlan.id == CareAssignment.plan_id)
        .where(CarePlan.status == "active", _open_assignment(today))
        .group_by(CareAssignment.member_id, CareAssignment.user_id)
    ).all()
    return {carer_key(m, u): n for m, u, n in rows}


def _member_kind(m: TeamMember, team: VolunteerTeam, resident: Resident | None) -> str:
    if team.kind == TeamKind.party or (resident is not None and resident.party_member):
        return CarerKind.party_member
    return CarerKind.volunteer


def _service_kind(team: VolunteerTeam | None) -> str:
    return "medical" if team is not None and team.kind == TeamKind.medical else "visit"


@dataclass
class CarerInfo:
    key: str
    name: str
    kind: str
    team: VolunteerTeam | None
    member: TeamMember | None
    skills: frozenset[str]
    max_care: int
    load: int
    building_id: int | None
    area_id: int | None
    lon: float | None
    lat: float | None

    @property
    def free(self) -> int:
        return max(0, self.max_care - self.load)


def _community_carers(session: Session, community: GridUnit, today: date) -> list[CarerInfo]:
    """Active members of the community's active teams, with valid skills and current load."""
    rows = session.execute(
        select(TeamMember, VolunteerTeam)
        .join(VolunteerTeam, VolunteerTeam.id == TeamMember.team_id)
        .where(VolunteerTeam.path == community.path, VolunteerTeam.active.is_(True), TeamMember.active.is_(True))
        .order_by(TeamMember.id)
    ).all()
    members = [m for m, _ in rows]
    skills = skills_of(session, [m.id for m in members])
    res_ids = [m.resident_id for m in members if m.resident_id]
    residents = {r.id: r for r in session.scalars(select(Resident).where(Resident.id.in_(res_ids)))} if res_ids else {}
    bld_ids = {m.building_id for m in members if m.building_id}
    buildings = {u.id: u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(bld_ids)))} if bld_ids else {}
    loads = _loads(session, today)
    out = []
    for m, team in rows:
        b = buildings.get(m.building_id) if m.building_id else None
        area_id = path_ids(b.path)[-2] if b is not None and len(path_ids(b.path)) >= 2 else None
        out.append(
            CarerInfo(
                key=carer_key(member_id=m.id),
                name=m.name,
                kind=_member_kind(m, team, residents.get(m.resident_id) if m.resident_id else None),
                team=team,
                member=m,
                skills=valid_skills(skills.get(m.id, []), today),
                max_care=m.max_care,
                load=loads.get(carer_key(member_id=m.id), 0),
                building_id=m.building_id,
                area_id=area_id,
                lon=m.lon,
                lat=m.lat,
            )
        )
    return out


# ---- plans -------------------------------------------------------------------------------


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
    rows = session.execute(
        select(CareAssignment, TeamMember, VolunteerTeam, User)
        .outerjoin(TeamMember, TeamMember.id == CareAssignment.member_id)
        .outerjoin(VolunteerTeam, VolunteerTeam.id == TeamMember.team_id)
        .outerjoin(User, User.id == CareAssignment.user_id)
        .where(CareAssignment.plan_id.in_(plan_ids), _open_assignment(today))
        .order_by(CareAssignment.id)
    ).all()
    for a, m, team, user in rows:
        out[a.plan_id].append(
            {
                "assignment_id": a.id,
                "key": carer_key(a.member_id, a.user_id),
                "name": m.name if m else (user.display_name or user.username if user else "?"),
                "kind": a.carer_kind,
                "kind_label": CARER_KIND_LABELS.get(a.carer_kind, (a.carer_kind, a.carer_kind)),
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


def _rows(
    session: Session, actor: Principal, plans: list[CarePlan], today: date, *, audit_clear: bool = True
) -> list[PlanRow]:
    residents = {
        r.id: r for r in session.scalars(select(Resident).where(Resident.id.in_([p.resident_id for p in plans])))
    }
    places = Places.load(session, list(residents.values()))
    clear = _clear(actor)
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
        _audit_health(session, actor, list(residents.values()), clear)
    return out


def list_plans(
    session: Session,
    actor: Principal,
    *,
    unit_id: int | None = None,
    q: str | None = None,
    status: str = "active",
    only_mine: bool = False,
    overdue_only: bool = False,
    sort: str = "due",
    page: int = 1,
    size: int | None = None,
    now: datetime | None = None,
) -> Page[PlanRow]:
    """Care plans this actor may see, one page. ``only_mine``: the actor's own care list."""
    now = now or utcnow()
    today = now.date()
    if sort not in PLAN_SORTS:
        raise Invalid("排序字段无效 / bad sort", [FieldError("sort", f"one of {', '.join(PLAN_SORTS)}", value=sort)])
    if status not in ("active", "closed"):
        raise Invalid("状态无效 / bad status", [FieldError("status", "active or closed", value=status)])
    page, size = check_page(page, size)
    stmt = select(CarePlan).join(Resident, Resident.id == CarePlan.resident_id).where(CarePlan.status == status)
    if only_mine:
        actor.require(Perm.care_own)
        stmt = stmt.where(_carer_clause(actor, today))
    else:
        clause = plan_scope(actor, today)
        if clause is not None:
            stmt = stmt.where(clause)
    if unit_id is not None:
        stmt = stmt.where(subtree_clause(CarePlan.path, _scoped_unit(session, actor, unit_id).path))
    if q and q.strip():
        stmt = stmt.where(contains(Resident.name, q.strip()))
    # Due dates depend on the last visit, so sorting and the overdue filter work on the whole
    # (scoped) list; the rows of one page are then presented.
    plans = list(session.scalars(stmt.order_by(CarePlan.path, CarePlan.id)))
    last = _last_visits(session, [p.id for p in plans])
    emergency = get_settings().care_emergency_mode

    def due(p: CarePlan) -> datetime:
        freq = rules.effective_frequency(p.frequency_days, plan_emergency=p.emergency, emergency_mode=emergency)
        return rules.due_at(last.get(p.id), p.created_at, freq)

    if overdue_only:
        plans = [p for p in plans if due(p) < now]
    if sort == "due":
        plans.sort(key=lambda p: (due(p), p.id))
    elif sort == "name":
        names = dict(
            session.execute(
                select(Resident.id, Resident.name).where(Resident.id.in_([p.resident_id for p in plans]))
            ).all()
        )
        plans.sort(key=lambda p: (names.get(p.resident_id, ""), p.id))
    total = len(plans)
    chunk = plans[(page - 1) * size : page * size]
    return Page(_rows(session, actor, chunk, today), total, page, size)


def get_plan(
    session: Session, actor: Principal, plan_id: int, *, now: datetime | None = None
) -> tuple[PlanRow, list[CareVisit]]:
    now = now or utcnow()
    plan = _load_plan(session, actor, plan_id)
    row = _rows(session, actor, [plan], now.date())[0]
    visits = list(
        session.scalars(
            select(CareVisit).where(CareVisit.plan_id == plan.id).order_by(CareVisit.visited_at.desc()).limit(50)
        )
    )
    return row, visits


def _new_plan(
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


def _active_plan(session: Session, resident_id: int) -> CarePlan | None:
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
    r = session.get(Resident, resident_id)
    if r is None or r.deleted_at is not None or not actor.covers_path(r.path):
        raise NotFound(f"居民不存在 / resident {resident_id} not found")
    errors = Collector()
    if frequency_days is not None and not 1 <= frequency_days <= 90:
        errors.add("frequency_days", "走访间隔须在 1–90 天 / frequency must be 1–90 days", value=frequency_days)
    if _active_plan(session, r.id) is not None:
        errors.add(
            "resident_id", "该居民已有进行中的关怀计划 / the resident already has an active plan", value=resident_id
        )
    if note and len(note) > NOTE_MAX:
        errors.add("note", f"备注过长 / note too long ({NOTE_MAX})")
    errors.raise_if_any()
    return _new_plan(session, actor, r, date.today(), frequency_days=frequency_days, emergency=emergency, note=note)


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
    plan = _load_plan(session, actor, plan_id)
    if not actor.covers_path(plan.path):
        raise NotFound(f"关怀计划不存在 / care plan {plan_id} not found")
    errors = Collector()
    if frequency_days is not None and not 1 <= frequency_days <= 90:
        errors.add("frequency_days", "走访间隔须在 1–90 天 / frequency must be 1–90 days", value=frequency_days)
    if status is not None and status not in ("active", "closed"):
        errors.add("status", "状态须为 active 或 closed / status must be active or closed", value=status)
    if status == "active" and plan.status == "closed" and _active_plan(session, plan.resident_id) is not None:
        errors.add("status", "该居民已有进行中的关怀计划 / the resident already has an active plan")
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
        raise NotFound(f"照护安排不存在 / assignment {assignment_id} not found")
    plan = _load_plan(session, actor, a.plan_id)
    if not actor.covers_path(plan.path):
        raise NotFound(f"照护安排不存在 / assignment {assignment_id} not found")
    if a.until is not None and a.until < date.today():
        raise Invalid("该安排已结束 / the assignment has ended", [FieldError("assignment_id", "ended")])
    a.until = date.today()
    if reason:
        a.reason = ((a.reason or "") + f"\n结束 / ended: {reason.strip()}")[:NOTE_MAX]
    audit.record(session, actor, "update", "care_assignment", a.id, summary="ended", after=audit.snapshot(a))
    return a


# ---- uncovered, proposal, assignment -------------------------------------------------------


@dataclass
class Uncovered:
    resident: dict[str, Any]
    plan_id: int | None


def _covered_ids(session: Session, resident_ids: list[int], today: date) -> set[int]:
    if not resident_ids:
        return set()
    return set(
        session.scalars(
            select(CarePlan.resident_id)
            .join(CareAssignment, CareAssignment.plan_id == CarePlan.id)
            .where(CarePlan.status == "active", CarePlan.resident_id.in_(resident_ids), _open_assignment(today))
        )
    )


def _uncovered_residents(session: Session, actor: Principal, unit: GridUnit, today: date) -> list[Resident]:
    residents = _vulnerable(session, actor, unit, today)
    covered = _covered_ids(session, [r.id for r in residents], today)
    return [r for r in residents if r.id not in covered]


def uncovered(session: Session, actor: Principal, unit_id: int, *, today: date | None = None) -> list[Uncovered]:
    """Vulnerable residents in the unit (and scope) whom nobody cares for."""
    actor.require(Perm.care_read)
    today = today or date.today()
    unit = _scoped_unit(session, actor, unit_id)
    rows = _uncovered_residents(session, actor, unit, today)
    places = Places.load(session, rows)
    clear = _clear(actor)
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
    _audit_health(session, actor, rows, clear)
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
        raise Invalid(
            "须在社区或其下级单元内 / pick a community or a unit inside one", [FieldError("unit_id", "no community")]
        )
    residents = _uncovered_residents(session, actor, unit, today)
    places = Places.load(session, residents)
    carers = [c for c in _community_carers(session, community, today) if c.free > 0 and c.lon is not None]
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
    unit = _scoped_unit(session, actor, unit_id)
    community, residents, places, carers, problem = _problem(session, actor, unit, today)
    result = opt.solve(problem)
    clear = _clear(actor)
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
            gaps.append(ProposedGap(present_resident(r, clear, places, today), "no_position", "没有位置 / no position"))
    _audit_health(session, actor, residents, clear)
    return Proposal(community, pairs, gaps, round(result.total_distance_m, 1), len(carers), result.stats)


@dataclass
class PairIn:
    resident_id: int
    carer: str  # "m<member id>" or "u<user id>"
    carer_kind: str | None = None
    reason: str | None = None


def assign(
    session: Session, actor: Principal, pairs: list[PairIn], *, today: date | None = None
) -> list[CareAssignment]:
    """Apply a whole proposal (or a hand-made list) in one action: every pair is checked first
    (scope, already covered, carer in the resident's community, needed skills, the carer's limit);
    any error → 422 naming the pair's field and nothing is written."""
    actor.require(Perm.care_write)
    today = today or date.today()
    settings = get_settings()
    errors = Collector()
    if not pairs:
        raise Invalid("没有要安排的照护 / nothing to assign", [FieldError("pairs", "empty")])
    if len(pairs) > 5000:
        raise Invalid("一次最多 5000 对 / at most 5000 pairs", [FieldError("pairs", "too many")])
    residents = {
        r.id: r for r in session.scalars(select(Resident).where(Resident.id.in_([p.resident_id for p in pairs])))
    }
    for p in pairs:
        r = residents.get(p.resident_id)
        if r is None or r.deleted_at is not None or not actor.covers_path(r.path):
            raise NotFound(f"居民不存在 / resident {p.resident_id} not found")
    covered = _covered_ids(session, list(residents), today)
    loads = _loads(session, today)
    members: dict[int, tuple[TeamMember, VolunteerTeam]] = {}
    member_ids = [k[1] for p in pairs if (k := parse_carer_key(p.carer)) and k[0] == "m"]
    for m, t in session.execute(
        select(TeamMember, VolunteerTeam)
        .join(VolunteerTeam, VolunteerTeam.id == TeamMember.team_id)
        .where(TeamMember.id.in_(member_ids))
    ):
        members[m.id] = (m, t)
    skills = skills_of(session, list(members))
    member_res = {
        r.id: r
        for r in session.scalars(
            select(Resident).where(Resident.id.in_([m.resident_id for m, _ in members.values() if m.resident_id]))
        )
    }
    user_ids = [k[1] for p in pairs if (k := parse_carer_key(p.carer)) and k[0] == "u"]
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    user_paths: dict[int, list[str]] = defaultdict(list)
    if user_ids:
        for uid, path in session.execute(
            select(UserScope.user_id, GridUnit.path)
            .join(GridUnit, GridUnit.id == UserScope.unit_id)
            .where(UserScope.user_id.in_(user_ids))
        ):
            user_paths[uid].append(path)
    seen: set[int] = set()
    added: dict[str, int] = defaultdict(int)
    plan_kind: list[str] = []
    for i, p in enumerate(pairs):
        r = residents[p.resident_id]
        f = f"pairs[{i}]"
        if p.resident_id in seen:
            errors.add(f"{f}.resident_id", "同一居民出现两次 / the same resident twice", i + 1, p.resident_id)
        seen.add(p.resident_id)
        if p.resident_id in covered:
            errors.add(f"{f}.resident_id", "该居民已有照护人 / the resident already has a carer", i + 1, p.resident_id)
        if not kinds_of(r, today):
            errors.add(
                f"{f}.resident_id",
                "该居民不属于关怀对象 / the resident is not in a vulnerable group",
                i + 1,
                p.resident_id,
            )
        if p.reason and len(p.reason) > NOTE_MAX:
            errors.add(f"{f}.reason", f"说明过长 / reason too long ({NOTE_MAX})", i + 1)
        key = parse_carer_key(p.carer)
        kind = p.carer_kind
        if kind is not None and kind not in CARER_KIND_LABELS:
            errors.add(f"{f}.carer_kind", f"须为 / must be one of {', '.join(CarerKind)}", i + 1, kind)
        if key is None:
            errors.add(
                f"{f}.carer",
                "照护人无效（m队员号 或 u用户号）/ carer must be m<member id> or u<user id>",
                i + 1,
                p.carer,
            )
            plan_kind.append(kind or CarerKind.volunteer)
            continue
        needs = set(needs_of(r))
        if key[0] == "m":
            mt = members.get(key[1])
            if mt is None or not mt[0].active or not mt[1].active or not r.path.startswith(mt[1].path):
                errors.add(
                    f"{f}.carer",
                    "照护人不存在或不属于该居民所在社区 / no such carer in the resident's community",
                    i + 1,
                    p.carer,
                )
                plan_kind.append(kind or CarerKind.volunteer)
                continue
            m, team = mt
            have = valid_skills(skills.get(m.id, []), today)
            limit = m.max_care
            kind = kind or _member_kind(m, team, member_res.get(m.resident_id) if m.resident_id else None)
            name = m.name
        else:
            u = users.get(key[1])
            if (
                u is None
                or Role(u.role) is not Role.grid_worker
                or not any(r.path.startswith(path) for path in user_paths[u.id])
            ):
                errors.add(
                    f"{f}.carer",
                    "该居民所在网格没有这位网格员 / no such grid worker for the resident's area",
                    i + 1,
                    p.carer,
                )
                plan_kind.append(kind or CarerKind.grid_worker)
                continue
            have = frozenset()
            limit = settings.care_grid_worker_max
            kind = kind or CarerKind.grid_worker
            name = u.display_name or u.username
        missing = sorted(needs - have)
        if missing:
            labels = "、".join(opt.skill_label(s)[0] for s in missing)
            errors.add(
                f"{f}.carer",
                f"{name} 缺少所需技能：{labels} / {name} lacks the needed skill: {', '.join(missing)}",
                i + 1,
                p.carer,
            )
        added[p.carer] += 1
        if loads.get(p.carer, 0) + added[p.carer] > limit:
            errors.add(
                f"{f}.carer",
                f"{name} 超出照护上限 {limit} 人 / {name} would exceed their limit of {limit}",
                i + 1,
                p.carer,
            )
        plan_kind.append(kind)
    errors.raise_if_any("照护安排有误，未做任何更改 / the assignment has errors; nothing was changed")
    out = []
    for p, kind in zip(pairs, plan_kind, strict=True):
        r = residents[p.resident_id]
        plan = _active_plan(session, r.id) or _new_plan(session, actor, r, today)
        key = parse_carer_key(p.carer)
        assert key is not None
        a = CareAssignment(
            plan_id=plan.id,
            carer_kind=kind,
            member_id=key[1] if key[0] == "m" else None,
            user_id=key[1] if key[0] == "u" else None,
            since=today,
            reason=(p.reason or "").strip() or None,
            created_by=actor.user_id,
        )
        session.add(a)
        session.flush()
        audit.record(session, actor, "create", "care_assignment", a.id, after=audit.snapshot(a))
        out.append(a)
    return out


# ---- visits ------------------------------------------------------------------------------


def _visit_carer(session: Session, actor: Principal, plan: CarePlan, today: date) -> tuple[str, int | None, int | None]:
    """(carer kind, member id, user id) of the actor on this plan, or Forbidden/NotFound."""
    mine = (
        session.execute(
            select(CareAssignment)
            .outerjoin(TeamMember, TeamMember.id == CareAssignment.member_id)
            .where(
                CareAssignment.plan_id == plan.id,
                _open_assignment(today),
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
    plan = _load_plan(session, actor, plan_id)
    kind, member_id, user_id = _visit_carer(session, actor, plan, now.date())
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
    report = events.submit_internal(
        session,
        category="needs_help",
        description=f"定点关怀走访发现问题（{label[0]} / {label[1]}）：{visit.note or ''}"[:4000],
        source=f"定点关怀走访 {actor.display_name or actor.username}",
        household_id=r.household_id,
        external_ref=f"care-visit-{visit.id}",
        now=now,
    )
    visit.report_id = report.id
    audit.record(session, actor, "update", "care_visit", visit.id, summary=f"raised report {report.id}")


def raise_problem(session: Session, actor: Principal, visit_id: int, *, now: datetime | None = None) -> CareVisit:
    """One action: a visit's problem into the closed loop (困难求助) at the resident's household."""
    now = now or utcnow()
    visit = session.get(CareVisit, visit_id)
    if visit is None:
        raise NotFound(f"走访记录不存在 / visit {visit_id} not found")
    plan = _load_plan(session, actor, visit.plan_id)
    _visit_carer(session, actor, plan, now.date())
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
        _load_plan(session, actor, plan_id)
        stmt = stmt.where(CareVisit.plan_id == plan_id)
    if problems_only:
        stmt = stmt.where(CareVisit.found == "problem")
    page, size = check_page(page, size)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = [(v, n) for v, n in session.execute(stmt.limit(size).offset((page - 1) * size))]
    return Page(items, total, page, size)


# ---- overdue -----------------------------------------------------------------------------


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
    page = list_plans(
        session,
        actor,
        unit_id=unit_id,
        only_mine=only_mine,
        overdue_only=True,
        sort="due",
        page=1,
        size=min(limit, get_settings().max_page_size),
        now=now,
    )
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


# ---- coverage ----------------------------------------------------------------------------


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
    unit = _scoped_unit(session, actor, unit_id)
    community = community_of(session, unit.path)
    residents = _vulnerable(session, actor, unit, today)
    places = Places.load(session, residents)
    clear = _clear(actor)
    health = Field.health in clear
    recips = []
    for r in residents:
        b, a = places.building(r), places.area(r)
        kinds = [k for k in kinds_of(r, today) if health or k not in rules.HEALTH_KINDS]
        recips.append(cov.CareRecipient(r.id, b.id if b else None, a.id if a else None, frozenset(kinds)))
    ids = [r.id for r in residents]
    links = []
    team_names: dict[int, str] = {}
    carer_names: dict[str, str] = {}
    if ids:
        rows = session.execute(
            select(CarePlan.resident_id, CareAssignment, TeamMember, VolunteerTeam)
            .join(CareAssignment, CareAssignment.plan_id == CarePlan.id)
            .outerjoin(TeamMember, TeamMember.id == CareAssignment.member_id)
            .outerjoin(VolunteerTeam, VolunteerTeam.id == TeamMember.team_id)
            .where(CarePlan.status == "active", CarePlan.resident_id.in_(ids), _open_assignment(today))
        ).all()
        for rid, a, m, team in rows:
            key = carer_key(a.member_id, a.user_id)
            links.append(cov.CareLink(rid, key, team.id if team else None, _service_kind(team)))
            if team:
                team_names[team.id] = team.name
            if m:
                carer_names[key] = m.name
    infos = []
    if community is not None:
        for c in _community_carers(session, community, today):
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
) -> opt.WhatIf:
    """How many more uncovered residents would be covered with ``extra`` more volunteers of a skill in an area."""
    actor.require(Perm.care_write)
    today = today or date.today()
    unit = _scoped_unit(session, actor, unit_id)
    if skill is not None and skill not in VOLUNTEER_SKILLS:
        raise Invalid("未知技能 / unknown skill", [FieldError("skill", "unknown", value=skill)])
    if area_id is not None:
        area = session.get(GridUnit, area_id)
        if area is None or area.level != Level.area.value or not area.path.startswith(unit.path):
            raise Invalid(
                "片区不在该单元内 / area not inside the unit",
                [FieldError("area_id", "not an area here", value=area_id)],
            )
    _, _, _, _, problem = _problem(session, actor, unit, today)
    return opt.what_if(problem, extra, skill=skill, area=area_id, capacity=capacity)


# ---- what the pages show -----------------------------------------------------------------


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
        unit = _scoped_unit(session, actor, unit_id)
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
    vulnerable = len(_vulnerable(session, actor, unit, now.date()))
    return Overview(units, unit, gaps, late, plans, vulnerable)


def visit_form(session: Session, actor: Principal, plan_id: int, *, now: datetime | None = None) -> PlanRow:
    """The plan as the visit form shows it; only someone who may record a visit gets it."""
    now = now or utcnow()
    plan = _load_plan(session, actor, plan_id)
    _visit_carer(session, actor, plan, now.date())
    return _rows(session, actor, [plan], now.date())[0]


@dataclass
class CoveragePage:
    units: list[GridUnit]
    view: CoverageView
    areas: list[GridUnit]
    what_if: opt.WhatIf | None


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
        raise NotFound("没有可查看的单元 / no unit to show")
    view = coverage(session, actor, unit_id)
    areas = [u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(list(view.report.areas))))]
    areas.sort(key=lambda u: u.path)
    result = None
    if extra is not None and actor.can(Perm.care_write):
        result = what_if(session, actor, unit_id, extra=extra, skill=skill or None, area_id=area_id)
    return CoveragePage(units, view, areas, result)
