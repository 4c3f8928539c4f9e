"""Sending a warning: freeze it as a CAP 1.2 message, reach its households, tell who must act.

``send_now`` runs in the caller's transaction after permission, scope and the two-person rule
were checked (``approving``): it gives the warning its CAP identifier and ``sent`` time, builds
the message (``cap_write``) and validates it against the schema — an invalid message is refused
(422 naming the element) and nothing is sent —, stores it as transmitted, starts the reach
(``reach.start``: the households inside the area, their deliveries queued) and publishes
``warning.sent`` for the door-to-door checkers. From then on the warning is never edited: an
Update or Cancel is a new warning whose ``<references>`` quote every earlier message of the chain.
"""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.errors import FieldError, Invalid
from renxing.grid import directory as grid
from renxing.grid.scope import path_ids
from renxing.i18n import _
from renxing.signals.bus import publish
from renxing.signals.catalog import WarningSent
from renxing.warning import cap_write, reach
from renxing.warning.cap_write import CapInvalid, CapLevel, CapMessage, CapText
from renxing.warning.models import WarningLevel, WarningMessage, WarningStatus
from renxing.warning.polygon import outline_rings, parse_polygon

RESTRICTION = "仅限预警区域内的居民与社区工作人员"  # CAP <restriction> of a non-public warning


def link(warning_id: int) -> str:
    return f"/warning/{warning_id}"


def level_row(session: Session, code: str) -> WarningLevel:
    row = session.get(WarningLevel, code)
    if row is None:
        why = _("预警级别 {level} 未配置").format(level=code)
        raise Invalid(why, [FieldError("level", why, value=code)])
    return row


def chain(session: Session, warning: WarningMessage) -> list[WarningMessage]:
    """The sent messages of the warning's chain (the original Alert and its Updates and Cancel),
    oldest first. Chains are short: a few steps up to the root, then down level by level."""
    root = warning
    while root.references_id is not None:
        parent = session.get(WarningMessage, root.references_id)
        if parent is None:
            break
        root = parent
    found = [root]
    frontier = [root.id]
    while frontier:
        children = list(session.scalars(select(WarningMessage).where(WarningMessage.references_id.in_(frontier))))
        found += children
        frontier = [c.id for c in children]
    sent = [w for w in found if w.status == WarningStatus.sent.value]
    return sorted(sent, key=lambda w: (w.sent_at, w.id))


def _sender_name(session: Session, warning: WarningMessage) -> str:
    names = grid.unit_names(session, path_ids(warning.path))
    return "".join(names[i] for i in path_ids(warning.path)[:2] if i in names) or warning.area_desc


def _polygons(session: Session, warning: WarningMessage) -> list[list[tuple[float, float]]]:
    if warning.polygon:
        return [parse_polygon(json.loads(warning.polygon))]
    unit = grid.unit(session, warning.unit_id)
    return outline_rings(unit.geometry if unit is not None else None)


def cap_message(session: Session, warning: WarningMessage, sent: datetime) -> CapMessage:
    """The warning as the CAP message it is sent as (``identifier`` already given)."""
    settings = get_settings()
    level = level_row(session, warning.level)
    unit = grid.unit(session, warning.unit_id)
    earlier = [w for w in chain(session, warning) if w.id != warning.id] if warning.references_id else []
    public_url = settings.public_url.rstrip("/")
    return CapMessage(
        identifier=warning.identifier,
        sender=settings.cap_sender,
        sent=sent,
        msg_type=warning.msg_type,
        exercise=warning.exercise,
        public=warning.public,
        category=warning.category,
        level=CapLevel(level.code, level.name_zh, level.severity, level.urgency, level.certainty),
        texts=[
            CapText(
                language="zh-CN",
                event=warning.event,
                headline=warning.headline,
                description=warning.description,
                instruction=warning.instruction,
                sender_name=_sender_name(session, warning),
            )
        ],
        area_desc=warning.area_desc,
        polygons=_polygons(session, warning),
        unit_code=unit.code if unit is not None else None,
        effective=warning.effective or sent,
        expires=warning.expires,
        references=[cap_write.reference(settings.cap_sender, w.identifier, w.sent_text or "") for w in earlier],
        restriction=None if warning.public else RESTRICTION,
        web=f"{public_url}/cap/alerts/{warning.identifier}.xml" if warning.public else None,
    )


def identifier_for(warning: WarningMessage, sent: datetime) -> str:
    """``RX-<yyyymmddHHMMSS>-<id>``: unique (the id), readable (the local sending time)."""
    local = sent.astimezone(ZoneInfo(get_settings().timezone))
    return f"RX-{local:%Y%m%d%H%M%S}-{warning.id}"


def freeze(session: Session, warning: WarningMessage, now: datetime) -> None:
    """Give the warning its identifier and sent time and store its CAP message, validated."""
    sent = now.replace(microsecond=0)
    warning.identifier = identifier_for(warning, sent)
    try:
        xml = cap_write.build(cap_message(session, warning, sent))
    except CapInvalid as exc:
        why = _("预警不能生成有效的 CAP 消息，未发送")
        raise Invalid(why, [FieldError(f"cap:{e.element}", e.message) for e in exc.errors]) from exc
    warning.cap_xml = xml.decode("utf-8")
    warning.sent_at = sent
    warning.sent_text = cap_write.cap_time(sent)
    if warning.effective is None:
        warning.effective = sent
    warning.status = WarningStatus.sent.value


def send_now(session: Session, actor: Principal, warning: WarningMessage, now: datetime) -> WarningMessage:
    """Freeze, reach and tell (the caller checked who may send it)."""
    freeze(session, warning, now)
    session.flush()
    reached = reach.start(session, warning, now)
    audit.record(
        session,
        actor,
        "send",
        "warning",
        warning.id,
        summary=f"{warning.msg_type} {warning.identifier}",
        after={"identifier": warning.identifier, "sent": warning.sent_text, "households": reached.households},
    )
    publish(
        session,
        WarningSent(
            warning_id=warning.id,
            msg_type=warning.msg_type,
            level=warning.level,
            headline=warning.headline,
            households=reached.households,
            door_to_door=tuple(reached.door_to_door),
            link=link(warning.id),
        ),
    )
    return warning
