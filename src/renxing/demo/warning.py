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

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import shapely
from lxml import etree
from shapely.geometry import Polygon

from renxing.demo import geo
from renxing.warning.cap_schema import NS

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
