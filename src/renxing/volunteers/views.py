"""What the volunteer pages show: the roster of teams and a team's page."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.grid.models import GridUnit
from renxing.listing import ListQuery, Page
from renxing.volunteers.hours import HoursRow, hours_by_month, member_hours
from renxing.volunteers.members import list_members, present_member
from renxing.volunteers.models import TeamMember, VolunteerTeam
from renxing.volunteers.skills import ExpiringSkill, expiring_skills, skills_of
from renxing.volunteers.teams import TeamRow, get_team, list_teams


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
    query: ListQuery | None = None,
    *,
    today: date | None = None,
) -> TeamPage:
    today = today or date.today()
    team = get_team(session, actor, team_id)
    result = list_members(session, actor, team_id, query)
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


def roster_page(session: Session, actor: Principal, query: ListQuery | None = None) -> RosterPage:
    teams = list_teams(session, actor, query)
    expiring = expiring_skills(session, actor)
    totals: dict[str, float] = defaultdict(float)
    for r in hours_by_month(session, actor):
        totals[r.month] += r.hours
    return RosterPage(teams, expiring, sorted((m, round(h, 1)) for m, h in totals.items()))
