"""Care's side of the closed loop's events: a report raised from a visit is linked to it."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from renxing.care.models import CareVisit
from renxing.signals.catalog import ReportSubmitted

VISIT_REF = "care-visit-"  # the reference care gives the reports it raises (care.visit_flagged)


def link_visit(session: Session, e: ReportSubmitted) -> None:
    """The visit that asked for the report records its id, in the same transaction. One
    statement that reads nothing back, so intake may keep it in its pipelined block; the
    visit's loaded ``report_id`` is stale until :func:`renxing.care.visits` expires it."""
    ref = e.external_ref or ""
    if not ref.startswith(VISIT_REF) or not ref[len(VISIT_REF) :].isdigit():
        return
    visit_id = int(ref[len(VISIT_REF) :])
    session.connection().execute(
        update(CareVisit.__table__).where(CareVisit.id == visit_id).values(report_id=e.report_id)
    )
