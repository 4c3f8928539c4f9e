"""Volunteer teams as other domains read them: a team by id, the active teams of a community, the
members of a team.

No permission check here: the calling service has checked its own (drills naming the team that
organizes an activity, evaluation rating the teams that served a resident).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.volunteers.models import TeamMember, VolunteerTeam


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
