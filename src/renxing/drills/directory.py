"""Attendance as other domains ask about it (evaluation: did this resident take part in an
activity a team organized, or an organization ran or joined?). No permission check here: the
caller has checked its own."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.drills.models import Activity, ActivityPartner, Attendance, Status


def attended_activity(
    session: Session,
    resident_id: int,
    since: datetime,
    *,
    team_id: int | None = None,
    organization_id: int | None = None,
) -> int | None:
    """The id of an attendance since ``since`` at a live (not cancelled) activity organized by the
    team, or run or joined by the organization; None when there is none. Give one of the two."""
    if (team_id is None) == (organization_id is None):
        raise ValueError("give a team or an organization")
    if team_id is not None:
        by = Activity.organizer_team_id == team_id
    else:
        by = Activity.id.in_(
            select(ActivityPartner.activity_id).where(ActivityPartner.organization_id == organization_id)
        )
    return session.scalar(
        select(Attendance.id)
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(
            Attendance.resident_id == resident_id,
            Activity.status != Status.cancelled.value,
            Activity.starts_at >= since,
            by,
        )
        .limit(1)
    )
