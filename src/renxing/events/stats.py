"""The dashboard's numbers: counts and times per group, and reports binned on the map.

    stats(session, actor, group_by="unit" | "category" | "handler" | "month" | "channel" | "severity",
          since=…, until=…, unit_id=…, level="community", category=…)
    hotspots(session, actor, since=…, cell_m=100)   # binned points for a heat map

Both read the reports the user may see (:func:`renxing.events.queries.reports_stmt`) with the
overview's filters (:data:`renxing.events.queries.REPORTS`); the arithmetic is the pure
:mod:`renxing.events.metrics`.
"""

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, Invalid
from renxing.events import metrics
from renxing.events.models import EventCategory, Report
from renxing.events.policy import CHANNEL_LABELS, OPEN_STATES, Channel, State
from renxing.events.queries import REPORTS, reports_stmt
from renxing.geo.outlines import LEVEL_DEPTH
from renxing.grid.models import GridUnit
from renxing.grid.scope import path_ids
from renxing.i18n import _, _l
from renxing.listing import filter_clauses

GROUPS = ("unit", "category", "handler", "month", "channel", "severity")
UNASSIGNED = _l("未分派")
# What one report row holds for the metrics, after its grouping key.
METRIC_COLUMNS = (
    Report.state,
    Report.created_at,
    Report.accepted_at,
    Report.on_site_at,
    Report.resolved_at,
    Report.due_accept,
    Report.due_on_site,
    Report.due_resolve,
    Report.feedback_at,
    Report.feedback_rating,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _filtered(
    session: Session, actor: Principal, *, unit_id: int | None = None, **filters: Any
) -> Select[tuple[Report]]:
    """The reports the user may see, with the overview's filters by name."""
    return reports_stmt(session, actor, unit_id=unit_id).where(*filter_clauses(REPORTS, filters))


def _check_grouping(group_by: str, level: str) -> int | None:
    if group_by not in GROUPS:
        raise Invalid(_("分组无效"), [FieldError("group_by", f"one of {', '.join(GROUPS)}", value=group_by)])
    depth = LEVEL_DEPTH.get(level)
    if group_by == "unit" and depth is None:
        msg = "community, compound, area or building"
        raise Invalid(_("层级无效"), [FieldError("level", msg, value=level)])
    return depth


def _key_of(group_by: str, depth: int | None) -> Callable[[Any], Any]:
    """The group of a row (path, category, handler, created_at, channel, severity)."""
    tz = ZoneInfo(get_settings().timezone)

    def unit_key(path: str) -> int:
        ids = path_ids(path)
        return ids[depth] if depth is not None and len(ids) > depth else ids[-1]

    pick: dict[str, Callable[[Any], Any]] = {
        "category": lambda r: r.category_code,
        "handler": lambda r: r.handler_user_id,
        "month": lambda r: r.created.astimezone(tz).strftime("%Y-%m"),
        "channel": lambda r: r.channel,
        "severity": lambda r: r.severity,
        "unit": lambda r: unit_key(r.path),
    }
    return pick[group_by]


def _labels(session: Session, group_by: str, keys: list[Any], handlers: dict[Any, str]) -> dict[Any, str]:
    if group_by == "category":
        return {c.code: c.name_zh for c in session.scalars(select(EventCategory))}
    if group_by == "unit" and keys:
        units = session.execute(select(GridUnit.id, GridUnit.name).where(GridUnit.id.in_([k for k in keys if k])))
        return {uid: name for uid, name in units}
    if group_by == "channel":
        return {c.value: str(CHANNEL_LABELS[c]) for c in Channel}
    return handlers if group_by == "handler" else {}


def stats(
    session: Session,
    actor: Principal,
    *,
    group_by: str = "category",
    since: datetime | None = None,
    until: datetime | None = None,
    unit_id: int | None = None,
    level: str = "community",
    category: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Counts, times to accept / be on site / resolve (median, p90, minutes), overdue rate,
    closed-loop rate and satisfaction, overall and per group (unit at ``level``, category,
    handler, month in local time, channel, severity)."""
    now = now or utcnow()
    key_of = _key_of(group_by, _check_grouping(group_by, level))
    base = _filtered(session, actor, unit_id=unit_id, category=category, since=since, until=until).subquery()
    grouping = [base.c.path, base.c.category_code, base.c.handler_user_id, base.c.handler_label]
    grouping += [base.c.created_at.label("created"), base.c.channel, base.c.severity]
    rows = []
    handlers: dict[Any, str] = {}
    for r in session.execute(select(*grouping, *[base.c[c.key] for c in METRIC_COLUMNS])):
        handlers.setdefault(r.handler_user_id, r.handler_label or str(UNASSIGNED))
        rows.append(metrics.Row(key_of(r), *r[len(grouping) :]))
    groups = metrics.group(rows, now)
    labels = _labels(session, group_by, list(groups), handlers)
    return {
        "group_by": group_by,
        "since": _iso(since),
        "until": _iso(until),
        "total": metrics.summarize(rows, now),
        "groups": [
            {"key": k, "label": labels.get(k, str(k)), **v}
            for k, v in sorted(groups.items(), key=lambda kv: (kv[0] is None, str(kv[0])))
        ],
    }


def hotspots(
    session: Session,
    actor: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    category: str | None = None,
    open_only: bool = False,
    cell_m: float = 100.0,
) -> list[dict[str, Any]]:
    """Reports binned into cells of about ``cell_m`` metres, for a heat map. A report without
    its own point counts at its unit's point."""
    if not 10 <= cell_m <= 5000:
        raise Invalid(_("格网大小无效"), [FieldError("cell_m", "10..5000", value=cell_m)])
    states = [s.value for s in OPEN_STATES] if open_only else [s.value for s in State if s is not State.merged]
    base = _filtered(session, actor, category=category, since=since, until=until, state=states).subquery()
    stmt = select(
        func.coalesce(base.c.lon, GridUnit.lon),
        func.coalesce(base.c.lat, GridUnit.lat),
        base.c.state,
        base.c.category_code,
    ).join(GridUnit, GridUnit.id == base.c.unit_id)
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    dlat = cell_m / 111_320.0
    for lon, lat, state, cat in session.execute(stmt):
        if lon is None or lat is None:
            continue
        dlon = dlat / max(0.01, abs(math.cos(math.radians(lat))))
        c = cells.setdefault(
            (round(lat / dlat), round(lon / dlon)), {"lon": 0.0, "lat": 0.0, "count": 0, "open": 0, "categories": {}}
        )
        c["lon"] += lon
        c["lat"] += lat
        c["count"] += 1
        c["open"] += State(state) in OPEN_STATES
        c["categories"][cat] = c["categories"].get(cat, 0) + 1
    out = [
        {**c, "lon": round(c["lon"] / c["count"], 6), "lat": round(c["lat"] / c["count"], 6)} for c in cells.values()
    ]
    out.sort(key=lambda c: -c["count"])
    return out
