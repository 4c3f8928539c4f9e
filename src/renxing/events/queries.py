"""Reading the closed loop: one report with its timeline, the overview and the inbox.

    report_view(session, actor, report_id)   # dict: the report, timeline, photos, allowed actions
    inbox(session, actor, ListQuery(page=2))  # Page[Report]: open reports handled or supervised, by deadline
    list_reports(session, actor, ListQuery(sort="due", filters={"state": ["submitted"], "unit_id": 4,
                 "overdue": True}))       # the overview (REPORTS, plus the NARROWING filters)
    present(report, actor, kinds)            # a list item (what the public reads: events.publication)

The dashboard's numbers are :mod:`renxing.events.stats`. Every query sees only what the user
may: staff roles their scope, handlers what they handle or supervise, reporters what they
follow. Reading a reporter's phone in the clear is audited like any clear read of personal data.
"""

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from renxing import listing
from renxing.auth import audit
from renxing.auth.policy import Field, Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import NotFound
from renxing.events import access, deadlines, lookups, media, merging
from renxing.events.models import Report, ReportEvent, ReportPhoto
from renxing.events.policy import ACTION_LABELS, OPEN_STATES, Action, ActorKind, State
from renxing.grid.scope import subtree_clause, unit_in_scope
from renxing.i18n import _, _l, in_each_lang
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.people.masking import mask_phone

ANONYMOUS = _l("匿名")


# ---- reading ----------------------------------------------------------------------------


def reporter_view(report: Report, actor: Principal, kinds: frozenset[ActorKind]) -> dict[str, Any]:
    """The reporter as this user may see them: in full to themselves; name to staff and
    handlers, phone in the clear to roles that call back; to anyone else the name only if
    the reporter allowed it, and never the phone."""
    if ActorKind.reporter in kinds or actor.is_system:
        return {"name": report.reporter_name, "phone": report.reporter_phone, "email": report.reporter_email}
    if kinds & {ActorKind.staff, ActorKind.handler}:
        clear = ActorKind.handler in kinds or actor.can(Perm.reporter_contacts)
        return {
            "name": report.reporter_name,
            "phone": report.reporter_phone if clear else mask_phone(report.reporter_phone),
            "email": report.reporter_email if clear else None,
        }
    return {"name": report.reporter_name if report.show_name_publicly else str(ANONYMOUS), "phone": None, "email": None}


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
        "link": lookups.report_link(report.id),
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
    kinds = access.kinds_of(session, actor, report)
    out = present(report, actor, kinds)
    out["show_name_publicly"] = report.show_name_publicly
    out["public_consent"] = report.public_consent
    out["photos"] = _photos(session, report.id) if with_photos else []
    out["actions"] = access.allowed_actions(session, report, kinds)
    may_merge = actor.can(Perm.reports_work)
    out["merge_candidates"] = (
        [{**present(r, actor), "distance_m": d} for r, d in merging.merge_candidates(session, actor, report.id)]
        if may_merge
        else []
    )
    return out


def report_view(session: Session, actor: Principal, report_id: int) -> dict[str, Any]:
    """One report with its timeline and photos, and the actions this user may take now."""
    report, kinds = access.load_report(session, actor, report_id)
    states = lookups.state_labels(session)
    cat = lookups.category_of(session, report.category_code)
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
            "actions": access.allowed_actions(session, report, kinds),
            "photos": _photos(session, report.id),
            "timeline": [
                {
                    "at": _iso(e.at),
                    "action": e.action,
                    "action_label": in_each_lang(ACTION_LABELS.get(Action(e.action), e.action)),
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
    report, _kinds = access.load_report(session, actor, report_id)
    photo = session.get(ReportPhoto, photo_id)
    if photo is None or photo.report_id != report.id:
        raise NotFound(_("照片 {photo_id} 不存在").format(photo_id=photo_id))
    try:
        return photo, media.open_path(photo.path)
    except FileNotFoundError as exc:
        raise NotFound(_("照片文件 {photo_id} 缺失").format(photo_id=photo_id)) from exc


# Reports the user may see, by deadline or by date; unit and overdue are narrowed by hand
# (``reports_stmt``) because they are not one comparison on one column.
REPORTS = ListSpec(
    sorts={"created": Report.created_at, "due": (Report.next_due_at.is_(None), Report.next_due_at)},
    default_sort="-created",
    tiebreaker=Report.id,
    search=(Report.description, Report.address),
    filters={
        "state": Filter(Report.state, "in"),
        "category": Filter(Report.category_code),
        "handler_user_id": Filter(Report.handler_user_id),
        "since": Filter(Report.created_at, ">="),
        "until": Filter(Report.created_at, "<"),
        "channel": Filter(Report.channel),
    },
)
# The open reports a user handles or supervises, the next deadline first.
INBOX = ListSpec(
    sorts={"due": (Report.next_due_at.is_(None), Report.next_due_at), "created": Report.created_at},
    default_sort="due",
    tiebreaker=Report.id,
    search=REPORTS.search,
)
NARROWING = ("unit_id", "overdue")  # filters of the overview that ``reports_stmt`` applies


STEP_COLUMNS = {"accept": Report.due_accept, "on_site": Report.due_on_site, "resolve": Report.due_resolve}


def late_clause(now: datetime):
    """Open reports past the deadline of the step they wait for (the SQL twin of ``present``'s overdue)."""
    waits = {step: [s.value for s, st in deadlines.STEP_OF_STATE.items() if st == step] for step in STEP_COLUMNS}
    return or_(*[and_(Report.state.in_(waits[step]), column < now) for step, column in STEP_COLUMNS.items()])


def reports_stmt(
    session: Session,
    actor: Principal,
    *,
    unit_id: int | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> Select[tuple[Report]]:
    """The reports the user may see, inside ``unit_id`` (403/404 outside the scope), late or not."""
    stmt = select(Report).where(access.visible_clause(actor))
    if unit_id is not None:
        stmt = stmt.where(subtree_clause(Report.path, unit_in_scope(session, actor, unit_id).path))
    if overdue is not None:
        late = late_clause(now or utcnow())
        stmt = stmt.where(late if overdue else ~late)
    return stmt


def _overview(
    session: Session, actor: Principal, query: ListQuery, now: datetime | None
) -> tuple[Select[tuple[Report]], ListQuery]:
    filters = dict(query.filters)
    narrowing = {name: filters.pop(name, None) for name in NARROWING}
    return reports_stmt(session, actor, **narrowing, now=now), replace(query, filters=filters)


def list_reports(session: Session, actor: Principal, query: ListQuery, *, now: datetime | None = None) -> Page[Report]:
    """The overview: every report this user may see, filtered (``REPORTS`` and ``NARROWING``);
    newest first by default."""
    stmt, query = _overview(session, actor, query, now)
    return list_page(session, stmt, REPORTS, query)


def all_reports(
    session: Session, actor: Principal, query: ListQuery, *, limit: int, now: datetime | None = None
) -> list[Report]:
    """The overview's reports in its order, every page at once, at most ``limit`` (an export)."""
    stmt, query = _overview(session, actor, query, now)
    return list(session.scalars(listing.apply(stmt, REPORTS, query).limit(limit)))


def _mine(actor: Principal, escalated: bool):
    uid = actor.user_id if actor.user_id is not None else -1
    mine = Report.handler_user_id == uid
    return or_(mine, Report.escalated_to_user_id == uid) if escalated else mine


def inbox(
    session: Session, actor: Principal, query: ListQuery | None = None, *, escalated: bool = True
) -> Page[Report]:
    """The open reports this user handles (and, with ``escalated``, supervises), by deadline."""
    stmt = select(Report).where(_mine(actor, escalated), Report.state.in_([s.value for s in OPEN_STATES]))
    return list_page(session, stmt, INBOX, query or ListQuery())


def inbox_counts(session: Session, actor: Principal, *, now: datetime | None = None) -> dict[str, int]:
    """How many open reports the user has, how many are late, how many were escalated to them."""
    uid = actor.user_id if actor.user_id is not None else -1
    is_open = Report.state.in_([s.value for s in OPEN_STATES])
    row = session.execute(
        select(
            func.count(),
            func.count().filter(late_clause(now or utcnow())),
            func.count().filter(Report.escalated_to_user_id == uid),
        ).where(_mine(actor, True), is_open)
    ).one()
    return {"total": row[0], "overdue": row[1], "escalated": row[2]}
