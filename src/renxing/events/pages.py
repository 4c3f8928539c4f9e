"""HTML pages of one report: filing it (resident, patrol, phone call), one's own reports, and
the report page with its actions, feedback and public text. The pages where reports are worked
(inbox, overview, export, dashboard) are :mod:`renxing.events.work_pages`; what the pages show
is built in :mod:`renxing.events.views`.

Every form posts with the session's CSRF token and goes through the services; a refused
input comes back on the same page with the fields marked, and nothing is stored.
"""

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from renxing.auth.principal import Principal
from renxing.errors import Conflict, FieldError, Invalid, NotFound
from renxing.events import actions, idempotency, intake, pagedata, publication, views, work_pages
from renxing.events.policy import MAX_PHOTO_BYTES, MAX_PHOTOS, Action
from renxing.events.schemas import ReportIn
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.web import csrf, pagekit
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, PageSize, form_id
from renxing.web.templating import render, templates

router = APIRouter(include_in_schema=False)
# The work pages first: /reports/export.xlsx must not be taken for the page of a report.
router.include_router(work_pages.router)


templates.env.filters["when"] = views.when
templates.env.globals["note_text"] = views.note_text
templates.env.globals["message_title"] = views.message_title
templates.env.globals["span"] = views.span
templates.env.globals["due_in"] = views.due_in
templates.env.globals["percent"] = views.percent
templates.env.globals["is_event_staff"] = pagedata.is_event_staff


def _float(value: Any) -> float | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return math.nan
    return number


def read_files(form: FormData, field: str, limit: int) -> list[bytes]:
    """Uploaded files of a field, read at most one byte past the size limit (the service refuses
    larger ones); a file input left empty sends a part without a name, which is skipped."""
    out = []
    for value in form.getlist(field):
        if isinstance(value, UploadFile) and value.filename:
            if len(out) > limit:
                break
            out.append(value.file.read(MAX_PHOTO_BYTES + 1))
    return out


# ---- filing a report ----------------------------------------------------------------------


@router.get("/report/new")
def report_form(request: Request, session: DB, actor: CurrentUser, mode: str | None = None):
    modes = views.modes_for(actor)
    chosen = mode if mode in modes else modes[0]
    return render(request, "events_new.html", views.form_context(session, actor, chosen))


FORM_TEXTS = (
    "category",
    "description",
    "place",
    "unit_id",
    "lat",
    "long",
    "address",
    "severity",
    "reporter_name",
    "reporter_phone",
)


def _form_values(form: FormData) -> dict[str, Any]:
    """The report form as sent, to file it or to show it again with its errors."""
    values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in FORM_TEXTS}
    values["show_name_publicly"] = form.get("show_name_publicly") == "on"
    values["public_consent"] = form.get("public_consent") == "on"
    values["unit_id"] = form_id(values["unit_id"], "unit_id")
    values["place"] = values["place"] if values["place"] in views.PLACE_MODES else "building"
    return values


def _place(actor: Principal, values: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The place fields of the report: one's household, a picked building, or a point."""
    if values["place"] == "household":
        if actor.household_id is None:
            return {}, [FieldError("place", _("您没有登记的住户"))]
        return {"household_id": actor.household_id}, []
    if values["place"] == "building":
        return {"unit_id": values["unit_id"]}, []
    lat, lon = _float(values["lat"]), _float(values["long"])
    if (lat is not None and math.isnan(lat)) or (lon is not None and math.isnan(lon)):
        return {}, [FieldError("lat", _("坐标无效"))]
    return {"lat": lat, "long": lon}, []


def _report_data(actor: Principal, mode: str, values: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The fields of the report (``ReportIn``) the form gives in its mode."""
    data: dict[str, Any] = {
        "category": values["category"],
        "description": values["description"],
        "show_name_publicly": values["show_name_publicly"],
        "public_consent": values["public_consent"],
        "address": values["address"] or None,
    }
    place, errors = _place(actor, values)
    data.update(place)
    if mode == "phone":
        data["reporter_name"] = values["reporter_name"] or None
        data["reporter_phone"] = values["reporter_phone"] or None
    if mode != "resident" and values["severity"]:
        data["severity"] = values["severity"]
    return data, errors


def _file(
    session: Session, actor: Principal, mode: str, data: dict[str, Any], photos: list[bytes], key: str | None
) -> int:
    """File the report once per form (``key``): the new report's id, or the first one's when the
    same form comes again. Invalid when the form or the service refuses it."""
    try:
        report_in = ReportIn(**data)
    except ValidationError as exc:
        raise Invalid(_("请修正标出的内容"), pagekit.field_errors(exc)) from exc
    client = f"user:{actor.user_id}"
    if key is not None:
        prior = idempotency.begin(session, client, key, idempotency.fingerprint("page", {**data, "mode": mode}, photos))
        if prior is not None:
            return prior.report_id
    try:
        report = intake.submit_report(session, actor, report_in, channel=views.MODES[mode][0], photos=photos)
    except Invalid:
        if key is not None:
            idempotency.release(session, client, key)
        raise
    if key is not None:
        idempotency.finish(session, client, key, report.id)
    return report.id


@router.post("/report/new")
def report_create(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    modes = views.modes_for(actor)
    mode = str(form.get("mode") or "")
    mode = mode if mode in modes else modes[0]
    values = _form_values(form)
    key = idempotency.read_key(request.headers.get(idempotency.HEADER), form.get(idempotency.FORM_FIELD))
    if key is not None:
        values["idempotency_key"] = key
    data, errors = _report_data(actor, mode, values)
    photos = read_files(form, "photos", MAX_PHOTOS)
    problem: str | None = None
    if not errors:
        try:
            report_id = _file(session, actor, mode, data, photos, key)
        except Invalid as exc:
            errors, problem = exc.errors, None if exc.errors else exc.message
        else:
            return RedirectResponse(f"/reports/{report_id}?filed=1", status_code=303)
    if not values["category"]:
        errors = [FieldError("category", _("请选择类别")) if e.field == "category" else e for e in errors]
    ctx = views.form_context(
        session, actor, mode, values=values, errors=errors, problem=problem, photos_dropped=bool(photos)
    )
    return render(request, "events_new.html", ctx, status_code=422)


# ---- one's own reports --------------------------------------------------------------------


@router.get("/reports/mine")
def my_reports(request: Request, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None):
    result = pagedata.my_reports(session, actor, ListQuery(page, size))
    return render(
        request,
        "events_mine.html",
        {"result": result, "rows": views.list_rows(session, actor, result.items), **views.labels(session)},
    )


# ---- the report page and its actions -------------------------------------------------------


@router.get("/reports/{report_id}")
def report_page(request: Request, report_id: Id, session: DB, actor: CurrentUser):
    context = views.report_context(session, actor, report_id, request.query_params)
    return render(request, "events_report.html", context)


@router.post("/reports/{report_id}/public-text")
def report_public_text(request: Request, report_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    """Staff set the text the public reads (before the action route, which would take the path)."""
    csrf.check(request, str(form.get("csrf_token") or ""))
    text = str(form.get("text") or "")
    try:
        publication.set_public_text(session, actor, report_id, text)
    except Invalid as exc:
        failed = {"action": "public", "message": exc.message, "errors": {e.field: e.message for e in exc.errors}}
        ctx = views.report_context(session, actor, report_id, request.query_params, failed=failed)
        ctx["form"] = {"text": text}
        return render(request, "events_report.html", ctx, status_code=exc.status)
    return RedirectResponse(f"/reports/{report_id}?done=public#public", status_code=303)


def _action_data(form: FormData) -> dict[str, Any]:
    """The filled-in fields of an action form (``ActionIn``); ids and the rating stay text, which
    the schema turns into numbers or refuses."""
    data: dict[str, Any] = {}
    for key in ("note", "reason", "to_label", "comment", "lat", "long", "to_user_id", "into_report_id", "rating"):
        text = str(form.get(key) or "").strip()
        if text:
            data[key] = text
    solved = form.get("solved")
    if solved in ("yes", "no"):
        data["solved"] = solved == "yes"
    return data


@router.post("/reports/{report_id}/{action}")
def report_act(request: Request, report_id: Id, action: str, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    if action not in actions.ACTIONS:
        raise NotFound(_("未知操作：{action}").format(action=action))
    data = _action_data(form)
    files = read_files(form, "photo", 1)
    try:
        if len(files) > 1:
            raise Invalid(_("只能上传一张照片"), [FieldError("photo", "one photo only")])
        actions.perform(session, actor, report_id, action, data, photo=files[0] if files else None)
    except (Invalid, Conflict) as exc:
        # Nothing was stored: the services check everything before they change a row.
        failed = {"action": action, "message": exc.message, "errors": {e.field: e.message for e in exc.errors}}
        ctx = views.report_context(session, actor, report_id, request.query_params, failed=failed)
        ctx["form"] = data
        return render(request, "events_report.html", ctx, status_code=exc.status)
    anchor = "#feedback" if action == Action.feedback.value else "#timeline"
    return RedirectResponse(f"/reports/{report_id}?done={action}{anchor}", status_code=303)
