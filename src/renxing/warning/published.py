"""What anyone may read of the warnings sent, without logging in: the CAP message of a public
sent warning as it was transmitted, and the entries of the public Atom feed.

Drafts, pending, refused and withdrawn warnings and Restricted ones are never served (404, as if
they did not exist). CAP messages carry no personal data (the area, the colour, the words staff
wrote for everyone), so no permission is asked.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.config import get_settings
from renxing.errors import NotFound
from renxing.i18n import _
from renxing.warning.atom import FeedEntry
from renxing.warning.models import WarningMessage, WarningStatus

FEED_SIZE = 50


def _public():
    return select(WarningMessage).where(
        WarningMessage.status == WarningStatus.sent.value,
        WarningMessage.public.is_(True),
        WarningMessage.cap_xml.is_not(None),
    )


def cap_message(session: Session, identifier: str) -> str:
    """The frozen CAP XML of a public sent warning; 404 for anything else."""
    xml = session.scalar(
        _public().with_only_columns(WarningMessage.cap_xml).where(WarningMessage.identifier == identifier)
    )
    if xml is None:
        raise NotFound(_("预警 {identifier} 不存在").format(identifier=identifier))
    return xml


def cap_url(identifier: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/cap/alerts/{identifier}.xml"


def feed_entries(session: Session, limit: int = FEED_SIZE) -> list[FeedEntry]:
    """The latest public sent warnings, newest first."""
    rows = session.scalars(_public().order_by(WarningMessage.sent_at.desc(), WarningMessage.id.desc()).limit(limit))
    return [
        FeedEntry(
            identifier=w.identifier,
            cap_url=cap_url(w.identifier),
            headline=w.headline,
            summary=w.description,
            area_desc=w.area_desc,
            level=w.level,
            msg_type=w.msg_type,
            exercise=w.exercise,
            sent=w.sent_at,
            sender_name=get_settings().cap_sender,
        )
        for w in rows
    ]
