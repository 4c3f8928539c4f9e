"""The closed loop's side of other domains' events: what they flag becomes a report."""

from sqlalchemy.orm import Session

from renxing.events import intake
from renxing.signals.catalog import VisitFlagged

CARE_CATEGORY = "needs_help"  # 困难求助: what a care visit's problem is in the closed loop


def raise_from_visit(session: Session, e: VisitFlagged) -> None:
    """A report at the resident's household through the one intake pipeline, as the system.
    Its ``events.report_submitted`` carries the reference back to the visit."""
    intake.submit_internal(
        session,
        category=CARE_CATEGORY,
        description=e.description,
        source=e.source,
        household_id=e.household_id,
        external_ref=f"care-visit-{e.visit_id}",
        now=e.at,
    )
