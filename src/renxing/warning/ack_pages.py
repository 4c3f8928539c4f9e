"""The one-tap acknowledgement a household opens from its link: no login, a plain form that works
without JavaScript (the WeChat browser, an old phone), and its JSON twin for apps.

The token in the path is the credential: it is checked by its MAC before anything is shown, so the
form carries no CSRF token (a page elsewhere that posted it would need the household's token, and
would only acknowledge that household). These routes sit on one router, which the app includes
first: a tap is the busiest request while a warning goes out, and is matched before any other.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from renxing.errors import Conflict
from renxing.warning import acks
from renxing.warning.models import LEVEL_LABELS
from renxing.warning.reach_schemas import LinkAckOut
from renxing.web.deps import DB
from renxing.web.templating import render

router = APIRouter()

# Any text up to a sane length: a token of the wrong shape is a forged one (404), like any other.
Token = Annotated[str, Path(max_length=100, description="the link's token: <target>.<mac>")]


@router.get("/w/{token}", include_in_schema=False)
def ack_page(request: Request, token: Token, session: DB):
    view = acks.read_link(session, token)
    ctx = {"view": view, "token": token, "LEVEL_LABELS": LEVEL_LABELS, "thanks": request.query_params.get("done")}
    return render(request, "ack.html", ctx)


@router.post("/w/{token}", include_in_schema=False)
def ack_form(token: Token, session: DB):
    """The big button: acknowledged (or already), then the page again, so a reload posts nothing."""
    try:
        acks.acknowledge_link(session, token)
    except Conflict:
        return RedirectResponse(f"/w/{token}", status_code=303)
    return RedirectResponse(f"/w/{token}?done=1", status_code=303)


@router.post(
    "/api/v1/warning/ack/{token}",
    response_model=LinkAckOut,
    tags=["warning"],
    summary="A household acknowledges a warning with its link's token (no login; 409 when already)",
)
async def ack_api(request: Request, token: Token) -> dict:
    # One hop to a worker thread for the whole transaction (no per-dependency hops): the hot path.
    def work() -> acks.LinkView:
        with request.app.state.session_factory.begin() as session:
            return acks.acknowledge_link(session, token)

    view = await run_in_threadpool(work)
    return {
        "warning_id": view.warning_id,
        "level": view.level,
        "headline": view.headline,
        "acknowledged_at": view.acknowledged_at.isoformat() if view.acknowledged_at else None,
        "lifted": view.lifted,
    }
