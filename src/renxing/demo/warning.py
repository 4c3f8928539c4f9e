"""Demo early warning of the flagship (桂花园): the rainstorm of the last hours, warned twice.

- **In**: an orange rainstorm warning (暴雨橙色预警) from the city's meteorological observatory,
  as China's national early-warning release centre (国家预警信息发布中心, 12379) distributes them:
  CAP 1.2 with a zh-CN and an en-US ``info``, an event code, the signal's defence guidelines, a
  polygon round the district's part that holds the street ("lat,lon") and the district's
  administrative code. Built here with lxml, valid against the CAP schema, and received through
  the incoming service, which matches it to the street's communities.
- **Out**: the flagship's secretary composes an orange warning for the low courtyards the gauges
  watch, the street administrator approves it (orange needs a second person), it is sent (frozen
  CAP, one target per household inside the area) and dispatched on the log channel. Households
  acknowledge by the link of their message, most within the first half hour; grid workers record
  door knocks at vulnerable households; at the orange deadline the unreached climb one rung of
  the responsibility chain, and a few more are reached after it.

Times are counted back from ``until`` (the build's moment by default), so the same seed and
``until`` give the same rows.
"""

import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import shapely
from lxml import etree
from shapely.geometry import Polygon, mapping, shape
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User
from renxing.auth.principal import SYSTEM, Principal
from renxing.auth.service import principal_for
from renxing.config import get_settings
from renxing.db import transaction, utcnow
from renxing.demo import geo
from renxing.demo import sensors as demo_sensors
from renxing.grid.models import Duty, GridUnit, Level, Responsibility
from renxing.grid.scope import path_ids
from renxing.i18n import bilingual
from renxing.sensors.models import SensorDevice, SensorTrigger
from renxing.warning import acks, approving, climbing, composing, dispatch, incoming, tokens
from renxing.warning.cap_schema import NS
from renxing.warning.models import WarningClimb, WarningMessage, WarningStatus, WarningTarget
from renxing.warning.schemas import WarningIn, WarningPatch

TZ = ZoneInfo("Asia/Shanghai")
OBSERVATORY = "南京市气象台"
OBSERVATORY_EN = "Nanjing Meteorological Observatory"
OBSERVATORY_CODE = "32010041600000"  # the issuer's code at the release centre, the identifier's prefix
DISTRICT_CODE = "320106"  # 鼓楼区 in GB/T 2260
RAINSTORM_EVENT_CODE = "11B03"  # 暴雨 in the release centre's classification of events
ALERT_BEFORE = timedelta(hours=3, minutes=30)  # the observatory warned before the rain began
ALERT_LASTS = timedelta(hours=24)

# The defence guidelines of the orange rainstorm signal (暴雨橙色预警信号防御指南).
GUIDELINES_ZH = (
    "1. 政府及相关部门按照职责做好防暴雨应急工作；"
    "2. 切断有危险的室外电源，暂停户外作业；"
    "3. 处于危险地带的单位应当停课、停业，采取专门措施保护已到校学生、幼儿和其他上班人员的安全；"
    "4. 做好城市、农田的排涝，注意防范可能引发的山洪、滑坡、泥石流等灾害。"
)
GUIDELINES_EN = (
    "1. Government and departments concerned take emergency measures against the rainstorm as "
    "their duties require; 2. cut off dangerous outdoor power supplies and suspend outdoor work; "
    "3. units in dangerous places suspend classes and business and protect the pupils, children "
    "and staff already there; 4. drain the city and the farmland, and guard against flash floods, "
    "landslides and debris flows."
)


def _time(at: datetime) -> str:
    """CAP's dateTime: local time with its offset, no fractions."""
    return at.astimezone(TZ).replace(microsecond=0).isoformat()


def alert_area(street_outline: Polygon, margin_m: float = 400.0) -> Polygon:
    """A rough polygon round the street, as an issuer draws one (WGS-84): the outline grown by
    ``margin_m`` with cut corners."""
    scale = (geo.M_PER_DEG_LON, geo.M_PER_DEG_LAT)
    origin = (geo.ORIGIN_LON, geo.ORIGIN_LAT)
    local = shapely.transform(street_outline, lambda a: (a - origin) * scale)
    grown = local.envelope.buffer(margin_m, quad_segs=1)  # an octagon
    return shapely.set_precision(shapely.transform(grown, lambda a: a / scale + origin), 1e-5)


def cap_polygon(area: Polygon) -> str:
    """CAP's polygon: "lat,lon" pairs apart by spaces, the first repeated last."""
    coords = list(area.exterior.coords)
    if coords[0] != coords[-1]:
        coords.append(coords[0])
    return " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in coords)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _pair(parent: etree._Element, tag: str, name: str, value: str) -> None:
    element = _sub(parent, tag)
    _sub(element, "valueName", name)
    _sub(element, "value", value)


def _info(alert: etree._Element, lang: str, texts: dict[str, str], times: dict[str, str], polygon: str) -> None:
    info = _sub(alert, "info")
    _sub(info, "language", lang)
    _sub(info, "category", "Met")
    _sub(info, "event", texts["event"])
    _sub(info, "responseType", "Prepare")
    for tag, value in (("urgency", "Expected"), ("severity", "Severe"), ("certainty", "Likely")):
        _sub(info, tag, value)
    _pair(info, "eventCode", "国家预警信息发布中心事件类型", RAINSTORM_EVENT_CODE)
    for tag in ("effective", "onset", "expires"):
        _sub(info, tag, times[tag])
    for tag in ("senderName", "headline", "description", "instruction"):
        _sub(info, tag, texts[tag])
    _sub(info, "web", "http://www.12379.cn/")
    _sub(info, "contact", "12121")
    _pair(info, "parameter", "预警信号", texts["signal"])
    area = _sub(info, "area")
    _sub(area, "areaDesc", texts["areaDesc"])
    _sub(area, "polygon", polygon)
    _pair(area, "geocode", "行政区划代码", DISTRICT_CODE)


def rainstorm_alert(street_outline: Polygon, now: datetime) -> bytes:
    """The observatory's orange rainstorm warning, sent ``ALERT_BEFORE`` ``now``, as CAP 1.2 bytes."""
    sent = (now - ALERT_BEFORE).astimezone(TZ).replace(second=0, microsecond=0)
    onset = sent + timedelta(minutes=30)
    times = {"effective": _time(sent), "onset": _time(onset), "expires": _time(sent + ALERT_LASTS)}
    polygon = cap_polygon(alert_area(street_outline))
    alert = etree.Element(f"{{{NS}}}alert", nsmap={None: NS})
    _sub(alert, "identifier", f"{OBSERVATORY_CODE}_{sent:%Y%m%d%H%M%S}")
    _sub(alert, "sender", OBSERVATORY)
    _sub(alert, "sent", _time(sent))
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", "Alert")
    _sub(alert, "scope", "Public")
    _sub(alert, "note", "暴雨橙色预警信号")
    when = f"{sent:%Y年%m月%d日%H时%M分}"
    zh = {
        "event": "暴雨",
        "senderName": OBSERVATORY,
        "headline": "南京市气象台发布暴雨橙色预警信号",
        "description": (
            f"{OBSERVATORY}{when}发布暴雨橙色预警信号：受强降水云团影响，预计未来3小时内鼓楼区、玄武区、"
            "秦淮区等地将出现50毫米以上降水，局部可达80毫米，并伴有雷电和短时大风，城市低洼地带可能出现严重积水，"
            "请注意防范。"
        ),
        "instruction": GUIDELINES_ZH,
        "signal": "暴雨橙色",
        "areaDesc": "南京市鼓楼区",
    }
    en = {
        "event": "Rainstorm",
        "senderName": OBSERVATORY_EN,
        "headline": "Nanjing Meteorological Observatory issues an orange rainstorm warning",
        "description": (
            f"{OBSERVATORY_EN} issued an orange rainstorm warning at {sent:%H:%M} on {sent:%Y-%m-%d}: under a "
            "band of heavy rain, more than 50 mm of rain is expected within 3 hours in Gulou, Xuanwu and "
            "Qinhuai districts, locally up to 80 mm, with thunder and squalls; low-lying parts of the city "
            "may be badly waterlogged."
        ),
        "instruction": GUIDELINES_EN,
        "signal": "Rainstorm orange",
        "areaDesc": "Gulou District, Nanjing",
    }
    _info(alert, "zh-CN", zh, times, polygon)
    _info(alert, "en-US", en, times, polygon)
    return etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# ---- the story -----------------------------------------------------------------------------------

SENT_BEFORE = timedelta(minutes=50)  # the warning went out this long before ``until``: one climb since
SUBMITTED_BEFORE_SENT = timedelta(minutes=8)  # the street administrator took this long to approve
# What became of the households, in shares of all targeted (the rest are still unreached at ``until``):
# tapped the link in the first half hour, most in the first ten minutes; tapped it later; a door
# knock at a vulnerable household before the deadline; a call or a knock after the climb.
FATES = (("link", 0.62), ("late_link", 0.07), ("door", 0.09), ("after_climb", 0.09))
DOOR_NOTES = (
    "上门告知，老人已知晓",
    "上门告知，家属在家照看",
    "上门告知，已协助转移至亲友家",
    "上门告知，已提醒把电器移至高处",
)
CALL_NOTES = ("电话联系，本人已知晓", "电话联系，家属已转告", "上门敲门，已当面告知", "电话联系，住户不在家，已知晓")


@dataclass
class WarningSummary:
    alert_identifier: str = ""
    matched: int = 0
    warning_id: int | None = None
    households: int = 0
    acknowledged: int = 0
    climbs: int = 0


def _now(until: datetime | None) -> datetime:
    return min(until or utcnow(), utcnow()).replace(second=0, microsecond=0)


def add_warning(engine: Engine, *, seed: int = 2023, until: datetime | None = None) -> WarningSummary:
    """The incoming alert, the flagship's orange warning sent and dispatched, and the households'
    acknowledgements until ``until``. Dispatching sends outside any transaction (a gateway cannot
    roll back), so this step runs after the street is committed, in three transactions of its own."""
    now = _now(until)
    sent = now - SENT_BEFORE
    with transaction(engine) as session:
        community = demo_sensors.flagship(session)
        street = session.scalar(select(GridUnit).where(GridUnit.level == Level.street.value).limit(1))
        if community is None or street is None or not street.geometry:
            return WarningSummary()
        summary = _receive_alert(session, street, now)
        warning_id = _send_warning(session, community, street, sent)
    if warning_id is None:
        return summary
    dispatch.dispatch(engine, now=sent + timedelta(minutes=1), limit=100_000)
    with transaction(engine) as session:
        _acknowledge(session, random.Random(f"{seed}-warning"), warning_id, sent, now)
        warning = session.get(WarningMessage, warning_id)
        assert warning is not None
        summary.warning_id, summary.households, summary.acknowledged = (
            warning_id,
            warning.households,
            warning.acknowledged,
        )
        summary.climbs = session.scalar(
            select(func.count(WarningClimb.id)).where(WarningClimb.warning_id == warning_id)
        )
        audit.record(
            session,
            SYSTEM,
            "import",
            "warning.demo",
            warning_id,
            summary=bilingual(
                "演示预警：{households} 户中 {acknowledged} 户已确认",
                households=warning.households,
                acknowledged=warning.acknowledged,
            ),
            after=summary.__dict__,
        )
    return summary


def _receive_alert(session: Session, street: GridUnit, now: datetime) -> WarningSummary:
    """The observatory's alert, imported by the street's duty officer a few minutes after it came."""
    data = rainstorm_alert(shape(json.loads(street.geometry or "{}")), now)
    officer = demo_sensors.account(session, "street_admin", street) or SYSTEM
    received = incoming.receive(session, officer, data, source="upload", now=now - ALERT_BEFORE + timedelta(minutes=4))
    return WarningSummary(alert_identifier=received.identifier, matched=len(received.communities))


def _proposal(session: Session, community: GridUnit) -> tuple[WarningMessage | None, SensorTrigger | None]:
    """The draft the gauge's orange trigger proposed, and that trigger."""
    trigger = session.scalar(
        select(SensorTrigger)
        .where(SensorTrigger.level == "orange", SensorTrigger.path.startswith(community.path))
        .order_by(SensorTrigger.triggered_at)
        .limit(1)
    )
    if trigger is None:
        return None, None
    draft = session.scalar(
        select(WarningMessage).where(
            WarningMessage.trigger_id == trigger.id, WarningMessage.status == WarningStatus.draft.value
        )
    )
    return draft, trigger


def _words(session: Session, community: GridUnit, trigger: SensorTrigger | None, sent: datetime) -> dict:
    where = f"{community.name}低洼庭院"
    reading = ""
    if trigger is not None:
        device = session.get(SensorDevice, trigger.device_id)
        at = trigger.triggered_at.astimezone(TZ)
        name = device.name if device is not None else ""
        reading = f"{at:%H时%M分}，{name}积水深度达 {trigger.value:g} 厘米，超过警戒深度，且仍在上涨。"
    return {
        "level": "orange",
        "event": "暴雨内涝",
        "category": "Met",
        "area_desc": f"{where}（积水区）",
        "headline": f"{where}暴雨内涝橙色预警",
        "description": (
            f"南京市气象台已发布暴雨橙色预警信号，预计未来3小时仍有强降水。{reading}"
            "老旧小区排水管网标准低，低洼庭院一楼住户可能进水。"
        ),
        "instruction": (
            "请一楼住户将贵重物品和电器移至高处、切断室内电源；老人和行动不便者请在楼栋长、网格员协助下"
            "转移至凤栖公园避难场所或亲友家；不要在积水中行走，远离配电箱和下水井盖；车辆请移出低洼庭院。"
            "收到请点击链接确认。"
        ),
        "effective": sent,
        "expires": sent + timedelta(hours=12),
        "channels": ["log"],
    }


def _send_warning(session: Session, community: GridUnit, street: GridUnit, sent: datetime) -> int | None:
    """The secretary takes up the gauge's proposal (or composes one) for the low courtyards and
    sends it; orange, it waits for the street administrator, who approves it at ``sent``."""
    secretary = demo_sensors.account(session, "community_staff", community)
    approver = demo_sensors.account(session, "street_admin", street)
    area = demo_sensors.waterlogging_area(session, community)
    if secretary is None or approver is None or area is None:
        return None
    draft, trigger = _proposal(session, community)
    words = _words(session, community, trigger, sent) | {"polygon": json.loads(json.dumps(mapping(area)))}
    if draft is None:
        draft = composing.compose(session, secretary, WarningIn(unit_id=community.id, **words))
    else:
        draft = composing.edit(session, secretary, draft.id, WarningPatch(**words))
    approving.send(session, secretary, draft.id, now=sent - SUBMITTED_BEFORE_SENT)
    # The yellow proposal of the gauge's fast rise is overtaken by the orange warning: taken back.
    overtaken = session.scalars(
        select(WarningMessage.id).where(
            WarningMessage.trigger_id.is_not(None),
            WarningMessage.status == WarningStatus.draft.value,
            WarningMessage.path.startswith(community.path),
        )
    ).all()
    for other in overtaken:
        approving.withdraw(session, secretary, other)
    return approving.approve(session, approver, draft.id, now=sent).id


# ---- acknowledgements ----------------------------------------------------------------------------


def _quotas(n: int) -> list[int]:
    return [math.floor(share * n + 0.5) for _fate, share in FATES]


def _fates(rng: random.Random, targets: list[WarningTarget]) -> dict[str, list[WarningTarget]]:
    """Households dealt to their fates: door knocks go to the door-to-door ones first."""
    order = list(targets)
    rng.shuffle(order)
    quotas = dict(zip((f for f, _s in FATES), _quotas(len(order)), strict=True))
    knocked = sorted(order, key=lambda t: not t.door_to_door)[: quotas["door"]]
    chosen = {t.id for t in knocked}
    rest = [t for t in order if t.id not in chosen]
    out = {"door": knocked}
    start = 0
    for fate in ("link", "late_link", "after_climb"):
        out[fate] = rest[start : start + quotas[fate]]
        start += quotas[fate]
    return out


def _workers(session: Session, targets: list[WarningTarget]) -> dict[int, Principal]:
    """The grid worker of each target's area (the path's fourth id), by area id."""
    areas = {path_ids(t.path)[3] for t in targets if len(path_ids(t.path)) > 3}
    rows = session.execute(
        select(Responsibility.unit_id, User)
        .join(User, User.id == Responsibility.user_id)
        .where(
            Responsibility.duty == Duty.grid_worker.value,
            Responsibility.unit_id.in_(areas),
            Responsibility.end_date.is_(None),
            User.is_active.is_(True),
        )
        .order_by(Responsibility.unit_id, User.id)
    ).all()
    out: dict[int, Principal] = {}
    for area_id, user in rows:
        out.setdefault(area_id, principal_for(session, user))
    return out


def _acknowledge(session: Session, rng: random.Random, warning_id: int, sent: datetime, now: datetime) -> None:
    """Play the first ``now - sent`` of the warning in time order: taps on the links, door knocks,
    the climb at the orange deadline, then calls and knocks after it."""
    targets = list(
        session.scalars(select(WarningTarget).where(WarningTarget.warning_id == warning_id).order_by(WarningTarget.id))
    )
    warning = session.get(WarningMessage, warning_id)
    if not targets or warning is None or warning.next_climb_at is None:
        return
    deadline = warning.next_climb_at
    span = (now - sent) / timedelta(minutes=1)
    before = (deadline - sent) / timedelta(minutes=1)
    fates = _fates(rng, targets)
    workers = _workers(session, targets)
    secret = get_settings().secret_key
    steps: list[tuple[datetime, int, str, WarningTarget | None]] = [(deadline, 0, "climb", None)]
    for t in fates["link"]:  # most in the first minutes, nearly all before the deadline
        steps.append(
            (sent + timedelta(minutes=min(before - 0.5, 0.5 + before * rng.betavariate(1.1, 4.0))), 1, "link", t)
        )
    for t in fates["late_link"]:
        steps.append((sent + timedelta(minutes=rng.uniform(before + 1, span - 1)), 1, "link", t))
    for t in fates["door"]:
        steps.append((sent + timedelta(minutes=rng.uniform(6, before - 1)), 1, "door", t))
    for t in fates["after_climb"]:
        steps.append((sent + timedelta(minutes=rng.uniform(before + 2, span - 1)), 1, "call", t))
    for at, _order, how, target in sorted(steps, key=lambda s: (s[0], s[1], s[3].id if s[3] else 0)):
        at = at.replace(microsecond=0)
        if at > now:
            break
        if target is None:
            climbing.climb(session, at)
        elif how == "link":
            acks.acknowledge_link(session, tokens.make(secret, warning_id, target.id), at)
        else:
            worker = workers.get(path_ids(target.path)[3]) if len(path_ids(target.path)) > 3 else None
            if worker is None:
                continue  # no account for this area: the household stays unreached
            notes = DOOR_NOTES if how == "door" else CALL_NOTES
            kind = how if how == "door" else rng.choice(("call", "call", "door"))
            acks.record(session, worker, warning_id, target.id, how=kind, note=rng.choice(notes), now=at)
