"""HTML pages of the closed loop for risks: filing a report (resident, patrol, phone call), one's
own reports, the report page with its actions and feedback, the handler's inbox with the
notifications, the staff overview with its Excel export, and the dashboard.

Every form posts with the session's CSRF token and goes through the services; a refused
input comes back on the same page with the fields marked, and nothing is stored.
"""

import math
import re
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from renxing.auth.policy import Role
from renxing.auth.principal import Principal
from renxing.bounds import YEAR_MESSAGE, valid_year
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from renxing.events import catalog, idempotency, pagedata, publication, queries, service
from renxing.events.export import export_reports
from renxing.events.policy import (
    ACTION_LABELS,
    CHANNEL_LABELS,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    OPEN_STATES,
    PATROL_ROLES,
    SEVERITY_LABELS,
    Action,
    Channel,
    State,
)
from renxing.events.schemas import ReportIn
from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.grid.service import LEVEL_LABELS
from renxing.notify import service as notify
from renxing.listing import Page
from renxing.web import csrf, pagekit
from renxing.web.deps import DB, CurrentUser
from renxing.web.i18n import lang_of, register
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, PageSize, form_id
from renxing.web.templating import render, templates

router = APIRouter(include_in_schema=False)

# How a report is filed from the form: by whom, on which channel, under which title.
MODES = {
    "resident": (Channel.resident_app, ("我要上报", "Report a problem")),
    "patrol": (Channel.patrol, ("巡查上报", "Patrol report")),
    "phone": (Channel.phone, ("代录电话上报", "Record a phone call")),
}
PLACE_MODES = ("household", "building", "point")
STEP_LABELS = {
    "accept": ("受理时限", "Accept by"),
    "on_site": ("到场时限", "On site by"),
    "resolve": ("办结时限", "Resolve by"),
}
PHOTO_KIND_LABELS = {
    "report": ("上报照片", "reported"),
    "check_in": ("到场照片", "on site"),
    "resolve": ("办结照片", "resolved"),
}
ACTION_LABEL_CODES = {a.value: pair for a, pair in ACTION_LABELS.items()}
# The order action forms appear in: the usual next step first.
ACTION_ORDER = ["accept", "check_in", "resolve", "feedback", "assign", "transfer", "merge", "reject", "close", "reopen"]
BUTTON_LABELS = {
    "accept": ("受理", "Accept"),
    "check_in": ("到场签到", "Check in on site"),
    "resolve": ("办结", "Resolve"),
    "feedback": ("提交评价", "Send feedback"),
    "assign": ("指派", "Assign"),
    "transfer": ("转办", "Transfer"),
    "merge": ("合并为重复件", "Merge as duplicate"),
    "reject": ("退回", "Reject"),
    "close": ("关闭", "Close"),
    "reopen": ("重新打开", "Reopen"),
}
DONE_MESSAGES = {
    "accept": "已受理 / accepted",
    "check_in": "已签到到场 / checked in on site",
    "resolve": "已办结，等待居民评价 / resolved; waiting for the reporter's feedback",
    "feedback": "谢谢您的评价 / thank you for your feedback",
    "assign": "已指派 / assigned",
    "transfer": "已转办 / transferred",
    "merge": "已合并 / merged",
    "reject": "已退回 / rejected",
    "close": "已关闭 / closed",
    "reopen": "已重新打开 / reopened",
    "public": "公开内容已保存 / the public text is saved",
}
SORTS = {
    "-created": ("最新在前", "Newest first"),
    "created": ("最早在前", "Oldest first"),
    "due": ("按时限", "By deadline"),
}
OPEN_GROUP = "open"  # the overview's state filter: every state still being worked on


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def when(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time (as the queries return them) or a datetime, in local time."""
    if not value:
        return ""
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    return dt.astimezone(tz()).strftime(fmt)


def span(minutes: float | None, lang: str = "zh") -> str:
    """A duration people read at a glance: 12 分钟, 3.5 小时, 2.1 天."""
    if minutes is None:
        return "—"
    en = lang == "en"
    m = abs(minutes)
    if m < 60:
        return f"{m:.0f} min" if en else f"{m:.0f} 分钟"
    if m < 48 * 60:
        return f"{m / 60:.1f} h" if en else f"{m / 60:.1f} 小时"
    return f"{m / 1440:.1f} d" if en else f"{m / 1440:.1f} 天"


def due_in(value: str | None, lang: str = "zh") -> str:
    """How long until a deadline, or how long past it."""
    if not value:
        return ""
    minutes = (datetime.fromisoformat(value) - utcnow()).total_seconds() / 60
    if minutes >= 0:
        return f"{span(minutes, 'en')} left" if lang == "en" else f"剩 {span(minutes)}"
    return f"{span(minutes, 'en')} overdue" if lang == "en" else f"超时 {span(minutes)}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def message_title(title: str, report_id: Id | None, lang: str) -> str:
    """A notification's title in the page's language, always naming its report."""
    text = pagekit.half(title, lang)
    if report_id is not None and f"#{report_id}" not in text:
        text = f"{text} #{report_id}"
    return text


# Timeline steps whose note the platform writes (bilingual); other notes are people's own words.
SYSTEM_NOTES = frozenset(
    a.value for a in (Action.submit, Action.route, Action.escalate, Action.auto_close, Action.merged_in)
)
# The timeline's first step names the channel in Chinese only; the page shows it in its language.
CHANNEL_BY_ZH = {zh: (zh, en) for zh, en in CHANNEL_LABELS.values()}


# An escalation reads "1栋 党小组长 钱组长（超时未受理 / not accepted in time）": the names stay,
# only the bracketed reason is bilingual.
BRACKETED = re.compile(r"^(?P<head>.*)（(?P<zh>[^（）]+?) / (?P<en>[^（）]+)）$", re.S)


def note_text(note: str | None, lang: str) -> str:
    if not note:
        return ""
    if note in CHANNEL_BY_ZH:
        return CHANNEL_BY_ZH[note][1] if lang == "en" else note
    m = BRACKETED.match(note)
    if m:
        return f"{m['head']} ({m['en']})" if lang == "en" else f"{m['head']}（{m['zh']}）"
    return pagekit.half(note, lang)


templates.env.filters["when"] = when
templates.env.globals["note_text"] = note_text
templates.env.globals["message_title"] = message_title
templates.env.globals["span"] = span
templates.env.globals["due_in"] = due_in
templates.env.globals["percent"] = percent
templates.env.globals["is_event_staff"] = pagedata.is_event_staff


def labels(session: Session) -> dict[str, Any]:
    """The (zh, en) pairs the templates show states, categories and the rest with."""
    return {
        "STATES": service.state_labels(session),
        "CATEGORIES": pagedata.category_labels(session),
        "CHANNELS": {c.value: pair for c, pair in CHANNEL_LABELS.items()},
        "SEVERITIES": {s.value: pair for s, pair in SEVERITY_LABELS.items()},
        "ACTIONS": ACTION_LABEL_CODES,
        "STEP_LABELS": STEP_LABELS,
        "PHOTO_KINDS": PHOTO_KIND_LABELS,
        "BUTTONS": BUTTON_LABELS,
        "LEVEL_LABELS": {lv.value: pair for lv, pair in LEVEL_LABELS.items()},
        "SYSTEM_NOTES": SYSTEM_NOTES,
    }


def require_staff(actor: Principal) -> None:
    if not pagedata.is_event_staff(actor):
        raise Forbidden("只有网格工作人员可以查看 / only grid staff may open this page")


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


def modes_for(actor: Principal) -> list[str]:
    if actor.role in PATROL_ROLES:
        # Community staff mostly take calls; grid workers and building leaders mostly patrol.
        staff_first = actor.role in (Role.community_staff, Role.street_admin)
        return ["phone", "patrol"] if staff_first else ["patrol", "phone"]
    return ["resident"]


def form_context(
    session: Session,
    actor: Principal,
    mode: str,
    *,
    values: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    problem: str | None = None,
    photos_dropped: bool = False,
) -> dict[str, Any]:
    own = pagedata.own_place(session, actor)
    buildings = pagedata.building_choices(session, actor)
    defaults: dict[str, Any] = {
        "category": "",
        "description": "",
        "place": "building" if (own or buildings) else "point",
        "unit_id": own[0] if own else None,
        "lat": "",
        "long": "",
        "address": "",
        "severity": "",
        "reporter_name": "",
        "reporter_phone": "",
        "show_name_publicly": False,
        "public_consent": False,
        # One key per form shown: sending the same form twice files one report.
        "idempotency_key": secrets.token_urlsafe(18),
    }
    defaults.update(values or {})
    by_field: dict[str, str] = {}
    for e in errors or []:
        key = e.field
        if key in ("lat", "long", "household_id", "unit_id"):
            key = "place"
        message = f"#{e.row}: {e.message}" if key == "photos" and e.row else e.message
        by_field.setdefault(key, message)
    groups: dict[str, list[pagedata.BuildingChoice]] = {}
    for b in buildings:
        groups.setdefault(b.group, []).append(b)
    return {
        "mode": mode,
        "modes": modes_for(actor),
        "MODES": {k: v[1] for k, v in MODES.items()},
        "categories": catalog.list_categories(session),
        "severities": catalog.list_deadlines(session),
        "own": own,
        "building_groups": groups,
        "layers": pagedata.map_layers(session, actor),
        "values": defaults,
        "errors": by_field,
        "problem": problem,
        "photos_dropped": photos_dropped,
        "max_photos": MAX_PHOTOS,
        "max_mb": MAX_PHOTO_BYTES // (1024 * 1024),
        **labels(session),
    }


@router.get("/report/new")
def report_form(request: Request, session: DB, actor: CurrentUser, mode: str | None = None):
    modes = modes_for(actor)
    chosen = mode if mode in modes else modes[0]
    return render(request, "events_new.html", form_context(session, actor, chosen))


@router.post("/report/new")
def report_create(request: Request, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    modes = modes_for(actor)
    mode = str(form.get("mode") or "")
    mode = mode if mode in modes else modes[0]
    values: dict[str, Any] = {
        k: str(form.get(k) or "").strip()
        for k in (
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
    }
    values["show_name_publicly"] = form.get("show_name_publicly") == "on"
    values["public_consent"] = form.get("public_consent") == "on"
    values["unit_id"] = form_id(values["unit_id"], "unit_id")
    key = idempotency.read_key(request.headers.get(idempotency.HEADER), form.get(idempotency.FORM_FIELD))
    if key is not None:
        values["idempotency_key"] = key
    errors: list[FieldError] = []
    data: dict[str, Any] = {
        "category": values["category"],
        "description": values["description"],
        "show_name_publicly": values["show_name_publicly"],
        "public_consent": values["public_consent"],
        "address": values["address"] or None,
    }
    place = values["place"] if values["place"] in PLACE_MODES else "building"
    if place == "household":
        if actor.household_id is None:
            errors.append(FieldError("place", "您没有登记的住户 / you have no registered household"))
        data["household_id"] = actor.household_id
    elif place == "building":
        data["unit_id"] = values["unit_id"]
    else:
        lat, lon = _float(values["lat"]), _float(values["long"])
        if (lat is not None and math.isnan(lat)) or (lon is not None and math.isnan(lon)):
            errors.append(FieldError("lat", "坐标无效 / not a valid WGS-84 point"))
        else:
            data["lat"], data["long"] = lat, lon
    if mode == "phone":
        data["reporter_name"] = values["reporter_name"] or None
        data["reporter_phone"] = values["reporter_phone"] or None
    if mode != "resident" and values["severity"]:
        data["severity"] = values["severity"]
    photos = read_files(form, "photos", MAX_PHOTOS)
    problem: str | None = None
    if not errors:
        try:
            report_in = ReportIn(**data)
        except ValidationError as exc:
            errors = pagekit.field_errors(exc)
        else:
            client = f"user:{actor.user_id}"
            if key is not None:
                fp = idempotency.fingerprint("page", {**data, "mode": mode}, photos)
                prior = idempotency.begin(session, client, key, fp)
                if prior is not None:  # the same form sent again: the report it filed
                    return RedirectResponse(f"/reports/{prior.report_id}?filed=1", status_code=303)
            try:
                report = service.submit_report(session, actor, report_in, channel=MODES[mode][0], photos=photos)
            except Invalid as exc:
                if key is not None:
                    idempotency.release(session, client, key)
                errors, problem = exc.errors, None if exc.errors else exc.message
            else:
                if key is not None:
                    idempotency.finish(session, client, key, report.id)
                return RedirectResponse(f"/reports/{report.id}?filed=1", status_code=303)
    if not values["category"]:
        errors = [
            FieldError("category", "请选择类别 / choose a category") if e.field == "category" else e for e in errors
        ]
    ctx = form_context(
        session,
        actor,
        mode,
        values={**values, "place": place},
        errors=errors,
        problem=problem,
        photos_dropped=bool(photos),
    )
    return render(request, "events_new.html", ctx, status_code=422)


# ---- one's own reports --------------------------------------------------------------------


def list_rows(session: Session, actor: Principal, reports: list[Any]) -> list[dict[str, Any]]:
    places = pagedata.place_names(session, reports)
    rows = []
    for r in reports:
        kinds = service.kinds_of(session, actor, r)
        view = queries.present(r, actor, kinds)
        view["place"] = places.get(r.id, "")
        view["waiting_feedback"] = r.state == State.resolved.value and r.feedback_at is None
        view["escalated_to_me"] = actor.user_id is not None and r.escalated_to_user_id == actor.user_id
        rows.append(view)
    return rows


@router.get("/reports/mine")
def my_reports(request: Request, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None):
    result = pagedata.my_reports(session, actor, page=page, size=size)
    return render(
        request,
        "events_mine.html",
        {"result": result, "rows": list_rows(session, actor, result.items), **labels(session)},
    )


# ---- the overview and its export ----------------------------------------------------------


def _day(value: str | None, field: str, problems: list[FieldError]) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(FieldError(field, "日期格式应为 年-月-日 / date must be YYYY-MM-DD", value=value))
        return None
    if not valid_year(day):  # year 1 or 9999 would overflow on the way to UTC
        problems.append(FieldError(field, YEAR_MESSAGE, value=value))
        return None
    return day


def overview_filters(params: dict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The query string of the overview as ``queries.list_reports`` keywords (dates are local days,
    ``until`` inclusive)."""
    problems: list[FieldError] = []
    state = params.get("state") or ""
    since = _day(params.get("since"), "since", problems)
    until = _day(params.get("until"), "until", problems)
    overdue = {"1": True, "0": False}.get(params.get("overdue") or "")
    filters: dict[str, Any] = {
        "state": [s.value for s in OPEN_STATES] if state == OPEN_GROUP else ([state] if state else None),
        "category": params.get("category") or None,
        "unit_id": form_id(params.get("unit_id"), "unit_id"),
        "handler_user_id": form_id(params.get("handler"), "handler"),
        "since": datetime.combine(since, time.min, tzinfo=tz()) if since else None,
        "until": datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz()) if until else None,
        "overdue": overdue,
        "channel": params.get("channel") or None,
    }
    return filters, problems


FILTER_KEYS = ("state", "category", "unit_id", "handler", "since", "until", "overdue", "channel")


@router.get("/reports")
def overview(request: Request, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None):
    require_staff(actor)
    params = {k: request.query_params.get(k, "") for k in (*FILTER_KEYS, "sort")}
    sort = params["sort"] if params["sort"] in SORTS else "-created"
    filters, problems = overview_filters(params)
    result: Page[Any] | None = None
    rows: list[dict[str, Any]] = []
    if not problems:
        try:
            result = queries.list_reports(session, actor, sort=sort, page=page, size=size, **filters)
        except Invalid as exc:
            problems = exc.errors or [FieldError("filters", exc.message)]
        else:
            rows = list_rows(session, actor, result.items)
    query = urlencode({k: params[k] for k in FILTER_KEYS if params[k]} | {"sort": sort, "lang": lang_of(request)})
    return render(
        request,
        "events_overview.html",
        {
            "result": result,
            "rows": rows,
            "params": {**params, "sort": sort},
            "problems": problems,
            "units": pagedata.unit_options(session, actor),
            "handlers": pagedata.handler_options(session, actor),
            "categories": catalog.list_categories(session, include_inactive=True),
            "states": catalog.states(session),
            "SORTS": SORTS,
            "OPEN_GROUP": OPEN_GROUP,
            "export": f"/reports/export.xlsx?{query}",
            **labels(session),
        },
        status_code=422 if problems else 200,
    )


@router.get("/reports/export.xlsx")
def overview_export(request: Request, session: DB, actor: CurrentUser):
    require_staff(actor)
    params = {k: request.query_params.get(k, "") for k in (*FILTER_KEYS, "sort")}
    sort = params["sort"] if params["sort"] in SORTS else "-created"
    filters, problems = overview_filters(params)
    if problems:
        raise Invalid("筛选条件有误 / bad filters", problems)
    lang = lang_of(request)
    data, _ = export_reports(session, actor, lang=lang, sort=sort, **filters)
    stamp = datetime.now(tz()).strftime("%Y%m%d-%H%M")
    name = f"reports-{stamp}.xlsx" if lang == "en" else f"事件-{stamp}.xlsx"
    return Response(
        data,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(name, f"reports-{stamp}.xlsx")},
    )


# ---- the report page and its actions -------------------------------------------------------


def step_view(step: str, due: datetime, at: datetime | None, *, current: bool, overdue: bool) -> dict[str, Any]:
    """One deadline of a report: when it falls, when it was met, whether it was (or is) missed."""
    return {
        "step": step,
        "due": due.isoformat(),
        "at": at.isoformat() if at else None,
        "current": current and at is None,
        "late": (at is not None and at > due) or (at is None and current and overdue),
    }


def report_context(
    session: Session, request: Request, actor: Principal, report_id: Id, *, failed: dict[str, Any] | None = None
) -> dict[str, Any]:
    view = queries.report_view(session, actor, report_id)
    report = service.get_report(session, actor, report_id)
    actions = [a for a in ACTION_ORDER if a in view["actions"]]
    requires = {t.action: t.requires_note for t in catalog.transitions(session) if t.from_state == report.state}
    candidates: list[tuple[dict[str, Any], float | None]] = []
    if "merge" in actions:
        candidates = [(queries.present(r, actor), d) for r, d in service.merge_candidates(session, actor, report_id)]
    people = pagedata.handler_choices(session, report) if {"assign", "transfer"} & set(actions) else []
    staff_view = bool(set(view["capacity"]) & {"staff", "handler", "system"})
    # The household is for those who work the report and for the reporter, never for followers.
    show_household = staff_view or "reporter" in view["capacity"]
    household = pagedata.household_label(session, report.household_id) if show_household else None
    done = request.query_params.get("done")
    return {
        "r": view,
        "pub": publication.publicity(session, actor, report_id) if staff_view else None,
        "place": pagedata.place_names(session, [report]).get(report.id, ""),
        "household": household,
        "actions": actions,
        "requires": requires,
        "candidates": candidates,
        "people": people,
        "staff_view": staff_view,
        "is_reporter": "reporter" in view["capacity"],
        "filed": request.query_params.get("filed") == "1",
        "done": DONE_MESSAGES.get(done or ""),
        "failed": failed,
        "steps": [
            step_view(step, due, at, current=view["due"] == due.isoformat(), overdue=view["overdue"])
            for step, due, at in (
                ("accept", report.due_accept, report.accepted_at),
                ("on_site", report.due_on_site, report.on_site_at),
                ("resolve", report.due_resolve, report.resolved_at),
            )
        ],
        **labels(session),
    }


@router.get("/reports/{report_id}")
def report_page(request: Request, report_id: Id, session: DB, actor: CurrentUser):
    return render(request, "events_report.html", report_context(session, request, actor, report_id))


@router.post("/reports/{report_id}/public-text")
def report_public_text(request: Request, report_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    """Staff set the text the public reads (before the action route, which would take the path)."""
    csrf.check(request, str(form.get("csrf_token") or ""))
    text = str(form.get("text") or "")
    try:
        publication.set_public_text(session, actor, report_id, text)
    except Invalid as exc:
        failed = {"action": "public", "message": exc.message, "errors": {e.field: e.message for e in exc.errors}}
        ctx = report_context(session, request, actor, report_id, failed=failed)
        ctx["form"] = {"text": text}
        return render(request, "events_report.html", ctx, status_code=exc.status)
    return RedirectResponse(f"/reports/{report_id}?done=public#public", status_code=303)


@router.post("/reports/{report_id}/{action}")
def report_act(request: Request, report_id: Id, action: str, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, str(form.get("csrf_token") or ""))
    if action not in service.ACTIONS:
        raise NotFound(f"未知操作 / unknown action {action}")
    data: dict[str, Any] = {}
    for key in ("note", "reason", "to_label", "comment", "lat", "long"):
        text = str(form.get(key) or "").strip()
        if text:
            data[key] = text
    for key in ("to_user_id", "into_report_id", "rating"):
        text = str(form.get(key) or "").strip()
        if text:
            data[key] = text  # the schema turns digits into numbers and refuses the rest
    solved = form.get("solved")
    if solved in ("yes", "no"):
        data["solved"] = solved == "yes"
    files = read_files(form, "photo", 1)
    try:
        if len(files) > 1:
            raise Invalid("只能上传一张照片 / one photo only", [FieldError("photo", "one photo only")])
        service.perform(session, actor, report_id, action, data, photo=files[0] if files else None)
    except (Invalid, Conflict) as exc:
        # Nothing was stored: the services check everything before they change a row.
        failed = {"action": action, "message": exc.message, "errors": {e.field: e.message for e in exc.errors}}
        ctx = report_context(session, request, actor, report_id, failed=failed)
        ctx["form"] = data
        return render(request, "events_report.html", ctx, status_code=exc.status)
    anchor = "#feedback" if action == Action.feedback.value else "#timeline"
    return RedirectResponse(f"/reports/{report_id}?done={action}{anchor}", status_code=303)


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
    result = queries.inbox(session, actor, page=page, size=size)
    everything = queries.inbox(session, actor, size=get_settings().max_page_size).items
    now = utcnow()
    counts = {
        "total": result.total,
        "overdue": sum(1 for v in (queries.present(r, actor, now=now) for r in everything) if v["overdue"]),
        "escalated": sum(1 for r in everything if actor.user_id and r.escalated_to_user_id == actor.user_id),
        "unread": notify.unread_count(session, actor),
    }
    messages = notify.inbox(session, actor, unread=unread, size=30)
    return render(
        request,
        "events_inbox.html",
        {
            "result": result,
            "rows": list_rows(session, actor, result.items),
            "counts": counts,
            "messages": messages,
            "unread_only": unread,
            **labels(session),
        },
    )


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


# ---- the dashboard -------------------------------------------------------------------------

DASH_LEVELS = ("community", "compound", "area", "building")


def _chart(stats: dict[str, Any], lang: str, labels_of: dict[Any, tuple[str, str]] | None = None) -> dict[str, Any]:
    groups = stats["groups"]

    def label(g: dict[str, Any]) -> str:
        if labels_of and g["key"] in labels_of:
            pair = labels_of[g["key"]]
            return pair[1] if lang == "en" else pair[0]
        return pagekit.half(str(g["label"]), lang)

    return {
        "labels": [label(g) for g in groups],
        "count": [g["count"] for g in groups],
        "open": [g["open"] for g in groups],
        "overdue_rate": [g["overdue_rate"] for g in groups],
        "closed_loop_rate": [g["closed_loop_rate"] for g in groups],
        "satisfaction": [g["satisfaction"] for g in groups],
        "resolve_median": [g["minutes_to_resolve"]["median"] for g in groups],
    }


def fill_months(stats: dict[str, Any], limit: int = 120) -> dict[str, Any]:
    """Months without reports as empty groups, so the month chart's axis runs evenly."""
    keys = [g["key"] for g in stats["groups"] if g["key"]]
    if not keys:
        return stats
    (y0, m0), (y1, m1) = (map(int, min(keys).split("-")), map(int, max(keys).split("-")))
    have = {g["key"]: g for g in stats["groups"]}
    groups = []
    y, m = y0, m0
    while (y, m) <= (y1, m1) and len(groups) < limit:
        key = f"{y:04d}-{m:02d}"
        empty = {
            "key": key,
            "label": key,
            "count": 0,
            "open": 0,
            "overdue_rate": None,
            "closed_loop_rate": None,
            "satisfaction": None,
            "minutes_to_resolve": {"median": None},
        }
        groups.append(have.get(key, empty))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return {**stats, "groups": groups}


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
    require_staff(actor)
    problems: list[FieldError] = []
    day0, day1 = _day(since, "since", problems), _day(until, "until", problems)
    start = datetime.combine(day0, time.min, tzinfo=tz()) if day0 else None
    end = datetime.combine(day1 + timedelta(days=1), time.min, tzinfo=tz()) if day1 else None
    level = level if level in DASH_LEVELS else pagedata.default_level(session, actor)
    category = category or None
    lang = lang_of(request)
    common = {"since": start, "until": end, "category": category}
    by_unit = queries.stats(session, actor, group_by="unit", level=level, **common)
    by_category = queries.stats(session, actor, group_by="category", **common)
    by_handler = queries.stats(session, actor, group_by="handler", **common)
    by_month = fill_months(queries.stats(session, actor, group_by="month", **common))
    cats = pagedata.category_labels(session)
    handler_chart = _chart(by_handler, lang)
    # The busiest handlers only: a long tail of names helps no one on a chart.
    top = sorted(range(len(handler_chart["count"])), key=lambda i: -handler_chart["count"][i])[:15]
    handler_chart = {k: [v[i] for i in top] for k, v in handler_chart.items()}
    spots = queries.hotspots(session, actor, since=start, until=end, category=category)
    total = by_unit["total"]
    states = service.state_labels(session)
    return render(
        request,
        "events_dashboard.html",
        {
            "total": total,
            "by_state": [(code, pair, total["by_state"].get(code, 0)) for code, pair in states.items()],
            "charts": {
                "unit": _chart(by_unit, lang),
                "category": _chart(by_category, lang, cats),
                "handler": handler_chart,
                "month": _chart(by_month, lang),
            },
            "spots": spots,
            "layers": pagedata.map_layers(session, actor, levels=pagedata.OUTLINE_LEVELS),
            "params": {"since": since or "", "until": until or "", "category": category or "", "level": level},
            "problems": problems,
            "categories": catalog.list_categories(session, include_inactive=True),
            "levels": DASH_LEVELS,
            "big": screen == "big",
            **labels(session),
        },
        status_code=422 if problems else 200,
    )


register(
    {
        "事件": "Reports",
        "我要上报": "Report a problem",
        "巡查上报": "Patrol report",
        "代录电话上报": "Record a phone call",
        "上报": "Report",
        "我的上报": "My reports",
        "待办": "Inbox",
        "事件总览": "All reports",
        "数据看板": "Dashboard",
        "消息": "Messages",
        "未读消息": "Unread messages",
        "问题类别": "What kind of problem",
        "问题描述": "What is the problem",
        "请写明位置、情况和影响，例如：3单元楼道堆满纸箱，堵住安全出口。": (
            "Say where, what and how bad, e.g. cardboard boxes fill the stairwell of entrance 3 and block the exit."
        ),
        "地点": "Place",
        "我家里": "In my home",
        "楼栋": "Building",
        "选择楼栋": "Pick a building",
        "地图选点": "Point on the map",
        "使用我的位置": "Use my location",
        "正在定位…": "Locating…",
        "无法获取位置，请在地图上点选": "Could not get your position; tap the map instead",
        "无法获取位置，请手动填写": "Could not get your position; type it in",
        "在地图上点一下标出位置": "Tap the map to mark the place",
        "已选位置": "Chosen point",
        "补充地址": "Address details",
        "如：3单元楼道、小区东门": "e.g. stairwell of entrance 3, the east gate",
        "照片": "Photos",
        "最多 {n} 张，每张不超过 {mb} MB（JPEG、PNG、WebP），位置和相机信息会被去除": (
            "Up to {n}, at most {mb} MB each (JPEG, PNG, WebP); location and camera data are removed"
        ),
        "请重新选择照片": "Please choose the photos again",
        "公开显示我的姓名": "Show my name publicly",
        "愿意公开（隐去个人信息后）": "The public may see this report (without personal details)",
        "公开前由工作人员审核，电话、门牌和姓名不会公开": (
            "Staff review it first; phone numbers, flat numbers and names are never published"
        ),
        "公开": "Public",
        "公众可见：类别、状态、时间和楼栋位置": "The public sees: category, state, times and the building",
        "不公开": "Not public",
        "公众看到的描述": "The description the public reads",
        "公开内容": "Public text",
        "电话、证件号、房号和姓名会自动隐去；留空则不显示描述": (
            "Phone and ID numbers, flat numbers and names are removed automatically; empty shows no description"
        ),
        "保存公开内容": "Save the public text",
        "不勾选时，他人只看到“匿名”": "Unticked, others see “anonymous”",
        "紧急程度": "Severity",
        "按类别默认": "The category's default",
        "来电人姓名": "Caller's name",
        "来电人电话": "Caller's phone",
        "提交": "Submit",
        "请修正标出的内容": "Please correct the marked fields",
        "上报方式": "How",
        "已提交，我们会尽快处理。您的事件编号：": "Submitted; we will see to it soon. Your reference:",
        "可凭编号查询进度": "Use the reference to follow its progress",
        "状态": "State",
        "类别": "Category",
        "描述": "Description",
        "渠道": "Channel",
        "上报人": "Reporter",
        "电话": "Phone",
        "匿名": "anonymous",
        "承办人": "Handler",
        "未分派": "unassigned",
        "升级督办": "Escalated to",
        "上报时间": "Submitted",
        "时限": "Deadlines",
        "当前时限": "Due",
        "已完成": "done",
        "超时": "overdue",
        "分派说明": "Why it went here",
        "仅工作人员可见": "staff only",
        "办理记录": "Timeline",
        "操作": "Actions",
        "备注": "Note",
        "说明": "Note",
        "原因": "Reason",
        "必填": "required",
        "可选": "optional",
        "转给": "To",
        "选择人员": "Choose a person",
        "或单位名称": "or an organization",
        "如：某某物业公司": "e.g. the property company",
        "合并到": "Merge into",
        "附近同类未结事件": "Open reports of the same kind nearby",
        "没有附近的同类事件": "No open report of the same kind nearby",
        "或输入事件编号": "or enter a report number",
        "位置": "Position",
        "纬度": "Latitude",
        "经度": "Longitude",
        "获取当前位置": "Get my position",
        "现场照片": "Photo on site",
        "办结照片": "Photo of the result",
        "办结说明": "What was done",
        "退回原因": "Reason for rejection",
        "问题解决了吗？": "Was the problem solved?",
        "已解决": "Solved",
        "未解决": "Not solved",
        "评分": "Rating",
        "评价": "Comment",
        "您的评价": "Your feedback",
        "回访评价": "Feedback",
        "代录回访": "Record the caller's feedback",
        "未解决时事件会重新打开并升级督办": "If not solved, the report is reopened and escalated",
        "暂无可执行的操作": "Nothing for you to do now",
        "我的事件": "My reports",
        "还没有上报过": "You have not reported anything yet",
        "待评价": "awaiting your feedback",
        "我的待办": "My inbox",
        "按时限排序": "by deadline",
        "待办事件": "Open reports",
        "已超时": "Overdue",
        "升级给我": "Escalated to me",
        "没有待办事件": "Nothing to do",
        "全部标为已读": "Mark all read",
        "标为已读": "Mark read",
        "只看未读": "Unread only",
        "全部消息": "All messages",
        "没有消息": "No messages",
        "查看": "Open",
        "筛选": "Filter",
        "全部": "All",
        "处理中": "Open",
        "范围": "Area",
        "全部范围": "Whole scope",
        "全部类别": "All categories",
        "全部状态": "All states",
        "全部承办人": "All handlers",
        "全部渠道": "All channels",
        "是否超时": "Overdue",
        "是": "yes",
        "否": "no",
        "起始日期": "From",
        "截止日期": "To",
        "排序": "Sort",
        "导出 Excel": "Export to Excel",
        "没有符合条件的事件": "No reports match",
        "编号": "No.",
        "大屏": "Big screen",
        "退出大屏": "Leave big screen",
        "事件总数": "Reports",
        "受理用时": "Time to accept",
        "到场用时": "Time to be on site",
        "办结用时": "Time to resolve",
        "中位数": "median",
        "超时率": "Overdue rate",
        "闭环率": "Closed-loop rate",
        "已闭环（有评价并关闭） ÷ 全部": "closed with feedback ÷ all",
        "满意度": "Satisfaction",
        "条评价": "ratings",
        "各状态": "By state",
        "按网格": "By grid unit",
        "按类别": "By category",
        "按承办人": "By handler",
        "按月份": "By month",
        "热点地图": "Hot spots",
        "圆圈大小表示事件数量，红色为仍有未结事件": (
            "Circle size shows the number of reports; red ones still have open reports"
        ),
        "分组层级": "Group by level",
        "数量": "Count",
        "未结": "Open",
        "应用": "Apply",
        "暂无数据": "No data yet",
        "地图为示意，无底图": "Sketch map, no base layer",
        "公开编号": "Public reference",
        "户": "Household",
        "合并到 #{id}": "Merged into #{id}",
        "距离": "Distance",
        "办理": "Work on it",
        "选择文件": "Choose file",
        "签到位置距上报点": "Check-in distance from the report",
    }
)
