"""Use cases of the closed loop for risks (收集-转接-处理-反馈): the only code that writes reports.

Intake — one pipeline for every channel::

    report = submit_report(session, actor, ReportIn(...), channel=Channel.resident_app, photos=[jpeg_bytes])
    report = submit_internal(session, category="waterlogging", description="…", source="水位传感器 W-12",
                             unit_id=area_id)            # other domains; acts as the SYSTEM principal
    nearby = merge_candidates(session, actor, report.id)  # open reports of the same category, 50 m / 24 h

``submit_report`` validates (unknown category → Invalid on ``category``; a point outside
every community → Invalid on ``lat`` and ``long``; bad photos → Invalid on ``photos``),
places the report (household, picked unit, or the point by point-in-polygon over the grid
units' GeoJSON outlines, else the nearest building within 100 m), routes it
(:mod:`renxing.events.routing`), sets its deadlines from severity, stores it with its
timeline, its photos (metadata stripped, :mod:`renxing.events.media`) and its reporter as a
follower, notifies the handler, and audits the write.

Actions — each a function, checked against the transition table (``report_transitions``)::

    assign(session, actor, report_id, to_user_id=…)          transfer(…, reason=…, to_user_id=… | to_label=…)
    accept(…)   check_in(…, lon=…, lat=…, photo=…)   resolve(…, note=…, photo=…)   close(…)
    reject(…, reason=…)   merge(…, into_report_id=…)   reopen(…)   feedback(…, solved=…, rating=…, comment=…)
    perform(session, actor, report_id, "accept", ActionIn(...))   # the same, by name, for the web layer

A user stands to a report as reporter (their own), handler (assigned to them or escalated
to them), staff (a grid role whose scope covers the report's place) or system. A report the
user may not see is NotFound (404); an action their capacity never allows is Forbidden
(403); an action the current state does not allow is Conflict (409). Nothing is stored then.

Reading (report_view, inbox, list_reports, stats, hotspots) lives in
:mod:`renxing.events.queries`, what the public may read in :mod:`renxing.events.publication`,
the escalation sweep in :mod:`renxing.events.sweep`,
categories, deadlines and rules in :mod:`renxing.events.catalog`, the seed configuration in
:mod:`renxing.events.defaults`. Every step is announced as a domain event
(:mod:`renxing.signals.catalog`: ``events.report_submitted``, ``events.report_transitioned``,
``events.report_escalated``); the inbox messages are written by their subscribers.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, insert, or_, select, true
from sqlalchemy.orm import Session, class_mapper, make_transient_to_detached

from renxing.auth import audit
from renxing.auth.models import AuditEntry, User, UserScope
from renxing.auth.policy import ROLE_LABELS, Role
from renxing.auth.principal import SYSTEM, Principal
from renxing.db import pipelined, utcnow
from renxing.errors import Collector, Conflict, FieldError, Forbidden, Invalid, NotFound
from renxing.events import cache, deadlines, media, routing
from renxing.events.deadlines import Minutes, Rung
from renxing.events.models import (
    EventCategory,
    Report,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
    ReportState,
    ReportTransition,
    RoutingRule,
    SeverityDeadline,
    report_schedule,
    reports,
)
from renxing.events.policy import (
    ACTION_LABELS,
    CHANNEL_LABELS,
    FEEDBACK_DAYS,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    OPEN_STATES,
    PATROL_ROLES,
    STAFF_ROLES,
    Action,
    ActorKind,
    Channel,
    Severity,
    State,
    actor_kinds,
    parse_actors,
)
from renxing.events.schemas import ActionIn, ReportIn
from renxing.geo import outlines, sphere
from renxing.grid import service as grid_service
from renxing.grid.models import GridUnit, Household, Level
from renxing.grid.scope import path_ids, scope_clause
from renxing.i18n import _, bilingual, in_each_lang, localized
from renxing.people.service import LANDLINE, MOBILE, normalise_phone
from renxing.signals.bus import bus as signals
from renxing.signals.bus import publish
from renxing.signals.catalog import ReportEscalated, ReportSubmitted, ReportTransitioned

NEAREST_BUILDING_M = 100.0
MERGE_RADIUS_M = 50.0
MERGE_HOURS = 24


def _invalid_from(exc: ValidationError) -> Invalid:
    errors = [FieldError(".".join(str(p) for p in e["loc"]) or "request", e["msg"], None, None) for e in exc.errors()]
    return Invalid(_("输入有误"), errors)


def actor_label(actor: Principal) -> str:
    if actor.is_system:
        return "系统"
    return f"{in_each_lang(ROLE_LABELS[actor.role])['zh']} {actor.display_name or actor.username}"


def user_label(user: User) -> str:
    return f"{in_each_lang(ROLE_LABELS[Role(user.role)])['zh']} {user.display_name}"


def report_link(report_id: int) -> str:
    return f"/reports/{report_id}"


# ---- small lookups ----------------------------------------------------------------------


def category_of(session: Session, code: str) -> EventCategory | None:
    return session.scalar(select(EventCategory).where(EventCategory.code == code))


def minutes_of(session: Session, severity: str) -> Minutes:
    row = session.get(SeverityDeadline, severity)
    if row is None:  # a severity removed after the report was filed: the "normal" pace
        return Minutes(120, 1440, 4320)
    return Minutes(row.accept_minutes, row.on_site_minutes, row.resolve_minutes)


def state_labels(session: Session) -> dict[str, tuple[str, str]]:
    return {s.code: (s.label_zh, s.label_en) for s in session.scalars(select(ReportState))}


def _active_users(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids), User.is_active.is_(True)))}


# ---- the place --------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    unit_id: int
    path: str
    level: str  # household | building | area | compound | community
    household_id: int | None
    source: str  # household | unit | polygon | nearest


def invalidate_geo_cache() -> None:
    """Forget every cached outline index and routing decision of this process (the caches
    also notice changes by themselves, see :mod:`renxing.events.cache`)."""
    cache.clear()


def geo_index(session: Session, versions: cache.Versions | None = None) -> outlines.GeoIndex:
    """The outlines of the grid, built once per database and process and rebuilt when the
    ``grid`` version (changed by triggers on every grid unit write) moves."""
    v = versions or cache.versions(session)

    def build() -> outlines.GeoIndex:
        shapes = [
            outlines.UnitShape(i, lv, p, g)
            for i, lv, p, g in session.execute(
                select(GridUnit.id, GridUnit.level, GridUnit.path, GridUnit.geometry).where(
                    GridUnit.geometry.is_not(None)
                )
            )
        ]
        buildings = [
            outlines.UnitPoint(i, p, lon, lat)
            for i, p, lon, lat in session.execute(
                select(GridUnit.id, GridUnit.path, GridUnit.lon, GridUnit.lat).where(
                    GridUnit.level == Level.building.value, GridUnit.lon.is_not(None), GridUnit.lat.is_not(None)
                )
            )
        ]
        return outlines.GeoIndex(shapes, buildings)

    return cache.outlines.get(cache.database_of(session), v.grid, "index", build)


def locate(
    session: Session, actor: Principal, data: ReportIn, errors: Collector, versions: cache.Versions | None = None
) -> Located | None:
    """The place of a report: the household, the unit picked, or where the point falls."""
    point_given = data.lat is not None or data.long is not None
    if point_given and not sphere.valid_point(data.long, data.lat):
        errors.add("lat", _("坐标无效"), value=data.lat)
        errors.add("long", _("坐标无效"), value=data.long)
        return None
    if data.household_id is not None:
        hh = session.get(Household, data.household_id)
        if hh is None or (actor.role is Role.resident and not actor.is_system and hh.id != actor.household_id):
            # Residents report from their own household only; others' households stay unknown.
            errors.add("household_id", _("户不存在或不可选"), value=data.household_id)
            return None
        return Located(hh.building_id, hh.path, "household", hh.id, "household")
    if data.unit_id is not None:
        unit = session.get(GridUnit, data.unit_id)
        if unit is None or unit.level == Level.street.value:
            msg = _("请选择社区内的楼栋或网格")
            errors.add("unit_id", msg, value=data.unit_id)
            return None
        return Located(unit.id, unit.path, unit.level, None, "unit")
    if point_given:
        hit = geo_index(session, versions).locate(data.long, data.lat, nearest_m=NEAREST_BUILDING_M)  # type: ignore[arg-type]
        if hit is None:
            msg = _("该位置不在任何社区范围内")
            errors.add("lat", msg, value=data.lat)
            errors.add("long", msg, value=data.long)
            return None
        return Located(hit.unit_id, hit.path, hit.level, None, hit.source)
    errors.add("place", _("请选择楼栋或在地图上选点"))
    return None


# ---- routing ----------------------------------------------------------------------------


def route_place(
    session: Session, place: routing.Place, on: date | None = None, versions: cache.Versions | None = None
) -> routing.Decision:
    """Let :func:`routing.route` pick the handler from the active rules, the place's chain and
    the staff covering it. The rules are read once per process and the chain and staff once
    per place until a rule, the chain, a user, a scope or a unit changes (the ``routing``
    version); deciding from them is pure and quick."""
    v = versions or cache.versions(session)
    db = cache.database_of(session)
    day = on or date.today()
    rules = cache.decisions.get(db, v.routing, ("rules",), lambda: routing_rules(session))
    holders, staff = cache.decisions.get(
        db,
        v.routing,
        ("place", place.unit_id, place.household_id, place.path, day),
        lambda: place_people(session, place, day),
    )
    return routing.route(place, rules, holders, staff)


def routing_rules(session: Session) -> list[routing.Rule]:
    """Every active rule, with its unit's path and its user's label (None when inactive)."""
    rows = session.execute(
        select(RoutingRule, GridUnit.path)
        .outerjoin(GridUnit, GridUnit.id == RoutingRule.unit_id)
        .where(RoutingRule.active.is_(True))
    ).all()
    users = _active_users(session, {r.user_id for r, _ in rows if r.user_id})
    return [
        routing.Rule(
            id=r.id,
            category_code=r.category_code,
            level=r.level,
            unit_path=path,
            handler_kind=r.handler_kind,
            duty=r.duty,
            user_id=r.user_id,
            user_label=user_label(users[r.user_id]) if r.user_id in users else None,
            org_name=r.org_name,
            priority=r.priority,
        )
        for r, path in rows
    ]


def place_people(
    session: Session, place: routing.Place, on: date | None = None
) -> tuple[list[routing.Holder], list[routing.Staff]]:
    """The place's chain (holders with an active account keep their user id) and the
    community staff covering it, the deepest scope first."""
    links = grid_service.chain(session, unit_id=place.unit_id, household_id=place.household_id, on=on)
    people = [(link, p) for link in links for p in link.people]
    staff_rows = session.execute(
        select(User, GridUnit.path)
        .join(UserScope, UserScope.user_id == User.id)
        .join(GridUnit, GridUnit.id == UserScope.unit_id)
        .where(
            UserScope.unit_id.in_(path_ids(place.path)),
            User.role == Role.community_staff.value,
            User.is_active.is_(True),
        )
    ).all()
    users = _active_users(session, {p.user_id for _, p in people if p.user_id})
    holders = [
        routing.Holder(
            duty=link.duty.value,
            name=p.person_name,
            user_id=p.user_id if p.user_id in users else None,
            unit_name=link.unit_name,
        )
        for link, p in people
    ]
    staff_rows.sort(key=lambda row: (-len(row[1]), row[0].id))
    return holders, [routing.Staff(u.id, user_label(u)) for u, _ in staff_rows]


def decide_route(session: Session, place: routing.Place, on: date | None = None) -> routing.Decision:
    """The same decision as :func:`route_place`, from the database without any cache."""
    holders, staff = place_people(session, place, on)
    return routing.route(place, routing_rules(session), holders, staff)


def ladder(session: Session, unit_id: int, household_id: int | None, on: date | None = None) -> list[Rung]:
    """The five-level chain above a place as escalation rungs (only levels that have someone)."""
    links = grid_service.chain(session, unit_id=unit_id, household_id=household_id, on=on)
    users = _active_users(session, {p.user_id for link in links for p in link.people if p.user_id})
    rungs = []
    for link in links:
        level = deadlines.LEVEL_OF_DUTY.get(link.duty.value)
        if level is None or not link.people:
            continue
        with_account = [p for p in link.people if p.user_id in users]
        names = "、".join(p.person_name for p in link.people)
        label = f"{link.unit_name} {routing.DUTY_ZH[link.duty.value]} {names}"
        rungs.append(Rung(level, link.duty.value, label, with_account[0].user_id if with_account else None))
    return rungs


# ---- intake -----------------------------------------------------------------------------


def _check_channel(actor: Principal, channel: Channel) -> None:
    if channel in (Channel.open311, Channel.internal):
        if not actor.is_system:
            raise Forbidden(_("渠道 {value} 仅供系统接口").format(value=channel.value))
    elif channel in (Channel.patrol, Channel.phone) and not (actor.is_system or actor.role in PATROL_ROLES):
        raise Forbidden(_("角色 {value} 不能使用渠道 {value2}").format(value=actor.role.value, value2=channel.value))
    elif actor.user_id is None and not actor.is_system:
        raise Forbidden(_("请先登录"))


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


_INSERT_REPORT = insert(reports).returning(reports.c.id)
_INSERT_SCHEDULE = insert(report_schedule)
_INSERT_EVENTS = insert(ReportEvent.__table__)
_INSERT_EVENTS_RETURNING = insert(ReportEvent.__table__).returning(
    ReportEvent.__table__.c.id, sort_by_parameter_order=True
)
_INSERT_FOLLOWER = insert(ReportFollower.__table__)
# ``inline()``: no implicit RETURNING of the new id (nothing reads it), so they can be pipelined.
_INSERT_AUDIT = insert(AuditEntry.__table__).inline()
_UNSET_COLUMNS = dict.fromkeys(
    c.key for c in (*reports.columns, *report_schedule.columns) if c.key not in ("id", "report_id")
)


def _attached_report(session: Session, report_id: int, values: dict[str, Any], schedule: dict[str, Any]) -> Report:
    """The just-written report as a persistent object built from the values written, so that
    answering the filer reads nothing back; every column is set, none lazy-loads. The values go
    straight into the instance's state as loaded ones (no constructor, no change history)."""
    report = class_mapper(Report).class_manager.new_instance()
    state = report.__dict__
    state.update(_UNSET_COLUMNS)
    state.update(values)
    state.update(schedule)
    state["id"] = report_id
    make_transient_to_detached(report)
    session.add(report)
    return report


def submit_report(
    session: Session,
    actor: Principal,
    data: ReportIn | dict[str, Any],
    *,
    channel: Channel | str,
    photos: list[bytes] | tuple[bytes, ...] = (),
    now: datetime | None = None,
) -> Report:
    """Validate, place, route, schedule, store and notify: one report from any channel."""
    now = now or utcnow()
    try:
        channel = Channel(channel)
    except ValueError as exc:
        raise Invalid(_("渠道无效"), [FieldError("channel", str(exc))]) from exc
    if not isinstance(data, ReportIn):
        try:
            data = ReportIn.model_validate(data)
        except ValidationError as exc:
            raise _invalid_from(exc) from exc
    _check_channel(actor, channel)
    errors = Collector()
    versions = cache.versions(session)
    category = cache.categories(session, versions).get(data.category)
    minutes = cache.deadlines(session, versions)
    if category is None or not category.active:
        errors.add("category", _("未知的事件类别"), value=data.category)
    description = data.description.strip()
    if not description:
        errors.add("description", _("请描述问题"))
    severity = category.default_severity if category else Severity.normal.value
    if data.severity is not None:
        if data.severity not in minutes:
            errors.add("severity", _("紧急程度无效"), value=data.severity)
        elif actor.is_system or actor.role in STAFF_ROLES:
            severity = data.severity  # residents' reports take the category's severity; staff grade them
    reporter_id, reporter_name, reporter_phone, reporter_email = _reporter(
        session, actor, data, channel, errors, versions
    )
    place = locate(session, actor, data, errors, versions)
    cleaned = media.check_photos(list(photos), errors, max_count=MAX_PHOTOS, max_bytes=MAX_PHOTO_BYTES)
    errors.raise_if_any()
    assert category is not None and place is not None

    where = routing.Place(category.code, place.level, place.path, place.unit_id, place.household_id)
    decision = route_place(session, where, versions=versions)
    m = minutes.get(severity) or Minutes(120, 1440, 4320)
    due_accept, due_on_site, due_resolve = deadlines.due_times(now, m)
    state = State.assigned if decision.user_id is not None or decision.label else State.submitted
    values = {
        "token": secrets.token_urlsafe(9),
        "category_code": category.code,
        "description": description,
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
        "severity": severity,
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
    }
    schedule = {
        "next_due_at": deadlines.next_due(
            state, now, m, due_accept=due_accept, due_on_site=due_on_site, due_resolve=due_resolve
        ),
        "escalation_level": 0,
    }
    # Written with Core statements (compiled once per process), not ORM objects and a flush:
    # the rows and the transaction are the same, the unit of work's bookkeeping is not paid.
    events = [
        {
            "at": now,
            "actor_user_id": actor.user_id,
            "actor_label": actor_label(actor) if channel is not Channel.internal else (reporter_name or "系统"),
            "action": Action.submit.value,
            "from_state": None,
            "to_state": State.submitted.value,
            "note": bilingual(CHANNEL_LABELS[channel]),
            "data": None,
        },
        {
            "at": now,
            "actor_user_id": None,
            "actor_label": "系统",
            "action": Action.route.value,
            "from_state": State.submitted.value,
            "to_state": state.value,
            "note": bilingual("分派给 {label}", label=decision.label) if decision.label else decision.steps[-1],
            "data": {"steps": decision.steps, "rule_id": decision.rule_id},
        },
    ]
    follower = {"user_id": reporter_id, "reason": "reporter", "since": now} if reporter_id is not None else None
    entry = {
        "at": now,
        "actor_id": actor.user_id,
        "actor_name": actor.username,
        "action": "create",
        "entity": "report",
        "summary": f"{channel.value} {category.code}",
        "before": None,
        "after": {"category": category.code, "state": state.value, "handler": decision.label, "path": place.path},
    }
    conn = session.connection()
    report_id = conn.execute(_INSERT_REPORT, values).scalar_one()
    report = _attached_report(session, report_id, values, schedule)
    events = [{"report_id": report_id, **event} for event in events]
    if cleaned:  # the photos point at the submit step
        submitted_id = conn.execute(_INSERT_EVENTS_RETURNING, events).scalars().first()
        for photo in cleaned:
            _store_photo(session, report, photo, "report", submitted_id, now)
        session.flush()
    # The remaining rows need nothing back: on PostgreSQL they travel in one round trip.
    # The subscribers' writes (the handler's message) join the block when none reads back.
    with pipelined(session, enabled=signals.writes_only(ReportSubmitted)):
        conn.execute(_INSERT_SCHEDULE, {"report_id": report_id, **schedule})
        if not cleaned:
            conn.execute(_INSERT_EVENTS, events)
        if follower is not None:
            conn.execute(_INSERT_FOLLOWER, {"report_id": report_id, **follower})
        conn.execute(_INSERT_AUDIT, {"entity_id": report_id, **entry})
        submitted = ReportSubmitted(
            report_id=report_id,
            category=category.name_zh,
            state=state.value,
            handler_user_id=decision.user_id,
            external_ref=data.external_ref,
            summary=f"{description[:200]}\n{values['address'] or ''}".strip(),
            link=report_link(report_id),
        )
        publish(session, submitted)
    return report


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


def _store_photo(
    session: Session, report: Report, photo: media.CleanPhoto, kind: str, event_id: int | None, now: datetime
) -> ReportPhoto:
    path = media.store(session, photo, "reports", now)
    row = ReportPhoto(
        report_id=report.id,
        event_id=event_id,
        kind=kind,
        path=path,
        content_type=photo.content_type,
        size=len(photo.data),
        width=photo.width,
        height=photo.height,
        sha256=photo.sha256,
        created_at=now,
    )
    session.add(row)
    return row


def merge_candidates(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    radius_m: float = MERGE_RADIUS_M,
    hours: int = MERGE_HOURS,
) -> list[tuple[Report, float | None]]:
    """Open reports of the same category near this one (within ``radius_m``, or at the same
    building when either has no point) filed within ``hours``: offered for merging, never merged."""
    report, _ = load_report(session, actor, report_id)
    since = report.created_at - timedelta(hours=hours)
    stmt = select(Report).where(
        Report.category_code == report.category_code,
        Report.created_at >= since,
        Report.id != report.id,
        Report.state.in_([s.value for s in OPEN_STATES]),
        visible_clause(actor),
    )
    if report.lon is not None and report.lat is not None:
        w, s, e, n = sphere.degree_box(report.lon, report.lat, radius_m)
        near = and_(Report.lon.between(w, e), Report.lat.between(s, n))
        stmt = stmt.where(or_(near, and_(Report.lon.is_(None), Report.unit_id == report.unit_id)))
    else:
        stmt = stmt.where(Report.unit_id == report.unit_id)
    out: list[tuple[Report, float | None]] = []
    for other in session.scalars(stmt.order_by(Report.created_at.desc()).limit(200)):
        if report.lon is not None and other.lon is not None and other.lat is not None and report.lat is not None:
            d = sphere.haversine_m(report.lon, report.lat, other.lon, other.lat)
            if d <= radius_m:
                out.append((other, round(d, 1)))
        else:
            out.append((other, None))
    out.sort(key=lambda x: (x[1] is None, x[1] or 0.0))
    return out


# ---- loading and permission -------------------------------------------------------------


def kinds_of(session: Session, actor: Principal, report: Report) -> frozenset[ActorKind]:
    return actor_kinds(
        user_id=actor.user_id,
        role=actor.role,
        is_system=actor.is_system,
        in_scope=actor.covers_path(report.path) and not actor.is_global,
        reporter_user_id=report.reporter_user_id,
        handler_ids=(report.handler_user_id, report.escalated_to_user_id),
    )


def _is_follower(session: Session, actor: Principal, report_id: int) -> bool:
    if actor.user_id is None:
        return False
    return session.get(ReportFollower, (report_id, actor.user_id)) is not None


def load_report(
    session: Session, actor: Principal, report_id: int, *, for_update: bool = False
) -> tuple[Report, frozenset[ActorKind]]:
    stmt = select(Report).where(Report.id == report_id)
    if for_update:
        stmt = stmt.with_for_update()
    report = session.scalar(stmt)
    if report is None:
        raise NotFound(_("事件不存在").format(report_id=report_id))
    kinds = kinds_of(session, actor, report)
    # 404 rather than 403: whether someone reported something is not for everyone to learn.
    if not kinds and not _is_follower(session, actor, report.id):
        raise NotFound(_("事件不存在").format(report_id=report_id))
    return report, kinds


def get_report(session: Session, actor: Principal, report_id: int) -> Report:
    return load_report(session, actor, report_id)[0]


def visible_clause(actor: Principal):
    if actor.is_system:
        return true()
    uid = actor.user_id if actor.user_id is not None else -1
    conds = [
        Report.handler_user_id == uid,
        Report.escalated_to_user_id == uid,
        Report.id.in_(select(ReportFollower.report_id).where(ReportFollower.user_id == uid)),
    ]
    if actor.role in STAFF_ROLES:
        clause = scope_clause(Report.path, actor)
        if clause is not None:
            conds.append(clause)
    return or_(*conds)


def _transition(
    session: Session, actor: Principal, report: Report, kinds: frozenset[ActorKind], action: Action
) -> ReportTransition:
    rows = list(session.scalars(select(ReportTransition).where(ReportTransition.action == action.value)))
    if not any(kinds & parse_actors(r.actors) for r in rows):
        raise Forbidden(_("您不能对此事件执行「{action}」").format(action=ACTION_LABELS[action], code=action.value))
    row = next((r for r in rows if r.from_state == report.state), None)
    if row is None:
        state = localized(*state_labels(session).get(report.state, (report.state, report.state)))
        raise Conflict(
            _("事件当前为「{state}」，不能{action}").format(
                state=state, action=ACTION_LABELS[action], code=action.value
            )
        )
    if not kinds & parse_actors(row.actors):
        raise Forbidden(_("您不能对此事件执行「{action}」").format(action=ACTION_LABELS[action], code=action.value))
    return row


def may_give_feedback(report: Report, kinds: frozenset[ActorKind]) -> bool:
    """The public holds the ruler: the reporter rates the handling. Staff may record the answer
    of a caller who has no account, but a handler never rates their own work."""
    if ActorKind.reporter in kinds:
        return True
    return report.reporter_user_id is None and ActorKind.handler not in kinds


def allowed_actions(session: Session, report: Report, kinds: frozenset[ActorKind]) -> list[str]:
    actions = cache.actions_by_state(session, cache.versions(session)).get(report.state, ())
    allowed = {action for action, actors in actions if kinds & actors}
    if not may_give_feedback(report, kinds):
        allowed.discard(Action.feedback.value)
    return sorted(allowed)


def _apply(
    session: Session,
    actor: Principal,
    report: Report,
    row: ReportTransition,
    action: Action,
    now: datetime,
    *,
    note: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    data: dict[str, Any] | None = None,
    told: dict[str, Any] | None = None,
) -> ReportEvent:
    """Move the report along ``row``, schedule its next look, put the step on the timeline and
    announce it (``told``: the event's extra fields, e.g. the previous handler of a transfer)."""
    before = report.state
    report.state = row.to_state
    report.updated_at = now
    report.next_due_at = deadlines.next_due(
        State(report.state),
        now,
        minutes_of(session, report.severity),
        due_accept=report.due_accept,
        due_on_site=report.due_on_site,
        due_resolve=report.due_resolve,
        resolved_at=report.resolved_at,
    )
    event = ReportEvent(
        report_id=report.id,
        at=now,
        actor_user_id=actor.user_id,
        actor_label=actor_label(actor),
        action=action.value,
        from_state=before,
        to_state=row.to_state,
        note=note,
        lon=lon,
        lat=lat,
        data=data,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor,
        action.value,
        "report",
        report.id,
        summary=note[:200] if note else None,
        before={"state": before},
        after={"state": row.to_state, **({k: v for k, v in (data or {}).items() if not isinstance(v, list)})},
    )
    _announce(session, actor, report, action.value, before, note=note, **(told or {}))
    return event


def _followers(session: Session, report_id: int) -> list[int]:
    return list(session.scalars(select(ReportFollower.user_id).where(ReportFollower.report_id == report_id)))


def _announce(
    session: Session, actor: Principal, report: Report, action: str, from_state: str, *, note: str | None, **extra: Any
) -> None:
    """Publish the step; the subscribers decide whom it concerns (followers, handlers)."""
    cat = category_of(session, report.category_code)
    event = ReportTransitioned(
        report_id=report.id,
        action=action,
        from_state=from_state,
        to_state=report.state,
        category=cat.name_zh if cat else report.category_code,
        actor_user_id=actor.user_id,
        handler_user_id=report.handler_user_id,
        escalated_to_user_id=report.escalated_to_user_id,
        follower_ids=tuple(_followers(session, report.id)),
        note=note,
        link=report_link(report.id),
        **extra,
    )
    publish(session, event)


def _note(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _require_note(row: ReportTransition, value: str | None, field: str) -> str | None:
    value = _note(value)
    if row.requires_note and not value:
        raise Invalid(_("请填写说明"), [FieldError(field, _("必填"))])
    return value


def _target_user(session: Session, user_id: int | None, field: str = "to_user_id") -> User:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active or user.role == Role.resident.value:
        msg = _("须为在用的工作人员账号")
        raise Invalid(_("承办人无效"), [FieldError(field, msg)])
    return user


def _photo(photo: bytes | None, field: str = "photo") -> media.CleanPhoto | None:
    if photo is None:
        return None
    errors = Collector()
    cleaned = media.check_photos([photo], errors, field=field, max_count=1, max_bytes=MAX_PHOTO_BYTES)
    errors.raise_if_any()
    return cleaned[0]


# ---- actions ----------------------------------------------------------------------------


def assign(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    to_user_id: int | None,
    note: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Give an unassigned report a handler."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = _transition(session, actor, report, kinds, Action.assign)
    user = _target_user(session, to_user_id)
    report.handler_user_id, report.handler_label, report.handler_kind = user.id, user_label(user), "user"
    report.assigned_at = now
    _apply(session, actor, report, row, Action.assign, now, note=_note(note), data={"to": report.handler_label})
    return report


def transfer(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    reason: str | None,
    to_user_id: int | None = None,
    to_label: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Hand the report to someone else (a user, or an organization by name), with a reason."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = _transition(session, actor, report, kinds, Action.transfer)
    reason = _require_note(row, reason, "reason")
    label = _note(to_label)
    if to_user_id is None and not label:
        raise Invalid(_("请指定转办对象"), [FieldError("to_user_id", _("必填"))])
    previous = report.handler_user_id
    if to_user_id is not None:
        user = _target_user(session, to_user_id)
        report.handler_user_id, report.handler_label, report.handler_kind = user.id, user_label(user), "user"
    else:
        report.handler_user_id, report.handler_label, report.handler_kind = None, label, "partner"
    report.assigned_at = now
    _apply(
        session,
        actor,
        report,
        row,
        Action.transfer,
        now,
        note=reason,
        data={"to": report.handler_label, "from_user_id": previous},
        told={"previous_handler_id": previous},
    )
    return report


def accept(
    session: Session, actor: Principal, report_id: int, *, note: str | None = None, now: datetime | None = None
) -> Report:
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = _transition(session, actor, report, kinds, Action.accept)
    report.accepted_at = now
    if report.handler_user_id is None and actor.user_id is not None:
        report.handler_user_id, report.handler_label = actor.user_id, actor_label(actor)
    _apply(session, actor, report, row, Action.accept, now, note=_note(note))
    return report


def check_in(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    lon: float | None,
    lat: float | None,
    note: str | None = None,
    photo: bytes | None = None,
    now: datetime | None = None,
) -> Report:
    """到场: the handler is on the ground, at a position, with a photo if they took one."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = _transition(session, actor, report, kinds, Action.check_in)
    if not sphere.valid_point(lon, lat):
        msg = _("到场须有位置")
        raise Invalid(msg, [FieldError("lat", msg), FieldError("long", msg)])
    cleaned = _photo(photo)
    distance = (
        round(sphere.haversine_m(lon, lat, report.lon, report.lat), 1)  # type: ignore[arg-type]
        if report.lon is not None and report.lat is not None
        else None
    )
    report.on_site_at = now
    event = _apply(
        session,
        actor,
        report,
        row,
        Action.check_in,
        now,
        note=_note(note),
        lon=lon,
        lat=lat,
        data={"distance_m": distance},
    )
    if cleaned:
        _store_photo(session, report, cleaned, "check_in", event.id, now)
    return report


def resolve(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    note: str | None,
    photo: bytes | None = None,
    now: datetime | None = None,
) -> Report:
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = _transition(session, actor, report, kinds, Action.resolve)
    note = _require_note(row, note, "note")
    cleaned = _photo(photo)
    report.resolved_at = now
    report.resolution_note = note
    event = _apply(session, actor, report, row, Action.resolve, now, note=note)
    if cleaned:
        _store_photo(session, report, cleaned, "resolve", event.id, now)
    return report


def close(
    session: Session, actor: Principal, report_id: int, *, note: str | None = None, now: datetime | None = None
) -> Report:
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = _transition(session, actor, report, kinds, Action.close)
    report.closed_at, report.close_reason = now, "staff"
    _apply(session, actor, report, row, Action.close, now, note=_note(note))
    return report


def reject(
    session: Session, actor: Principal, report_id: int, *, reason: str | None, now: datetime | None = None
) -> Report:
    """退回: not a matter for the platform or not real; the reason is shown to the reporter."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = _transition(session, actor, report, kinds, Action.reject)
    reason = _require_note(row, reason, "reason")
    report.reject_reason = reason
    report.closed_at = now
    _apply(session, actor, report, row, Action.reject, now, note=reason)
    return report


def merge(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    into_report_id: int | None,
    note: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Fold a duplicate into another open report; its followers follow that one from now on."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = _transition(session, actor, report, kinds, Action.merge)
    if into_report_id is None or into_report_id == report.id:
        msg = _("请指定合并到的事件")
        raise Invalid(msg, [FieldError("into_report_id", _("必填"))])
    try:
        target, _target_kinds = load_report(session, actor, into_report_id, for_update=True)
    except NotFound as exc:
        raise Invalid(_("目标事件不存在"), [FieldError("into_report_id", str(exc.message))]) from exc
    if State(target.state) not in OPEN_STATES and target.state != State.resolved.value:
        raise Conflict(_("目标事件已结束，不能并入"))
    report.merged_into_id = target.id
    report.closed_at = now
    told = {"other_report_id": target.id}
    _apply(session, actor, report, row, Action.merge, now, note=_note(note), data={"into": target.id}, told=told)
    moved = [uid for uid in _followers(session, report.id) if session.get(ReportFollower, (target.id, uid)) is None]
    for uid in moved:
        session.add(ReportFollower(report_id=target.id, user_id=uid, reason="merged", since=now))
    session.add(
        ReportEvent(
            report_id=target.id,
            at=now,
            actor_user_id=actor.user_id,
            actor_label=actor_label(actor),
            action=Action.merged_in.value,
            from_state=target.state,
            to_state=target.state,
            note=bilingual("#{id} 并入", id=report.id),
            data={"from": report.id},
        )
    )
    target.updated_at = now
    session.flush()
    _announce(session, actor, target, Action.merged_in.value, target.state, note=None, other_report_id=report.id)
    return report


def reopen(
    session: Session, actor: Principal, report_id: int, *, reason: str | None = None, now: datetime | None = None
) -> Report:
    """The reporter (or staff) reopens within seven days of resolution."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    row = _transition(session, actor, report, kinds, Action.reopen)
    _reopen(session, actor, report, row, _note(reason), now)
    return report


def _reopen(
    session: Session, actor: Principal, report: Report, row: ReportTransition, reason: str | None, now: datetime
) -> None:
    if report.resolved_at is None or now - report.resolved_at > timedelta(days=FEEDBACK_DAYS):
        raise Conflict(_("办结已超过{feedback_days}天，不能重新打开").format(feedback_days=FEEDBACK_DAYS))
    report.reopen_count += 1
    report.closed_at = None
    report.close_reason = None
    m = minutes_of(session, report.severity)
    # A new round of deadlines from now: the problem is back.
    report.due_accept, report.due_on_site, report.due_resolve = deadlines.due_times(now, m)
    _apply(session, actor, report, row, Action.reopen, now, note=reason)


def feedback(
    session: Session,
    actor: Principal,
    report_id: int,
    *,
    solved: bool | None,
    rating: int | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> Report:
    """回访: solved → closed; not solved → reopened and escalated one level. The rating is kept either way."""
    now = now or utcnow()
    report, kinds = load_report(session, actor, report_id, for_update=True)
    errors = Collector()
    if solved is None:
        errors.add("solved", _("请说明是否解决"))
    if rating is not None and not 1 <= rating <= 5:
        errors.add("rating", _("评分应为1到5"), value=rating)
    errors.raise_if_any()
    if not may_give_feedback(report, kinds):
        raise Forbidden(_("评价由上报人作出"))
    action = Action.feedback if solved else Action.reopen
    row = _transition(session, actor, report, kinds, action)
    if row.from_state != State.resolved.value:
        raise Conflict(_("只能评价已办结的事件"))
    report.feedback_solved, report.feedback_rating = solved, rating
    report.feedback_comment, report.feedback_at = _note(comment), now
    data = {"solved": solved, "rating": rating}
    if solved:
        report.closed_at, report.close_reason = now, "feedback"
        told = {"rating": rating}
        _apply(session, actor, report, row, Action.feedback, now, note=_note(comment), data=data, told=told)
        return report
    _reopen(session, actor, report, row, _note(comment) or bilingual("居民反馈未解决"), now)
    escalate(session, report, now, reason=bilingual("居民反馈未解决"))
    return report


def escalate(session: Session, report: Report, now: datetime, *, reason: str) -> bool:
    """Climb one level of the chain for one report (the sweep does the same in bulk)."""
    rung = deadlines.next_rung(ladder(session, report.unit_id, report.household_id), report.escalation_level)
    if rung is None:
        return False
    report.escalation_level = rung.level
    report.escalated_to_user_id, report.escalated_to_label, report.escalated_at = rung.user_id, rung.label, now
    session.add(
        ReportEvent(
            report_id=report.id,
            at=now,
            actor_label="系统",
            action=Action.escalate.value,
            from_state=report.state,
            to_state=report.state,
            note=f"{rung.label}（{reason}）",
            escalation_level=rung.level,
        )
    )
    cat = category_of(session, report.category_code)
    escalated = ReportEscalated(
        report_id=report.id,
        category=cat.name_zh if cat else report.category_code,
        level=rung.level,
        handler_user_id=report.handler_user_id,
        escalated_to_user_id=report.escalated_to_user_id,
        reason=reason,
        link=report_link(report.id),
    )
    publish(session, escalated)
    return True


ACTIONS = {
    a.value
    for a in (
        Action.assign,
        Action.transfer,
        Action.accept,
        Action.check_in,
        Action.resolve,
        Action.close,
        Action.reject,
        Action.merge,
        Action.reopen,
        Action.feedback,
    )
}


def perform(
    session: Session,
    actor: Principal,
    report_id: int,
    action: str,
    data: ActionIn | dict[str, Any] | None = None,
    *,
    photo: bytes | None = None,
    now: datetime | None = None,
) -> Report:
    """Any action by name, its arguments from :class:`ActionIn` (the web layer's entry)."""
    if action not in ACTIONS:
        raise NotFound(_("未知操作").format(action=action))
    if not isinstance(data, ActionIn):
        try:
            data = ActionIn.model_validate(data or {})
        except ValidationError as exc:
            raise _invalid_from(exc) from exc
    a = Action(action)
    if photo is not None and a not in (Action.check_in, Action.resolve):
        raise Invalid(_("此操作不带照片"), [FieldError("photo", "unexpected")])
    reason = data.reason if data.reason is not None else data.note
    if a is Action.assign:
        return assign(session, actor, report_id, to_user_id=data.to_user_id, note=data.note, now=now)
    if a is Action.transfer:
        return transfer(
            session, actor, report_id, reason=reason, to_user_id=data.to_user_id, to_label=data.to_label, now=now
        )
    if a is Action.accept:
        return accept(session, actor, report_id, note=data.note, now=now)
    if a is Action.check_in:
        return check_in(session, actor, report_id, lon=data.long, lat=data.lat, note=data.note, photo=photo, now=now)
    if a is Action.resolve:
        return resolve(session, actor, report_id, note=data.note, photo=photo, now=now)
    if a is Action.close:
        return close(session, actor, report_id, note=data.note, now=now)
    if a is Action.reject:
        return reject(session, actor, report_id, reason=reason, now=now)
    if a is Action.merge:
        return merge(session, actor, report_id, into_report_id=data.into_report_id, note=data.note, now=now)
    if a is Action.reopen:
        return reopen(session, actor, report_id, reason=reason, now=now)
    return feedback(session, actor, report_id, solved=data.solved, rating=data.rating, comment=data.comment, now=now)
