"""Pages of warnings sent: the list (with the colour table), compose and edit (with a map where the
area is drawn), and one warning with its decisions: send, approve or refuse, withdraw, update,
cancel. Forms post here; each handler parses the form, calls one service and redirects."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from renxing.errors import FieldError, Invalid
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.warning import approving, composing, following, levels, views
from renxing.warning.schemas import CancelIn, LevelPatch, UpdateIn, WarningIn, WarningPatch
from renxing.web import csrf
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm, field_errors
from renxing.web.params import Id, PageNo
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]
TEXT_FIELDS = ("level", "event", "category", "headline", "description", "instruction", "area_desc")


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


def _polygon(form: FormData, errors: list[FieldError]) -> dict[str, Any] | None:
    text = _text(form, "polygon")
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        errors.append(FieldError("polygon", _("所画区域无效")))
        return None
    return value if isinstance(value, dict) else None


def _form_data(form: FormData, errors: list[FieldError]) -> dict[str, Any]:
    """The compose form as the API's body (times read in the platform's zone)."""
    data: dict[str, Any] = {k: _text(form, k) or None for k in TEXT_FIELDS}
    data["unit_id"] = _text(form, "unit_id") or None
    data["effective"] = views.parse_local(_text(form, "effective"), "effective", errors)
    data["expires"] = views.parse_local(_text(form, "expires"), "expires", errors)
    data["channels"] = [str(c) for c in form.getlist("channels")] or None
    data["exercise"] = form.get("exercise") == "on"
    data["public"] = form.get("public") == "on"
    data["polygon"] = _polygon(form, errors)
    data["crs"] = _text(form, "crs") or "wgs84"
    return data


def _shown_values(data: dict[str, Any], form: FormData) -> dict[str, Any]:
    """What the form shows again after a refusal: what was typed."""
    return {
        **data,
        "effective": _text(form, "effective"),
        "expires": _text(form, "expires"),
        "channels": data["channels"] or [],
        "unit_id": int(data["unit_id"]) if str(data["unit_id"] or "").isdigit() else None,
    }


# ---- the list and the colour table -----------------------------------------------------------------


@router.get("/warning")
def warning_list(
    request: Request,
    session: DB,
    actor: CurrentUser,
    status: Text = None,
    level: Text = None,
    q: Text = None,
    page: PageNo = 1,
):
    query = ListQuery(page=page, size=views.LIST_PAGE, q=q or None, filters={"status": status, "level": level})
    ctx = views.list_context(session, actor, query)
    ctx["flash"] = request.query_params.get("done")
    return render(request, "warning_list.html", ctx)


@router.post("/warning/levels/{code}")
def level_edit(
    request: Request, code: Annotated[str, Path(max_length=8)], session: DB, actor: CurrentUser, form: PostedForm
):
    csrf.check(request, str(form.get("csrf_token") or ""))
    values = {k: _text(form, k) or None for k in ("severity", "urgency", "certainty", "step_minutes")}
    values["needs_approval"] = form.get("needs_approval") == "on"
    try:
        patch = LevelPatch.model_validate(values)
    except ValidationError as exc:
        raise Invalid(_("输入有误"), field_errors(exc)) from exc
    levels.update_level(session, actor, code, patch)
    return RedirectResponse("/warning?done=levels#levels", status_code=303)


# ---- compose and edit ------------------------------------------------------------------------------


@router.get("/warning/new")
def compose_form(request: Request, session: DB, actor: CurrentUser):
    composing.require_composer(actor)
    return render(request, "warning_compose.html", views.compose_context(session, actor, views.form_values()))


def _save(request: Request, session: DB, actor: CurrentUser, form: FormData, warning_id: int | None):
    """Save the draft (a refused form keeps nothing and is shown again, naming its fields), then
    send it when asked: sending publishes events, so it runs outside the savepoint, and its
    refusal is the request's (nothing written)."""
    errors: list[FieldError] = []
    data = _form_data(form, errors)
    try:
        if errors:
            raise Invalid(_("输入有误"), errors)
        with session.begin_nested():
            if warning_id is None:
                warning = composing.compose(session, actor, WarningIn.model_validate(data))
            else:
                warning = composing.edit(session, actor, warning_id, WarningPatch.model_validate(data))
    except ValidationError as exc:
        errors = field_errors(exc)
    except Invalid as exc:
        errors = exc.errors or [FieldError("form", exc.message)]
    else:
        done = "saved"
        if form.get("then") == "send":
            warning = approving.send(session, actor, warning.id)
            done = warning.status
        return RedirectResponse(f"/warning/{warning.id}?done={done}", status_code=303)
    existing = composing.get_warning(session, actor, warning_id) if warning_id else None
    ctx = views.compose_context(session, actor, _shown_values(data, form), errors, warning=existing)
    return render(request, "warning_compose.html", ctx, status_code=422)


@router.post("/warning/new")
def compose_post(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    return _save(request, session, actor, form, None)


@router.get("/warning/{warning_id}/edit")
def edit_form(request: Request, warning_id: Id, session: DB, actor: CurrentUser):
    warning = composing.editable(session, actor, warning_id)
    ctx = views.compose_context(session, actor, views.form_values(warning), warning=warning)
    return render(request, "warning_compose.html", ctx)


@router.post("/warning/{warning_id}/edit")
def edit_post(request: Request, warning_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    return _save(request, session, actor, form, warning_id)


# ---- one warning and its decisions -----------------------------------------------------------------


@router.get("/warning/{warning_id}")
def warning_page(request: Request, warning_id: Id, session: DB, actor: CurrentUser):
    ctx = views.read_context(session, actor, warning_id)
    ctx["flash"] = request.query_params.get("done")
    return render(request, "warning_read.html", ctx)


def _done(warning_id: int, what: str) -> RedirectResponse:
    return RedirectResponse(f"/warning/{warning_id}?done={what}", status_code=303)


@router.post("/warning/{warning_id}/send")
def send(request: Request, warning_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    warning = approving.send(session, actor, warning_id)
    return _done(warning.id, warning.status)


@router.post("/warning/{warning_id}/approve")
def approve(request: Request, warning_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    approving.approve(session, actor, warning_id)
    return _done(warning_id, "approved")


@router.post("/warning/{warning_id}/refuse")
def refuse(request: Request, warning_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    reason = _text(form, "reason")[:1000]
    if not reason:
        why = _("请填写不通过的理由")
        raise Invalid(why, [FieldError("reason", why)])
    approving.refuse(session, actor, warning_id, reason)
    return _done(warning_id, "rejected")


@router.post("/warning/{warning_id}/withdraw")
def withdraw(request: Request, warning_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    approving.withdraw(session, actor, warning_id)
    return _done(warning_id, "withdrawn")


def _validated(model, values: dict[str, Any]):
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise Invalid(_("输入有误"), field_errors(exc)) from exc


@router.post("/warning/{warning_id}/update")
def update(request: Request, warning_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    errors: list[FieldError] = []
    values: dict[str, Any] = {k: _text(form, k) or None for k in ("level", "headline", "description", "instruction")}
    values["expires"] = views.parse_local(_text(form, "expires"), "expires", errors)
    if errors:
        raise Invalid(_("输入有误"), errors)
    data = _validated(UpdateIn, {k: v for k, v in values.items() if v is not None})
    warning = following.update(session, actor, warning_id, data)
    return _done(warning.id, warning.status)


@router.post("/warning/{warning_id}/cancel")
def cancel(request: Request, warning_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    data = _validated(CancelIn, {"description": _text(form, "description")})
    warning = following.cancel(session, actor, warning_id, data)
    return _done(warning.id, warning.status)
