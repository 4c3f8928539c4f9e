"""CAP 1.2 alerts received from the district or the weather service: accept, match, list, read.

``receive`` is the one way in (upload, command line, polled feed). It refuses what the standard
does not allow with a 422 naming the element (``/alert/status``, ``/alert/info[1]/area[1]/polygon[1]``,
``xml`` for bytes that are not XML) before it writes anything, reports an alert already held (same
identifier, sender and sent) as a duplicate instead of storing it twice, keeps the XML as it came,
matches the areas to communities (``areas.py``), follows an Update or Cancel to the alerts it
references (their state becomes ``updated`` / ``cancelled`` and ``superseded_by_id`` points at the
newer message; a reference to an alert never received is kept and noted) and tells the staff of
the matched communities (``warning.alert_received``; Test, System and Draft messages are kept, not
announced). An Update or Cancel reaches the communities of the alerts it follows too (matched
``reference``), so whoever heard of an alert hears of its end. A dry run does all of it but the
writing.

Reading needs ``warnings_read``. An alert is seen by those whose units hold or lie inside one of its
communities (a grid worker sees the alerts of the community around their area, a street
administrator those of the street's communities and the alerts matched nowhere); whoever received
an alert sees it; the system administrator sees all.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.directory import staff_covering
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import FieldError, Invalid, NotFound
from renxing.grid import directory as grid_directory
from renxing.grid.scope import path_ids, sees, visible_clause
from renxing.i18n import _, _l
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.signals.bus import publish
from renxing.signals.catalog import AlertReceived
from renxing.warning import areas, cap_read, cap_schema
from renxing.warning.cap_read import Alert, Reference
from renxing.warning.cap_schema import CapRefused
from renxing.warning.models import LEVEL_LABELS, IncomingAlert, IncomingAlertMatch, Level, WarningLevel

STATES = ("active", "updated", "cancelled", "expired")
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SOURCES = ("upload", "cli", "feed")
NOTIFIED_ROLES = ("community_staff", "street_admin")
# Staff are told of real alerts and exercises; Test, System and Draft messages are kept, not announced.
TOLD_STATUSES = ("Actual", "Exercise")


def _one_of(values: tuple[str, ...]):
    def parse(value: Any) -> str:
        if value not in values:
            raise ValueError(f"one of {', '.join(values)}")
        return str(value)

    return parse


ALERTS = ListSpec(
    sorts={"sent": IncomingAlert.sent, "received": IncomingAlert.received_at, "headline": IncomingAlert.headline},
    default_sort="-sent",
    tiebreaker=IncomingAlert.id,
    search=(IncomingAlert.headline, IncomingAlert.event, IncomingAlert.identifier, IncomingAlert.area_desc),
    filters={
        "level": Filter(IncomingAlert.level, parse=lambda v: Level(v).value),
        "status": Filter(IncomingAlert.status, parse=_one_of(STATUSES)),
        "msg_type": Filter(IncomingAlert.msg_type, parse=_one_of(MSG_TYPES)),
        "source": Filter(IncomingAlert.source, parse=_one_of(SOURCES)),
        "feed_id": Filter(IncomingAlert.feed_id),
    },
)


@dataclass
class Received:
    """What receiving one message did (or, in a dry run, would do)."""

    identifier: str
    sender: str
    sent: str
    status: str
    msg_type: str
    level: str | None
    headline: str
    alert_id: int | None = None
    duplicate: bool = False
    dry_run: bool = False
    communities: list[dict[str, Any]] = field(default_factory=list)  # those the actor sees
    other_communities: int = 0  # matched outside what the actor sees
    references: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---- receiving ------------------------------------------------------------------------------------


def refusal(exc: CapRefused) -> Invalid:
    """A CAP refusal as the 422 every channel answers, each error naming its element."""
    first = exc.errors[0] if exc.errors else None
    message = _("不是有效的 CAP 1.2 预警信息：{element}：{reason}").format(
        element=first.element if first else "xml", reason=first.message if first else ""
    )
    return Invalid(message, [FieldError(e.element, e.message) for e in exc.errors])


def read_document(data: bytes) -> tuple[Alert, str]:
    """The alert of the bytes and the XML as text to store; 422 naming the element when refused."""
    try:
        root = cap_schema.parse_valid(data)
        alert = cap_read.read(root)
    except CapRefused as exc:
        raise refusal(exc) from exc
    limits = (("/alert/identifier", alert.identifier, 200), ("/alert/sender", alert.sender, 200))
    errors = [FieldError(path, _("超过 {n} 个字符").format(n=n)) for path, value, n in limits if len(value) > n]
    if errors:
        raise Invalid(
            _("不是有效的 CAP 1.2 预警信息：{element}：{reason}").format(
                element=errors[0].field, reason=errors[0].message
            ),
            errors,
        )
    return alert, cap_read.document_text(data, root.getroottree().docinfo.encoding)


def places(session: Session) -> list[areas.Place]:
    """Every community as matching sees it: outline or point, its code and its street's."""
    return [
        areas.Place(c.id, c.path, tuple(x for x in (c.code, street) if x), c.geometry, c.lon, c.lat)
        for c, street in grid_directory.communities_with_outlines(session)
    ]


def severity_levels(session: Session) -> dict[str, str]:
    rows = session.execute(select(WarningLevel.code, WarningLevel.rank, WarningLevel.severity)).all()
    return cap_read.severity_table([(c, r, s) for c, r, s in rows])


def find(session: Session, sender: str, identifier: str, sent: datetime) -> IncomingAlert | None:
    stmt = select(IncomingAlert).where(
        IncomingAlert.identifier == identifier, IncomingAlert.sender == sender, IncomingAlert.sent == sent
    )
    return session.scalars(stmt).first()


def _clip(text: str | None, n: int) -> str | None:
    return text if text is None or len(text) <= n else text[: n - 1] + "…"


def _summary(alert: Alert, level: str | None) -> Received:
    info = alert.display
    headline = (info.headline or info.event) if info else None
    return Received(
        identifier=alert.identifier,
        sender=alert.sender,
        sent=alert.sent_text,
        status=alert.status,
        msg_type=alert.msg_type,
        level=level,
        headline=headline or alert.identifier,
    )


def _follow(session: Session, alert: Alert) -> tuple[list[tuple[Reference, IncomingAlert | None]], dict[int, str]]:
    """The alerts referenced (None: never received), and the communities they were matched to."""
    found = [(ref, find(session, ref.sender, ref.identifier, ref.sent)) for ref in alert.references]
    ids = [row.id for _ref, row in found if row is not None]
    inherited: dict[int, str] = {}
    if ids and alert.msg_type in ("Update", "Cancel"):
        stmt = select(IncomingAlertMatch.unit_id, IncomingAlertMatch.path).where(IncomingAlertMatch.alert_id.in_(ids))
        inherited = dict(session.execute(stmt).all())
    return found, inherited


def _new_state(msg_type: str, old: str) -> str | None:
    if msg_type == "Cancel":
        return "cancelled"
    if msg_type == "Update" and old != "cancelled":
        return "updated"
    return None


def _reference_rows(found: list[tuple[Reference, IncomingAlert | None]], msg_type: str) -> list[dict[str, Any]]:
    return [
        {
            "sender": ref.sender,
            "identifier": ref.identifier,
            "sent": ref.sent_text,
            "alert_id": row.id if row else None,
            "state": (_new_state(msg_type, row.state) or row.state) if row else None,
        }
        for ref, row in found
    ]


def _own_state(alert: Alert, now: datetime) -> str:
    if alert.msg_type == "Cancel":
        return "cancelled"
    info = alert.display
    if info is not None and info.expires is not None and info.expires < now:
        return "expired"
    return "active"


def _area_desc(alert: Alert) -> str | None:
    info = alert.display
    if info is None:
        return None
    return "; ".join(a.desc for a in info.areas if a.desc) or None


def _values(
    alert: Alert, xml: str, level: str | None, actor: Principal, source: str, feed_id: int | None, now: datetime
) -> dict[str, Any]:
    info = alert.display
    return dict(
        identifier=alert.identifier,
        sender=alert.sender,
        sent=alert.sent,
        sent_text=alert.sent_text,
        status=alert.status,
        msg_type=alert.msg_type,
        scope=alert.scope,
        references=alert.references_text,
        event=_clip(info.event, 200) if info else None,
        headline=_clip(info.headline, 500) if info else None,
        description=info.description if info else None,
        instruction=info.instruction if info else None,
        language=_clip(info.language, 20) if info else None,
        severity=info.severity if info else None,
        urgency=info.urgency if info else None,
        certainty=info.certainty if info else None,
        level=level,
        effective=info.effective if info else None,
        expires=info.expires if info else None,
        area_desc=_area_desc(alert),
        state=_own_state(alert, now),
        source=source,
        feed_id=feed_id,
        xml=xml,
        received_by=actor.user_id,
        received_at=now,
    )


def receive(
    session: Session,
    actor: Principal,
    data: bytes,
    *,
    source: str,
    feed_id: int | None = None,
    feed_entry: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Received:
    """Accept one CAP message (see the module's notes); nothing is written when ``dry_run``."""
    actor.require(Perm.alerts_receive)
    now = now or utcnow()
    alert, xml = read_document(data)
    level = cap_read.level_of(alert.display, severity_levels(session))
    result = _summary(alert, level)
    result.dry_run = dry_run
    held = find(session, alert.sender, alert.identifier, alert.sent)
    if held is not None:
        result.duplicate, result.alert_id = True, held.id
        result.notes.append(_("已收到过此预警（标识、发送者、发送时间相同），未重复保存"))
        return result
    found, inherited = _follow(session, alert)
    result.references = _reference_rows(found, alert.msg_type)
    for ref, row in found:
        if row is None:
            result.notes.append(_("引用的预警尚未收到：{identifier}").format(identifier=ref.identifier))
    matched = areas.match(alert.areas, places(session))
    ways = {m.unit_id: (m.path, m.how) for m in matched}
    for unit_id, path in inherited.items():
        ways.setdefault(unit_id, (path, "reference"))
    unknown = areas.unknown_geocodes(alert.areas)
    if unknown:
        result.notes.append(_("未识别的地理编码：{names}").format(names=", ".join(unknown)))
    _tell_communities(session, actor, result, ways)
    if dry_run:
        return result
    values = _values(alert, xml, level, actor, source, feed_id, now)
    row_id = _store(session, {**values, "feed_entry": _clip(feed_entry, 500)})
    if row_id is None:  # received by someone else a moment ago
        held = find(session, alert.sender, alert.identifier, alert.sent)
        result.duplicate, result.alert_id = True, held.id if held else None
        return result
    result.alert_id = row_id
    session.add_all(IncomingAlertMatch(alert_id=row_id, unit_id=u, path=p, how=h) for u, (p, h) in ways.items())
    for _ref, old in found:
        state = _new_state(alert.msg_type, old.state) if old is not None else None
        if old is not None and state is not None:
            old.state, old.superseded_by_id = state, row_id
    session.flush()
    audit.record(session, actor, "create", "incoming_alert", row_id, summary=f"{alert.msg_type} {alert.identifier}")
    if ways and alert.status in TOLD_STATUSES:
        _publish(session, row_id, result, ways)
    return result


def _store(session: Session, values: dict[str, Any]) -> int | None:
    """Insert the alert; None when the same one was stored a moment ago (its unique key). No
    savepoint: the statement itself gives way, so the request's transaction stays whole."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(IncomingAlert).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=["identifier", "sender", "sent"]).returning(IncomingAlert.id)
    return session.execute(stmt).scalar()


def _tell_communities(session: Session, actor: Principal, result: Received, ways: dict[int, tuple[str, str]]) -> None:
    names = grid_directory.unit_names(session, ways)
    for unit_id, (path, how) in ways.items():
        if sees(actor, path):
            result.communities.append({"unit_id": unit_id, "name": names.get(unit_id, ""), "how": how})
        else:
            result.other_communities += 1


def _publish(session: Session, alert_id: int, result: Received, ways: dict[int, tuple[str, str]]) -> None:
    recipients = sorted({u for path, _how in ways.values() for u in staff_covering(session, path, NOTIFIED_ROLES)})
    publish(
        session,
        AlertReceived(
            alert_id=alert_id,
            identifier=result.identifier,
            msg_type=result.msg_type,
            level=result.level,
            headline=_clip(result.headline, 200) or result.identifier,
            community_ids=tuple(sorted(ways)),
            recipients=tuple(recipients),
            link=f"/warning/incoming/{alert_id}",
        ),
    )


# ---- reading --------------------------------------------------------------------------------------


def at_street_level(actor: Principal) -> bool:
    """Street administrators: a scope at the root of the tree."""
    return any(len(path_ids(p)) == 1 for p in actor.scope_paths)


def _visible(actor: Principal) -> Select:
    """Alerts matched to a community the actor's units hold or lie in, those the actor received,
    and for street administrators the alerts matched nowhere (the system administrator: all)."""
    actor.require(Perm.warnings_read)
    stmt = select(IncomingAlert)
    if actor.is_global:
        return stmt
    clause = visible_clause(IncomingAlertMatch.path, actor)
    matched = IncomingAlert.id.in_(select(IncomingAlertMatch.alert_id).where(clause if clause is not None else false()))
    seen = [matched]
    if actor.user_id is not None:
        seen.append(IncomingAlert.received_by == actor.user_id)
    if at_street_level(actor):
        seen.append(~exists().where(IncomingAlertMatch.alert_id == IncomingAlert.id))
    return stmt.where(or_(*seen))


def _state_clause(state: str, now: datetime) -> ColumnElement[bool]:
    """Active until it expires: an alert past its expiry reads ``expired`` without anyone writing it."""
    if state not in STATES:
        raise Invalid(_("状态无效"), [FieldError("state", f"one of {', '.join(STATES)}", value=state)])
    live = or_(IncomingAlert.expires.is_(None), IncomingAlert.expires >= now)
    if state == "active":
        return and_(IncomingAlert.state == "active", live)
    if state == "expired":
        return or_(IncomingAlert.state == "expired", and_(IncomingAlert.state == "active", ~live))
    return IncomingAlert.state == state


def list_alerts(
    session: Session, actor: Principal, query: ListQuery, *, state: str | None = None, now: datetime | None = None
) -> Page[IncomingAlert]:
    stmt = _visible(actor)
    if state:
        stmt = stmt.where(_state_clause(state, now or utcnow()))
    return list_page(session, stmt, ALERTS, query)


def get_alert(session: Session, actor: Principal, alert_id: int) -> IncomingAlert:
    row = session.scalar(_visible(actor).where(IncomingAlert.id == alert_id))
    if row is None:
        raise NotFound(_("预警信息 {alert_id} 不存在").format(alert_id=alert_id))
    return row


def state_of(row: IncomingAlert, now: datetime | None = None) -> str:
    if row.state == "active" and row.expires is not None and row.expires < (now or utcnow()):
        return "expired"
    return row.state


def matches(session: Session, alert_ids: list[int]) -> dict[int, list[IncomingAlertMatch]]:
    out: dict[int, list[IncomingAlertMatch]] = {i: [] for i in alert_ids}
    if alert_ids:
        stmt = select(IncomingAlertMatch).where(IncomingAlertMatch.alert_id.in_(alert_ids))
        for m in session.scalars(stmt.order_by(IncomingAlertMatch.path)):
            out[m.alert_id].append(m)
    return out


def related(session: Session, actor: Principal, row: IncomingAlert) -> dict[str, Any]:
    """The alerts this one references and the one that superseded it, as far as the actor sees them."""
    refs = cap_read.parse_references(row.references) if row.references else ()
    out: list[dict[str, Any]] = []
    for ref in refs:
        held = find(session, ref.sender, ref.identifier, ref.sent)
        visible = held is not None and session.scalar(_visible(actor).where(IncomingAlert.id == held.id)) is not None
        out.append(
            {
                "identifier": ref.identifier,
                "sender": ref.sender,
                "sent": ref.sent_text,
                "alert_id": held.id if held and visible else None,
                "received": held is not None,
            }
        )
    newer = None
    if row.superseded_by_id is not None:
        newer_row = session.scalar(_visible(actor).where(IncomingAlert.id == row.superseded_by_id))
        if newer_row is not None:
            newer = {"alert_id": newer_row.id, "msg_type": newer_row.msg_type, "identifier": newer_row.identifier}
    return {"references": out, "superseded_by": newer}


def parsed(row: IncomingAlert) -> Alert | None:
    """The stored message read again (for its areas, languages and resources)."""
    try:
        return cap_read.read(cap_schema.parse(cap_read.document_bytes(row.xml)))
    except (CapRefused, ValueError):
        return None


# ---- presenting -----------------------------------------------------------------------------------

STATE_LABELS = {"active": _l("生效中"), "updated": _l("已更新"), "cancelled": _l("已解除"), "expired": _l("已过期")}
HOW_LABELS = {"polygon": _l("多边形"), "circle": _l("圆形"), "geocode": _l("地理编码"), "reference": _l("原预警范围")}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _communities(session: Session, actor: Principal, found: list[IncomingAlertMatch]) -> list[dict[str, Any]]:
    shown = [m for m in found if sees(actor, m.path)]
    names = grid_directory.unit_names(session, [m.unit_id for m in shown])
    return [{"unit_id": m.unit_id, "name": names.get(m.unit_id, ""), "how": m.how} for m in shown]


def present(row: IncomingAlert, communities: list[dict[str, Any]], now: datetime | None = None) -> dict[str, Any]:
    state = state_of(row, now)
    return {
        "id": row.id,
        "identifier": row.identifier,
        "sender": row.sender,
        "sent": row.sent_text,
        "status": row.status,
        "msg_type": row.msg_type,
        "scope": row.scope,
        "event": row.event,
        "headline": row.headline or row.event or row.identifier,
        "level": row.level,
        "level_label": str(LEVEL_LABELS[Level(row.level)]) if row.level in Level.__members__ else row.level,
        "severity": row.severity,
        "urgency": row.urgency,
        "certainty": row.certainty,
        "state": state,
        "state_label": str(STATE_LABELS.get(state, state)),
        "effective": _iso(row.effective),
        "expires": _iso(row.expires),
        "area_desc": row.area_desc,
        "source": row.source,
        "feed_id": row.feed_id,
        "received_at": _iso(row.received_at),
        "communities": communities,
    }


def present_all(session: Session, actor: Principal, rows: list[IncomingAlert]) -> list[dict[str, Any]]:
    found = matches(session, [r.id for r in rows])
    now = utcnow()
    return [present(r, _communities(session, actor, found[r.id]), now) for r in rows]


def _info_summary(info: cap_read.Info) -> dict[str, Any]:
    return {"language": info.language, "event": info.event, "headline": info.headline, "severity": info.severity}


def _resource(r: cap_read.Resource) -> dict[str, Any]:
    return {"desc": r.desc, "mime_type": r.mime_type, "size": r.size, "uri": r.uri, "embedded_bytes": r.embedded_bytes}


def outlines(session: Session, communities: list[dict[str, Any]]) -> dict[str, Any]:
    """The matched communities' outlines (or points) for the map, named by property."""
    features = []
    for c in communities:
        unit = grid_directory.unit(session, c["unit_id"])
        if unit is None:
            continue
        geometry = json.loads(unit.geometry) if unit.geometry else None
        if geometry is None and unit.lon is not None and unit.lat is not None:
            geometry = {"type": "Point", "coordinates": [unit.lon, unit.lat]}
        if geometry is not None:
            props = {"unit_id": unit.id, "name": unit.name, "how": c["how"]}
            features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def present_detail(session: Session, actor: Principal, row: IncomingAlert) -> dict[str, Any]:
    """One alert with its words, what it follows and what superseded it, its areas for the map."""
    out = present(row, _communities(session, actor, matches(session, [row.id])[row.id]))
    alert = parsed(row)
    info = alert.display if alert else None
    out.update(related(session, actor, row))
    out.update(
        description=row.description,
        instruction=row.instruction,
        language=row.language,
        sender_name=info.sender_name if info else None,
        web=info.web if info else None,
        note=alert.note if alert else None,
        infos=[_info_summary(i) for i in alert.infos] if alert else [],
        parameters=[{"name": n, "value": v} for n, v in info.parameters] if info else [],
        resources=[_resource(r) for r in info.resources] if info else [],
        areas=areas.geojson(alert.areas) if alert else {"type": "FeatureCollection", "features": []},
        outlines=outlines(session, out["communities"]),
    )
    return out
