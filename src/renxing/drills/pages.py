"""HTML pages of drills and trainings: calendar, activity with QR sign-in and attendance, mobile
sign-in, coverage with lagging buildings and the residents to invite. Contexts come from
``views.py``; the handlers parse the request and answer."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from renxing import importing as cells
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.drills import activities, attendance, signin, signin_sheet, views
from renxing.drills.api import invitation_sheet, maybe_user
from renxing.drills.schemas import ActivityIn, ActivityPatch, SelfSignIn
from renxing.errors import FieldError, Invalid
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.web import csrf, pagekit
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, form_id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)
MaybeUser = Annotated[Principal | None, Depends(maybe_user)]


@router.get("/drills")
def calendar_page(
    request: Request,
    session: DB,
    actor: CurrentUser,
    month: str | None = None,
    view: str = "month",
    kind: str | None = None,
    status: str | None = None,
    q: str | None = None,
    page: PageNo = 1,
):
    query = ListQuery(page=page, q=q or None, filters={"kind": kind or None, "status": status or None})
    return render(request, "drills_calendar.html", views.calendar_context(session, actor, month, view, query))


# ---- planning ---------------------------------------------------------------------------


@router.get("/drills/new")
def new_form(request: Request, session: DB, actor: CurrentUser):
    actor.require(Perm.drills_write)
    return render(request, "drills_form.html", views.form_context(session, actor, views.new_activity_values(), []))


@router.post("/drills/new")
def create(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    keys = ("unit_id", "kind", "hazard", "title", "starts_at", "ends_at", "place", "notes")
    values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in keys}
    values["partner_ids"] = [int(v) for v in form.getlist("partner_ids") if str(v).isdigit()]
    data = {k: (v or None) for k, v in values.items() if k != "partner_ids"}
    data["partner_ids"] = values["partner_ids"]
    try:
        a = activities.create_activity(session, actor, ActivityIn(**data))
    except ValidationError as exc:
        errors = pagekit.field_errors(exc)
    except Invalid as exc:
        errors = exc.errors or [FieldError("form", exc.message)]
    else:
        return RedirectResponse(f"/drills/{a.id}?created=1", status_code=303)
    ctx = views.form_context(session, actor, values, errors)
    return render(request, "drills_form.html", ctx, status_code=422)


# ---- coverage ---------------------------------------------------------------------------


@router.get("/drills/coverage")
def coverage_page(request: Request, session: DB, actor: CurrentUser, unit_id: Id | None = None, page: PageNo = 1):
    return render(request, "drills_coverage.html", views.coverage_context(session, actor, unit_id, page))


@router.get("/drills/coverage/not-reached.xlsx")
def coverage_export(session: DB, actor: CurrentUser, unit_id: Id | None = None):
    return invitation_sheet(session, actor, unit_id)


# ---- one activity -----------------------------------------------------------------------


def _activity_context(
    request: Request, session: DB, actor: Principal, activity_id: int, page: int = 1, who: str | None = None
) -> dict[str, Any]:
    return views.activity_context(
        session, actor, activity_id, base_url=str(request.base_url), flash=request.query_params, page=page, who=who
    )


@router.get("/drills/{activity_id}")
def activity_page(
    request: Request, activity_id: Id, session: DB, actor: CurrentUser, page: PageNo = 1, who: str | None = None
):
    return render(request, "drills_activity.html", _activity_context(request, session, actor, activity_id, page, who))


@router.post("/drills/{activity_id}/status")
def set_status(request: Request, activity_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    activities.update_activity(session, actor, activity_id, ActivityPatch(status=str(form.get("status") or "")))
    return RedirectResponse(f"/drills/{activity_id}", status_code=303)


@router.post("/drills/{activity_id}/attendance")
def staff_sign_in(request: Request, activity_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    ids = [i for v in form.getlist("resident_id") if (i := form_id(v, "resident_id")) is not None]
    if not ids:
        raise Invalid(_("请选择居民"), [FieldError("resident_id", "required")])
    out = attendance.sign_in_by_staff(session, actor, activity_id, ids)
    return RedirectResponse(f"/drills/{activity_id}?added={out['added']}&already={out['already']}", status_code=303)


@router.post("/drills/{activity_id}/upload")
def upload(request: Request, activity_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        errors = [FieldError("file", _("请选择文件"))]
        message = _("请选择文件")
    else:
        try:
            data = cells.read_upload(file.file)
            out = signin_sheet.import_attendance(session, actor, activity_id, data, file.filename)
        except cells.SheetError as exc:  # too big: not even read whole
            errors, message = [FieldError("file", str(exc), value=file.filename)], str(exc)
        except Invalid as exc:  # raised before anything is written
            errors, message = exc.errors, exc.message
        else:
            return RedirectResponse(
                f"/drills/{activity_id}?added={out['added']}&already={out['already']}", status_code=303
            )
    ctx = _activity_context(request, session, actor, activity_id)
    ctx["upload_errors"], ctx["upload_message"] = errors, message
    return render(request, "drills_activity.html", ctx, status_code=422)


# ---- mobile sign-in ---------------------------------------------------------------------


@router.get("/drills/{activity_id}/signin")
def signin_page(request: Request, activity_id: Id, session: DB, actor: MaybeUser, t: str = ""):
    a = signin.activity_for_signin(session, activity_id)
    ctx: dict[str, Any] = {**views.labels(), "a": a, "token": t, "values": {}, "done": None, "problem": None}
    if a is None:
        ctx["problem"] = _("活动不存在")
        return render(request, "drills_signin.html", ctx, status_code=404)
    try:
        signin.check_token(a.id, t)
    except Invalid as exc:
        ctx["problem"] = exc.message
        return render(request, "drills_signin.html", ctx, status_code=422)
    ctx["as_resident"] = actor is not None and actor.resident_id is not None
    if actor is None:
        ctx["csrf_token"] = csrf.pre_session_token(request)
    response = render(request, "drills_signin.html", ctx)
    if actor is None:
        csrf.set_pre_session(response, ctx["csrf_token"])
    return response


@router.post("/drills/{activity_id}/signin")
def signin_post(request: Request, activity_id: Id, session: DB, actor: MaybeUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    values = {k: str(form.get(k) or "").strip() for k in ("token", "name", "phone_last4", "room")}
    ctx: dict[str, Any] = {
        **views.labels(),
        "a": signin.activity_for_signin(session, activity_id),
        "token": values["token"],
        "values": values,
        "done": None,
        "problem": None,
        "as_resident": actor is not None and actor.resident_id is not None,
    }
    try:
        data = SelfSignIn(**{k: v or None for k, v in values.items()} | {"token": values["token"]})
        ctx["done"] = signin.sign_in_self(session, actor, activity_id, data)
    except ValidationError as exc:
        ctx["errors"] = {e.field: e.message for e in pagekit.field_errors(exc)}
        ctx["problem"] = _("输入有误")
    except Invalid as exc:
        ctx["problem"] = exc.message
        ctx["errors"] = {e.field: e.message for e in exc.errors}
    if actor is None:
        ctx["csrf_token"] = str(form.get("csrf_token") or "")
    return render(request, "drills_signin.html", ctx, status_code=200 if ctx["done"] else 422)
