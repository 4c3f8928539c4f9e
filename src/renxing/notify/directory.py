"""Where people want messages outside the platform, as other domains read it: the e-mail
addresses the accounts of some residents gave (``notification_contacts``).

No permission check here: the calling service has checked its own and audits the use (a warning
e-mailing the households it reaches).
"""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.models import User
from renxing.notify.models import NotificationContact

CHUNK = 500


def email_addresses_of_residents(session: Session, resident_ids: Iterable[int]) -> dict[int, list[str]]:
    """The active e-mail addresses of the active accounts linked to these residents, by resident
    (residents without one are left out)."""
    ids = sorted(set(resident_ids))
    found: dict[int, list[str]] = {}
    for start in range(0, len(ids), CHUNK):
        stmt = (
            select(User.resident_id, NotificationContact.address)
            .join(NotificationContact, NotificationContact.user_id == User.id)
            .where(
                User.resident_id.in_(ids[start : start + CHUNK]),
                User.is_active.is_(True),
                NotificationContact.channel == "email",
                NotificationContact.active.is_(True),
            )
            .order_by(User.resident_id, User.id)
        )
        for resident_id, address in session.execute(stmt):
            found.setdefault(resident_id, []).append(address)
    return found
