"""HTML pages where reports are worked: the handler's inbox with the notifications, the staff
overview with its Excel export, and the dashboard. The pages of one report (filing, reading,
acting on it) are :mod:`renxing.events.pages`; what these pages show is built in
:mod:`renxing.events.views`.
"""

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from renxing.errors import FieldError, Invalid
from renxing.events import views
from renxing.events.export import export_reports
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.notify import service as notify
from renxing.web import csrf
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, PageSize
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)


# ---- the inbox -----------------------------------------------------------------------------


@router.get("/inbox")
def inbox(
    request: Request,
    session: DB,
    actor: CurrentUser,
    page: PageNo = 1,
    size: PageSize | None = None,
    unread: bool = False,
):
    context = views.inbox_context(session, actor, ListQuery(page, size), unread=unread)
    return render(request, "events_inbox.html", context)


@router.post("/inbox/read")
def inbox_read_all(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    notify.mark_read(session, actor)
    return RedirectResponse("/inbox#messages", status_code=303)


@router.post("/inbox/read/{notification_id}")
def inbox_read_one(request: Request, notification_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    notify.mark_read(session, actor, notification_id)
    target = str(form.get("next") or "")
    # Only a path of this site: the form must not become a way to send people elsewhere.
    if target.startswith("/") and not target.startswith("//"):
        return RedirectResponse(target, status_code=303)
    return RedirectResponse("/inbox#messages", status_code=303)


# ---- the overview and its export ----------------------------------------------------------


@router.get("/reports")
def overview(request: Request, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None):
    views.require_staff(actor)
    params = views.overview_params(request.query_params)
    context = views.overview_context(session, actor, params, page, size)
    return render(request, "events_overview.html", context, status_code=422 if context["problems"] else 200)


@router.get("/reports/export.xlsx")
def overview_export(request: Request, session: DB, actor: CurrentUser):
    views.require_staff(actor)
    params = views.overview_params(request.query_params)
    filters, problems = views.overview_filters(params)
    if problems:
        raise Invalid(_("筛选条件有误"), problems)
    data, _rows = export_reports(session, actor, ListQuery(sort=params["sort"], filters=filters))
    stamp = datetime.now(views.tz()).strftime("%Y%m%d-%H%M")
    name = _("事件-{stamp}.xlsx").format(stamp=stamp)
    return Response(
        data,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(name, f"reports-{stamp}.xlsx")},
    )


# ---- the dashboard -------------------------------------------------------------------------


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: DB,
    actor: CurrentUser,
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    level: str | None = None,
    screen: str | None = None,
):
    views.require_staff(actor)
    problems: list[FieldError] = []
    params = {"since": since or "", "until": until or "", "category": category or "", "level": level or ""}
    context = views.dashboard_context(session, actor, params, problems)
    context["big"] = screen == "big"
    return render(request, "events_dashboard.html", context, status_code=422 if problems else 200)
