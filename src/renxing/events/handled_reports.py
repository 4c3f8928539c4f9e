"""Reports as other domains ask about them: did an organization handle a report this person filed?
(Evaluation: a resident may rate an organization that served them.) No permission check here:
the caller has checked its own."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from renxing.events.models import Report


def handled_by_partner(
    session: Session, reporter_user_ids: Sequence[int], since: datetime, name: str, account_id: int | None = None
) -> int | None:
    """The id of a report filed since ``since`` by one of these accounts that the organization
    called ``name`` handled in the closed loop, or None. Handled means routed or transferred to it
    by name (``handler_kind`` partner, the label its name, maybe followed by "（…）" naming a
    coordinator), or to its account."""
    if not reporter_user_ids:
        return None
    by_name = or_(Report.handler_label == name, Report.handler_label.startswith(f"{name}（", autoescape=True))
    handled = and_(Report.handler_kind == "partner", by_name)
    if account_id is not None:
        handled = or_(handled, Report.handler_user_id == account_id)
    return session.scalar(
        select(Report.id)
        .where(Report.reporter_user_id.in_(list(reporter_user_ids)), Report.created_at >= since, handled)
        .limit(1)
    )
