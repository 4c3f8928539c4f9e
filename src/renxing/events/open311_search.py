"""Reading Open311 service requests (GeoReport v2 ``GET requests``, ``GET requests/{id}``,
``GET tokens/{token}``): public reports only, searched and shown in the spec's words.

    search(session, within=…, service_code="fire_hazard,gas", status="open", start_date=…)
    present(session, reports)                  what anyone may read of them

Reading is public (no key): only reports whose reporter agreed (the ``public_consent``
attribute every public service asks, or a ``public_consent`` field) and whose category is
not private are found, and only what :func:`renxing.events.publication.public_views`
allows is shown — no reporter, no flat, no exact point, no text but the one staff published.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing import listing
from renxing.db import utcnow
from renxing.errors import Collector, FieldError, Invalid, NotFound
from renxing.events import publication
from renxing.events.models import EventCategory, Report, SeverityDeadline
from renxing.events.open311_params import is_id, parse_w3c, w3c
from renxing.events.open311_services import notice
from renxing.events.policy import OPEN_STATES, State
from renxing.grid.scope import subtree_clause
from renxing.i18n import _, localized
from renxing.listing import Filter, ListQuery, ListSpec

MAX_REQUESTS = 1000
MAX_DAYS = 90
# Open311 has two statuses: the open states are open; resolved, closed, rejected and merged are closed.
OPEN = "open"
CLOSED = "closed"
CLOSED_STATES = frozenset(State) - OPEN_STATES


def _visible(within: str | None):
    """Public reports only (the one rule of events.publication), within the jurisdiction."""
    stmt = select(Report).where(publication.public_clause())
    return stmt if within is None else stmt.where(subtree_clause(Report.path, within))


def get_request(session: Session, within: str | None, ref: str) -> Report:
    report = session.scalar(_visible(within).where(Report.id == int(ref))) if is_id(ref) else None
    if report is None:
        raise NotFound(
            _("请求 {ref} 不存在").format(ref=ref), [FieldError("service_request_id", "not found", None, ref)]
        )
    return report


def by_token(session: Session, within: str | None, token: str) -> Report:
    report = session.scalar(_visible(within).where(Report.token == token))
    if report is None:
        raise NotFound(_("令牌 {token} 不存在").format(token=token), [FieldError("token", "not found", None, token)])
    return report


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


# Service requests, newest first; Open311 has no pages: at most MAX_REQUESTS of MAX_DAYS.
REQUESTS = ListSpec(
    sorts={"requested": Report.created_at},
    default_sort="-requested",
    tiebreaker=Report.id,
    filters={
        "service_request_id": Filter(Report.id, "in"),
        "service_code": Filter(Report.category_code, "in"),
        "state": Filter(Report.state, "in"),
        "start_date": Filter(Report.created_at, ">="),
        "end_date": Filter(Report.created_at, "<="),
    },
)


def _ids(service_request_id: str | None) -> set[int]:
    ids = _csv(service_request_id)
    bad = [i for i in ids if not is_id(i)]
    if bad:
        msg = _("service_request_id 须为数字")
        raise Invalid(msg, [FieldError("service_request_id", msg, None, ",".join(bad))])
    return {int(i) for i in ids}


def _codes(session: Session, service_code: str | None, errors: Collector) -> list[str] | None:
    codes = _csv(service_code)
    if not codes:
        return None
    known = set(session.scalars(select(EventCategory.code).where(EventCategory.code.in_(codes))))
    for c in codes:
        if c not in known:
            errors.add("service_code", _("未知的服务：{service_code}").format(service_code=c), value=c)
    return codes


def _states(status: str | None, errors: Collector) -> set[str] | None:
    statuses = _csv(status)
    if not statuses:
        return None
    states: set[str] = set()
    for s in statuses:
        if s == OPEN:
            states |= {x.value for x in OPEN_STATES}
        elif s == CLOSED:
            states |= {x.value for x in CLOSED_STATES}
        else:
            errors.add("status", _("status 应为 open 或 closed"), value=s)
    return states


def _dates(start_date: str | None, end_date: str | None, errors: Collector) -> dict[str, datetime]:
    parsed = {}
    for param, value in (("start_date", start_date), ("end_date", end_date)):
        if value:
            try:
                parsed[param] = parse_w3c(value, param)
            except Invalid as exc:
                errors.errors.extend(exc.errors)
    return parsed


def _period(
    dates: dict[str, datetime], start_date: str | None, end_date: str | None, now: datetime
) -> tuple[datetime, datetime]:
    """The asked range, filled to MAX_DAYS from the side given (the last MAX_DAYS when none is)."""
    span = timedelta(days=MAX_DAYS)
    start, end = dates.get("start_date"), dates.get("end_date")
    if start is None:
        end = end or now
        start = end - span
    end = end or start + span
    if end < start:
        msg = _("end_date 早于 start_date")
        raise Invalid(msg, [FieldError("end_date", msg, None, end_date)])
    if end - start > span:
        msg = _("时间跨度不能超过{max_days}天").format(max_days=MAX_DAYS)
        raise Invalid(
            msg, [FieldError("start_date", msg, None, start_date), FieldError("end_date", msg, None, end_date)]
        )
    return start, end


def search(
    session: Session,
    *,
    within: str | None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> list[Report]:
    """GET requests: newest first, at most 1000 and at most 90 days (the last 90 by default).
    ``service_request_id`` (a comma list) overrides the other filters, as the spec says."""
    ids = _ids(service_request_id)
    if ids:
        filters: dict[str, Any] = {"service_request_id": ids}
    else:
        errors = Collector()
        codes, states = _codes(session, service_code, errors), _states(status, errors)
        dates = _dates(start_date, end_date, errors)
        errors.raise_if_any()
        start, end = _period(dates, start_date, end_date, now or utcnow())
        filters = {"service_code": codes, "state": states, "start_date": start, "end_date": end}
    stmt = listing.apply(_visible(within), REQUESTS, ListQuery(filters=filters))
    return list(session.scalars(stmt.limit(MAX_REQUESTS)))


def status_of(report: Report) -> str:
    return OPEN if State(report.state) in OPEN_STATES else CLOSED


def _status_notes(view: dict[str, Any]) -> str:
    """The state in the request's language; the notes people wrote (reasons, resolutions) stay inside."""
    state = localized(*view["state_label"])
    if view["state"] == State.merged.value and view["merged_into_id"]:
        return _("{state}：与 #{ref} 合并处理").format(state=state, ref=view["merged_into_id"])
    if view["open"] and view["escalated"]:
        return _("{state}：已升级督办").format(state=state)
    return state


def present(session: Session, reports: list[Report]) -> list[dict[str, Any]]:
    """GET requests and GET requests/{id}: the public view of each report (see
    :mod:`renxing.events.publication`) in Open311's words; reports that are not public are
    left out. The description is the text staff published, or empty until they do."""
    sevs = {s.severity: s for s in session.scalars(select(SeverityDeadline))}
    return [
        {
            "service_request_id": v["id"],
            "status": OPEN if v["open"] else CLOSED,
            "status_notes": _status_notes(v),
            "service_name": v["category_name"][0],
            "service_code": v["category"],
            "description": v["description"],
            "agency_responsible": v["handler"],
            "service_notice": notice(sevs.get(v["severity"])),
            "requested_datetime": w3c(v["created_at"]),
            "updated_datetime": w3c(v["updated_at"]),
            "expected_datetime": w3c(v["expected_at"]),
            "address": v["place"],
            "address_id": v["unit_code"],
            "lat": round(v["lat"], 6) if v["lat"] is not None else None,
            "long": round(v["lon"], 6) if v["lon"] is not None else None,
            "media_url": v["media_url"],
        }
        for v in publication.public_views(session, reports)
    ]
