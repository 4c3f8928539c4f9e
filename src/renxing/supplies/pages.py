"""HTML pages of the cloud warehouse: the autonomy dashboard, allocation runs, the ledger, expiry and
agreements here; storage points and the forms that post to the ledger in ``pages_points.py``
(included below). Contexts come from ``views.py`` and ``views_stock.py``; the handlers parse the
request and answer."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from renxing.errors import FieldError, Invalid
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.supplies import allocating, pages_points, stock, views, views_stock
from renxing.web import csrf
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, form_id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)
POINTS_PAGE = "/supplies/points"
Text = Annotated[str | None, Query(max_length=100)]


@router.get("/supplies")
def dashboard(
    request: Request,
    session: DB,
    actor: CurrentUser,
    community_id: Annotated[str | None, Query(max_length=20)] = None,
    scenario_id: Annotated[str | None, Query(max_length=20)] = None,
):
    if views.is_partner(session, actor):
        return RedirectResponse(POINTS_PAGE, status_code=303)
    chosen = form_id(community_id, "community_id")
    scenario = None if scenario_id is None else str(form_id(scenario_id, "scenario_id") or "")
    return render(request, "supplies_dashboard.html", views.dashboard_context(session, actor, chosen, scenario))


# ---- allocation runs ---------------------------------------------------------------------------


@router.get("/supplies/allocations")
def runs(
    request: Request,
    session: DB,
    actor: CurrentUser,
    status: Annotated[str | None, Query(max_length=20)] = None,
    community_id: Annotated[str | None, Query(max_length=20)] = None,
    scenario_id: Annotated[str | None, Query(max_length=20)] = None,
    days: Annotated[str | None, Query(max_length=6)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: PageNo = 1,
):
    if views.is_partner(session, actor):
        return RedirectResponse(POINTS_PAGE, status_code=303)
    query = ListQuery(page=page, size=views.RUNS_PAGE, q=q or None, filters={"status": status or None})
    form = {
        "community_id": form_id(community_id, "community_id"),
        "scenario_id": form_id(scenario_id, "scenario_id"),
        "days": int(days) if days and days.isdigit() else None,
    }
    return render(request, "supplies_runs.html", views.runs_context(session, actor, query, form))


@router.post("/supplies/allocations")
def propose(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    values = {
        "community_id": form_id(form.get("community_id"), "community_id"),
        "scenario_id": form_id(form.get("scenario_id"), "scenario_id"),
        "days": str(form.get("days") or "").strip(),
    }
    errors = []
    if values["community_id"] is None:
        errors.append(FieldError("community_id", _("请选择社区")))
    if values["scenario_id"] is None:
        errors.append(FieldError("scenario_id", _("请选择疏散情景")))
    if not values["days"].isdigit():
        errors.append(FieldError("days", _("应为整数"), value=values["days"]))
    if not errors:
        try:
            run = allocating.propose(session, actor, values["community_id"], values["scenario_id"], int(values["days"]))
        except Invalid as exc:
            errors = exc.errors or [FieldError("form", exc.message)]
        else:
            return RedirectResponse(f"/supplies/allocations/{run.id}", status_code=303)
    values["days"] = int(values["days"]) if values["days"].isdigit() else values["days"]
    query = ListQuery(page=1, size=views.RUNS_PAGE)
    ctx = views.runs_context(session, actor, query, values, errors)
    return render(request, "supplies_runs.html", ctx, status_code=422)


@router.get("/supplies/allocations/{run_id}")
def run_page(request: Request, run_id: Id, session: DB, actor: CurrentUser):
    ctx = views.run_context(session, actor, run_id)
    ctx["flash"] = request.query_params.get("done")
    return render(request, "supplies_run.html", ctx)


@router.post("/supplies/allocations/{run_id}/commit")
def commit(request: Request, run_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    allocating.commit(session, actor, run_id)
    return RedirectResponse(f"/supplies/allocations/{run_id}?done=committed", status_code=303)


@router.post("/supplies/allocations/{run_id}/discard")
def discard(request: Request, run_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    allocating.discard(session, actor, run_id)
    return RedirectResponse(f"/supplies/allocations/{run_id}?done=discarded", status_code=303)


@router.get("/supplies/allocations/{run_id}/picklists.{fmt}")
def picklists(run_id: Id, fmt: str, session: DB, actor: CurrentUser) -> Response:
    if fmt not in ("pdf", "xlsx"):
        raise Invalid(_("格式应为 pdf 或 xlsx"), [FieldError("fmt", "pdf, xlsx", value=fmt)])
    body = allocating.pick_lists_file(session, actor, run_id, fmt)
    media = "application/pdf" if fmt == "pdf" else XLSX_MEDIA_TYPE
    name = content_disposition(f"拣货单-{run_id}.{fmt}", f"picklists-{run_id}.{fmt}")
    return Response(body, media_type=media, headers={"Content-Disposition": name})


# ---- the ledger and expiry -------------------------------------------------------------------------


@router.get("/supplies/ledger")
def ledger(
    request: Request,
    session: DB,
    actor: CurrentUser,
    point_id: Text = None,
    item_id: Text = None,
    kind: Text = None,
    run_id: Text = None,
    since: Text = None,
    until: Text = None,
    q: Text = None,
    page: PageNo = 1,
):
    filters = {
        "point_id": form_id(point_id, "point_id"),
        "item_id": form_id(item_id, "item_id"),
        "kind": kind or None,
        "run_id": form_id(run_id, "run_id"),
    }
    query = ListQuery(page=page, size=views_stock.LEDGER_PAGE, q=q or None, filters=filters)
    days = views_stock.parse_day(since, "since"), views_stock.parse_day(until, "until")
    return render(request, "supplies_ledger.html", views_stock.ledger_context(session, actor, query, *days))


@router.get("/supplies/expiry")
def expiry(
    request: Request,
    session: DB,
    actor: CurrentUser,
    days: Annotated[int, Query(ge=0, le=stock.MAX_EXPIRY_DAYS)] = stock.EXPIRY_DAYS,
    expired_only: bool = False,
    kind: Text = None,
    point_id: Text = None,
    q: Text = None,
    page: PageNo = 1,
):
    filters = {"kind": stock.point_kind(kind), "point_id": form_id(point_id, "point_id")}
    query = ListQuery(page=page, size=views_stock.LEDGER_PAGE, q=q or None, filters=filters)
    ctx = views_stock.expiry_context(session, actor, query, days, expired_only)
    return render(request, "supplies_expiry.html", ctx)


# ---- agreements ---------------------------------------------------------------------------------------


@router.get("/supplies/agreements")
def agreements_page(
    request: Request,
    session: DB,
    actor: CurrentUser,
    status: Text = None,
    q: Text = None,
    page: PageNo = 1,
):
    query = ListQuery(page=page, size=views.AGREEMENTS_PAGE, q=q or None, filters={"status": status or None})
    return render(request, "supplies_agreements.html", views.agreements_context(session, actor, query))


@router.get("/supplies/agreements/{agreement_id}")
def agreement_page(request: Request, agreement_id: Id, session: DB, actor: CurrentUser):
    return render(request, "supplies_agreement.html", views.agreement_context(session, actor, agreement_id))


router.include_router(pages_points.router)
