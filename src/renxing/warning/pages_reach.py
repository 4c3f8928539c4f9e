"""Pages of a warning's reach: live progress per building and area, the list of unreached households.

The page is whole without JavaScript (the figures, the tables, the unreached list with a form per
household to record an acknowledgement); its script draws the chart and the map and refreshes
them from the API every few seconds, and the unreached list when the count moved.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from renxing.errors import Conflict, FieldError, Invalid
from renxing.listing import ListQuery
from renxing.warning import acks, progress
from renxing.warning import views_reach as views
from renxing.web import csrf
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, form_id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


def _context(request: Request, session, actor, warning_id: int, page: int, building: str | None, door: str | None):
    filters = {"building_id": form_id(building, "building_id"), "door_to_door": True if door else None}
    query = ListQuery(page=page, size=PAGE_SIZE, filters=filters)
    p = progress.progress(session, actor, warning_id)
    rows = progress.unreached(session, actor, warning_id, query)
    ctx = views.page_context(p, rows.items, rows, progress.may_record(actor))
    ctx.update(
        params={"building_id": filters["building_id"], "door": bool(door)}, done=request.query_params.get("done")
    )
    return ctx


@router.get("/warning/{warning_id}/progress")
def progress_page(
    request: Request,
    warning_id: Id,
    session: DB,
    actor: CurrentUser,
    page: PageNo = 1,
    building_id: Annotated[str | None, Query(max_length=12)] = None,
    door: Annotated[str | None, Query(max_length=5)] = None,
):
    return render(
        request, "reach_progress.html", _context(request, session, actor, warning_id, page, building_id, door)
    )


@router.post("/warning/{warning_id}/targets/{target_id}/acknowledge")
def record_form(request: Request, warning_id: Id, target_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    """A worker records a call or a door knock; a refusal shows the page again with the reason."""
    csrf.check(request, str(form.get("csrf_token") or ""))
    how, note = str(form.get("how") or ""), str(form.get("note") or "")
    try:
        with session.begin_nested():
            acks.record(session, actor, warning_id, target_id, how=how, note=note)
    except (Invalid, Conflict) as exc:
        ctx = _context(request, session, actor, warning_id, 1, None, None)
        errors = exc.errors or [FieldError("form", exc.message)]
        ctx.update(message=exc.message, error_list=errors)
        return render(request, "reach_progress.html", ctx, status_code=exc.status)
    return RedirectResponse(f"/warning/{warning_id}/progress?done=ack#unreached", status_code=303)
