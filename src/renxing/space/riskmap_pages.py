"""The printable community risk map as a download: ``/space/riskmap/{id}.pdf`` and ``.png``.

Gathered from live data on every request; the sheet is drawn anew (a few seconds of CPU, in the
worker thread pool) whenever that data differs from a recent print, so what is printed is what the
platform knows now. ``?dpi=`` sets the PNG's resolution
(150 by default; 200 for a sharper print); ``?download=1`` saves instead of opening in the browser.
"""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from renxing.space import riskmap_data
from renxing.space.riskmap.render import DEFAULT_DPI
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import DbInt, Id

router = APIRouter(include_in_schema=False)

MEDIA = {"pdf": "application/pdf", "png": "image/png"}


def _response(body: bytes, fmt: str, community: str, version: str, download: bool) -> Response:
    stamp = version.split(" · ")[-1] if version else ""
    name = f"{community}风险示意图-{stamp}.{fmt}" if stamp else f"{community}风险示意图.{fmt}"
    fallback = f"riskmap-{stamp or 'community'}.{fmt}"
    disposition = "attachment" if download else "inline"
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={
            "Content-Disposition": f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}",
            "Cache-Control": "no-store",
            "X-Data-Version": stamp,
        },
    )


@router.get("/space/riskmap/{community_id:int}.pdf")
def riskmap_pdf(community_id: Id, session: DB, actor: CurrentUser, download: bool = Query(False)) -> Response:
    body, _info, data = riskmap_data.render_community(session, actor, community_id, "pdf")
    return _response(body, "pdf", data.community, data.version, download)


@router.get("/space/riskmap/{community_id:int}.png")
def riskmap_png(
    community_id: Id,
    session: DB,
    actor: CurrentUser,
    dpi: Annotated[DbInt, Query(description="150–200 for print")] = DEFAULT_DPI,
    download: bool = Query(False),
) -> Response:
    body, _info, data = riskmap_data.render_community(session, actor, community_id, "png", dpi=dpi)
    return _response(body, "png", data.community, data.version, download)
