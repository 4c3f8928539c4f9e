"""JSON routes of the volunteer teams under /api/v1/volunteers."""

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from renxing.grid.service import get_unit
from renxing.i18n import in_each_lang
from renxing.volunteers import hours, members, skills, teams
from renxing.volunteers.models import TEAM_KIND_LABELS, VolunteerTeam
from renxing.volunteers.schemas import (
    ExpiringOut,
    HoursAddedOut,
    MemberOut,
    MonthHoursOut,
    SkillAddedOut,
    TeamOut,
    TeamRowOut,
)
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Day, DbInt, Id, ListParams
from renxing.web.schemas import PageOut

router = APIRouter(prefix="/api/v1/volunteers", tags=["volunteers"])


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: Id = Field(description="the community")
    name: str = Field(max_length=80)
    kind: str = Field(description="silver_mutual_aid, security_patrol, culture_sports, medical, youth, ...")
    contact: str | None = Field(None, max_length=60)
    description: str | None = Field(None, max_length=2000)


class SkillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    skill: str
    certificate_no: str | None = Field(None, max_length=40)
    issued_on: Day | None = None
    expires_on: Day | None = None


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resident_id: Id | None = Field(None, description="a resident of the register; else name (and phone)")
    name: str | None = Field(None, max_length=60)
    phone: str | None = Field(None, max_length=30)
    user_id: Id | None = None
    role: str = "member"
    joined_on: Day | None = None
    max_care: int = 3
    availability: dict[str, Any] | None = Field(None, description='weekday (0 = Monday) → ["08:00-11:30", ...]')
    lon: float | None = None
    lat: float | None = None
    skills: list[SkillIn] = []


class HoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    served_on: Day
    hours: float
    activity: str | None = Field(None, max_length=200)


def team_dict(t: VolunteerTeam, **extra: Any) -> dict[str, Any]:
    return {
        "id": t.id,
        "unit_id": t.unit_id,
        "name": t.name,
        "kind": t.kind,
        "kind_label": list(in_each_lang(TEAM_KIND_LABELS.get(t.kind, t.kind)).values()),
        "leader_member_id": t.leader_member_id,
        "contact": t.contact,
        "description": t.description,
        "active": t.active,
        **extra,
    }


@router.get("/teams", summary="Volunteer teams visible to the user, one page", response_model=PageOut[TeamRowOut])
def list_teams(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    unit_id: Id | None = None,
    kind: Annotated[str | None, Query(description="a team kind")] = None,
) -> dict:
    """Sort keys: name, kind, created (``-`` before a key for descending, e.g. ``-created``)."""
    path = get_unit(session, actor, unit_id).path if unit_id is not None else None
    query.filters["kind"] = kind
    result = teams.list_teams(session, actor, query, unit_path=path)
    return result.to_dict(
        [team_dict(r.team, members=r.members, hours_12m=r.hours_12m, community=r.community) for r in result.items]
    )


@router.post("/teams", status_code=201, summary="Found a team in a community", response_model=TeamOut)
def create_team(data: TeamIn, session: DB, actor: CurrentUser) -> dict:
    return team_dict(teams.create_team(session, actor, **data.model_dump()))


@router.get("/teams/{team_id}", summary="One team", response_model=TeamOut)
def get_team(team_id: Id, session: DB, actor: CurrentUser) -> dict:
    return team_dict(teams.get_team(session, actor, team_id))


@router.get("/teams/{team_id}/members", summary="A team's roster, one page", response_model=PageOut[MemberOut])
def list_members(team_id: Id, session: DB, actor: CurrentUser, query: ListParams) -> dict:
    """Active members first; sort keys: name, joined (``-joined``: newest first)."""
    result = members.list_members(session, actor, team_id, query)
    ids = [m.id for m in result.items]
    held = skills.skills_of(session, ids)
    served = hours.member_hours(session, ids, date.today() - timedelta(days=365))
    return result.to_dict([members.present_member(m, actor, held[m.id], hours=served.get(m.id)) for m in result.items])


@router.post(
    "/teams/{team_id}/members",
    status_code=201,
    summary="Add a member (a resident or someone from outside)",
    response_model=MemberOut,
)
def add_member(team_id: Id, data: MemberIn, session: DB, actor: CurrentUser) -> dict:
    values = data.model_dump()
    values["skills"] = [s.model_dump() for s in data.skills]
    m = members.add_member(session, actor, team_id, **values)
    return members.present_member(m, actor, skills.skills_of(session, [m.id])[m.id])


@router.post(
    "/members/{member_id}/skills",
    status_code=201,
    summary="Add a skill with its certificate",
    response_model=SkillAddedOut,
)
def add_skill(member_id: Id, data: SkillIn, session: DB, actor: CurrentUser) -> dict:
    s = members.add_skill(session, actor, member_id, **data.model_dump())
    return {"id": s.id, "member_id": s.member_id, "skill": s.skill, "expires_on": s.expires_on}


@router.post(
    "/members/{member_id}/hours", status_code=201, summary="Record service hours", response_model=HoursAddedOut
)
def record_hours(member_id: Id, data: HoursIn, session: DB, actor: CurrentUser) -> dict:
    h = hours.record_hours(session, actor, member_id, **data.model_dump())
    return {"id": h.id, "member_id": h.member_id, "team_id": h.team_id, "served_on": h.served_on, "hours": h.hours}


@router.get("/hours", summary="Service hours per month and team (or member)", response_model=list[MonthHoursOut])
def hours_per_month(
    session: DB,
    actor: CurrentUser,
    team_id: Id | None = None,
    member_id: Id | None = None,
    per: str = Query("team", description="team or member"),
    months: DbInt = 12,
) -> list[dict]:
    rows = hours.hours_by_month(session, actor, team_id=team_id, member_id=member_id, per=per, months=months)
    return [{"month": r.month, "id": r.key, "name": r.name, "hours": r.hours, "entries": r.entries} for r in rows]


@router.get(
    "/skills/expiring", summary="Certificates expiring soon (or lately expired)", response_model=list[ExpiringOut]
)
def expiring(session: DB, actor: CurrentUser, within_days: DbInt = skills.EXPIRING_DAYS) -> list[dict]:
    return [
        {
            "member_id": e.member.id,
            "member": e.member.name,
            "team_id": e.team.id,
            "team": e.team.name,
            "skill": e.skill.skill,
            "certificate_no": e.skill.certificate_no,
            "expires_on": e.skill.expires_on,
            "days_left": e.days_left,
        }
        for e in skills.expiring_skills(session, actor, within_days=within_days)
    ]
