"""Reading the closed loop: one report with its timeline, inboxes, the overview, the dashboard.

    report_view(session, actor, report_id)   # dict: the report, timeline, photos, allowed actions
    inbox(session, actor)                    # Page[Report]: open reports handled or supervised, by deadline
    list_reports(session, actor, state=[…], category=…, unit_id=…, handler_user_id=…, since=…, until=…,
                 overdue=True, page=1, size=50)
    stats(session, actor, group_by="unit" | "category" | "handler" | "month", since=…, until=…)
    hotspots(session, actor, since=…, cell_m=100)   # binned points for a heat map
    present(report, actor, kinds)            # a list item (what the public reads: events.publication)

Every query sees only what the user may: staff roles their scope, handlers what they
handle or supervise, reporters what they follow. Reading a reporter's phone in the clear
is audited like any clear read of personal data.
"""

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Field, Role
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, Invalid, NotFound
from renxing.events import deadlines, media, metrics, service
from renxing.events.models import EventCategory, Report, ReportEvent, ReportPhoto
from renxing.events.policy import (
    ACTION_LABELS,
    CHANNEL_LABELS,
    OPEN_STATES,
    STAFF_ROLES,
    Action,
    ActorKind,
    Channel,
    State,
)
from renxing.geo.outlines import LEVEL_DEPTH
from renxing.grid import service as grid_service
from renxing.grid.models import GridUnit
from renxing.grid.scope import path_ids, subtree_clause
from renxing.listing import Page, paginate
from renxing.people.masking import mask_phone

ANONYMOUS = "匿名 / anonymous"
# Roles that see a reporter's phone in the clear (they call back); handlers always do.
PHONE_ROLES = frozenset({Role.community_staff, Role.grid_worker, Role.building_leader})


# ---- reading ----------------------------------------------------------------------------


def reporter_view(report: Report, actor: Principal, kinds: frozenset[ActorKind]) -> dict[str, Any]:
    """The reporter as this user may see them: in full to themselves; name to staff and
    handlers, phone in the clear to roles that call back; to anyone else the name only if
    the reporter allowed it, and never the phone."""
    if ActorKind.reporter in kinds or actor.is_system:
        return {"name": report.reporter_name, "phone": report.reporter_phone, "email": report.reporter_email}
    if kinds & {ActorKind.staff, ActorKind.handler}:
        clear = ActorKind.handler in kinds or actor.role in PHONE_ROLES
        return {
            "name": report.reporter_name,
            "phone": report.reporter_phone if clear else mask_phone(report.reporter_phone),
            "email": report.reporter_email if clear else None,
        }
    return {"name": report.reporter_name if report.show_name_publicly else ANONYMOUS, "phone": None, "email": None}


def _current_due(report: Report) -> datetime | None:
    s = State(report.state)
    if s not in OPEN_STATES:
        return None
    from_step = {"accept": report.due_accept, "on_site": report.due_on_site, "resolve": report.due_resolve}
    return from_step[deadlines.STEP_OF_STATE[s]]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def present(
    report: Report, actor: Principal, kinds: frozenset[ActorKind] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """A report for lists and inboxes (no timeline)."""
    now = now or utcnow()
    due = _current_due(report)
    kinds = kinds if kinds is not None else frozenset()
    return {
        "id": report.id,
        "token": report.token,
        "category": report.category_code,
        "description": report.description,
        "channel": report.channel,
        "state": report.state,
        "severity": report.severity,
        "unit_id": report.unit_id,
        "household_id": report.household_id,
        "address": report.address,
        "lon": report.lon,
        "lat": report.lat,
        "handler_user_id": report.handler_user_id,
        "handler": report.handler_label,
        "escalation_level": report.escalation_level,
        "escalated_to": report.escalated_to_label,
        "due": _iso(due),
        "overdue": due is not None and due < now,
        "due_accept": _iso(report.due_accept),
        "due_on_site": _iso(report.due_on_site),
        "due_resolve": _iso(report.due_resolve),
        "created_at": _iso(report.created_at),
        "accepted_at": _iso(report.accepted_at),
        "on_site_at": _iso(report.on_site_at),
        "resolved_at": _iso(report.resolved_at),
        "closed_at": _iso(report.closed_at),
        "merged_into_id": report.merged_into_id,
        "reporter": reporter_view(report, actor, kinds),
        "link": service.report_link(report.id),
    }


def _photos(session: Session, report_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "kind": p.kind,
            "content_type": p.content_type,
            "width": p.width,
            "height": p.height,
            "url": f"/api/v1/reports/{report_id}/photos/{p.id}",
        }
        for p in session.scalars(select(ReportPhoto).where(ReportPhoto.report_id == report_id).order_by(ReportPhoto.id))
    ]


def intake_answer(session: Session, actor: Principal, report: Report, *, with_photos: bool = False) -> dict[str, Any]:
    """What the filer of a new report needs: the report as in lists (id, token, state, handler,
    deadlines, link), whether their name is shown, their photos (when they sent some), the
    actions open to them now, and — only for those who may merge (staff and system) — the
    nearby open reports of the same category. The full view with its timeline is one GET
    away; building it here would double an intake's statements."""
    kinds = service.kinds_of(session, actor, report)
    out = present(report, actor, kinds)
    out["show_name_publicly"] = report.show_name_publicly
    out["public_consent"] = report.public_consent
    out["photos"] = _photos(session, report.id) if with_photos else []
    out["actions"] = service.allowed_actions(session, report, kinds)
    may_merge = actor.is_system or actor.role in STAFF_ROLES
    out["merge_candidates"] = (
        [{**present(r, actor), "distance_m": d} for r, d in service.merge_candidates(session, actor, report.id)]
        if may_merge
        else []
    )
    return out


def report_view(session: Session, actor: Principal, report_id: int) -> dict[str, Any]:
    """One report with its timeline and photos, and the actions this user may take now."""
    report, kinds = service.load_report(session, actor, report_id)
    states = service.state_labels(session)
    cat = service.category_of(session, report.category_code)
    out = present(report, actor, kinds)
    staff_like = bool(kinds & {ActorKind.staff, ActorKind.handler, ActorKind.system})
    out.update(
        {
            "category_label": {"zh": cat.name_zh, "en": cat.name_en} if cat else None,
            "state_label": dict(zip(("zh", "en"), states.get(report.state, (report.state, report.state)), strict=True)),
            "path": report.path,
            "place_source": report.place_source,
            "show_name_publicly": report.show_name_publicly,
            "public_consent": report.public_consent,
            "routing": report.routing if staff_like else None,
            "resolution_note": report.resolution_note,
            "reject_reason": report.reject_reason,
            "reopen_count": report.reopen_count,
            "feedback": {
                "solved": report.feedback_solved,
                "rating": report.feedback_rating,
                "comment": report.feedback_comment,
                "at": _iso(report.feedback_at),
            },
            "close_reason": report.close_reason,
            "attributes": report.attributes,
            "external_ref": report.external_ref if staff_like else None,
            "capacity": sorted(k.value for k in kinds),
            "actions": service.allowed_actions(session, report, kinds),
            "photos": _photos(session, report.id),
            "timeline": [
                {
                    "at": _iso(e.at),
                    "action": e.action,
                    "action_label": dict(
                        zip(("zh", "en"), ACTION_LABELS.get(Action(e.action), (e.action, e.action)), strict=True)
                    ),
                    "actor": e.actor_label,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "note": e.note,
                    "lon": e.lon,
                    "lat": e.lat,
                    "escalation_level": e.escalation_level,
                }
                for e in timeline(session, report.id)
            ],
        }
    )
    revealed = report.reporter_phone and out["reporter"]["phone"] == report.reporter_phone
    if revealed and staff_like and ActorKind.reporter not in kinds and not actor.is_system:
        audit.record(session, actor, "read_personal", "report", report.id, summary=Field.phone.value)
    return out


def timeline(session: Session, report_id: int) -> list[ReportEvent]:
    """The steps of a report, oldest first (the caller has checked it may see the report)."""
    return list(session.scalars(select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)))


def photo_file(session: Session, actor: Principal, report_id: int, photo_id: int) -> tuple[ReportPhoto, Any]:
    report, _ = service.load_report(session, actor, report_id)
    photo = session.get(ReportPhoto, photo_id)
    if photo is None or photo.report_id != report.id:
        raise NotFound(f"照片不存在 / photo {photo_id} not found")
    try:
        return photo, media.open_path(photo.path)
    except FileNotFoundError as exc:
        raise NotFound(f"照片文件缺失 / photo {photo_id} file missing") from exc


def inbox(
    session: Session, actor: Principal, *, escalated: bool = True, page: int = 1, size: int | None = None
) -> Page[Report]:
    """The open reports this user handles (and, with ``escalated``, supervises), by deadline."""
    uid = actor.user_id if actor.user_id is not None else -1
    mine = Report.handler_user_id == uid
    if escalated:
        mine = or_(mine, Report.escalated_to_user_id == uid)
    stmt = (
        select(Report)
        .where(mine, Report.state.in_([s.value for s in OPEN_STATES]))
        .order_by(Report.next_due_at.is_(None), Report.next_due_at, Report.id)
    )
    return paginate(session, stmt, page, size)


def _filtered(
    actor: Principal,
    *,
    state: list[str] | None = None,
    category: str | None = None,
    unit_path: str | None = None,
    handler_user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    overdue: bool | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> Select[tuple[Report]]:
    now = now or utcnow()
    stmt = select(Report).where(service.visible_clause(actor))
    if state:
        stmt = stmt.where(Report.state.in_(state))
    if category:
        stmt = stmt.where(Report.category_code == category)
    if unit_path:
        stmt = stmt.where(subtree_clause(Report.path, unit_path))
    if handler_user_id is not None:
        stmt = stmt.where(Report.handler_user_id == handler_user_id)
    if since is not None:
        stmt = stmt.where(Report.created_at >= since)
    if until is not None:
        stmt = stmt.where(Report.created_at < until)
    if channel:
        stmt = stmt.where(Report.channel == channel)
    if overdue is not None:
        open_states = [s.value for s in OPEN_STATES]
        late = or_(
            and_(Report.state.in_(["submitted", "assigned", "transferred", "reopened"]), Report.due_accept < now),
            and_(Report.state == State.accepted.value, Report.due_on_site < now),
            and_(Report.state == State.on_site.value, Report.due_resolve < now),
        )
        is_late = and_(Report.state.in_(open_states), late)
        stmt = stmt.where(is_late if overdue else ~is_late)
    return stmt


def list_reports(
    session: Session,
    actor: Principal,
    *,
    state: list[str] | None = None,
    category: str | None = None,
    unit_id: int | None = None,
    handler_user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    overdue: bool | None = None,
    channel: str | None = None,
    sort: str = "-created",
    page: int = 1,
    size: int | None = None,
) -> Page[Report]:
    """The overview: every report this user may see, filtered; newest first by default."""
    sorts = {
        "-created": (Report.created_at.desc(), Report.id.desc()),
        "created": (Report.created_at, Report.id),
        "due": (Report.next_due_at.is_(None), Report.next_due_at, Report.id),
    }
    if sort not in sorts:
        raise Invalid("排序无效 / bad sort", [FieldError("sort", f"one of {', '.join(sorts)}", value=sort)])
    unit_path = grid_service.get_unit(session, actor, unit_id).path if unit_id is not None else None
    stmt = _filtered(
        actor,
        state=state,
        category=category,
        unit_path=unit_path,
        handler_user_id=handler_user_id,
        since=since,
        until=until,
        overdue=overdue,
        channel=channel,
    )
    return paginate(session, stmt.order_by(*sorts[sort]), page, size)


GROUPS = ("unit", "category", "handler", "month", "channel", "severity")


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
    if group_by not in GROUPS:
        raise Invalid(
            "分组无效 / bad grouping", [FieldError("group_by", f"one of {', '.join(GROUPS)}", value=group_by)]
        )
    depth = LEVEL_DEPTH.get(level)
    if group_by == "unit" and depth is None:
        msg = "community, compound, area or building"
        raise Invalid("层级无效 / bad level", [FieldError("level", msg, value=level)])
    unit_path = grid_service.get_unit(session, actor, unit_id).path if unit_id is not None else None
    base = _filtered(actor, category=category, unit_path=unit_path, since=since, until=until).subquery()
    cols = [
        base.c.path,
        base.c.category_code,
        base.c.handler_user_id,
        base.c.handler_label,
        base.c.channel,
        base.c.severity,
        base.c.state,
        base.c.created_at,
        base.c.accepted_at,
        base.c.on_site_at,
        base.c.resolved_at,
        base.c.due_accept,
        base.c.due_on_site,
        base.c.due_resolve,
        base.c.feedback_at,
        base.c.feedback_rating,
    ]
    tz = ZoneInfo(get_settings().timezone)
    rows = []
    labels: dict[Any, str] = {}
    for r in session.execute(select(*cols)):
        (path, cat, hid, hlabel, chan, sev, state, created, acc, ons, res, da, do, dr, fat, rating) = r
        if group_by == "category":
            key = cat
        elif group_by == "handler":
            key = hid
            labels.setdefault(hid, hlabel or "未分派 / unassigned")
        elif group_by == "month":
            key = created.astimezone(tz).strftime("%Y-%m")
        elif group_by == "channel":
            key = chan
        elif group_by == "severity":
            key = sev
        else:
            ids = path_ids(path)
            key = ids[depth] if depth is not None and len(ids) > depth else ids[-1]
        rows.append(metrics.Row(key, state, created, acc, ons, res, da, do, dr, fat, rating))
    groups = metrics.group(rows, now)
    if group_by == "category":
        labels = {c.code: c.name_zh for c in session.scalars(select(EventCategory))}
    elif group_by == "unit" and groups:
        labels = {
            u.id: u.name for u in session.scalars(select(GridUnit).where(GridUnit.id.in_([k for k in groups if k])))
        }
    elif group_by == "channel":
        labels = {c.value: CHANNEL_LABELS[c][0] for c in Channel}
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
        raise Invalid("格网大小无效 / bad cell size", [FieldError("cell_m", "10..5000", value=cell_m)])
    states = [s.value for s in OPEN_STATES] if open_only else [s.value for s in State if s is not State.merged]
    base = _filtered(actor, category=category, since=since, until=until, state=states).subquery()
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
        key = (round(lat / dlat), round(lon / dlon))
        c = cells.setdefault(key, {"lon": 0.0, "lat": 0.0, "count": 0, "open": 0, "categories": {}})
        c["lon"] += lon
        c["lat"] += lat
        c["count"] += 1
        c["open"] += State(state) in OPEN_STATES
        c["categories"][cat] = c["categories"].get(cat, 0) + 1
    out = []
    for c in cells.values():
        n = c["count"]
        out.append({**c, "lon": round(c["lon"] / n, 6), "lat": round(c["lat"] / n, 6)})
    out.sort(key=lambda c: -c["count"])
    return out
