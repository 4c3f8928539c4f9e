"""A warning as a CAP 1.2 message (OASIS Common Alerting Protocol), built element by element with
lxml and checked against the schema before it leaves. Pure: plain values in, bytes out.

Conventions of the messages the platform sends:

- Times (``sent``, ``effective``, ``expires``) in the platform's zone (Asia/Shanghai, ``+08:00``),
  to the second, as the schema's pattern demands.
- ``status`` is Actual, or Exercise for a drill; ``scope`` Public, or Restricted with a
  ``restriction`` text; ``references`` lists "sender,identifier,sent" of each earlier message of
  the same warning (the original Alert and its updates), separated by spaces.
- ``info`` in zh-CN, and a second one in en-US when the English text is given. urgency, severity
  and certainty come from the colour → CAP table; the colour itself travels as
  ``<parameter><valueName>warningLevel</valueName><value>orange</value></parameter>``
  (blue, yellow, orange, red), and in Chinese as ``warningLevelZh`` (蓝色 … 红色).
- ``area``: the description, each polygon as space-separated "lat,lon" pairs (CAP's order: latitude
  first) whose first and last pairs are equal, and a geocode naming the grid unit's code
  (``valueName`` ``renxing:unit``).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

from renxing.warning import cap_schema
from renxing.warning.cap_schema import NS, CapError

SHANGHAI = ZoneInfo("Asia/Shanghai")
LEVEL_PARAMETER = "warningLevel"
LEVEL_ZH_PARAMETER = "warningLevelZh"
GEOCODE_NAME = "renxing:unit"

STATUSES = ("Actual", "Exercise")
MSG_TYPES = ("Alert", "Update", "Cancel")
SCOPES = ("Public", "Restricted")
CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

Ring = Sequence[tuple[float, float]]  # (lon, lat) positions, WGS-84, closed


class CapInvalid(ValueError):
    """The message built does not validate (never sent): the offending elements are named."""

    def __init__(self, errors: list[CapError]):
        super().__init__("; ".join(f"{e.element}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class CapText:
    """One ``info`` block's words, in one language."""

    language: str  # zh-CN, en-US
    event: str
    headline: str
    description: str
    instruction: str | None = None
    sender_name: str | None = None
    area_desc: str | None = None  # the area in this language (else the message's)


@dataclass(frozen=True)
class CapLevel:
    code: str  # blue, yellow, orange, red
    name_zh: str
    severity: str
    urgency: str
    certainty: str


@dataclass(frozen=True)
class CapMessage:
    identifier: str
    sender: str
    sent: datetime  # aware
    msg_type: str  # Alert, Update, Cancel
    exercise: bool
    public: bool
    category: str
    level: CapLevel
    texts: Sequence[CapText]  # zh-CN first
    area_desc: str
    polygons: Sequence[Ring] = ()
    unit_code: str | None = None
    effective: datetime | None = None
    expires: datetime | None = None
    references: Sequence[str] = ()  # "sender,identifier,sent" of the earlier messages
    restriction: str | None = None  # for a Restricted message
    web: str | None = None
    note: str | None = None
    extra_parameters: Sequence[tuple[str, str]] = field(default=())


def cap_time(moment: datetime, zone: ZoneInfo = SHANGHAI) -> str:
    """``2025-03-03T10:00:00+08:00``: the moment in the zone, whole seconds."""
    if moment.tzinfo is None:
        raise ValueError("a CAP time needs a time zone")
    return moment.astimezone(zone).replace(microsecond=0).isoformat()


def reference(sender: str, identifier: str, sent_text: str) -> str:
    """One entry of ``<references>``: the earlier message's sender, identifier and sent time."""
    return f"{sender},{identifier},{sent_text}"


def _coordinate(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def cap_polygon(ring: Ring) -> str:
    """The ring as CAP writes it: "lat,lon" pairs separated by spaces, the first repeated last."""
    points = list(ring)
    if len(points) < 3:
        raise ValueError("a polygon needs at least three corners")
    if points[0] != points[-1]:
        points.append(points[0])
    if len(points) < 4:
        raise ValueError("a polygon needs at least three corners")
    return " ".join(f"{_coordinate(lat)},{_coordinate(lon)}" for lon, lat in points)


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def _check_values(msg: CapMessage) -> None:
    for value, allowed, name in [
        (msg.msg_type, MSG_TYPES, "msgType"),
        (msg.category, CATEGORIES, "category"),
        (msg.level.severity, SEVERITIES, "severity"),
        (msg.level.urgency, URGENCIES, "urgency"),
        (msg.level.certainty, CERTAINTIES, "certainty"),
    ]:
        if value not in allowed:
            raise CapInvalid([CapError(name, f"{value!r} is not one of {', '.join(allowed)}")])
    for value, name in [(msg.identifier, "identifier"), (msg.sender, "sender")]:
        # CAP 1.2 §3.2.1: no spaces, commas or restricted characters (< and &); the schema says only "string"
        if not value or any(c in value for c in " ,<&\t\r\n"):
            raise CapInvalid([CapError(name, "must not be empty nor hold spaces, commas, < or &")])
    if msg.msg_type != "Alert" and not msg.references:
        raise CapInvalid([CapError("references", f"an {msg.msg_type} must reference the message it follows")])
    if not msg.texts:
        raise CapInvalid([CapError("info", "a warning has at least one info block")])


def _area(info: etree._Element, msg: CapMessage, text: CapText) -> None:
    area = _sub(info, "area")
    _sub(area, "areaDesc", text.area_desc or msg.area_desc)
    for ring in msg.polygons:
        _sub(area, "polygon", cap_polygon(ring))
    if msg.unit_code:
        geocode = _sub(area, "geocode")
        _sub(geocode, "valueName", GEOCODE_NAME)
        _sub(geocode, "value", msg.unit_code)


def _info(alert: etree._Element, msg: CapMessage, text: CapText) -> None:
    info = _sub(alert, "info")
    _sub(info, "language", text.language)
    _sub(info, "category", msg.category)
    _sub(info, "event", text.event)
    _sub(info, "urgency", msg.level.urgency)
    _sub(info, "severity", msg.level.severity)
    _sub(info, "certainty", msg.level.certainty)
    if msg.effective is not None:
        _sub(info, "effective", cap_time(msg.effective))
    if msg.expires is not None:
        _sub(info, "expires", cap_time(msg.expires))
    if text.sender_name:
        _sub(info, "senderName", text.sender_name)
    _sub(info, "headline", text.headline)
    _sub(info, "description", text.description)
    if text.instruction:
        _sub(info, "instruction", text.instruction)
    if msg.web:
        _sub(info, "web", msg.web)
    for name, value in [
        (LEVEL_PARAMETER, msg.level.code),
        (LEVEL_ZH_PARAMETER, msg.level.name_zh),
        *msg.extra_parameters,
    ]:
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", name)
        _sub(parameter, "value", value)
    _area(info, msg, text)


def build_element(msg: CapMessage) -> etree._Element:
    """The ``<alert>`` element of the message (not yet validated)."""
    _check_values(msg)
    alert = etree.Element(f"{{{NS}}}alert", nsmap={None: NS})
    _sub(alert, "identifier", msg.identifier)
    _sub(alert, "sender", msg.sender)
    _sub(alert, "sent", cap_time(msg.sent))
    _sub(alert, "status", "Exercise" if msg.exercise else "Actual")
    _sub(alert, "msgType", msg.msg_type)
    _sub(alert, "scope", "Public" if msg.public else "Restricted")
    if not msg.public:
        _sub(alert, "restriction", msg.restriction or "Restricted to the staff of the area warned")
    if msg.note:
        _sub(alert, "note", msg.note)
    if msg.references:
        _sub(alert, "references", " ".join(msg.references))
    for text in msg.texts:
        _info(alert, msg, text)
    return alert


def build(msg: CapMessage) -> bytes:
    """The message as UTF-8 XML; raises :class:`CapInvalid` naming the element if it does not
    validate against the CAP 1.2 schema (such a message is never stored or sent)."""
    alert = build_element(msg)
    errors = cap_schema.validate(alert)
    if errors:
        raise CapInvalid(errors)
    return etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True)
