"""HTML pages of drills and trainings: calendar, activity with QR sign-in and attendance, mobile
sign-in, coverage with lagging buildings and the residents to invite."""

import calendar
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from renxing import importing as cells
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.drills import service
from renxing.drills.api import maybe_user
from renxing.drills.models import HAZARD_LABELS, KIND_LABELS, METHOD_LABELS, STATUS_LABELS, ActivityKind, Hazard
from renxing.drills.schemas import ActivityIn, ActivityPatch, SelfSignIn
from renxing.errors import FieldError, Invalid
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition, to_xlsx
from renxing.grid.models import GridUnit, Level
from renxing.grid.service import LEVEL_LABELS
from renxing.i18n import _, _l
from renxing.partners import service as partners
from renxing.partners.models import KIND_LABELS as ORG_KIND_LABELS
from renxing.people import service as people
from renxing.people.vulnerability import TAG_LABELS
from renxing.web import csrf, pagekit
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, form_id
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)
MaybeUser = Annotated[Principal | None, Depends(maybe_user)]
STANDING_LABELS = {
    "ok": _l("达标"),
    "behind": _l("未达标"),
    "lagging": _l("明显滞后"),
    "empty": _l("无居民"),
}
WEEKDAYS = (_l("一"), _l("二"), _l("三"), _l("四"), _l("五"), _l("六"), _l("日"))


def labels() -> dict[str, Any]:
    return {
        "KIND_LABELS": KIND_LABELS,
        "HAZARD_LABELS": HAZARD_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "METHOD_LABELS": METHOD_LABELS,
        "STANDING_LABELS": STANDING_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "TAG_LABELS": TAG_LABELS,
        "ORG_KIND_LABELS": ORG_KIND_LABELS,
        "local": lambda dt, fmt="%Y-%m-%d %H:%M": dt.astimezone(service.tz()).strftime(fmt) if dt else "",
        "when_iso": lambda iso: datetime.fromisoformat(iso).astimezone(service.tz()).strftime("%Y-%m-%d %H:%M"),
        "percent": lambda v: "—" if v is None else f"{v * 100:.0f}%",
    }


def _month(value: str | None) -> tuple[int, int]:
    """The calendar's ?month=YYYY-MM; an unreadable one shows the current month, as a calendar would."""
    found = re.fullmatch(r"(\d{4})-(\d{1,2})", value or "")
    if found and 2000 <= int(found[1]) <= 2100 and 1 <= int(found[2]) <= 12:
        return int(found[1]), int(found[2])
    today = utcnow().astimezone(service.tz()).date()
    return today.year, today.month


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
    actor.require(Perm.drills_read)
    y, m = _month(month)
    ctx: dict[str, Any] = {
        **labels(),
        "view": view,
        "year": y,
        "month": m,
        "params": {"kind": kind, "status": status, "q": q},
    }
    prev_m = date(y, m, 1) - timedelta(days=1)
    next_m = date(y, m, 28) + timedelta(days=7)
    ctx["prev"], ctx["next"] = f"{prev_m.year}-{prev_m.month:02d}", f"{next_m.year}-{next_m.month:02d}"
    if view == "list":
        result = service.list_activities(
            session, actor, kind=kind or None, status=status or None, q=q or None, page=page, sort="-starts_at"
        )
        ctx["page"] = result
        ctx["counts"] = service.attendance_counts(session, [a.id for a in result.items])
    else:
        items = service.month_activities(session, actor, y, m)
        by_day: dict[int, list[Any]] = {}
        for a in items:
            by_day.setdefault(a.starts_at.astimezone(service.tz()).day, []).append(a)
        ctx["weeks"] = calendar.Calendar().monthdayscalendar(y, m)
        ctx["by_day"] = by_day
        ctx["counts"] = service.attendance_counts(session, [a.id for a in items])
        ctx["today"] = utcnow().astimezone(service.tz()).date()
    ctx["weekdays"] = WEEKDAYS
    cov = service.coverage_report(session, actor)
    ctx["coverage"] = cov
    ctx["chart"] = _building_chart(cov)
    ctx["can_write"] = actor.can(Perm.drills_write)
    return render(request, "drills_calendar.html", ctx)


def _building_chart(cov: dict[str, Any], limit: int = 60) -> dict[str, Any]:
    """Reach per building for the ECharts bar chart, the lowest first."""
    rows = [u for u in cov["units"] if u["level"] == "building" and u["residents"]]
    rows.sort(key=lambda u: (u["reach"] or 0, u["name"]))
    rows = rows[:limit]
    return {
        "names": [u["name"] for u in rows],
        "reach": [round((u["reach"] or 0) * 100, 1) for u in rows],
        "standing": [u["standing"] for u in rows],
        "target": round(cov["reach_target"] * 100),
    }


# ---- planning ---------------------------------------------------------------------------


def _form_context(session, actor: Principal, values: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    communities = _communities(session, actor)
    community_path = next((c.path for c in communities if str(c.id) == str(values.get("unit_id"))), None)
    if community_path is None and communities:
        community_path = communities[0].path
    orgs = partners.community_orgs(session, actor, community_path) if community_path else []
    return {
        **labels(),
        "values": values,
        "errors": {e.field: e.message for e in errors},
        "error_list": errors,
        "communities": communities,
        "orgs": orgs,
        "kinds": list(ActivityKind),
        "hazards": list(Hazard),
    }


def _communities(session, actor: Principal) -> list[Any]:
    rows = session.scalars(select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.path))
    return [c for c in rows if actor.covers_path(c.path)]


@router.get("/drills/new")
def new_form(request: Request, session: DB, actor: CurrentUser):
    actor.require(Perm.drills_write)
    start = (utcnow() + timedelta(days=7)).astimezone(service.tz()).replace(hour=9, minute=0, second=0, microsecond=0)
    values = {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "kind": "evacuation_drill",
        "hazard": "fire",
    }
    return render(request, "drills_form.html", _form_context(session, actor, values, []))


@router.post("/drills/new")
def create(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    keys = ("unit_id", "kind", "hazard", "title", "starts_at", "ends_at", "place", "notes")
    values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in keys}
    values["partner_ids"] = [int(v) for v in form.getlist("partner_ids") if str(v).isdigit()]
    data = {k: (v or None) for k, v in values.items() if k != "partner_ids"}
    data["partner_ids"] = values["partner_ids"]
    try:
        a = service.create_activity(session, actor, ActivityIn(**data))
    except ValidationError as exc:
        errors = pagekit.field_errors(exc)
    except Invalid as exc:
        errors = exc.errors or [FieldError("form", exc.message)]
    else:
        return RedirectResponse(f"/drills/{a.id}?created=1", status_code=303)
    return render(request, "drills_form.html", _form_context(session, actor, values, errors), status_code=422)


# ---- one activity -----------------------------------------------------------------------


@router.get("/drills/coverage")
def coverage_page(request: Request, session: DB, actor: CurrentUser, unit_id: Id | None = None, page: PageNo = 1):
    cov = service.coverage_report(session, actor, unit_id)
    ctx: dict[str, Any] = {**labels(), "coverage": cov, "chart": _building_chart(cov, limit=200)}
    ctx["can_invite"] = actor.can(Perm.drills_attend) and actor.can(Perm.residents_read)
    ctx["can_export"] = ctx["can_invite"] and bool(actor.clear_fields())
    if ctx["can_invite"]:
        _, result = service.not_reached(session, actor, cov["unit"]["id"], page, 20)
        ctx["invite"] = result
        ctx["invite_rows"] = service.invite_rows(session, actor, [r for r, _ in result.items])
    return render(request, "drills_coverage.html", ctx)


@router.get("/drills/coverage/not-reached.xlsx")
def coverage_export(request: Request, session: DB, actor: CurrentUser, unit_id: Id | None = None):
    root, headers, rows = service.export_not_reached(session, actor, unit_id)
    return Response(
        to_xlsx(headers, rows, sheet="待邀请居民"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(f"{root.name}-待邀请居民.xlsx", "not-reached.xlsx")},
    )


def _activity_context(
    request: Request, session, actor: Principal, activity_id: Id, page: PageNo = 1, who: str | None = None
) -> dict[str, Any]:
    view = service.get_activity(session, actor, activity_id)
    result, total = service.attendance_list(session, actor, activity_id, page, 50)
    ctx: dict[str, Any] = {
        **labels(),
        "v": view,
        "a": view.activity,
        "attendance": result,
        "attendance_rows": [service.attendance_row(actor, att, r) for att, r in result.items],
        "signed_in": total,
        "flash": request.query_params,
    }
    if view.can_attend:
        ctx["code"] = service.signin_code(session, actor, activity_id, str(request.base_url))
    if view.can_attend and who and actor.can(Perm.residents_read):
        found = people.list_residents(session, actor, q=who, size=20)
        ctx["who"] = who
        ctx["candidates"] = [people.present(r, actor, frozenset()) for r in found.items]
    return ctx


@router.get("/drills/{activity_id}")
def activity_page(
    request: Request, activity_id: Id, session: DB, actor: CurrentUser, page: PageNo = 1, who: str | None = None
):
    return render(request, "drills_activity.html", _activity_context(request, session, actor, activity_id, page, who))


@router.post("/drills/{activity_id}/status")
def set_status(request: Request, activity_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    service.update_activity(session, actor, activity_id, ActivityPatch(status=str(form.get("status") or "")))
    return RedirectResponse(f"/drills/{activity_id}", status_code=303)


@router.post("/drills/{activity_id}/attendance")
def staff_sign_in(request: Request, activity_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    ids = [i for v in form.getlist("resident_id") if (i := form_id(v, "resident_id")) is not None]
    if not ids:
        raise Invalid(_("请选择居民"), [FieldError("resident_id", "required")])
    out = service.sign_in_by_staff(session, actor, activity_id, ids)
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
            out = service.import_attendance(session, actor, activity_id, data, file.filename)
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
    a = session.get(service.Activity, activity_id)
    ctx: dict[str, Any] = {**labels(), "a": a, "token": t, "values": {}, "done": None, "problem": None}
    if a is None:
        ctx["problem"] = _("活动不存在")
        return render(request, "drills_signin.html", ctx, status_code=404)
    try:
        service.check_token(a.id, t)
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
    a = session.get(service.Activity, activity_id)
    ctx: dict[str, Any] = {
        **labels(),
        "a": a,
        "token": values["token"],
        "values": values,
        "done": None,
        "problem": None,
    }
    ctx["as_resident"] = actor is not None and actor.resident_id is not None
    try:
        ctx["done"] = service.sign_in_self(
            session,
            actor,
            activity_id,
            SelfSignIn(**{k: v or None for k, v in values.items()} | {"token": values["token"]}),
        )
    except ValidationError as exc:
        ctx["errors"] = {e.field: e.message for e in pagekit.field_errors(exc)}
        ctx["problem"] = _("输入有误")
    except Invalid as exc:
        ctx["problem"] = exc.message
        ctx["errors"] = {e.field: e.message for e in exc.errors}
    if actor is None:
        ctx["csrf_token"] = str(form.get("csrf_token") or "")
    return render(request, "drills_signin.html", ctx, status_code=200 if ctx["done"] else 422)
