"""Use cases of the volunteer teams: roster, members, skills with certificates, service hours."""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Field, Perm
from renxing.auth.principal import Principal
from renxing.db import contains
from renxing.errors import Collector, FieldError, Invalid, NotFound
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import path_ids, scope_clause, subtree_clause
from renxing.i18n import _
from renxing.listing import Page, paginate
from renxing.people.masking import mask_phone
from renxing.people.models import Resident
from renxing.people.service import LANDLINE, MOBILE, normalise_phone
from renxing.volunteers.models import (
    MEMBER_ROLES,
    SKILL_LABELS,
    TEAM_KIND_LABELS,
    MemberSkill,
    ServiceHours,
    Skill,
    TeamKind,
    TeamMember,
    VolunteerTeam,
)

TEAM_SORTS = {"name": VolunteerTeam.name, "kind": VolunteerTeam.kind, "-created": VolunteerTeam.id.desc()}
MEMBER_SORTS = {"name": TeamMember.name, "joined": TeamMember.joined_on, "-joined": TeamMember.joined_on.desc()}
SLOT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")
MAX_CARE_LIMIT = 30
EXPIRING_DAYS = 60


# ---- pure helpers -------------------------------------------------------------------------


def valid_skills(skills: list[MemberSkill], today: date) -> frozenset[str]:
    """Skills whose certificate has not expired (no expiry date: valid)."""
    return frozenset(s.skill for s in skills if s.expires_on is None or s.expires_on >= today)


def check_availability(raw: Any, errors: Collector, field: str = "availability") -> dict[str, list[str]] | None:
    """``{"0": ["08:00-11:30"], ...}`` with weekday 0 (Monday) to 6; slots must not run backwards."""
    if raw in (None, "", {}):
        return None
    if not isinstance(raw, dict):
        errors.add(field, _("须为 星期→时段列表"), value=raw)
        return None
    out: dict[str, list[str]] = {}
    for day, slots in raw.items():
        if str(day) not in {str(i) for i in range(7)}:
            errors.add(field, _("星期须为 0（周一）到 6"), value=day)
            continue
        if isinstance(slots, str):
            slots = [s for s in slots.replace("，", ",").split(",") if s.strip()]
        if not isinstance(slots, list):
            errors.add(field, _("时段须为列表"), value=slots)
            continue
        good = []
        for slot in slots:
            m = SLOT.match(str(slot).strip())
            if not m or (m.group(1), m.group(2)) >= (m.group(3), m.group(4)):
                errors.add(
                    field,
                    _("时段格式为 HH:MM-HH:MM 且开始早于结束"),
                    value=slot,
                )
                continue
            good.append(str(slot).strip())
        if good:
            out[str(day)] = sorted(good)
    return out or None


def ancestor_paths(path: str) -> list[str]:
    ids = path_ids(path)
    return ["/" + "/".join(str(i) for i in ids[: n + 1]) + "/" for n in range(len(ids))]


def visible_clause(column, actor: Principal):
    """Teams are kept at their community: an actor sees the teams in scope and those of the
    communities their own (lower) scope lies in. None: everything."""
    if actor.is_global:
        return None
    above = {a for p in actor.scope_paths for a in ancestor_paths(p)}
    clause = scope_clause(column, actor)
    return or_(clause, column.in_(sorted(above))) if above else clause


def community_of(session: Session, path: str) -> GridUnit | None:
    ids = path_ids(path)
    if not ids:
        return None
    return session.scalar(select(GridUnit).where(GridUnit.id.in_(ids), GridUnit.level == Level.community.value))


# ---- teams ------------------------------------------------------------------------------------


@dataclass
class TeamRow:
    team: VolunteerTeam
    members: int
    hours_12m: float
    community: str


def team_query(actor: Principal, *, unit_path: str | None = None, q: str | None = None, kind: str | None = None):
    actor.require(Perm.volunteers_read)
    stmt = select(VolunteerTeam)
    clause = visible_clause(VolunteerTeam.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if unit_path:
        stmt = stmt.where(subtree_clause(VolunteerTeam.path, unit_path))
    if kind:
        if kind not in TEAM_KIND_LABELS:
            raise Invalid(_("未知队伍类型"), [FieldError("kind", "unknown", value=kind)])
        stmt = stmt.where(VolunteerTeam.kind == kind)
    if q and q.strip():
        stmt = stmt.where(contains(VolunteerTeam.name, q.strip()))
    return stmt


def list_teams(
    session: Session,
    actor: Principal,
    *,
    unit_path: str | None = None,
    q: str | None = None,
    kind: str | None = None,
    sort: str = "name",
    page: int = 1,
    size: int | None = None,
    today: date | None = None,
) -> Page[TeamRow]:
    if sort not in TEAM_SORTS:
        raise Invalid(_("排序字段无效"), [FieldError("sort", f"one of {', '.join(TEAM_SORTS)}", value=sort)])
    stmt = team_query(actor, unit_path=unit_path, q=q, kind=kind).order_by(TEAM_SORTS[sort], VolunteerTeam.id)
    result = paginate(session, stmt, page, size)
    ids = [t.id for t in result.items]
    today = today or date.today()
    counts = dict(
        session.execute(
            select(TeamMember.team_id, func.count())
            .where(TeamMember.team_id.in_(ids), TeamMember.active.is_(True))
            .group_by(TeamMember.team_id)
        ).all()
    )
    hours = dict(
        session.execute(
            select(ServiceHours.team_id, func.sum(ServiceHours.hours))
            .where(ServiceHours.team_id.in_(ids), ServiceHours.served_on > today - timedelta(days=365))
            .group_by(ServiceHours.team_id)
        ).all()
    )
    names = dict(
        session.execute(
            select(GridUnit.id, GridUnit.name).where(GridUnit.id.in_({t.unit_id for t in result.items}))
        ).all()
    )
    rows = [
        TeamRow(t, counts.get(t.id, 0), round(float(hours.get(t.id) or 0), 1), names.get(t.unit_id, ""))
        for t in result.items
    ]
    return Page(rows, result.total, result.page, result.size)


def get_team(session: Session, actor: Principal, team_id: int) -> VolunteerTeam:
    actor.require(Perm.volunteers_read)
    team = session.get(VolunteerTeam, team_id)
    if team is None:
        raise NotFound(_("队伍不存在").format(team_id=team_id))
    if not actor.is_global and not (
        actor.covers_path(team.path) or any(p.startswith(team.path) for p in actor.scope_paths)
    ):
        raise NotFound(_("队伍不存在").format(team_id=team_id))
    return team


def _writable_team(session: Session, actor: Principal, team_id: int) -> VolunteerTeam:
    actor.require(Perm.volunteers_write)
    team = get_team(session, actor, team_id)
    if not actor.covers_path(team.path):
        raise NotFound(_("队伍不存在").format(team_id=team_id))
    return team


def create_team(
    session: Session,
    actor: Principal,
    *,
    unit_id: int,
    name: str,
    kind: str,
    contact: str | None = None,
    description: str | None = None,
) -> VolunteerTeam:
    actor.require(Perm.volunteers_write)
    errors = Collector()
    unit = session.get(GridUnit, unit_id)
    if unit is None or not actor.covers_path(unit.path):
        errors.add("unit_id", _("社区不存在或不在您的范围内"), value=unit_id)
    elif unit.level != Level.community.value:
        errors.add("unit_id", _("队伍须建在社区一级"), value=unit.level)
    if not name or not name.strip():
        errors.add("name", _("队名必填"))
    elif len(name.strip()) > 80:
        errors.add("name", _("队名过长"))
    if kind not in TEAM_KIND_LABELS:
        errors.add("kind", _("类型须为").format(join=", ".join(TeamKind)), value=kind)
    errors.raise_if_any()
    assert unit is not None
    if name.strip() in set(session.scalars(select(VolunteerTeam.name).where(VolunteerTeam.unit_id == unit.id))):
        raise Invalid(_("同名队伍已存在"), [FieldError("name", "duplicate", value=name)])
    team = VolunteerTeam(
        unit_id=unit.id,
        path=unit.path,
        name=name.strip(),
        kind=kind,
        contact=(contact or "").strip() or None,
        description=(description or "").strip() or None,
        active=True,
    )
    session.add(team)
    session.flush()
    audit.record(session, actor, "create", "volunteer_team", team.id, after=audit.snapshot(team))
    return team


# ---- members ----------------------------------------------------------------------------------


def member_query(actor: Principal, team_id: int, *, q: str | None = None):
    stmt = select(TeamMember).where(TeamMember.team_id == team_id)
    if q and q.strip():
        stmt = stmt.where(contains(TeamMember.name, q.strip()))
    return stmt


def list_members(
    session: Session,
    actor: Principal,
    team_id: int,
    *,
    q: str | None = None,
    sort: str = "name",
    page: int = 1,
    size: int | None = None,
) -> Page[TeamMember]:
    get_team(session, actor, team_id)
    if sort not in MEMBER_SORTS:
        raise Invalid(_("排序字段无效"), [FieldError("sort", f"one of {', '.join(MEMBER_SORTS)}", value=sort)])
    stmt = member_query(actor, team_id, q=q).order_by(TeamMember.active.desc(), MEMBER_SORTS[sort], TeamMember.id)
    return paginate(session, stmt, page, size)


def skills_of(session: Session, member_ids: list[int]) -> dict[int, list[MemberSkill]]:
    out: dict[int, list[MemberSkill]] = defaultdict(list)
    if member_ids:
        for s in session.scalars(
            select(MemberSkill).where(MemberSkill.member_id.in_(member_ids)).order_by(MemberSkill.id)
        ):
            out[s.member_id].append(s)
    return out


def present_member(
    m: TeamMember, actor: Principal, skills: list[MemberSkill], today: date | None = None, hours: float | None = None
) -> dict[str, Any]:
    today = today or date.today()
    clear = actor.clear_fields()
    return {
        "id": m.id,
        "team_id": m.team_id,
        "name": m.name,
        "resident_id": m.resident_id,
        "user_id": m.user_id,
        "external": m.resident_id is None,
        "phone": m.phone if Field.phone in clear else mask_phone(m.phone),
        "role": m.role,
        "role_label": MEMBER_ROLES.get(m.role, (m.role, m.role)),
        "joined_on": m.joined_on.isoformat(),
        "max_care": m.max_care,
        "availability": m.availability or {},
        "building_id": m.building_id,
        "lon": m.lon,
        "lat": m.lat,
        "active": m.active,
        "skills": [
            {
                "skill": s.skill,
                "label": SKILL_LABELS.get(s.skill, (s.skill, s.skill)),
                "certificate_no": s.certificate_no,
                "issued_on": s.issued_on.isoformat() if s.issued_on else None,
                "expires_on": s.expires_on.isoformat() if s.expires_on else None,
                "valid": s.expires_on is None or s.expires_on >= today,
            }
            for s in skills
        ],
        "hours_12m": hours,
    }


def get_member(session: Session, actor: Principal, member_id: int) -> TeamMember:
    m = session.get(TeamMember, member_id)
    if m is None:
        raise NotFound(_("队员不存在").format(member_id=member_id))
    try:
        get_team(session, actor, m.team_id)
    except NotFound:
        raise NotFound(_("队员不存在").format(member_id=member_id)) from None
    return m


def _check_skill(
    errors: Collector, i: int | None, skill: str, cert: str | None, issued: date | None, expires: date | None
) -> None:
    field = "skills" if i is None else f"skills[{i}]"
    if skill not in SKILL_LABELS:
        errors.add(f"{field}.skill", _("技能须为").format(join=", ".join(Skill)), value=skill)
    if cert is not None and len(cert) > 40:
        errors.add(f"{field}.certificate_no", _("证书编号过长"))
    if issued and expires and expires < issued:
        errors.add(f"{field}.expires_on", _("到期早于发证"), value=expires)
    if issued and issued > date.today():
        errors.add(f"{field}.issued_on", _("发证日期在未来"), value=issued)


def add_member(
    session: Session,
    actor: Principal,
    team_id: int,
    *,
    resident_id: int | None = None,
    name: str | None = None,
    phone: str | None = None,
    user_id: int | None = None,
    role: str = "member",
    joined_on: date | None = None,
    max_care: int = 3,
    availability: Any = None,
    lon: float | None = None,
    lat: float | None = None,
    skills: list[dict[str, Any]] | None = None,
) -> TeamMember:
    """A resident of the register (home = their building) or someone from outside (name, phone,
    and a position if they are to be proposed as a carer)."""
    team = _writable_team(session, actor, team_id)
    errors = Collector()
    resident: Resident | None = None
    building_id: int | None = None
    if resident_id is not None:
        resident = session.get(Resident, resident_id)
        if resident is None or resident.deleted_at is not None or not actor.covers_path(resident.path):
            errors.add("resident_id", _("居民不存在或不在您的范围内"), value=resident_id)
            resident = None
        elif not resident.path.startswith(team.path):
            errors.add("resident_id", _("居民不属于本队所在社区"))
            resident = None
        elif session.scalar(
            select(TeamMember.id).where(TeamMember.team_id == team.id, TeamMember.resident_id == resident.id)
        ):
            errors.add("resident_id", _("已是本队队员"), value=resident_id)
    else:
        if not name or not name.strip():
            errors.add("name", _("非本社区居民须填姓名"))
        elif len(name.strip()) > 60:
            errors.add("name", _("姓名过长"))
    clean_phone = None
    if phone:
        clean_phone = normalise_phone(phone)
        if clean_phone is None or not (MOBILE.match(clean_phone) or LANDLINE.match(clean_phone)):
            errors.add("phone", _("电话格式无效"), value=phone)
    if role not in MEMBER_ROLES:
        errors.add("role", _("队内角色须为").format(join=", ".join(MEMBER_ROLES)), value=role)
    if not isinstance(max_care, int) or not 0 <= max_care <= MAX_CARE_LIMIT:
        errors.add(
            "max_care", _("照护上限须在 0–{max_care_limit}").format(max_care_limit=MAX_CARE_LIMIT), value=max_care
        )
    if joined_on and joined_on > date.today():
        errors.add("joined_on", _("入队日期在未来"), value=joined_on)
    if (lon is None) != (lat is None):
        errors.add("lon", _("经纬度须同时填写"))
    elif lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        errors.add("lon", _("经纬度超出范围"))
    slots = check_availability(availability, errors)
    for i, sk in enumerate(skills or []):
        _check_skill(
            errors, i, sk.get("skill", ""), sk.get("certificate_no"), sk.get("issued_on"), sk.get("expires_on")
        )
    errors.raise_if_any()
    if resident is not None:
        hh = session.get(Household, resident.household_id)
        building_id = hh.building_id if hh else None
        if lon is None and building_id is not None:
            b = session.get(GridUnit, building_id)
            lon, lat = (b.lon, b.lat) if b else (None, None)
    m = TeamMember(
        team_id=team.id,
        resident_id=resident.id if resident else None,
        user_id=user_id,
        name=resident.name if resident else (name or "").strip(),
        phone=None if resident else clean_phone,
        role=role,
        joined_on=joined_on or date.today(),
        max_care=max_care,
        availability=slots,
        building_id=building_id,
        lon=lon,
        lat=lat,
        active=True,
    )
    session.add(m)
    session.flush()
    for sk in skills or []:
        session.add(
            MemberSkill(
                member_id=m.id,
                skill=sk["skill"],
                certificate_no=sk.get("certificate_no"),
                issued_on=sk.get("issued_on"),
                expires_on=sk.get("expires_on"),
            )
        )
    if role == "leader":
        team.leader_member_id = m.id
    session.flush()
    audit.record(session, actor, "create", "team_member", m.id, after=audit.snapshot(m))
    return m


def add_skill(
    session: Session,
    actor: Principal,
    member_id: int,
    *,
    skill: str,
    certificate_no: str | None = None,
    issued_on: date | None = None,
    expires_on: date | None = None,
) -> MemberSkill:
    m = get_member(session, actor, member_id)
    _writable_team(session, actor, m.team_id)
    errors = Collector()
    _check_skill(errors, None, skill, certificate_no, issued_on, expires_on)
    errors.raise_if_any()
    row = MemberSkill(
        member_id=m.id, skill=skill, certificate_no=certificate_no, issued_on=issued_on, expires_on=expires_on
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "member_skill", row.id, after=audit.snapshot(row))
    return row


# ---- service hours ----------------------------------------------------------------------------


def record_hours(
    session: Session,
    actor: Principal,
    member_id: int,
    *,
    served_on: date,
    hours: float,
    activity: str | None = None,
) -> ServiceHours:
    m = get_member(session, actor, member_id)
    _writable_team(session, actor, m.team_id)
    errors = Collector()
    if not 0 < hours <= 24:
        errors.add("hours", _("时长须在 0–24 小时"), value=hours)
    if served_on > date.today():
        errors.add("served_on", _("服务日期在未来"), value=served_on)
    if activity and len(activity) > 200:
        errors.add("activity", _("内容过长"))
    errors.raise_if_any()
    row = ServiceHours(
        member_id=m.id,
        team_id=m.team_id,
        served_on=served_on,
        hours=round(float(hours), 2),
        activity=(activity or "").strip() or None,
        created_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "service_hours", row.id, after=audit.snapshot(row))
    return row


@dataclass
class HoursRow:
    month: str  # "2026-03"
    key: int  # team or member id
    name: str
    hours: float
    entries: int


def hours_by_month(
    session: Session,
    actor: Principal,
    *,
    team_id: int | None = None,
    member_id: int | None = None,
    per: str = "team",
    months: int = 12,
    today: date | None = None,
) -> list[HoursRow]:
    """Service hours per month and per team (or per member) over the last ``months``, newest first."""
    actor.require(Perm.volunteers_read)
    if per not in ("team", "member"):
        raise Invalid(_("汇总方式无效"), [FieldError("per", "team or member", value=per)])
    if not 1 <= months <= 60:
        raise Invalid(_("月数须在 1–60"), [FieldError("months", "1..60", value=months)])
    today = today or date.today()
    start = date(today.year, today.month, 1)
    for _month in range(months - 1):
        start = date(start.year - (start.month == 1), (start.month - 2) % 12 + 1, 1)
    # Columns, not ORM rows: a year of a street's hours is tens of thousands of entries.
    stmt = (
        select(
            ServiceHours.served_on,
            ServiceHours.team_id,
            ServiceHours.member_id,
            ServiceHours.hours,
            TeamMember.name,
            VolunteerTeam.name,
        )
        .join(TeamMember, TeamMember.id == ServiceHours.member_id)
        .join(VolunteerTeam, VolunteerTeam.id == ServiceHours.team_id)
        .where(ServiceHours.served_on >= start, ServiceHours.served_on <= today)
    )
    clause = visible_clause(VolunteerTeam.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if team_id is not None:
        get_team(session, actor, team_id)
        stmt = stmt.where(ServiceHours.team_id == team_id)
    if member_id is not None:
        get_member(session, actor, member_id)
        stmt = stmt.where(ServiceHours.member_id == member_id)
    acc: dict[tuple[str, int], list] = {}
    for served_on, team, member, hours, member_name, team_name in session.execute(stmt):
        key = (served_on.strftime("%Y-%m"), team if per == "team" else member)
        row = acc.setdefault(key, [team_name if per == "team" else member_name, 0.0, 0])
        row[1] += hours
        row[2] += 1
    out = [HoursRow(m, k, v[0], round(v[1], 2), v[2]) for (m, k), v in acc.items()]
    out.sort(key=lambda r: (r.month, -r.hours), reverse=False)
    out.sort(key=lambda r: r.month, reverse=True)
    return out


def member_hours(session: Session, member_ids: list[int], since: date) -> dict[int, float]:
    if not member_ids:
        return {}
    rows = session.execute(
        select(ServiceHours.member_id, func.sum(ServiceHours.hours))
        .where(ServiceHours.member_id.in_(member_ids), ServiceHours.served_on >= since)
        .group_by(ServiceHours.member_id)
    ).all()
    return {mid: round(float(h or 0), 1) for mid, h in rows}


@dataclass
class ExpiringSkill:
    skill: MemberSkill
    member: TeamMember
    team: VolunteerTeam
    days_left: int  # negative: already expired


def expiring_skills(
    session: Session, actor: Principal, *, within_days: int = EXPIRING_DAYS, today: date | None = None
) -> list[ExpiringSkill]:
    """Certificates expiring within ``within_days`` or expired in the last year, soonest first."""
    actor.require(Perm.volunteers_read)
    if not 1 <= within_days <= 3650:
        raise Invalid(_("天数须在 1–3650"), [FieldError("within_days", "1..3650", value=within_days)])
    today = today or date.today()
    stmt = (
        select(MemberSkill, TeamMember, VolunteerTeam)
        .join(TeamMember, TeamMember.id == MemberSkill.member_id)
        .join(VolunteerTeam, VolunteerTeam.id == TeamMember.team_id)
        .where(
            MemberSkill.expires_on.is_not(None),
            MemberSkill.expires_on <= today + timedelta(days=within_days),
            MemberSkill.expires_on >= today - timedelta(days=365),
            TeamMember.active.is_(True),
        )
        .order_by(MemberSkill.expires_on, MemberSkill.id)
    )
    clause = visible_clause(VolunteerTeam.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return [ExpiringSkill(s, m, t, (s.expires_on - today).days) for s, m, t in session.execute(stmt)]


def my_memberships(session: Session, actor: Principal) -> list[TeamMember]:
    if actor.user_id is None:
        return []
    return list(
        session.scalars(select(TeamMember).where(TeamMember.user_id == actor.user_id, TeamMember.active.is_(True)))
    )


# ---- what the pages show -----------------------------------------------------------------


@dataclass
class TeamPage:
    team: VolunteerTeam
    community: str
    members: Page[dict[str, Any]]
    leader: str | None
    hours_by_month: list[HoursRow]  # per member
    total_hours_12m: float


def team_page(
    session: Session,
    actor: Principal,
    team_id: int,
    *,
    q: str | None = None,
    sort: str = "name",
    page: int = 1,
    size: int | None = None,
    today: date | None = None,
) -> TeamPage:
    today = today or date.today()
    team = get_team(session, actor, team_id)
    result = list_members(session, actor, team_id, q=q, sort=sort, page=page, size=size)
    ids = [m.id for m in result.items]
    skills = skills_of(session, ids)
    hours = member_hours(session, ids, today - timedelta(days=365))
    members = Page(
        [present_member(m, actor, skills[m.id], today, hours.get(m.id, 0.0)) for m in result.items],
        result.total,
        result.page,
        result.size,
    )
    leader = session.get(TeamMember, team.leader_member_id) if team.leader_member_id else None
    unit = session.get(GridUnit, team.unit_id)
    rows = hours_by_month(session, actor, team_id=team.id, per="member", today=today)
    return TeamPage(
        team,
        unit.name if unit else "",
        members,
        leader.name if leader else None,
        rows,
        round(sum(r.hours for r in rows), 1),
    )


@dataclass
class RosterPage:
    teams: Page[TeamRow]
    expiring: list[ExpiringSkill]
    monthly: list[tuple[str, float]]  # month → hours of all visible teams, oldest first


def roster_page(
    session: Session,
    actor: Principal,
    *,
    q: str | None = None,
    kind: str | None = None,
    sort: str = "name",
    page: int = 1,
    size: int | None = None,
) -> RosterPage:
    teams = list_teams(session, actor, q=q, kind=kind, sort=sort, page=page, size=size)
    expiring = expiring_skills(session, actor)
    totals: dict[str, float] = defaultdict(float)
    for r in hours_by_month(session, actor):
        totals[r.month] += r.hours
    return RosterPage(teams, expiring, sorted((m, round(h, 1)) for m, h in totals.items()))
