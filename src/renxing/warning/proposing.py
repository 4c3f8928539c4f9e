"""Warnings proposed by the platform (建议预警): a sensor rule that fires at yellow or above
becomes a draft warning for the device's community, and an incoming CAP alert at yellow or above
one for each community it matched, put before their staff.

The draft is only a proposal: staff read it, edit it and send it (``approving.send``), and the
two-person rule applies as to any warning. Its event and headline come from the device's kind
and the value read; ``trigger_id`` links it to the trigger, so a trigger proposes once.
"""

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth import directory as accounts
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM
from renxing.config import get_settings
from renxing.grid import directory as grid
from renxing.grid.models import GridUnit
from renxing.grid.scope import community_of
from renxing.signals.bus import publish
from renxing.signals.catalog import AlertReceived, SensorRuleTriggered, WarningProposed
from renxing.warning import composing, sending
from renxing.warning.models import IncomingAlert, WarningMessage, WarningStatus

PROPOSE_FROM_RANK = 2  # yellow and above
# device kind → (CAP zh-CN event, CAP category, what residents should do)
EVENTS = {
    "water_level": ("内涝", "Met", "请远离低洼地带和地下空间，转移贵重物品，听从社区安排。"),
    "smoke": ("火情", "Fire", "请立即沿安全通道撤离，不要乘坐电梯，拨打119。"),
    "gas": ("燃气泄漏", "Safety", "请勿开关电器、勿用明火，开窗通风并撤离，拨打燃气抢修电话。"),
    "temperature": ("温度异常", "Safety", "请注意防暑降温或检查火源，关注社区通知。"),
    "tilt": ("建筑倾斜或裂缝", "Infra", "请尽快离开相关楼栋，等待专业人员检查。"),
    "power": ("电气隐患", "Fire", "请断开相关电源，勿靠近配电设施，等待检修。"),
}
DEFAULT_EVENT = ("传感器告警", "Other", "请关注社区通知。")


def _rank(session: Session, level: str) -> int:
    row = sending.level_row(session, level)
    return row.rank


def _propose(session: Session, community: GridUnit, values: dict[str, Any], source: str) -> WarningMessage:
    """A draft for the community, its staff told (``warning.proposed`` without approval)."""
    warning = WarningMessage(
        identifier=composing.provisional_identifier(),
        msg_type="Alert",
        status=WarningStatus.draft.value,
        unit_id=community.id,
        path=community.path,
        area_desc=community.name,
        channels=composing.default_channels(),
        public=True,
        exercise=False,
        **values,
    )
    session.add(warning)
    session.flush()
    audit.record(session, SYSTEM, "propose", "warning", warning.id, summary=source)
    staff = accounts.staff_covering(session, community.path, (Role.community_staff.value,))
    publish(
        session,
        WarningProposed(
            warning_id=warning.id,
            level=warning.level,
            headline=warning.headline,
            approval=False,
            recipients=tuple(staff),
            link=sending.link(warning.id),
        ),
    )
    return warning


def propose_from_trigger(session: Session, e: SensorRuleTriggered) -> WarningMessage | None:
    """A draft warning for the device's community when the trigger is yellow or above (once per
    trigger); its staff are told. None when no warning is proposed."""
    if e.level not in composing.COLOURS or _rank(session, e.level) < PROPOSE_FROM_RANK:
        return None
    if session.scalar(select(WarningMessage.id).where(WarningMessage.trigger_id == e.trigger_id)) is not None:
        return None
    unit = grid.unit(session, e.unit_id)
    community = community_of(session, unit.path) if unit is not None else None
    if community is None:
        return None
    event, category, instruction = EVENTS.get(e.kind, DEFAULT_EVENT)
    colour = sending.level_row(session, e.level).name_zh
    reading = f"{e.value:g}{e.measure_unit}"
    at = e.at.astimezone(ZoneInfo(get_settings().timezone))
    values = {
        "trigger_id": e.trigger_id,
        "created_at": e.at,  # drafted when the rule fired (a replayed or late trigger keeps its time)
        "level": e.level,
        "event": event,
        "category": category,
        "headline": f"{community.name}{event}{colour}预警"[:200],
        "description": f"{e.device}（{unit.name}）{e.rule}：读数 {reading}（{at:%Y-%m-%d %H:%M}）。"[:4000],
        "instruction": instruction,
    }
    return _propose(session, community, values, f"sensor-trigger-{e.trigger_id}")


def propose_from_alert(session: Session, e: AlertReceived) -> list[WarningMessage]:
    """A draft warning per matched community for an incoming alert (or its update) at yellow or
    above, passing the issuer's words on to the residents; once per alert and community."""
    if e.msg_type not in ("Alert", "Update") or e.level not in composing.COLOURS:
        return []
    if _rank(session, e.level) < PROPOSE_FROM_RANK:
        return []
    alert = session.get(IncomingAlert, e.alert_id)
    if alert is None:
        return []
    done = set(session.scalars(select(WarningMessage.unit_id).where(WarningMessage.incoming_alert_id == alert.id)))
    proposed = []
    for community in grid.units_by_id(session, e.community_ids).values():
        if community.id in done:
            continue
        values = {
            "incoming_alert_id": alert.id,
            "level": e.level,
            "event": (alert.event or DEFAULT_EVENT[0])[:120],
            "category": "Met",
            "headline": (alert.headline or e.headline)[:200],
            "description": (alert.description or alert.headline or e.headline)[:4000],
            "instruction": alert.instruction,
            "effective": alert.effective,
            "expires": alert.expires,
        }
        proposed.append(_propose(session, community, values, f"incoming-alert-{alert.id}"))
    return proposed
