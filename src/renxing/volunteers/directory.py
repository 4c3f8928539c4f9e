"""Volunteer teams as other domains read them: a team by id, the active teams of a community, the
members of a team.

No permission check here: the calling service has checked its own (drills naming the team that
organizes an activity, evaluation rating the teams that served a resident, care choosing carers).
"""

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from renxing.volunteers.models import TeamKind, TeamMember, VolunteerTeam


def team(session: Session, team_id: int) -> VolunteerTeam | None:
    return session.get(VolunteerTeam, team_id)


def active_in_community(session: Session, community_path: str) -> list[VolunteerTeam]:
    """The active teams kept at a community, by name."""
    return list(
        session.scalars(
            select(VolunteerTeam)
            .where(VolunteerTeam.path == community_path, VolunteerTeam.active.is_(True))
            .order_by(VolunteerTeam.name, VolunteerTeam.id)
        )
    )


def member_ids(session: Session, team_id: int) -> list[int]:
    """The ids of a team's members, past and present (a visit they made still counts as the team's)."""
    return list(session.scalars(select(TeamMember.id).where(TeamMember.team_id == team_id).order_by(TeamMember.id)))


def members_with_teams(session: Session, member_ids: Iterable[int]) -> list[tuple[TeamMember, VolunteerTeam]]:
    """Members by id, each with their team, active or not."""
    ids = sorted(set(member_ids))
    if not ids:
        return []
    return [
        (m, t)
        for m, t in session.execute(
            select(TeamMember, VolunteerTeam)
            .join(VolunteerTeam, VolunteerTeam.id == TeamMember.team_id)
            .where(TeamMember.id.in_(ids))
            .order_by(TeamMember.id)
        )
    ]


def active_members_in_community(session: Session, community_path: str) -> list[tuple[TeamMember, VolunteerTeam]]:
    """The active members of a community's active teams, each with their team."""
    return [
        (m, t)
        for m, t in session.execute(
            select(TeamMember, VolunteerTeam)
            .join(VolunteerTeam, VolunteerTeam.id == TeamMember.team_id)
            .where(VolunteerTeam.path == community_path, VolunteerTeam.active.is_(True), TeamMember.active.is_(True))
            .order_by(TeamMember.id)
        )
    ]


def member_ids_of_account(user_id: int) -> Select:
    """The ids of the team members linked to an account, as a subquery for ``IN``."""
    return select(TeamMember.id).where(TeamMember.user_id == user_id)


def is_party_team(team: VolunteerTeam) -> bool:
    return team.kind == TeamKind.party


def is_medical_team(team: VolunteerTeam) -> bool:
    return team.kind == TeamKind.medical
