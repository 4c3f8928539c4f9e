"""Intake: one pipeline for every channel, and the one writer of report rows.

    report = submit_report(session, actor, ReportIn(...), channel=Channel.resident_app, photos=[jpeg_bytes])
    report = submit_internal(session, category="waterlogging", description="…", source="水位传感器 W-12",
                             unit_id=area_id)            # other domains; acts as the SYSTEM principal
    ids = write_reports(session, [ReportRows(values, timeline, followers), ...])   # bulk: the demo's history

``submit_report`` validates (unknown category → Invalid on ``category``; a point outside every
community → Invalid on ``lat`` and ``long``; bad photos → Invalid on ``photos``), places the
report (:mod:`renxing.events.placing`), routes it (:mod:`renxing.events.dispatching`), sets its
deadlines from its severity, stores it with its timeline, its photos (metadata stripped,
:mod:`renxing.events.media`) and its reporter as a follower, audits the write and announces it
(``events.report_submitted``: the handler's inbox message is written by its subscriber), all in
the caller's transaction.

Report rows are written by :func:`write_reports` alone, one report from intake or months of
them from the demo: Core ``insert()`` statements on the session's connection, not ORM objects
(the unit of work's flush cost more than the inserts). The report intake returns is built from
the values written and attached to the session as loaded, so answering reads nothing back.
"""

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session, class_mapper, make_transient_to_detached

from renxing.auth.models import AuditEntry, User
from renxing.auth.policy import Perm
from renxing.auth.principal import SYSTEM, Principal
from renxing.db import pipelined, utcnow
from renxing.errors import Collector, FieldError, Forbidden, Invalid
from renxing.events import cache, deadlines, media, routing
from renxing.events.deadlines import Minutes
from renxing.events.dispatching import route_place
from renxing.events.lookups import actor_label, invalid_from, report_link
from renxing.events.models import Report, ReportEvent, ReportFollower, report_schedule, reports
from renxing.events.placing import Located, locate
from renxing.events.policy import CHANNEL_LABELS, MAX_PHOTO_BYTES, MAX_PHOTOS, Action, Channel, Severity, State
from renxing.events.schemas import ReportIn
from renxing.i18n import _, bilingual
from renxing.people.service import LANDLINE, MOBILE, normalise_phone
from renxing.signals.bus import bus as signals
from renxing.signals.bus import publish
from renxing.signals.catalog import ReportSubmitted

NORMAL_PACE = Minutes(120, 1440, 4320)  # the deadlines of a severity missing from the table
CHUNK = 2000  # reports per statement of a bulk write

# ---- the one writer of report rows ----------------------------------------------------------


@dataclass
class ReportRows:
    """One new report as the rows that hold it: ``values``, the columns of ``reports`` and
    ``report_schedule`` (no ids); ``timeline``, its steps in order, and ``followers``, both
    without ``report_id``; ``photos``, which belong to its first step."""

    values: dict[str, Any]
    timeline: list[dict[str, Any]]
    followers: list[dict[str, Any]] = field(default_factory=list)
    photos: list[media.CleanPhoto] = field(default_factory=list)


# Compiled once per process.
_REPORT_COLUMNS = frozenset(c.key for c in reports.columns if c.key != "id")
_SCHEDULE_COLUMNS = tuple(c.key for c in report_schedule.columns if c.key != "report_id")
_INSERT_REPORT = insert(reports).returning(reports.c.id)
_INSERT_REPORTS = insert(reports).returning(reports.c.id, sort_by_parameter_order=True)
_INSERT_SCHEDULES = insert(report_schedule)
_INSERT_STEPS = insert(ReportEvent.__table__)
_INSERT_STEPS_RETURNING = insert(ReportEvent.__table__).returning(
    ReportEvent.__table__.c.id, sort_by_parameter_order=True
)
_INSERT_FOLLOWERS = insert(ReportFollower.__table__)


def write_reports(
    session: Session,
    batch: Sequence[ReportRows],
    *,
    also: Callable[[list[int]], None] | None = None,
    pipeline: bool = True,
) -> list[int]:
    """Write new reports with their schedules, timelines, followers and photos; return their
    ids in the order given.

    The report rows go first (their ids are needed). The rest follows, on PostgreSQL in one
    round trip when ``pipeline`` is on and no photo needs its step's id back: the schedules;
    ``also(ids)``, the caller's own rows that point at the new reports (an audit entry, an
    announcement) and its fill-ins of rows that name another report of the batch; the
    timelines, in time order across the batch so that their ids read in order; the followers.
    """
    if not batch:
        return []
    conn = session.connection()
    ids = _insert_reports(conn, [rows.values for rows in batch])
    photos = any(rows.photos for rows in batch)
    with pipelined(session, enabled=pipeline and not photos):
        conn.execute(_INSERT_SCHEDULES, [_schedule(rid, rows.values) for rid, rows in zip(ids, batch, strict=True)])
        if also is not None:
            also(ids)
        _write_timelines(session, ids, batch)
        followers = [{"report_id": rid, **f} for rid, rows in zip(ids, batch, strict=True) for f in rows.followers]
        if followers:
            conn.execute(_INSERT_FOLLOWERS, followers)
    return ids


def _insert_reports(conn: Connection, values: list[dict[str, Any]]) -> list[int]:
    own = [{k: v for k, v in row.items() if k in _REPORT_COLUMNS} for row in values]
    if len(own) == 1:  # intake: one row, nothing to keep in order
        return [conn.execute(_INSERT_REPORT, own[0]).scalar_one()]
    ids: list[int] = []
    for start in range(0, len(own), CHUNK):
        ids += conn.execute(_INSERT_REPORTS, own[start : start + CHUNK]).scalars()
    return ids


def _schedule(report_id: int, values: dict[str, Any]) -> dict[str, Any]:
    row = {key: values.get(key) for key in _SCHEDULE_COLUMNS}
    row["escalation_level"] = row["escalation_level"] or 0
    return {"report_id": report_id, **row}


def _write_timelines(session: Session, ids: list[int], batch: Sequence[ReportRows]) -> None:
    keyed = sorted(
        (
            ((step["at"], i, seq), {"report_id": ids[i], **step})
            for i, rows in enumerate(batch)
            for seq, step in enumerate(rows.timeline)
        ),
        key=lambda pair: pair[0],
    )
    if not keyed:
        return
    steps = [step for _key, step in keyed]
    conn = session.connection()
    if not any(rows.photos for rows in batch):
        conn.execute(_INSERT_STEPS, steps)
        return
    step_ids = conn.execute(_INSERT_STEPS_RETURNING, steps).scalars().all()
    first = {key[1]: step_id for (key, _step), step_id in zip(keyed, step_ids, strict=True) if key[2] == 0}
    for i, rows in enumerate(batch):
        for photo in rows.photos:  # a report's photos belong to its first step
            media.store_photo(session, ids[i], photo, "report", first.get(i), rows.values["created_at"])
    session.flush()


# ---- the first steps of every timeline --------------------------------------------------------


def routed_state(decision: routing.Decision) -> State:
    """Assigned when routing found someone (a user or an organization), else still submitted."""
    return State.assigned if decision.user_id is not None or decision.label else State.submitted


def intake_steps(
    at: datetime, actor: Principal, channel: Channel, reporter_name: str | None, decision: routing.Decision
) -> list[dict[str, Any]]:
    """Filed through a channel (by the actor, or for a system by the name of its source), then routed."""
    filer = (reporter_name or "系统") if channel is Channel.internal else actor_label(actor)
    return [
        {
            "at": at,
            "actor_user_id": actor.user_id,
            "actor_label": filer,
            "action": Action.submit.value,
            "from_state": None,
            "to_state": State.submitted.value,
            "note": bilingual(CHANNEL_LABELS[channel]),
            "data": None,
        },
        {
            "at": at,
            "actor_user_id": None,
            "actor_label": "系统",
            "action": Action.route.value,
            "from_state": State.submitted.value,
            "to_state": routed_state(decision).value,
            "note": bilingual("分派给 {label}", label=decision.label) if decision.label else decision.steps[-1],
            "data": {"steps": decision.steps, "rule_id": decision.rule_id},
        },
    ]


# ---- intake -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    """What intake checked and derived from the input, before routing."""

    category: cache.CategoryInfo
    description: str
    severity: str
    reporter: tuple[int | None, str | None, str | None, str | None]  # user id, name, phone, e-mail
    place: Located
    photos: list[media.CleanPhoto]


def submit_report(
    session: Session,
    actor: Principal,
    data: ReportIn | dict[str, Any],
    *,
    channel: Channel | str,
    photos: list[bytes] | tuple[bytes, ...] = (),
    now: datetime | None = None,
) -> Report:
    """Validate, place, route, schedule, store and announce: one report from any channel."""
    now = now or utcnow()
    channel = _channel(channel)
    data = _report_in(data)
    _check_channel(actor, channel)
    versions = cache.versions(session)
    checked = _check(session, actor, data, channel, list(photos), versions)
    place = checked.place
    where = routing.Place(checked.category.code, place.level, place.path, place.unit_id, place.household_id)
    decision = route_place(session, where, versions=versions)
    minutes = cache.deadlines(session, versions).get(checked.severity) or NORMAL_PACE
    rows = _rows(actor, data, channel, checked, where, decision, minutes, now)
    filed: list[Report] = []

    def record(ids: list[int]) -> None:
        filed.append(_attached_report(session, ids[0], rows.values))
        _audit_and_announce(session, actor, channel, checked, rows.values, ids[0], data.external_ref)

    # The audit entry and the subscribers' writes join the round trip when none reads back.
    write_reports(session, [rows], also=record, pipeline=signals.writes_only(ReportSubmitted))
    return filed[0]


def _channel(channel: Channel | str) -> Channel:
    try:
        return Channel(channel)
    except ValueError as exc:
        raise Invalid(_("渠道无效"), [FieldError("channel", str(exc))]) from exc


def _report_in(data: ReportIn | dict[str, Any]) -> ReportIn:
    if isinstance(data, ReportIn):
        return data
    try:
        return ReportIn.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from exc


def _check_channel(actor: Principal, channel: Channel) -> None:
    if channel in (Channel.open311, Channel.internal):
        if not actor.is_system:
            raise Forbidden(_("渠道 {value} 仅供系统接口").format(value=channel.value))
    elif channel in (Channel.patrol, Channel.phone) and not actor.can(Perm.reports_record):
        raise Forbidden(_("角色 {value} 不能使用渠道 {value2}").format(value=actor.role.value, value2=channel.value))
    elif actor.user_id is None and not actor.is_system:
        raise Forbidden(_("请先登录"))


def _check(
    session: Session,
    actor: Principal,
    data: ReportIn,
    channel: Channel,
    photos: list[bytes],
    versions: cache.Versions,
) -> _Checked:
    """Every field at once, so that one answer names every error."""
    errors = Collector()
    category = cache.categories(session, versions).get(data.category)
    if category is None or not category.active:
        errors.add("category", _("未知的事件类别"), value=data.category)
    description = data.description.strip()
    if not description:
        errors.add("description", _("请描述问题"))
    severity = _severity(actor, data, category, cache.deadlines(session, versions), errors)
    reporter = _reporter(session, actor, data, channel, errors, versions)
    place = locate(session, actor, data, errors, versions)
    cleaned = media.check_photos(photos, errors, max_count=MAX_PHOTOS, max_bytes=MAX_PHOTO_BYTES)
    errors.raise_if_any()
    assert category is not None and place is not None
    return _Checked(category, description, severity, reporter, place, cleaned)


def _severity(
    actor: Principal,
    data: ReportIn,
    category: cache.CategoryInfo | None,
    minutes: dict[str, Minutes],
    errors: Collector,
) -> str:
    """Residents' reports take their category's severity; those who work reports grade them."""
    default = category.default_severity if category else Severity.normal.value
    if data.severity is None:
        return default
    if data.severity not in minutes:
        errors.add("severity", _("紧急程度无效"), value=data.severity)
        return default
    return data.severity if actor.can(Perm.reports_work) else default


def _reporter(
    session: Session,
    actor: Principal,
    data: ReportIn,
    channel: Channel,
    errors: Collector,
    versions: cache.Versions | None = None,
) -> tuple[int | None, str | None, str | None, str | None]:
    """(user id, name, phone, email) of whoever raised the report."""
    on_behalf = channel in (Channel.phone, Channel.open311, Channel.internal)
    if on_behalf:
        name = (data.reporter_name or "").strip() or None
        if channel is Channel.phone and not name:
            errors.add("reporter_name", _("电话登记须填来电人"))
        phone = normalise_phone(data.reporter_phone)
        if phone and not (MOBILE.match(phone) or LANDLINE.match(phone)):
            errors.add("reporter_phone", _("电话号码格式错误"), value=data.reporter_phone)
        email = (data.reporter_email or "").strip() or None
        if email and "@" not in email:
            errors.add("reporter_email", _("邮箱格式错误"), value=email)
        return None, name, phone, email
    if data.reporter_name or data.reporter_phone or data.reporter_email:
        errors.add("reporter_name", _("本人上报无需填写上报人"))
    uid = actor.user_id
    phone = None
    if uid is not None:
        v = versions or cache.versions(session)
        # Users' phones are behind the ``routing`` version too (the triggers watch them).
        phone = cache.decisions.get(
            cache.database_of(session),
            v.routing,
            ("phone", uid),
            lambda: session.scalar(select(User.phone).where(User.id == uid)),
        )
    return uid, actor.display_name or actor.username, phone, None


def _rows(
    actor: Principal,
    data: ReportIn,
    channel: Channel,
    checked: _Checked,
    where: routing.Place,
    decision: routing.Decision,
    minutes: Minutes,
    now: datetime,
) -> ReportRows:
    """The report as intake writes it: its columns, its first two steps, its reporter as follower."""
    reporter_id, reporter_name, reporter_phone, reporter_email = checked.reporter
    place = checked.place
    due_accept, due_on_site, due_resolve = deadlines.due_times(now, minutes)
    state = routed_state(decision)
    values = {
        "token": secrets.token_urlsafe(9),
        "category_code": checked.category.code,
        "description": checked.description,
        "channel": channel.value,
        "reporter_user_id": reporter_id,
        "reporter_name": reporter_name,
        "reporter_phone": reporter_phone,
        "reporter_email": reporter_email,
        "show_name_publicly": data.show_name_publicly,
        # Nobody can agree for a report another domain raised (a visit, a sensor).
        "public_consent": data.public_consent and channel is not Channel.internal,
        "recorded_by_user_id": actor.user_id if channel is Channel.phone else None,
        "lon": data.long,
        "lat": data.lat,
        "unit_id": place.unit_id,
        "household_id": place.household_id,
        "path": place.path,
        "address": (data.address or "").strip() or None,
        "place_source": place.source,
        "severity": checked.severity,
        "state": state.value,
        "handler_user_id": decision.user_id,
        "handler_label": decision.label,
        "handler_kind": decision.kind,
        "routing_rule_id": decision.rule_id,
        "routing": decision.explanation(where),
        "due_accept": due_accept,
        "due_on_site": due_on_site,
        "due_resolve": due_resolve,
        "created_at": now,
        "updated_at": now,
        "assigned_at": now if state is State.assigned else None,
        "attributes": data.attributes,
        "external_ref": data.external_ref,
        "reopen_count": 0,
        "next_due_at": deadlines.next_due(
            state, now, minutes, due_accept=due_accept, due_on_site=due_on_site, due_resolve=due_resolve
        ),
        "escalation_level": 0,
    }
    followers = [{"user_id": reporter_id, "reason": "reporter", "since": now}] if reporter_id is not None else []
    timeline = intake_steps(now, actor, channel, reporter_name, decision)
    return ReportRows(values, timeline, followers, checked.photos)


# ``inline()``: no implicit RETURNING of the new id (nothing reads it), so it can be pipelined.
_INSERT_AUDIT = insert(AuditEntry.__table__).inline()
_UNSET_COLUMNS = dict.fromkeys(
    c.key for c in (*reports.columns, *report_schedule.columns) if c.key not in ("id", "report_id")
)


def _attached_report(session: Session, report_id: int, values: dict[str, Any]) -> Report:
    """The just-written report as a persistent object built from the values written, so that
    answering the filer reads nothing back; every column is set, none lazy-loads. The values go
    straight into the instance's state as loaded ones (no constructor, no change history)."""
    report = class_mapper(Report).class_manager.new_instance()
    state = report.__dict__
    state.update(_UNSET_COLUMNS)
    state.update(values)
    state["id"] = report_id
    make_transient_to_detached(report)
    session.add(report)
    return report


def _audit_and_announce(
    session: Session,
    actor: Principal,
    channel: Channel,
    checked: _Checked,
    values: dict[str, Any],
    report_id: int,
    external_ref: str | None,
) -> None:
    code = checked.category.code
    entry = {
        "at": values["created_at"],
        "actor_id": actor.user_id,
        "actor_name": actor.username,
        "action": "create",
        "entity": "report",
        "entity_id": report_id,
        "summary": f"{channel.value} {code}",
        "before": None,
        "after": {
            "category": code,
            "state": values["state"],
            "handler": values["handler_label"],
            "path": values["path"],
        },
    }
    session.connection().execute(_INSERT_AUDIT, entry)
    submitted = ReportSubmitted(
        report_id=report_id,
        category=checked.category.name_zh,
        state=values["state"],
        handler_user_id=values["handler_user_id"],
        external_ref=external_ref,
        summary=f"{checked.description[:200]}\n{values['address'] or ''}".strip(),
        link=report_link(report_id),
    )
    publish(session, submitted)


def submit_internal(
    session: Session,
    *,
    category: str,
    description: str,
    source: str,
    unit_id: int | None = None,
    household_id: int | None = None,
    lon: float | None = None,
    lat: float | None = None,
    severity: str | None = None,
    external_ref: str | None = None,
    attributes: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Report:
    """A report raised by another domain (a sensor, a warning, a visit): same pipeline, SYSTEM actor."""
    data = ReportIn(
        category=category,
        description=description,
        unit_id=unit_id,
        household_id=household_id,
        long=lon,
        lat=lat,
        severity=severity,
        reporter_name=source[:60],
        external_ref=external_ref,
        attributes=attributes,
    )
    return submit_report(session, SYSTEM, data, channel=Channel.internal, now=now)
