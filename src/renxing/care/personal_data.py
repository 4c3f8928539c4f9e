"""What care holds about a resident, for a person's request: their care plans and the visits
made under them. Erasure closes the plans and blanks what was written about the person (needs,
notes); the visits stay as dates, so coverage and a carer's record still count them."""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from renxing.auth.audit import snapshot
from renxing.care.models import CarePlan, CareVisit
from renxing.people.subject import PersonalData, Subject

PLAN_FIELDS = ["id", "frequency_days", "needs", "status", "note", "created_at"]
VISIT_FIELDS = ["id", "plan_id", "visited_at", "found", "note", "report_id"]


def export(session: Session, subject: Subject) -> dict[str, Any]:
    plans = list(
        session.scalars(select(CarePlan).where(CarePlan.resident_id == subject.resident_id).order_by(CarePlan.id))
    )
    visits = session.scalars(
        select(CareVisit).where(CareVisit.plan_id.in_([p.id for p in plans])).order_by(CareVisit.visited_at)
    )
    return {
        "care_plans": [snapshot(p, PLAN_FIELDS) for p in plans],
        "care_visits": [snapshot(v, VISIT_FIELDS) for v in visits],
    }


def erase(session: Session, subject: Subject) -> dict[str, int]:
    theirs = CarePlan.resident_id == subject.resident_id
    session.execute(update(CarePlan).where(theirs).values(note=None, needs=None, status="closed"))
    plan_ids = select(CarePlan.id).where(theirs).scalar_subquery()
    visits = session.execute(update(CareVisit).where(CareVisit.plan_id.in_(plan_ids)).values(note=None)).rowcount
    return {"care_visits": visits}


PROVIDER = PersonalData("care", export=export, erase=erase)
