"""Care plans as other domains read them: who cares for the vulnerable residents of some buildings.

No permission check here: the calling service has checked its own (a warning sending its
door-to-door checks to the carers of the residents it warns).
"""

from collections.abc import Iterable
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from renxing.care.models import CareAssignment, CarePlan
from renxing.volunteers import directory as volunteers

CHUNK = 500


def carers_at(session: Session, building_paths: Iterable[str], today: date) -> list[int]:
    """The accounts caring today for the residents of these buildings (active plans, open
    assignments): a grid worker or user named on the assignment, or a team member's account."""
    paths = sorted(set(building_paths))
    users: set[int] = set()
    members: set[int] = set()
    for start in range(0, len(paths), CHUNK):
        stmt = (
            select(CareAssignment.user_id, CareAssignment.member_id)
            .join(CarePlan, CarePlan.id == CareAssignment.plan_id)
            .where(
                CarePlan.status == "active",
                CarePlan.path.in_(paths[start : start + CHUNK]),
                CareAssignment.since <= today,
                or_(CareAssignment.until.is_(None), CareAssignment.until >= today),
            )
        )
        for user_id, member_id in session.execute(stmt):
            if user_id is not None:
                users.add(user_id)
            if member_id is not None:
                members.add(member_id)
    users.update(m.user_id for m, _team in volunteers.members_with_teams(session, members) if m.user_id and m.active)
    return sorted(users)
