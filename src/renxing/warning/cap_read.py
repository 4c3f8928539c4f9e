"""What a valid CAP 1.2 alert says, as plain values. Pure: an lxml root in, dataclasses out.

``read`` takes the root of a document that passed the schema (``cap_schema.parse_valid``) and
checks what the schema leaves to prose: a polygon is a closed ring of at least four "lat,lon"
pairs (whitespace allowed around the comma and between pairs), a circle is "lat,lon radius" with
the radius in kilometres (0 allowed), coordinates lie on the globe, and ``references`` is a list
of "sender,identifier,sent" triples. A breach raises :class:`CapRefused` naming the element by its
path with positions (``/alert/info[1]/area[1]/polygon[1]``).

Everything else the standard allows is taken as it comes: several ``info`` blocks in several
languages (:attr:`Alert.display` picks zh-CN, else the first), prefixed elements, signatures
(ignored), a Cancel without ``info``, areas given only as geocodes, resources (metadata only: an
embedded ``derefUri`` is measured, never decoded).

China's four colours are read from what the issuer wrote (:func:`level_of`): a parameter whose value
is the colour, then "暴雨橙色预警" in the headline or event, or "Orange Rainstorm Warning" / "Code
ORANGE" in English; failing that, from the severity through the platform's colour table.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from renxing.i18n import _
from renxing.warning.cap_schema import NS, CapError, CapRefused

Pair = tuple[float, float]  # (lat, lon), as CAP writes it


@dataclass(frozen=True)
class Reference:
    sender: str
    identifier: str
    sent_text: str
    sent: datetime


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class Area:
    desc: str
    polygons: tuple[tuple[Pair, ...], ...] = ()  # closed rings of (lat, lon)
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()  # (valueName, value)
    path: str = ""  # /alert/info[i]/area[j], for messages

    @property
    def has_shape(self) -> bool:
        return bool(self.polygons or self.circles)


@dataclass(frozen=True)
class Resource:
    desc: str
    mime_type: str | None
    size: int | None
    uri: str | None
    digest: str | None
    embedded_bytes: int  # decoded size of an embedded derefUri (0: none); never decoded here


@dataclass(frozen=True)
class Info:
    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    sender_name: str | None = None
    web: str | None = None
    contact: str | None = None
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    response_types: tuple[str, ...] = ()
    event_codes: tuple[tuple[str, str], ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[Area, ...] = ()


@dataclass(frozen=True)
class Alert:
    identifier: str
    sender: str
    sent: datetime
    sent_text: str
    status: str
    msg_type: str
    scope: str
    source: str | None = None
    note: str | None = None
    references: tuple[Reference, ...] = ()
    infos: tuple[Info, ...] = ()

    @property
    def display(self) -> Info | None:
        """The info block shown to readers: zh-CN, else another Chinese one, else the first."""
        for wanted in (lambda lang: lang == "zh-cn", lambda lang: lang.startswith("zh")):
            for info in self.infos:
                if wanted(info.language.lower()):
                    return info
        return self.infos[0] if self.infos else None

    @property
    def areas(self) -> tuple[Area, ...]:
        """Every area of every info block (languages repeat theirs; matching takes the union)."""
        return tuple(a for info in self.infos for a in info.areas)

    @property
    def references_text(self) -> str | None:
        if not self.references:
            return None
        return " ".join(f"{r.sender},{r.identifier},{r.sent_text}" for r in self.references)


# ---- reading ------------------------------------------------------------------------------------


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and c.tag == f"{{{NS}}}{name}"]


def _text(el: etree._Element, name: str) -> str | None:
    found = _children(el, name)
    if not found:
        return None
    text = (found[0].text or "").strip()
    return text or None


def _line(el: etree._Element, name: str) -> str | None:
    """A one-line field (headline, event, area): runs of whitespace and line breaks as one space."""
    text = _text(el, name)
    return " ".join(text.split()) if text else None


def _texts(el: etree._Element, name: str) -> tuple[str, ...]:
    return tuple((c.text or "").strip() for c in _children(el, name))


def _pairs(el: etree._Element, name: str) -> tuple[tuple[str, str], ...]:
    return tuple((_text(c, "valueName") or "", _text(c, "value") or "") for c in _children(el, name))


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _refuse(path: str, message: str) -> CapRefused:
    return CapRefused([CapError(path, message)])


_COMMA = re.compile(r"\s*,\s*")


def _coordinate(token: str, path: str) -> Pair:
    parts = token.split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise _refuse(path, _("坐标应为“纬度,经度”：{token}").format(token=token)) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _refuse(path, _("坐标超出范围（纬度 ±90，经度 ±180）：{token}").format(token=token))
    return lat, lon


def parse_polygon(text: str, path: str) -> tuple[Pair, ...]:
    """A CAP polygon: whitespace-separated "lat,lon" pairs, a closed ring of at least four."""
    tokens = _COMMA.sub(",", text.strip()).split()
    ring = tuple(_coordinate(t, path) for t in tokens)
    if len(ring) < 4:
        raise _refuse(path, _("多边形至少需要 4 个坐标对，收到 {n} 个").format(n=len(ring)))
    if ring[0] != ring[-1]:
        raise _refuse(path, _("多边形未闭合：首尾坐标须相同"))
    return ring


def parse_circle(text: str, path: str) -> Circle:
    """A CAP circle: "lat,lon radius", the radius in kilometres (0 is a point)."""
    tokens = _COMMA.sub(",", text.strip()).split()
    if len(tokens) != 2:
        raise _refuse(path, _("圆形区域应为“纬度,经度 半径公里”"))
    lat, lon = _coordinate(tokens[0], path)
    try:
        radius = float(tokens[1])
    except ValueError:
        raise _refuse(path, _("半径应为公里数：{value}").format(value=tokens[1])) from None
    if not 0 <= radius <= 20_000:
        raise _refuse(path, _("半径应在 0 到 20000 公里之间"))
    return Circle(lat, lon, radius)


def parse_references(text: str | None, path: str = "/alert/references") -> tuple[Reference, ...]:
    """CAP references: whitespace-separated "sender,identifier,sent" triples."""
    out = []
    for token in (text or "").split():
        parts = token.split(",")
        sent = None
        if len(parts) == 3 and all(parts):
            try:
                sent = datetime.fromisoformat(parts[2])
            except ValueError:
                sent = None
        if sent is None or sent.tzinfo is None:
            raise _refuse(path, _("引用应为“发送者,标识,发送时间”：{token}").format(token=token))
        out.append(Reference(parts[0], parts[1], parts[2], sent))
    return tuple(out)


def _resource(el: etree._Element) -> Resource:
    size = _text(el, "size")
    deref = _children(el, "derefUri")
    # base64: four characters carry three bytes; counted from the text, never decoded.
    embedded = (len("".join((deref[0].text or "").split())) * 3) // 4 if deref else 0
    return Resource(
        desc=_text(el, "resourceDesc") or "",
        mime_type=_text(el, "mimeType"),
        size=int(size) if size and size.isdigit() else None,
        uri=_text(el, "uri"),
        digest=_text(el, "digest"),
        embedded_bytes=embedded,
    )


def _area(el: etree._Element, path: str) -> Area:
    polygons = tuple(
        parse_polygon(p.text or "", f"{path}/polygon[{k}]") for k, p in enumerate(_children(el, "polygon"), 1)
    )
    circles = tuple(parse_circle(c.text or "", f"{path}/circle[{k}]") for k, c in enumerate(_children(el, "circle"), 1))
    return Area(
        desc=_line(el, "areaDesc") or "", polygons=polygons, circles=circles, geocodes=_pairs(el, "geocode"), path=path
    )


def _info(el: etree._Element, path: str) -> Info:
    return Info(
        language=_text(el, "language") or "en-US",  # CAP's default
        categories=_texts(el, "category"),
        event=_line(el, "event") or "",
        urgency=_text(el, "urgency") or "Unknown",
        severity=_text(el, "severity") or "Unknown",
        certainty=_text(el, "certainty") or "Unknown",
        headline=_line(el, "headline"),
        description=_text(el, "description"),
        instruction=_text(el, "instruction"),
        sender_name=_line(el, "senderName"),
        web=_text(el, "web"),
        contact=_text(el, "contact"),
        effective=_moment(_text(el, "effective")),
        onset=_moment(_text(el, "onset")),
        expires=_moment(_text(el, "expires")),
        response_types=_texts(el, "responseType"),
        event_codes=_pairs(el, "eventCode"),
        parameters=_pairs(el, "parameter"),
        resources=tuple(_resource(r) for r in _children(el, "resource")),
        areas=tuple(_area(a, f"{path}/area[{k}]") for k, a in enumerate(_children(el, "area"), 1)),
    )


def read(root: etree._Element) -> Alert:
    """The alert of a schema-valid root; raises :class:`CapRefused` for what the prose forbids."""
    sent_text = _text(root, "sent") or ""
    return Alert(
        identifier=_text(root, "identifier") or "",
        sender=_text(root, "sender") or "",
        sent=datetime.fromisoformat(sent_text),
        sent_text=sent_text,
        status=_text(root, "status") or "",
        msg_type=_text(root, "msgType") or "",
        scope=_text(root, "scope") or "",
        source=_text(root, "source"),
        note=_text(root, "note"),
        references=parse_references(_text(root, "references")),
        infos=tuple(_info(i, f"/alert/info[{k}]") for k, i in enumerate(_children(root, "info"), 1)),
    )


# ---- the document as stored ---------------------------------------------------------------------

_DECLARED = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def document_text(data: bytes, encoding: str | None) -> str:
    """The received bytes as text, in the encoding the parser found (a UTF-8 BOM dropped)."""
    name = (encoding or "utf-8").lower()
    if name in ("utf-8", "utf8"):
        name = "utf-8-sig"
    return data.decode(name)


def document_bytes(text: str) -> bytes:
    """Stored text back to bytes the parser reads: in the encoding its declaration names."""
    found = _DECLARED.match(text.encode("ascii", "replace")[:200])
    return text.encode(found.group(1).decode() if found else "utf-8")


# ---- China's colours ------------------------------------------------------------------------------

COLOURS = ("blue", "yellow", "orange", "red")
_ZH_COLOURS = {"蓝色": "blue", "黄色": "yellow", "橙色": "orange", "红色": "red"}
_ZH = re.compile("蓝色|黄色|橙色|红色")
# "Orange Warning", "Orange Rainstorm Warning" (not "Red Flag Warning", a fire-weather product),
# "Code ORANGE", "Red Alert", "Yellow Signal", "Level Orange".
_EN = re.compile(
    r"\b(blue|yellow|orange|red)\s+(?!flag\b)(?:[a-z-]+\s+)?(?:warning|alert|signal|level)\b"
    r"|\b(?:code|level)\s+(blue|yellow|orange|red)\b",
    re.IGNORECASE,
)


def colour_in_text(text: str | None) -> str | None:
    """The warning colour a headline or event names; the last one when it names several (升级为橙色)."""
    if not text:
        return None
    found: list[tuple[int, str]] = [(m.start(), _ZH_COLOURS[m.group(0)]) for m in _ZH.finditer(text)]
    found += [(m.start(), (m.group(1) or m.group(2)).lower()) for m in _EN.finditer(text)]
    return max(found)[1] if found else None


def _colour_of_parameter(value: str) -> str | None:
    word = value.strip().lower()
    if word in COLOURS:
        return word
    zh = [_ZH_COLOURS[m.group(0)] for m in _ZH.finditer(value)]
    return zh[-1] if zh else None


def level_of(info: Info | None, by_severity: Mapping[str, str]) -> str | None:
    """The colour of an info block: written by the issuer, else its severity through the table."""
    if info is None:
        return None
    for _name, value in info.parameters:
        colour = _colour_of_parameter(value)
        if colour:
            return colour
    for text in (info.headline, info.event):
        colour = colour_in_text(text)
        if colour:
            return colour
    return by_severity.get(info.severity)


def severity_table(rows: Sequence[tuple[str, int, str]]) -> dict[str, str]:
    """Severity → colour from the colour table's (code, rank, severity) rows; the lower rank wins
    when two colours share a severity."""
    out: dict[str, str] = {}
    for code, _rank, severity in sorted(rows, key=lambda r: r[1], reverse=True):
        out[severity] = code
    return out
