"""What volunteer teams hold about a resident, for a person's request: the teams they belong to.
Erasure ends the memberships and leaves them under the erased name, without a phone."""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from renxing.auth.audit import snapshot
from renxing.people.subject import PersonalData, Subject
from renxing.volunteers.models import TeamMember

MEMBERSHIP_FIELDS = ["team_id", "role", "joined_on", "max_care", "active"]


def export(session: Session, subject: Subject) -> dict[str, Any]:
    memberships = session.scalars(select(TeamMember).where(TeamMember.resident_id == subject.resident_id))
    return {"volunteer_teams": [snapshot(m, MEMBERSHIP_FIELDS) for m in memberships]}


def erase(session: Session, subject: Subject) -> dict[str, int]:
    session.execute(
        update(TeamMember)
        .where(TeamMember.resident_id == subject.resident_id)
        .values(name=subject.erased_name, phone=None, active=False)
    )
    return {}


PROVIDER = PersonalData("volunteers", export=export, erase=erase)
