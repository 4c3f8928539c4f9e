"""Team members: a team's roster, one member, adding a resident or someone from outside, skills."""

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Field
from renxing.auth.principal import Principal
from renxing.errors import Collector, NotFound
from renxing.grid.models import GridUnit, Household
from renxing.i18n import _, in_each_lang
from renxing.listing import ListQuery, ListSpec, Page, apply, paginate, sort_clauses
from renxing.people.directory import living_resident
from renxing.people.masking import mask_phone
from renxing.people.models import Resident
from renxing.people.service import LANDLINE, MOBILE, normalise_phone
from renxing.volunteers.models import MEMBER_ROLES, SKILL_LABELS, MemberSkill, TeamMember, VolunteerTeam
from renxing.volunteers.skills import check_skill
from renxing.volunteers.teams import get_team, writable_team

SLOT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")
MAX_CARE_LIMIT = 30


def both_langs(label: Any) -> list[str]:
    """A label as the API gives it: [Chinese, English]."""
    return list(in_each_lang(label).values())


MEMBERS = ListSpec(
    sorts={"name": TeamMember.name, "joined": TeamMember.joined_on},
    default_sort="name",
    tiebreaker=TeamMember.id,
    search=(TeamMember.name,),
)


def list_members(session: Session, actor: Principal, team_id: int, query: ListQuery | None = None) -> Page[TeamMember]:
    """A team's roster, one page: active members first, then in the asked order."""
    get_team(session, actor, team_id)
    query = query or ListQuery()
    stmt = apply(select(TeamMember).where(TeamMember.team_id == team_id), MEMBERS, query)
    stmt = stmt.order_by(None).order_by(TeamMember.active.desc(), *sort_clauses(MEMBERS, query.sort))
    return paginate(session, stmt, query.page, query.size)


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
        "role_label": both_langs(MEMBER_ROLES.get(m.role, m.role)),
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
                "label": both_langs(SKILL_LABELS.get(s.skill, s.skill)),
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
        raise NotFound(_("队员 {member_id} 不存在").format(member_id=member_id))
    try:
        get_team(session, actor, m.team_id)
    except NotFound:
        raise NotFound(_("队员 {member_id} 不存在").format(member_id=member_id)) from None
    return m


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
    team = writable_team(session, actor, team_id)
    errors = Collector()
    resident = None
    if resident_id is not None:
        resident = _resident_member(session, actor, team, resident_id, errors)
    else:
        _check_outsider_name(name, errors)
    clean_phone = _check_phone(phone, errors)
    _check_terms(errors, role=role, max_care=max_care, joined_on=joined_on, lon=lon, lat=lat)
    slots = check_availability(availability, errors)
    for i, sk in enumerate(skills or []):
        check_skill(errors, i, sk.get("skill", ""), sk.get("certificate_no"), sk.get("issued_on"), sk.get("expires_on"))
    errors.raise_if_any()
    building_id = None
    if resident is not None:
        building_id, lon, lat = _home(session, resident, lon, lat)
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


def _resident_member(
    session: Session, actor: Principal, team: VolunteerTeam, resident_id: int, errors: Collector
) -> Resident | None:
    """The resident joining: in scope, living in the team's community, not yet a member."""
    resident = living_resident(session, resident_id)
    if resident is None or not actor.covers_path(resident.path):
        errors.add("resident_id", _("居民不存在或不在您的范围内"), value=resident_id)
        return None
    if not resident.path.startswith(team.path):
        errors.add("resident_id", _("居民不属于本队所在社区"))
        return None
    if session.scalar(
        select(TeamMember.id).where(TeamMember.team_id == team.id, TeamMember.resident_id == resident.id)
    ):
        errors.add("resident_id", _("已是本队队员"), value=resident_id)
    return resident


def _check_outsider_name(name: str | None, errors: Collector) -> None:
    if not name or not name.strip():
        errors.add("name", _("非本社区居民须填姓名"))
    elif len(name.strip()) > 60:
        errors.add("name", _("姓名过长"))


def _check_phone(phone: str | None, errors: Collector) -> str | None:
    if not phone:
        return None
    clean = normalise_phone(phone)
    if clean is None or not (MOBILE.match(clean) or LANDLINE.match(clean)):
        errors.add("phone", _("电话格式无效"), value=phone)
    return clean


def _check_terms(
    errors: Collector, *, role: str, max_care: Any, joined_on: date | None, lon: float | None, lat: float | None
) -> None:
    """Role in the team, care limit, joining date and position."""
    if role not in MEMBER_ROLES:
        errors.add("role", _("队内角色须为 {join} 之一").format(join=", ".join(MEMBER_ROLES)), value=role)
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


def _home(
    session: Session, resident: Resident, lon: float | None, lat: float | None
) -> tuple[int | None, float | None, float | None]:
    """A resident member's building, and its position unless one was given."""
    hh = session.get(Household, resident.household_id)
    building_id = hh.building_id if hh else None
    if lon is None and building_id is not None:
        b = session.get(GridUnit, building_id)
        lon, lat = (b.lon, b.lat) if b else (None, None)
    return building_id, lon, lat


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
    writable_team(session, actor, m.team_id)
    errors = Collector()
    check_skill(errors, None, skill, certificate_no, issued_on, expires_on)
    errors.raise_if_any()
    row = MemberSkill(
        member_id=m.id, skill=skill, certificate_no=certificate_no, issued_on=issued_on, expires_on=expires_on
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "member_skill", row.id, after=audit.snapshot(row))
    return row


def my_memberships(session: Session, actor: Principal) -> list[TeamMember]:
    if actor.user_id is None:
        return []
    return list(
        session.scalars(select(TeamMember).where(TeamMember.user_id == actor.user_id, TeamMember.active.is_(True)))
    )
