"""Renewal reminders: thirty days before an agreement ends, its community's staff and the
partner's account are told, once per agreement and end date.

``remind_expiring`` works in the caller's transaction and publishes ``AgreementExpiring`` (notify
writes the inbox messages once it commits). It is idempotent: ``reminded_on`` records the day
the reminder went out, and an agreement already reminded within thirty days of its current end
date, or already continued by a renewal, is left alone. ``run`` is one transaction of it, for
``renxing supplies remind`` and the daily job of the web process.
"""

from datetime import date, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from renxing.auth.directory import staff_covering
from renxing.db import transaction
from renxing.partners import directory as partners_directory
from renxing.signals.bus import publish
from renxing.signals.catalog import AgreementExpiring
from renxing.supplies.agreements import EXPIRING_DAYS, successor, today_here
from renxing.supplies.models import Agreement


def _reminded(a: Agreement) -> bool:
    """Reminded already for the present end date (an end date moved later is reminded again)."""
    return a.reminded_on is not None and a.reminded_on >= a.valid_until - timedelta(days=EXPIRING_DAYS)


def due(session: Session, today: date) -> list[Agreement]:
    """Agreements in force on ``today``, ending within the window, not reminded, not renewed."""
    stmt = (
        select(Agreement)
        .where(
            Agreement.terminated_at.is_(None),
            Agreement.valid_from <= today,
            Agreement.valid_until >= today,
            Agreement.valid_until <= today + timedelta(days=EXPIRING_DAYS),
        )
        .order_by(Agreement.valid_until, Agreement.id)
        .with_for_update(skip_locked=True)  # two processes at once remind each agreement once
    )
    return [a for a in session.scalars(stmt) if not _reminded(a) and successor(session, a) is None]


def remind_expiring(session: Session, today: date) -> list[int]:
    """Publish one reminder per agreement due; the ids of those reminded."""
    reminded = []
    for a in due(session, today):
        org = partners_directory.organization(session, a.org_id)
        recipients = set(staff_covering(session, a.path))
        if org is not None and org.user_id is not None:
            recipients.add(org.user_id)
        publish(
            session,
            AgreementExpiring(
                agreement_id=a.id,
                number=a.number,
                organization=org.name if org is not None else "",
                valid_until=a.valid_until.isoformat(),
                recipients=tuple(sorted(recipients)),
                link=f"/supplies/agreements/{a.id}",
            ),
        )
        a.reminded_on = today
        reminded.append(a.id)
    session.flush()
    return reminded


def run(engine: Engine, today: date | None = None) -> int:
    """One transaction of reminders; how many went out."""
    with transaction(engine) as session:
        return len(remind_expiring(session, today or today_here()))
