"""What public evaluation holds about a resident, for a person's request: the ratings they gave.
Erasure drops their comments and keeps the scores, so a team's scorecard keeps its numbers."""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from renxing.auth.audit import snapshot
from renxing.evaluation.models import Rating
from renxing.people.subject import PersonalData, Subject

RATING_FIELDS = ["target_kind", "target_id", "period", "variety", "quality", "responsiveness", "comment"]


def export(session: Session, subject: Subject) -> dict[str, Any]:
    given = session.scalars(select(Rating).where(Rating.resident_id == subject.resident_id).order_by(Rating.id))
    return {"ratings": [snapshot(g, RATING_FIELDS) for g in given]}


def erase(session: Session, subject: Subject) -> dict[str, int]:
    blanked = session.execute(update(Rating).where(Rating.resident_id == subject.resident_id).values(comment=None))
    return {"ratings": blanked.rowcount}


PROVIDER = PersonalData("evaluation", export=export, erase=erase)
