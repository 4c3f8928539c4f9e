"""What the drills pages show: the context of each template, built from the use cases."""

import calendar
import re
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.drills import activities, attendance, invitations, reach, signin
from renxing.drills.models import HAZARD_LABELS, KIND_LABELS, METHOD_LABELS, STATUS_LABELS, ActivityKind, Hazard
from renxing.errors import FieldError
from renxing.grid.scope import communities_in_scope, in_scope
from renxing.grid.service import LEVEL_LABELS
from renxing.i18n import _l
from renxing.listing import ListQuery
from renxing.partners import service as partners
from renxing.partners.models import KIND_LABELS as ORG_KIND_LABELS
from renxing.people import service as people
from renxing.people.vulnerability import TAG_LABELS

STANDING_LABELS = {
    "ok": _l("达标"),
    "behind": _l("未达标"),
    "lagging": _l("明显滞后"),
    "empty": _l("无居民"),
}
WEEKDAYS = (_l("一"), _l("二"), _l("三"), _l("四"), _l("五"), _l("六"), _l("日"))
ATTENDANCE_PAGE = 50
INVITE_PAGE = 20


def labels() -> dict[str, Any]:
    tz = activities.tz
    return {
        "KIND_LABELS": KIND_LABELS,
        "HAZARD_LABELS": HAZARD_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "METHOD_LABELS": METHOD_LABELS,
        "STANDING_LABELS": STANDING_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "TAG_LABELS": TAG_LABELS,
        "ORG_KIND_LABELS": ORG_KIND_LABELS,
        "local": lambda dt, fmt="%Y-%m-%d %H:%M": dt.astimezone(tz()).strftime(fmt) if dt else "",
        "when_iso": lambda iso: datetime.fromisoformat(iso).astimezone(tz()).strftime("%Y-%m-%d %H:%M"),
        "percent": lambda v: "—" if v is None else f"{v * 100:.0f}%",
    }


def parse_month(value: str | None) -> tuple[int, int]:
    """The calendar's ?month=YYYY-MM; an unreadable one shows the current month, as a calendar would."""
    found = re.fullmatch(r"(\d{4})-(\d{1,2})", value or "")
    if found and 2000 <= int(found[1]) <= 2100 and 1 <= int(found[2]) <= 12:
        return int(found[1]), int(found[2])
    today = utcnow().astimezone(activities.tz()).date()
    return today.year, today.month


def building_chart(cov: dict[str, Any], limit: int = 60) -> dict[str, Any]:
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


# ---- the calendar -----------------------------------------------------------------------


def _month_grid(session: Session, actor: Principal, y: int, m: int) -> dict[str, Any]:
    items = activities.month_activities(session, actor, y, m)
    by_day: dict[int, list[Any]] = {}
    for a in items:
        by_day.setdefault(a.starts_at.astimezone(activities.tz()).day, []).append(a)
    return {
        "weeks": calendar.Calendar().monthdayscalendar(y, m),
        "by_day": by_day,
        "counts": activities.attendance_counts(session, [a.id for a in items]),
        "today": utcnow().astimezone(activities.tz()).date(),
    }


def _list_view(session: Session, actor: Principal, query: ListQuery) -> dict[str, Any]:
    result = activities.list_activities(session, actor, query)
    return {"page": result, "counts": activities.attendance_counts(session, [a.id for a in result.items])}


def calendar_context(
    session: Session, actor: Principal, month: str | None, view: str, query: ListQuery
) -> dict[str, Any]:
    """The month grid (or one page of the list, newest first) with the coverage chart under it."""
    actor.require(Perm.drills_read)
    y, m = parse_month(month)
    prev_m = date(y, m, 1) - timedelta(days=1)
    next_m = date(y, m, 28) + timedelta(days=7)
    ctx: dict[str, Any] = {
        **labels(),
        "view": view,
        "year": y,
        "month": m,
        "params": {**query.filters, "q": query.q},
        "prev": f"{prev_m.year}-{prev_m.month:02d}",
        "next": f"{next_m.year}-{next_m.month:02d}",
        "weekdays": WEEKDAYS,
        "can_write": actor.can(Perm.drills_write),
    }
    ctx.update(_list_view(session, actor, query) if view == "list" else _month_grid(session, actor, y, m))
    cov = reach.coverage_report(session, actor)
    ctx["coverage"], ctx["chart"] = cov, building_chart(cov)
    return ctx


# ---- planning ---------------------------------------------------------------------------


def new_activity_values() -> dict[str, Any]:
    """A new activity's form: a fire evacuation drill at nine, a week ahead, for two hours."""
    start = (utcnow() + timedelta(days=7)).astimezone(activities.tz())
    start = start.replace(hour=9, minute=0, second=0, microsecond=0)
    return {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "kind": "evacuation_drill",
        "hazard": "fire",
    }


def form_context(
    session: Session, actor: Principal, values: dict[str, Any], errors: list[FieldError]
) -> dict[str, Any]:
    """The planning form: the communities the actor may plan for, the chosen one's partners."""
    communities = sorted((c for c in communities_in_scope(session, actor) if in_scope(actor, c)), key=lambda c: c.path)
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


# ---- one activity and coverage ----------------------------------------------------------


def activity_context(
    session: Session,
    actor: Principal,
    activity_id: int,
    *,
    base_url: str,
    flash: Any,
    page: int = 1,
    who: str | None = None,
) -> dict[str, Any]:
    """An activity with its sign-in code (for those who record attendance), the residents signed
    in that the actor may see, and the people found by ``who`` to sign in by hand."""
    view = activities.get_activity(session, actor, activity_id)
    result, total = attendance.attendance_list(session, actor, activity_id, ListQuery(page=page, size=ATTENDANCE_PAGE))
    ctx: dict[str, Any] = {
        **labels(),
        "v": view,
        "a": view.activity,
        "attendance": result,
        "attendance_rows": [attendance.attendance_row(actor, att, r) for att, r in result.items],
        "signed_in": total,
        "flash": flash,
    }
    if view.can_attend:
        ctx["code"] = signin.signin_code(session, actor, activity_id, base_url)
    if view.can_attend and who and actor.can(Perm.residents_read):
        found = people.list_residents(session, actor, q=who, size=20)
        ctx["who"] = who
        ctx["candidates"] = [people.present(r, actor, frozenset()) for r in found.items]
    return ctx


def coverage_context(session: Session, actor: Principal, unit_id: int | None, page: int) -> dict[str, Any]:
    """Coverage of a unit with its chart; for those who invite people, a page of the residents
    not reached (and the export for those who may read their phones)."""
    cov = reach.coverage_report(session, actor, unit_id)
    ctx: dict[str, Any] = {**labels(), "coverage": cov, "chart": building_chart(cov, limit=200)}
    ctx["can_invite"] = actor.can(Perm.drills_attend) and actor.can(Perm.residents_read)
    ctx["can_export"] = ctx["can_invite"] and bool(actor.clear_fields())
    if ctx["can_invite"]:
        query = ListQuery(page=page, size=INVITE_PAGE)
        _root, result = invitations.not_reached(session, actor, cov["unit"]["id"], query)
        ctx["invite"] = result
        ctx["invite_rows"] = invitations.invite_rows(session, actor, [r for r, _urgency in result.items])
    return ctx
