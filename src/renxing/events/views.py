"""What the closed loop's pages show, built from the queries: labels, the report form, list
rows, the report page with its actions, the overview's filters and the dashboard's charts.

Functions here read (through the services and queries) and shape; they never write and never
touch the request beyond its query string, so the routes in :mod:`renxing.events.pages` and
:mod:`renxing.events.work_pages` stay thin.
"""

import re
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.bounds import YEAR_MESSAGE, valid_year
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, Forbidden, Invalid
from renxing.events import access, catalog, lookups, merging, pagedata, publication, queries, stats
from renxing.events.policy import (
    ACTION_LABELS,
    CHANNEL_LABELS,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    OPEN_STATES,
    SEVERITY_LABELS,
    Action,
    Channel,
    State,
)
from renxing.grid.service import LEVEL_LABELS
from renxing.i18n import STORED_SEPARATOR, _, _l, _lp, current_lang, localized, stored
from renxing.listing import ListQuery, Page
from renxing.notify import service as notify
from renxing.web.params import form_id

# How a report is filed from the form: by whom, on which channel, under which title.
MODES = {
    "resident": (Channel.resident_app, _l("我要上报")),
    "patrol": (Channel.patrol, _l("巡查上报")),
    "phone": (Channel.phone, _l("代录电话上报")),
}
PLACE_MODES = ("household", "building", "point")
STEP_LABELS = {
    "accept": _l("受理时限"),
    "on_site": _l("到场时限"),
    "resolve": _l("办结时限"),
}
PHOTO_KIND_LABELS = {
    "report": _l("上报照片"),
    "check_in": _l("到场照片"),
    "resolve": _l("办结照片"),
}
ACTION_LABEL_CODES = {a.value: label for a, label in ACTION_LABELS.items()}
# The order action forms appear in: the usual next step first.
ACTION_ORDER = ["accept", "check_in", "resolve", "feedback", "assign", "transfer", "merge", "reject", "close", "reopen"]
BUTTON_LABELS = {
    "accept": _lp("button", "受理"),
    "check_in": _lp("button", "到场签到"),
    "resolve": _lp("button", "办结"),
    "feedback": _lp("button", "提交评价"),
    "assign": _lp("button", "指派"),
    "transfer": _lp("button", "转办"),
    "merge": _lp("button", "合并为重复件"),
    "reject": _lp("button", "退回"),
    "close": _lp("button", "关闭"),
    "reopen": _lp("button", "重新打开"),
}
DONE_MESSAGES = {
    "accept": _l("已受理"),
    "check_in": _l("已签到到场"),
    "resolve": _l("已办结，等待居民评价"),
    "feedback": _l("谢谢您的评价"),
    "assign": _l("已指派"),
    "transfer": _l("已转办"),
    "merge": _l("已合并"),
    "reject": _l("已退回"),
    "close": _l("已关闭"),
    "reopen": _l("已重新打开"),
    "public": _l("公开内容已保存"),
}
# The overview's sort choices: keys of queries.REPORTS.
SORTS = {
    "-created": _l("最新在前"),
    "created": _l("最早在前"),
    "due": _l("按时限"),
}
DEFAULT_SORT = queries.REPORTS.default_sort
INBOX_MESSAGES = 30  # the latest messages shown beside the inbox
OPEN_GROUP = "open"  # the overview's state filter: every state still being worked on


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def when(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time (as the queries return them) or a datetime, in local time."""
    if not value:
        return ""
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    return dt.astimezone(tz()).strftime(fmt)


def span(minutes: float | None) -> str:
    """A duration people read at a glance: 12 分钟, 3.5 小时, 2.1 天."""
    if minutes is None:
        return "—"
    m = abs(minutes)
    if m < 60:
        return _("{n} 分钟").format(n=f"{m:.0f}")
    if m < 48 * 60:
        return _("{n} 小时").format(n=f"{m / 60:.1f}")
    return _("{n} 天").format(n=f"{m / 1440:.1f}")


def due_in(value: str | None) -> str:
    """How long until a deadline, or how long past it."""
    if not value:
        return ""
    minutes = (datetime.fromisoformat(value) - utcnow()).total_seconds() / 60
    if minutes >= 0:
        return _("剩 {span}").format(span=span(minutes))
    return _("超时 {span}").format(span=span(minutes))


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def message_title(title: str, report_id: int | None) -> str:
    """A notification's title in the page's language, always naming its report."""
    text = stored(title)
    if report_id is not None and f"#{report_id}" not in text:
        text = f"{text} #{report_id}"
    return text


# Timeline steps whose note the platform writes (bilingual); other notes are people's own words.
SYSTEM_NOTES = frozenset(
    a.value for a in (Action.submit, Action.route, Action.escalate, Action.auto_close, Action.merged_in)
)


# An escalation reads "1栋 党小组长 钱组长（超时未受理 / not accepted in time）": the names stay,
# only the bracketed reason is in both languages.
BRACKETED = re.compile(r"^(?P<head>.*)（(?P<reason>[^（）]+?)）$", re.S)


def note_text(note: str | None) -> str:
    """A system step's note (a channel, a route, an escalation) in the reader's language."""
    if not note:
        return ""
    m = BRACKETED.match(note)
    if m and STORED_SEPARATOR in m["reason"]:
        return _("{head}（{reason}）").format(head=m["head"], reason=stored(m["reason"]))
    return stored(note)


def labels(session: Session) -> dict[str, Any]:
    """The labels the templates show states, categories and the rest with (states and categories
    are rows with both languages, the rest catalog labels)."""
    return {
        "STATES": lookups.state_labels(session),
        "CATEGORIES": pagedata.category_labels(session),
        "CHANNELS": {c.value: label for c, label in CHANNEL_LABELS.items()},
        "SEVERITIES": {s.value: label for s, label in SEVERITY_LABELS.items()},
        "ACTIONS": ACTION_LABEL_CODES,
        "STEP_LABELS": STEP_LABELS,
        "PHOTO_KINDS": PHOTO_KIND_LABELS,
        "BUTTONS": BUTTON_LABELS,
        "LEVEL_LABELS": {lv.value: label for lv, label in LEVEL_LABELS.items()},
        "SYSTEM_NOTES": SYSTEM_NOTES,
    }


def require_staff(actor: Principal) -> None:
    if not pagedata.is_event_staff(actor):
        raise Forbidden(_("只有网格工作人员可以查看"))


# Which form comes first for those who may record reports for others: office roles mostly take
# calls, grid workers and building leaders mostly patrol. A preference of the page, not a right.
CALLS_FIRST = frozenset({Role.community_staff, Role.street_admin})


def modes_for(actor: Principal) -> list[str]:
    if actor.can(Perm.reports_record):
        return ["phone", "patrol"] if actor.role in CALLS_FIRST else ["patrol", "phone"]
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


def list_rows(session: Session, actor: Principal, reports: list[Any]) -> list[dict[str, Any]]:
    places = pagedata.place_names(session, reports)
    rows = []
    for r in reports:
        kinds = access.kinds_of(session, actor, r)
        view = queries.present(r, actor, kinds)
        view["place"] = places.get(r.id, "")
        view["waiting_feedback"] = r.state == State.resolved.value and r.feedback_at is None
        view["escalated_to_me"] = actor.user_id is not None and r.escalated_to_user_id == actor.user_id
        rows.append(view)
    return rows


def _day(value: str | None, field: str, problems: list[FieldError]) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(FieldError(field, _("日期格式应为 年-月-日"), value=value))
        return None
    if not valid_year(day):  # year 1 or 9999 would overflow on the way to UTC
        problems.append(FieldError(field, YEAR_MESSAGE, value=value))
        return None
    return day


def overview_filters(params: dict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The query string of the overview as ``queries.list_reports`` filters (dates are local days,
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


def overview_params(query: QueryParams) -> dict[str, str]:
    """The overview's filters and sort as the page shows them; an unknown sort falls back to the default."""
    params = {k: query.get(k, "") for k in (*FILTER_KEYS, "sort")}
    params["sort"] = params["sort"] if params["sort"] in SORTS else DEFAULT_SORT
    return params


def overview_context(
    session: Session, actor: Principal, params: dict[str, str], page: int, size: int | None
) -> dict[str, Any]:
    """The overview: its filters, one page of rows (none when a filter is refused) and the export link."""
    filters, problems = overview_filters(params)
    result: Page[Any] | None = None
    rows: list[dict[str, Any]] = []
    if not problems:
        try:
            result = queries.list_reports(session, actor, ListQuery(page, size, params["sort"], filters=filters))
        except Invalid as exc:
            problems = exc.errors or [FieldError("filters", exc.message)]
        else:
            rows = list_rows(session, actor, result.items)
    query = urlencode(
        {k: params[k] for k in FILTER_KEYS if params[k]} | {"sort": params["sort"], "lang": current_lang()}
    )
    return {
        "result": result,
        "rows": rows,
        "params": params,
        "problems": problems,
        "units": pagedata.unit_options(session, actor),
        "handlers": pagedata.handler_options(session, actor),
        "categories": catalog.list_categories(session, include_inactive=True),
        "states": catalog.states(session),
        "SORTS": SORTS,
        "OPEN_GROUP": OPEN_GROUP,
        "export": f"/reports/export.xlsx?{query}",
        **labels(session),
    }


def inbox_context(session: Session, actor: Principal, query: ListQuery, *, unread: bool) -> dict[str, Any]:
    """The handler's open reports by deadline with their counts, and the latest messages."""
    result = queries.inbox(session, actor, query)
    counts = {**queries.inbox_counts(session, actor), "unread": notify.unread_count(session, actor)}
    return {
        "result": result,
        "rows": list_rows(session, actor, result.items),
        "counts": counts,
        "messages": notify.inbox(session, actor, ListQuery(size=INBOX_MESSAGES), unread=unread),
        "unread_only": unread,
        **labels(session),
    }


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
    session: Session, actor: Principal, report_id: int, query: QueryParams, *, failed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The report page: the report, its deadlines, the actions open to the user with what they need
    (people to assign, reports to merge into) and, for staff, what the public sees."""
    view = queries.report_view(session, actor, report_id)
    report = access.get_report(session, actor, report_id)
    actions = [a for a in ACTION_ORDER if a in view["actions"]]
    requires = {t.action: t.requires_note for t in catalog.transitions(session) if t.from_state == report.state}
    candidates: list[tuple[dict[str, Any], float | None]] = []
    if "merge" in actions:
        candidates = [(queries.present(r, actor), d) for r, d in merging.merge_candidates(session, actor, report_id)]
    people = pagedata.handler_choices(session, report) if {"assign", "transfer"} & set(actions) else []
    staff_view = bool(set(view["capacity"]) & {"staff", "handler", "system"})
    # The household is for those who work the report and for the reporter, never for followers.
    show_household = staff_view or "reporter" in view["capacity"]
    household = pagedata.household_label(session, report.household_id) if show_household else None
    done = query.get("done")
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
        "filed": query.get("filed") == "1",
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


DASH_LEVELS = ("community", "compound", "area", "building")
TOP_HANDLERS = 15  # a long tail of names helps no one on a chart


def _chart(stats: dict[str, Any], labels_of: dict[Any, tuple[str, str]] | None = None) -> dict[str, Any]:
    """A chart's series; ``labels_of``: rows named in both languages (categories), by key."""
    groups = stats["groups"]

    def label(g: dict[str, Any]) -> str:
        if labels_of and g["key"] in labels_of:
            return localized(*labels_of[g["key"]])
        return str(g["label"])

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


def _top_handlers(chart: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The busiest handlers only."""
    top = sorted(range(len(chart["count"])), key=lambda i: -chart["count"][i])[:TOP_HANDLERS]
    return {k: [v[i] for i in top] for k, v in chart.items()}


def dashboard_period(since: str | None, until: str | None, problems: list[FieldError]) -> tuple[Any, Any]:
    """The local days of the dashboard's form as a half-open range of moments (``until`` inclusive)."""
    day0, day1 = _day(since, "since", problems), _day(until, "until", problems)
    start = datetime.combine(day0, time.min, tzinfo=tz()) if day0 else None
    end = datetime.combine(day1 + timedelta(days=1), time.min, tzinfo=tz()) if day1 else None
    return start, end


def dashboard_context(
    session: Session, actor: Principal, params: dict[str, str], problems: list[FieldError]
) -> dict[str, Any]:
    """The dashboard: totals by state, charts by unit, category, handler and month, and the hot spots."""
    start, end = dashboard_period(params["since"], params["until"], problems)
    level = params["level"] if params["level"] in DASH_LEVELS else pagedata.default_level(session, actor)
    category = params["category"] or None
    common: dict[str, Any] = {"since": start, "until": end, "category": category}
    by_unit = stats.stats(session, actor, group_by="unit", level=level, **common)
    charts = {
        "unit": _chart(by_unit),
        "category": _chart(
            stats.stats(session, actor, group_by="category", **common), pagedata.category_labels(session)
        ),
        "handler": _top_handlers(_chart(stats.stats(session, actor, group_by="handler", **common))),
        "month": _chart(fill_months(stats.stats(session, actor, group_by="month", **common))),
    }
    total = by_unit["total"]
    return {
        "total": total,
        "by_state": [
            (code, pair, total["by_state"].get(code, 0)) for code, pair in lookups.state_labels(session).items()
        ],
        "charts": charts,
        "spots": stats.hotspots(session, actor, since=start, until=end, category=category),
        "layers": pagedata.map_layers(session, actor, levels=pagedata.OUTLINE_LEVELS),
        "params": {**params, "level": level},
        "problems": problems,
        "categories": catalog.list_categories(session, include_inactive=True),
        "levels": DASH_LEVELS,
        **labels(session),
    }
