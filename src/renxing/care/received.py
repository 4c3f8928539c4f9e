"""The care a resident received, as other domains ask about it (evaluation: was this resident
visited by a member of a team?). No permission check here: the caller has checked its own."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.care.models import CarePlan, CareVisit


def visit_by_members(session: Session, resident_id: int, member_ids: Sequence[int], since: datetime) -> int | None:
    """The id of a care visit to the resident since ``since`` by one of the team members named, or None."""
    if not member_ids:
        return None
    return session.scalar(
        select(CareVisit.id)
        .join(CarePlan, CarePlan.id == CareVisit.plan_id)
        .where(
            CarePlan.resident_id == resident_id,
            CareVisit.member_id.in_(list(member_ids)),
            CareVisit.visited_at >= since,
        )
        .limit(1)
    )
