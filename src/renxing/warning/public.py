"""Public CAP: each public sent warning at /cap/alerts/{identifier}.xml and the Atom feed /cap/feed.atom.

No login: both carry only what the CAP messages say to everyone (``published``).
"""

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from renxing.config import get_settings
from renxing.db import utcnow
from renxing.warning import published
from renxing.warning.atom import CAP_MEDIA_TYPE, feed_xml
from renxing.web.deps import DB
from renxing.web.schemas import file_answer

router = APIRouter(tags=["cap"])
ATOM_MEDIA_TYPE = "application/atom+xml"
FEED_TITLE = "韧性社区治理平台 · 预警 / Resilient community warnings (CAP 1.2)"
CACHE = {"Cache-Control": "public, max-age=60"}
Identifier = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._:-]+$")]


@router.get(
    "/cap/alerts/{identifier}.xml",
    response_class=Response,
    responses=file_answer(CAP_MEDIA_TYPE, "the CAP 1.2 message as transmitted"),
    summary="A public warning as its CAP 1.2 message (no login)",
)
def cap_alert(identifier: Identifier, session: DB) -> Response:
    return Response(published.cap_message(session, identifier), media_type=CAP_MEDIA_TYPE, headers=CACHE)


@router.get(
    "/cap/feed.atom",
    response_class=Response,
    responses=file_answer(ATOM_MEDIA_TYPE, "the latest public warnings, newest first, each linking to its CAP XML"),
    summary="The public Atom feed of warnings sent (no login)",
)
def cap_feed(session: DB) -> Response:
    base = get_settings().public_url.rstrip("/")
    body = feed_xml(
        published.feed_entries(session),
        feed_url=f"{base}/cap/feed.atom",
        site_url=base,
        title=FEED_TITLE,
        author=get_settings().cap_sender,
        updated=utcnow(),
    )
    return Response(body, media_type=ATOM_MEDIA_TYPE, headers=CACHE)
