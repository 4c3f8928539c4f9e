"""Open311 services (GeoReport v2 ``GET services``, ``GET services/{code}``, ``GET discovery``):
one service per active report category, the questions each asks, the service level each
severity promises, and the jurisdictions requests are limited to.

    services(session)                          one service per active category
    definition(session, "fire_hazard")         its attributes (NotFound when unknown)
    jurisdiction_path(session, street_code)    the grid path of a street; None for every street
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.config import get_settings
from renxing.errors import FieldError, NotFound
from renxing.events.models import EventCategory, SeverityDeadline
from renxing.grid.models import GridUnit, Level
from renxing.i18n import _, _l, localized, ngettext

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-03T00:00:00+08:00"  # when this API last changed, for discovery


# Synonyms that help people find the seeded categories (Open311 "keywords").
KEYWORDS = {
    "fire_hazard": "消防, 堆物, 消防通道, 飞线充电, 电动车, blocked exit",
    "waterlogging": "积水, 内涝, 下水道, 排水, flooding, drain",
    "building_danger": "危房, 裂缝, 墙体, 阳台, crack, unsafe building",
    "gas": "燃气, 煤气, 漏气, gas leak",
    "electrical": "电线, 漏电, 配电箱, wiring, power",
    "falling_objects": "高空抛物, 空调外机, 花盆, balcony",
    "public_health": "传染病, 鼠害, 蚊虫, disease, pests",
    "security": "盗窃, 可疑人员, 门禁, theft, suspicious person",
    "dispute": "纠纷, 邻里, 噪音, 漏水, neighbour, noise",
    "needs_help": "求助, 独居老人, 残疾, 帮扶, elderly, disabled",
    "sanitation": "垃圾, 清运, 卫生, garbage, litter",
    "damaged_facility": "路灯, 电梯, 井盖, streetlight, lift, manhole",
}


GROUPS_EN = {"安全": "safety", "民生": "welfare", "环境": "environment", "其他": "other"}


SAFETY_GROUP = "安全"


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist
    required: bool
    order: int
    description: str
    values: tuple[tuple[str, Any], ...] = ()  # (key, label: text or a lazy label)
    variable: bool = True
    datatype_description: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": self.order,
            "description": self.description,
            "values": [{"key": k, "name": str(n)} for k, n in self.values],
        }


YES_NO = (("yes", _l("有")), ("no", _l("没有")), ("unknown", _l("不清楚")))


CONSENT = (("no", _l("不公开")), ("yes", _l("愿意公开（隐去个人信息后）")))


WHO_NEEDS_HELP = (
    ("elderly", _l("老人")),
    ("disabled", _l("残疾人")),
    ("ill", _l("病人")),
    ("child", _l("儿童")),
    ("other", _l("其他")),
)


def attributes_for(category: EventCategory, severities: list[SeverityDeadline]) -> list[Attribute]:
    """The questions asked for a category. Safety problems must say whether anyone is hurt;
    every category that may be public asks whether the reporter agrees to publication;
    the answers are kept on the report for the handler (severity stays the category's, staff grade it)."""
    safety = category.group_name == SAFETY_GROUP
    attrs = [
        Attribute("injured", "singlevaluelist", safety, 1, _("有人受伤吗？"), YES_NO),
        Attribute(
            "severity_hint",
            "singlevaluelist",
            False,
            2,
            _("看起来有多紧急？（供处置人员参考）"),
            tuple((s.severity, localized(s.label_zh, s.label_en)) for s in severities),
        ),
    ]
    if category.code == "needs_help":
        attrs.append(Attribute("who_needs_help", "singlevaluelist", False, 3, _("需要帮助的是谁？"), WHO_NEEDS_HELP))
    if not category.private:  # a private category is never public: nothing to agree to
        attrs.append(
            Attribute(
                "public_consent",
                "singlevaluelist",
                False,
                len(attrs) + 1,
                _("公众可以看到这条上报吗？工作人员审核后公开，电话、门牌和姓名不会公开"),
                CONSENT,
            )
        )
    if safety:
        attrs.append(
            Attribute(
                "emergency",
                "string",
                False,
                len(attrs) + 1,
                _("危及生命、正在起火或漏气时，请先拨打 119"),
                variable=False,
            )
        )
    return attrs


def severities(session: Session) -> list[SeverityDeadline]:
    """The severities, most urgent first (the answers of the severity hint)."""
    return list(session.scalars(select(SeverityDeadline).order_by(SeverityDeadline.rank)))


def _keywords(c: EventCategory) -> str:
    words = [c.name_zh, c.name_en.lower()]
    words += [w.strip() for w in KEYWORDS.get(c.code, "").split(",") if w.strip()]
    if c.group_name:
        words += [c.group_name, GROUPS_EN.get(c.group_name, "")]
    return ", ".join(dict.fromkeys(w for w in words if w))


def services(session: Session) -> list[dict[str, Any]]:
    """GET services: one per active category, the name in Chinese, the description in both."""
    cats = session.scalars(
        select(EventCategory).where(EventCategory.active.is_(True)).order_by(EventCategory.sort_order, EventCategory.id)
    )
    out = []
    for c in cats:
        description = f"{c.name_zh} / {c.name_en}"
        if c.description:
            description += f"：{c.description}"
        out.append(
            {
                "service_code": c.code,
                "service_name": c.name_zh,
                "description": description,
                "metadata": True,  # every category asks at least the optional severity hint
                "type": "realtime",
                "keywords": _keywords(c),
                "group": c.group_name or "其他",
            }
        )
    return out


def active_category(session: Session, code: str | None) -> EventCategory | None:
    """The category a service code names, if it is active."""
    if not code:
        return None
    return session.scalar(select(EventCategory).where(EventCategory.code == code, EventCategory.active.is_(True)))


def definition(session: Session, code: str) -> dict[str, Any]:
    """GET services/{service_code}: the attributes of one service."""
    cat = active_category(session, code)
    if cat is None:
        raise NotFound(_("服务 {code} 不存在").format(code=code), [FieldError("service_code", "not found", None, code)])
    return {
        "service_code": cat.code,
        "attributes": [a.as_dict() for a in attributes_for(cat, severities(session))],
    }


def jurisdiction_path(session: Session, jurisdiction_id: str | None) -> str | None:
    """The grid path requests are limited to: a street's code gives its subtree; the configured
    installation-wide value, or none given, means every street. Unknown → NotFound."""
    if not jurisdiction_id:
        return None
    if jurisdiction_id == get_settings().open311_jurisdiction:
        return None
    street = session.scalar(
        select(GridUnit).where(GridUnit.code == jurisdiction_id, GridUnit.level == Level.street.value)
    )
    if street is None:
        raise NotFound(
            _("jurisdiction_id {jurisdiction_id} 不存在").format(jurisdiction_id=jurisdiction_id),
            [FieldError("jurisdiction_id", "not found", None, jurisdiction_id)],
        )
    return street.path


def _span(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("{n}天", "{n}天", days).format(n=days)
    if minutes % 60 == 0:
        return _("{n}小时").format(n=minutes // 60)
    return _("{n}分钟").format(n=minutes)


def notice(sev: SeverityDeadline | None) -> str | None:
    """What the platform promises for a severity: accept, be on site, resolve within …"""
    if sev is None:
        return None
    a, o, r = (_span(m) for m in (sev.accept_minutes, sev.on_site_minutes, sev.resolve_minutes))
    return _("{severity}：{accept}内受理，{on_site}内到场，{resolve}内办结").format(
        severity=localized(sev.label_zh, sev.label_en), accept=a, on_site=o, resolve=r
    )


def discovery(base_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": _("请联系所在街道的平台管理员"),
        "key_service": _("API 密钥由系统管理员签发"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{base_url.rstrip('/')}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
