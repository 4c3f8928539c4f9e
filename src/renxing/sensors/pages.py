"""Pages of the sensors: devices on the map, a device's readings charted, rules.

Forms are plain POSTs with the session's CSRF token. A refused form shows its page again with
the fields at fault, nothing written (the use case runs in a savepoint). A device's secret is
shown once, on the page that answers its registration or rotation, never stored or cached.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from renxing.config import get_settings
from renxing.errors import Conflict, FieldError, Forbidden, Invalid
from renxing.i18n import _
from renxing.listing import ListQuery
from renxing.sensors import devices, rule_admin, views
from renxing.sensors.models import DeviceKind, DeviceState, SensorDevice
from renxing.sensors.schemas import DeviceIn, DevicePatch, RuleIn
from renxing.web import csrf
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm, field_errors
from renxing.web.params import Id, PageNo
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]
DEVICE_FIELDS = ("code", "name", "kind", "unit_id", "lon", "lat", "measure_unit", "interval_seconds", "note")
RULE_FIELDS = (
    "name",
    "kind",
    "unit_id",
    "device_id",
    "rule_type",
    "direction",
    "threshold",
    "clear_at",
    "rate_per_minute",
    "window_minutes",
    "snooze_minutes",
    "level",
    "category",
)


def _choice(value: str | None, allowed: Any) -> str | None:
    return value if value in allowed else None


def _fields(form: FormData, names: tuple[str, ...]) -> dict[str, Any]:
    """The filled fields of a form (blank ones left out, so the schema's defaults apply)."""
    return {n: str(form.get(n)).strip() for n in names if str(form.get(n) or "").strip()}


def _refused(request: Request, template: str, ctx: dict[str, Any], exc: Invalid | Conflict | Forbidden, form: FormData):
    errors = exc.errors or [FieldError("form", exc.message)]
    ctx.update(
        message=exc.message,
        error_list=errors,
        errors={e.field: e.message for e in errors},
        values={k: str(v) for k, v in form.items() if k != "csrf_token" and isinstance(v, str)},
    )
    return render(request, template, ctx, status_code=exc.status)


def _attempt(session: Session, act: Callable[[], Any]) -> Any:
    """Run a use case in a savepoint, a schema's complaints turned into the same 422."""
    try:
        with session.begin_nested():
            return act()
    except ValidationError as exc:
        raise Invalid(_("输入有误"), field_errors(exc)) from exc


def _secret_page(request: Request, device: SensorDevice, secret: str, rotated: bool):
    topic = get_settings().mqtt_topic.replace("{device}", device.code)
    ctx = {"d": devices.present(device, None), "secret": secret, "rotated": rotated, "topic": topic}
    response = render(request, "sensors_secret.html", ctx)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- devices ------------------------------------------------------------------------------------------


@router.get("/sensors")
def devices_page(
    request: Request,
    session: DB,
    actor: CurrentUser,
    kind: Text = None,
    state: Text = None,
    q: Text = None,
    page: PageNo = 1,
):
    filters = {"kind": _choice(kind, DeviceKind.__members__), "state": _choice(state, DeviceState.__members__)}
    query = ListQuery(page=page, size=views.DEVICES_PAGE, q=q or None, filters=filters)
    return render(request, "sensors_devices.html", views.devices_context(session, actor, query))


@router.post("/sensors/devices")
def register_device(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    try:
        device, secret = _attempt(
            session,
            lambda: devices.register_device(
                session, actor, DeviceIn(**_fields(form, DEVICE_FIELDS)), crs=str(form.get("crs") or "wgs84")
            ),
        )
    except (Invalid, Conflict, Forbidden) as exc:
        ctx = views.devices_context(session, actor, ListQuery(size=views.DEVICES_PAGE))
        return _refused(request, "sensors_devices.html", {**ctx, "open_form": True}, exc, form)
    return _secret_page(request, device, secret, rotated=False)


@router.get("/sensors/devices/{device_id}")
def device_page(
    request: Request,
    device_id: Id,
    session: DB,
    actor: CurrentUser,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
):
    ctx = views.device_context(session, actor, device_id, days)
    ctx["flash"] = request.query_params.get("done")
    return render(request, "sensors_device.html", ctx)


@router.post("/sensors/devices/{device_id}/rotate")
def rotate(request: Request, device_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    device, secret = devices.rotate_credential(session, actor, device_id)
    return _secret_page(request, device, secret, rotated=True)


@router.post("/sensors/devices/{device_id}/active")
def set_active(request: Request, device_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    active = str(form.get("active") or "") == "1"
    devices.update_device(session, actor, device_id, DevicePatch(active=active))
    return RedirectResponse(f"/sensors/devices/{device_id}?done={'on' if active else 'off'}", status_code=303)


# ---- rules ----------------------------------------------------------------------------------------------


@router.get("/sensors/rules")
def rules_page(
    request: Request,
    session: DB,
    actor: CurrentUser,
    kind: Text = None,
    q: Text = None,
    page: PageNo = 1,
):
    query = ListQuery(
        page=page, size=views.RULES_PAGE, q=q or None, filters={"kind": _choice(kind, DeviceKind.__members__)}
    )
    ctx = views.rules_context(session, actor, query)
    ctx["flash"] = request.query_params.get("done")
    return render(request, "sensors_rules.html", ctx)


@router.post("/sensors/rules")
def create_rule(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    values = _fields(form, RULE_FIELDS)
    if values.get("device_id"):  # one device: its kind and place, not the community's
        values.pop("unit_id", None)
        values.pop("kind", None)
    try:
        _attempt(session, lambda: rule_admin.create_rule(session, actor, RuleIn(**values)))
    except (Invalid, Conflict, Forbidden) as exc:
        ctx = views.rules_context(session, actor, ListQuery(size=views.RULES_PAGE))
        return _refused(request, "sensors_rules.html", {**ctx, "open_form": True}, exc, form)
    return RedirectResponse("/sensors/rules?done=created", status_code=303)


@router.post("/sensors/rules/{rule_id}/deactivate")
def deactivate_rule(request: Request, rule_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    rule_admin.deactivate_rule(session, actor, rule_id)
    return RedirectResponse("/sensors/rules?done=deactivated", status_code=303)
