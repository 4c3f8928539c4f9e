"""A resident's warnings on the web: the page ``/warning/mine`` and the banners of their home page.

The home page is the grid's (``/``); it asks for the banners by name (``warning_banners``, a
template global set here), which are read in the request's own session, so reading them is part
of the request's one transaction like any other read. Each banner and entry acknowledges through
the household's link (``/w/{token}``): a plain form, no script, works without JavaScript.
"""

from fastapi import APIRouter, Request
from sqlalchemy.orm import object_session

from renxing.warning import inbox
from renxing.warning.acks import HOW_LABELS
from renxing.warning.models import LEVEL_LABELS
from renxing.web.deps import DB, CurrentUser
from renxing.web.templating import render, templates

router = APIRouter(include_in_schema=False)


def home_banners(request: Request) -> list[inbox.MineItem]:
    """The warnings a resident's home page puts first (nothing for anyone else)."""
    principal = getattr(request.state, "principal", None)
    login = getattr(request.state, "auth_session", None)
    session = object_session(login) if login is not None else None
    if principal is None or session is None or not inbox.is_resident(principal):
        return []
    return inbox.banners(session, principal)


templates.env.globals["warning_banners"] = home_banners
templates.env.globals["WARNING_LEVEL_LABELS"] = LEVEL_LABELS


@router.get("/warning/mine")
def my_warnings(request: Request, session: DB, actor: CurrentUser):
    items = inbox.mine_if_resident(session, actor)
    ctx = {"items": items, "resident": inbox.is_resident(actor), "HOW_LABELS": HOW_LABELS}
    return render(request, "warning_mine.html", ctx)
