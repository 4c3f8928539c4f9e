"""Open311 GeoReport v2 over the closed loop: services, their definitions, intake and reading.

The HTTP side (formats, status codes, the spec's error bodies) is :mod:`renxing.events.open311`;
this module speaks in plain data and raises the house errors, each :class:`FieldError`
naming the Open311 parameter at fault (``service_code``, ``lat``, ``attribute[injured]`` …).

    services(session)                          one service per active category
    definition(session, "fire_hazard")         its attributes (NotFound when unknown)
    submit(session, "city-app", RequestIn(…))  a report through :func:`service.submit_report`
    search(session, within=…, ids=…, codes=…, start=…, end=…, statuses=…)   public reports only
    present(session, reports)                  what anyone may read of them (events.publication)

A request posted here goes the way of every other report (placing, routing, deadlines,
notifications), as the system principal tagged with the API key's name. Status: the open
states are ``open``; resolved, closed, rejected and merged are ``closed``.

Reading is public (no key): only reports whose reporter agreed (the ``public_consent``
attribute every public service asks, or a ``public_consent`` field) and whose category is
not private are found, and only what :func:`renxing.events.publication.public_views`
allows is shown — no reporter, no flat, no exact point, no text but the one staff published.
"""

import dataclasses
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.principal import SYSTEM
from renxing.bounds import YEAR_MESSAGE, valid_id, valid_year
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import Collector, FieldError, Invalid, NotFound
from renxing.events import publication, service
from renxing.events.models import EventCategory, Report, SeverityDeadline
from renxing.events.policy import OPEN_STATES, Channel, State
from renxing.geo.outlines import LEVEL_DEPTH
from renxing.grid.models import Building, GridUnit, Level
from renxing.grid.scope import subtree_clause

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-03T00:00:00+08:00"  # when this API last changed, for discovery
MAX_REQUESTS = 1000
MAX_DAYS = 90
MAX_TEXT = 120  # device_id, account_id
MAX_MEDIA_URL = 500

OPEN = "open"
CLOSED = "closed"
CLOSED_STATES = frozenset(State) - OPEN_STATES

# The report fields submit_report names, as the Open311 parameters a client sent.
PARAMS = {
    "category": "service_code",
    "description": "description",
    "lat": "lat",
    "long": "long",
    "place": "lat",
    "unit_id": "address_string",
    "address": "address_string",
    "reporter_name": "first_name",
    "reporter_phone": "phone",
    "reporter_email": "email",
    "attributes": "attribute",
    "photos": "media",
}

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


# ---- services and their definitions ------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist
    required: bool
    order: int
    description: str
    values: tuple[tuple[str, str], ...] = ()
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
            "values": [{"key": k, "name": n} for k, n in self.values],
        }


YES_NO = (("yes", "有 / yes"), ("no", "没有 / no"), ("unknown", "不清楚 / don't know"))
CONSENT = (("no", "不公开 / keep it private"), ("yes", "愿意公开（隐去个人信息后）/ yes, without personal details"))
WHO_NEEDS_HELP = (
    ("elderly", "老人 / an older person"),
    ("disabled", "残疾人 / a person with a disability"),
    ("ill", "病人 / a sick person"),
    ("child", "儿童 / a child"),
    ("other", "其他 / someone else"),
)


def attributes_for(category: EventCategory, severities: list[SeverityDeadline]) -> list[Attribute]:
    """The questions asked for a category. Safety problems must say whether anyone is hurt;
    every category that may be public asks whether the reporter agrees to publication;
    the answers are kept on the report for the handler (severity stays the category's, staff grade it)."""
    safety = category.group_name == SAFETY_GROUP
    attrs = [
        Attribute("injured", "singlevaluelist", safety, 1, "有人受伤吗？/ Is anyone injured?", YES_NO),
        Attribute(
            "severity_hint",
            "singlevaluelist",
            False,
            2,
            "看起来有多紧急？（供处置人员参考）/ How urgent does it look? (a hint for the handler)",
            tuple((s.severity, f"{s.label_zh} / {s.label_en}") for s in severities),
        ),
    ]
    if category.code == "needs_help":
        attrs.append(
            Attribute(
                "who_needs_help", "singlevaluelist", False, 3, "需要帮助的是谁？/ Who needs help?", WHO_NEEDS_HELP
            )
        )
    if not category.private:  # a private category is never public: nothing to agree to
        attrs.append(
            Attribute(
                "public_consent",
                "singlevaluelist",
                False,
                len(attrs) + 1,
                "公众可以看到这条上报吗？工作人员审核后公开，电话、门牌和姓名不会公开 / "
                "May the public see this report? Staff review it first; phones, flats and names are never shown",
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
                "危及生命、正在起火或漏气时，请先拨打 119 / 110 / 120 / "
                "if lives are at risk, a fire is burning or gas is leaking, call 119, 110 or 120 first",
                variable=False,
            )
        )
    return attrs


def _severities(session: Session) -> list[SeverityDeadline]:
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


def _active_category(session: Session, code: str | None) -> EventCategory | None:
    if not code:
        return None
    return session.scalar(select(EventCategory).where(EventCategory.code == code, EventCategory.active.is_(True)))


def definition(session: Session, code: str) -> dict[str, Any]:
    """GET services/{service_code}: the attributes of one service."""
    cat = _active_category(session, code)
    if cat is None:
        raise NotFound(
            f"服务不存在 / service_code {code} not found", [FieldError("service_code", "not found", None, code)]
        )
    return {
        "service_code": cat.code,
        "attributes": [a.as_dict() for a in attributes_for(cat, _severities(session))],
    }


# ---- jurisdictions -----------------------------------------------------------------------


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
            f"jurisdiction_id 不存在 / jurisdiction_id {jurisdiction_id} not found",
            [FieldError("jurisdiction_id", "not found", None, jurisdiction_id)],
        )
    return street.path


# ---- parsing -----------------------------------------------------------------------------

ID = re.compile(r"^[0-9]{1,18}$")


def is_id(text: str) -> bool:
    """Digits within the range of an id (beyond it no report exists, and PostgreSQL would refuse it)."""
    return bool(ID.match(text)) and valid_id(int(text))


W3C = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")


def parse_w3c(value: str, param: str) -> datetime:
    """A W3C date-time with its zone (``2025-03-01T08:00:00+08:00``, ``…Z``), or a date taken
    as local midnight. A '+' that arrived unencoded in a query string is a space: put it back."""
    text = value.strip()
    if re.search(r"T.* \d{2}:\d{2}$", text):
        text = text[:-6] + "+" + text[-5:]
    if not W3C.match(text):
        raise Invalid(
            f"{param} 须为带时区的 W3C 时间 / {param} must be a W3C date-time with its zone, "
            "e.g. 2025-03-01T00:00:00+08:00",
            [FieldError(param, "not a W3C date-time", None, value)],
        )
    try:
        if "T" not in text:
            day = datetime.fromisoformat(text).date()
            parsed = datetime.combine(day, time(), ZoneInfo(get_settings().timezone))
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(
            f"{param} 不是有效时间 / {param} is not a valid date-time", [FieldError(param, str(exc), None, value)]
        ) from exc
    # Year 1 or 9999 would overflow when converted to UTC for the query.
    if not valid_year(parsed):
        raise Invalid(f"{param}: {YEAR_MESSAGE}", [FieldError(param, YEAR_MESSAGE, None, value)])
    return parsed


def _number(value: str | None, param: str, low: float, high: float, errors: Collector) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        errors.add(
            param,
            f"{param} 须为 {low:g} 到 {high:g} 之间的数 / {param} must be a number in [{low:g}, {high:g}]",
            value=value,
        )
        return None
    return number


def _name(first: str | None, last: str | None) -> str | None:
    """Family name first for Chinese names (张 + 三 → 张三), given name first for Latin ones."""
    first, last = (first or "").strip(), (last or "").strip()
    if not first or not last:
        return first or last or None
    if (first + last).isascii():
        return f"{first} {last}"
    return f"{last}{first}"


def check_attributes(
    attrs: list[Attribute], given: dict[str, list[str]], errors: Collector
) -> dict[str, str | list[str]]:
    """The answers to the definition's questions: required ones present, values from the list."""
    by_code = {a.code: a for a in attrs}
    out: dict[str, str | list[str]] = {}
    for code, raw in given.items():
        param = f"attribute[{code}]"
        attr = by_code.get(code)
        if attr is None:
            errors.add(param, "此服务没有该属性 / no such attribute for this service", value=code)
            continue
        values = [v.strip() for v in raw if v.strip()]
        if not attr.variable or not values:
            continue
        keys = [k for k, _ in attr.values]
        if attr.datatype == "multivaluelist":
            bad = [v for v in values if v not in keys]
            if bad:
                errors.add(param, f"取值应为 / one of {', '.join(keys)}", value=",".join(bad))
            else:
                out[code] = values
            continue
        if len(values) > 1:
            errors.add(param, "只能有一个值 / a single value is expected", value=",".join(values))
            continue
        value = values[0]
        if attr.datatype == "singlevaluelist":
            ok = value in keys
            if not ok:
                errors.add(param, f"取值应为 / one of {', '.join(keys)}", value=value)
        elif attr.datatype == "number":
            ok = _number(value, param, -1e15, 1e15, errors) is not None
        elif attr.datatype == "datetime":
            try:
                ok = parse_w3c(value, param) is not None
            except Invalid as exc:
                errors.errors.extend(exc.errors)
                ok = False
        else:
            ok = len(value) <= 1000
            if not ok:
                errors.add(param, "过长 / too long (at most 1000 characters)")
        if ok:
            out[code] = value
    for attr in attrs:
        if attr.variable and attr.required and not any(v.strip() for v in given.get(attr.code, [])):
            errors.add(f"attribute[{attr.code}]", f"必填 / required: {attr.description}")
    return out


# ---- the place of an address -------------------------------------------------------------

_PUNCT = re.compile(r"[\s,，、;；:：.。·\-—_/()（）]+")


def _norm(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation: 'ＸＸ路 12 号' → 'xx路12号'."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


def _occurs(needle: str, hay: str) -> bool:
    """``needle`` in ``hay``, not glued to other digits ('1栋' is not in '11栋')."""
    if not needle:
        return False
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        before_ok = start == 0 or not (hay[start - 1].isdigit() and needle[0].isdigit())
        after_ok = end == len(hay) or not (hay[end].isdigit() and needle[-1].isdigit())
        if before_ok and after_ok:
            return True
        start = hay.find(needle, start + 1)
    return False


def resolve_address(session: Session, address: str, within: str | None) -> GridUnit:
    """The unit an ``address_string`` names, inside the jurisdiction: a building whose address
    it contains (the longest wins), else the deepest unit named, consistent with the community,
    compound and area also named ('阳光社区一苑1栋'). Nothing or several → Invalid."""
    query = _norm(address)
    units_stmt = select(GridUnit).where(GridUnit.level != Level.street.value)
    addr_stmt = select(Building.id, Building.address).where(Building.address.is_not(None))
    if within is not None:
        units_stmt = units_stmt.where(subtree_clause(GridUnit.path, within))
        addr_stmt = addr_stmt.join(GridUnit, GridUnit.id == Building.id).where(subtree_clause(GridUnit.path, within))
    units = {u.id: u for u in session.scalars(units_stmt)}

    def ambiguous(found: list[GridUnit]) -> Invalid:
        names = "、".join(sorted({u.name for u in found}))[:80]
        msg = (
            f"地址对应多处（{names}），请写明社区或小区 / "
            "address_string matches several places; name the community or compound"
        )
        return Invalid(msg, [FieldError("address_string", msg, None, address)])

    by_address: dict[str, list[int]] = {}
    for bid, text in session.execute(addr_stmt):
        norm = _norm(text or "")
        if bid in units and _occurs(norm, query):
            by_address.setdefault(norm, []).append(bid)
    if by_address:
        best = by_address[max(by_address, key=len)]
        if len(best) == 1:
            return units[best[0]]
        raise ambiguous([units[i] for i in best])

    named = [u for u in units.values() if _occurs(_norm(u.name), query)]
    # A community, compound or area the address names narrows what lies below it.
    for level in (Level.community, Level.compound, Level.area):
        depth = LEVEL_DEPTH[level.value]
        parents = [u.path for u in named if u.level == level.value]
        if parents:
            named = [
                u for u in named if LEVEL_DEPTH.get(u.level, 0) <= depth or any(u.path.startswith(p) for p in parents)
            ]
    if not named:
        msg = "未找到该地址对应的楼栋或网格 / no building or grid unit matches address_string"
        raise Invalid(msg, [FieldError("address_string", msg, None, address)])
    deepest = max(LEVEL_DEPTH.get(u.level, 0) for u in named)
    found = [u for u in named if LEVEL_DEPTH.get(u.level, 0) == deepest]
    if len(found) > 1:
        raise ambiguous(found)
    return found[0]


# ---- intake ------------------------------------------------------------------------------


@dataclass
class RequestIn:
    """The parameters of POST requests, as received (empty values already dropped)."""

    service_code: str | None = None
    jurisdiction_id: str | None = None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = None
    media_url: str | None = None
    public_consent: str | None = None  # our extension: "true" when the reporter agreed to publication
    attributes: dict[str, list[str]] = field(default_factory=dict)


def _renamed(exc: Invalid, data: RequestIn) -> Invalid:
    """The service's errors named by the Open311 parameters the client sent."""
    errors = []
    for e in exc.errors:
        param = PARAMS.get(e.field, e.field)
        if param == "first_name" and not data.first_name:
            param = "last_name"
        if param == "address_string" and not data.address_string and data.address_id:
            param = "address_id"
        errors.append(dataclasses.replace(e, field=param))
    return Invalid(exc.message, errors)


TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})


def submit(
    session: Session, client: str, data: RequestIn, *, photos: list[bytes] | None = None, now: datetime | None = None
) -> Report:
    """POST requests: check the Open311 parameters, then the common intake pipeline.
    ``client`` is the API key's name: the report records it, the audit trail names it.
    ``photos`` are the files sent as ``media``; they go through the same checks and cleaning
    as every photo (:mod:`renxing.events.media`, by way of ``submit_report``)."""
    within = jurisdiction_path(session, data.jurisdiction_id)
    if not data.service_code:
        msg = "service_code 必填 / service_code is required"
        raise Invalid(msg, [FieldError("service_code", msg)])
    cat = _active_category(session, data.service_code)
    if cat is None:
        msg = f"未知的服务 / unknown service_code {data.service_code}"
        raise Invalid(msg, [FieldError("service_code", msg, None, data.service_code)])
    errors = Collector()
    answers = check_attributes(attributes_for(cat, _severities(session)), data.attributes, errors)
    lat = _number(data.lat, "lat", -90, 90, errors)
    lon = _number(data.long, "long", -180, 180, errors)
    if (data.lat is None) != (data.long is None):
        missing = "long" if data.long is None else "lat"
        errors.add(missing, "lat 与 long 须同时提供 / lat and long go together")
    unit_id = None
    if data.lat is None and data.long is None:
        if data.address_string:
            try:
                unit_id = resolve_address(session, data.address_string, within).id
            except Invalid as exc:
                errors.errors.extend(exc.errors)
        elif data.address_id:
            unit = session.scalar(
                select(GridUnit).where(GridUnit.code == data.address_id, GridUnit.level != Level.street.value)
            )
            if unit is None or (within is not None and not unit.path.startswith(within)):
                errors.add("address_id", "address_id 不存在 / unknown address_id", value=data.address_id)
            else:
                unit_id = unit.id
        else:
            errors.add("lat", "须提供 lat 和 long，或 address_string / lat & long or address_string is required")
    elif lat is not None and lon is not None and within is not None:
        hit = service.geo_index(session).locate(lon, lat, nearest_m=service.NEAREST_BUILDING_M)
        if hit is not None and not hit.path.startswith(within):
            errors.add("lat", "该位置不在此辖区内 / the point lies outside the jurisdiction", value=data.lat)
    if data.media_url and (
        not re.match(r"^https?://[^\s/]+\S*$", data.media_url, re.IGNORECASE) or len(data.media_url) > MAX_MEDIA_URL
    ):
        errors.add("media_url", "须为 http(s) 链接 / media_url must be an http(s) URL", value=data.media_url[:100])
    for param in ("device_id", "account_id"):
        if len(getattr(data, param) or "") > MAX_TEXT:
            errors.add(param, f"过长 / too long (at most {MAX_TEXT} characters)")
    consent = (data.public_consent or "false").strip().lower()
    if consent not in TRUE | FALSE:
        errors.add("public_consent", "应为 true 或 false / must be true or false", value=data.public_consent)
    errors.raise_if_any()
    agreed = consent in TRUE or answers.pop("public_consent", None) == "yes"

    extras = {"media_url": data.media_url, "device_id": data.device_id, "account_id": data.account_id}
    description = (data.description or "").strip() or f"{cat.name_zh}（未附描述）/ {cat.name_en} (no description given)"
    fields = {
        "category": cat.code,
        "description": description,
        "lat": lat,
        "long": lon,
        "unit_id": unit_id,
        "address": data.address_string,
        "reporter_name": _name(data.first_name, data.last_name),
        "reporter_phone": data.phone,
        "reporter_email": data.email,
        "attributes": {**answers, **{k: v for k, v in extras.items() if v}} or None,
        "external_ref": f"open311:{client}",
        "public_consent": agreed,
    }
    # The system acts, under the key's name, so the audit trail tells which client it was.
    actor = dataclasses.replace(SYSTEM, username=f"open311:{client}"[:60], display_name=f"Open311 {client}")
    try:
        return service.submit_report(session, actor, fields, channel=Channel.open311, photos=photos or (), now=now)
    except Invalid as exc:
        raise _renamed(exc, data) from exc


# ---- reading -----------------------------------------------------------------------------


def _visible(within: str | None):
    """Public reports only (the one rule of events.publication), within the jurisdiction."""
    stmt = select(Report).where(publication.public_clause())
    return stmt if within is None else stmt.where(subtree_clause(Report.path, within))


def get_request(session: Session, within: str | None, ref: str) -> Report:
    report = session.scalar(_visible(within).where(Report.id == int(ref))) if is_id(ref) else None
    if report is None:
        raise NotFound(
            f"请求不存在 / service request {ref} not found", [FieldError("service_request_id", "not found", None, ref)]
        )
    return report


def by_token(session: Session, within: str | None, token: str) -> Report:
    report = session.scalar(_visible(within).where(Report.token == token))
    if report is None:
        raise NotFound(f"令牌不存在 / token {token} not found", [FieldError("token", "not found", None, token)])
    return report


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def search(
    session: Session,
    *,
    within: str | None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> list[Report]:
    """GET requests: newest first, at most 1000 and at most 90 days (the last 90 by default).
    ``service_request_id`` (a comma list) overrides the other filters, as the spec says."""
    now = now or utcnow()
    stmt = _visible(within)
    ids = _csv(service_request_id)
    if ids:
        bad = [i for i in ids if not is_id(i)]
        if bad:
            msg = "service_request_id 须为数字 / service_request_id must be numbers"
            raise Invalid(msg, [FieldError("service_request_id", msg, None, ",".join(bad))])
        stmt = stmt.where(Report.id.in_({int(i) for i in ids}))
        return list(session.scalars(stmt.order_by(Report.created_at.desc(), Report.id.desc()).limit(MAX_REQUESTS)))
    errors = Collector()
    codes = _csv(service_code)
    if codes:
        known = set(session.scalars(select(EventCategory.code).where(EventCategory.code.in_(codes))))
        for c in codes:
            if c not in known:
                errors.add("service_code", f"未知的服务 / unknown service_code {c}", value=c)
        stmt = stmt.where(Report.category_code.in_(codes))
    statuses = _csv(status)
    states: set[str] = set()
    for s in statuses:
        if s == OPEN:
            states |= {x.value for x in OPEN_STATES}
        elif s == CLOSED:
            states |= {x.value for x in CLOSED_STATES}
        else:
            errors.add("status", "status 应为 open 或 closed / status must be open or closed", value=s)
    if statuses:
        stmt = stmt.where(Report.state.in_(states))
    start = end = None
    for param, value in (("start_date", start_date), ("end_date", end_date)):
        if value:
            try:
                parsed = parse_w3c(value, param)
            except Invalid as exc:
                errors.errors.extend(exc.errors)
                continue
            if param == "start_date":
                start = parsed
            else:
                end = parsed
    errors.raise_if_any()
    span = timedelta(days=MAX_DAYS)
    if start is None and end is None:
        end = now
    if start is None:
        start = end - span  # type: ignore[operator]
    if end is None:
        end = start + span
    if end < start:
        msg = "end_date 早于 start_date / end_date is before start_date"
        raise Invalid(msg, [FieldError("end_date", msg, None, end_date)])
    if end - start > span:
        msg = f"时间跨度不能超过{MAX_DAYS}天 / the range may not span more than {MAX_DAYS} days"
        raise Invalid(
            msg, [FieldError("start_date", msg, None, start_date), FieldError("end_date", msg, None, end_date)]
        )
    stmt = stmt.where(Report.created_at >= start, Report.created_at <= end)
    return list(session.scalars(stmt.order_by(Report.created_at.desc(), Report.id.desc()).limit(MAX_REQUESTS)))


# ---- presentation ------------------------------------------------------------------------


def w3c(value: datetime | None) -> str | None:
    """A W3C date-time in the installation's zone: 2025-03-03T10:00:00+08:00."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(get_settings().timezone)).isoformat(timespec="seconds")


def _span(minutes: int) -> tuple[str, str]:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days}天", f"{days} day{'s' if days > 1 else ''}"
    if minutes % 60 == 0:
        return f"{minutes // 60}小时", f"{minutes // 60} h"
    return f"{minutes}分钟", f"{minutes} min"


def notice(sev: SeverityDeadline | None) -> str | None:
    """What the platform promises for a severity: accept, be on site, resolve within …"""
    if sev is None:
        return None
    (a, a_en), (o, o_en), (r, r_en) = (_span(m) for m in (sev.accept_minutes, sev.on_site_minutes, sev.resolve_minutes))
    return (
        f"{sev.label_zh}：{a}内受理，{o}内到场，{r}内办结 / "
        f"{sev.label_en}: accepted within {a_en}, on site within {o_en}, resolved within {r_en}"
    )


def status_of(report: Report) -> str:
    return OPEN if State(report.state) in OPEN_STATES else CLOSED


def _status_notes(view: dict[str, Any]) -> str:
    """The state in both languages; the notes people wrote (reasons, resolutions) stay inside."""
    zh, en = view["state_label"]
    text = f"{zh} / {en}"
    if view["state"] == State.merged.value and view["merged_into_id"]:
        ref = view["merged_into_id"]
        return f"{text}：与 #{ref} 合并处理 / handled with #{ref}"
    if view["open"] and view["escalated"]:
        return f"{text}：已升级督办 / escalated"
    return text


def present(session: Session, reports: list[Report]) -> list[dict[str, Any]]:
    """GET requests and GET requests/{id}: the public view of each report (see
    :mod:`renxing.events.publication`) in Open311's words; reports that are not public are
    left out. The description is the text staff published, or empty until they do."""
    sevs = {s.severity: s for s in session.scalars(select(SeverityDeadline))}
    return [
        {
            "service_request_id": v["id"],
            "status": OPEN if v["open"] else CLOSED,
            "status_notes": _status_notes(v),
            "service_name": v["category_name"][0],
            "service_code": v["category"],
            "description": v["description"],
            "agency_responsible": v["handler"],
            "service_notice": notice(sevs.get(v["severity"])),
            "requested_datetime": w3c(v["created_at"]),
            "updated_datetime": w3c(v["updated_at"]),
            "expected_datetime": w3c(v["expected_at"]),
            "address": v["place"],
            "address_id": v["unit_code"],
            "lat": round(v["lat"], 6) if v["lat"] is not None else None,
            "long": round(v["lon"], 6) if v["lon"] is not None else None,
            "media_url": v["media_url"],
        }
        for v in publication.public_views(session, reports)
    ]


def created(session: Session, report: Report, account_id: str | None) -> dict[str, Any]:
    """The answer to POST requests."""
    return {
        "service_request_id": report.id,
        "service_notice": notice(session.get(SeverityDeadline, report.severity)),
        "account_id": account_id,
    }


def discovery(base_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": "请联系所在街道的平台管理员 / contact the platform administrator of the street",
        "key_service": "API 密钥由系统管理员签发 / API keys are issued by the system administrator",
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
