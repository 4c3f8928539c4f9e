"""Open311 intake (GeoReport v2 ``POST requests``): the parameters checked in the spec's words,
then the common intake pipeline.

    submit(session, "city-app", RequestIn(service_code="fire_hazard", lat="32.06", long="118.78"))
    created(session, report, account_id)      # the answer

A request posted here goes the way of every other report (placing, routing, deadlines,
notifications), as the system principal tagged with the API key's name. Each refusal is a
:class:`FieldError` naming the Open311 parameter at fault (``service_code``, ``lat``,
``attribute[injured]`` …); the HTTP side is :mod:`renxing.events.open311`.
"""

import dataclasses
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.principal import SYSTEM
from renxing.errors import Collector, FieldError, Invalid
from renxing.events import intake, placing
from renxing.events.models import EventCategory, Report, SeverityDeadline
from renxing.events.open311_address import resolve_address
from renxing.events.open311_params import number, parse_w3c
from renxing.events.open311_schemas import RequestIn
from renxing.events.open311_services import (
    Attribute,
    active_category,
    attributes_for,
    jurisdiction_path,
    notice,
    severities,
)
from renxing.events.policy import Channel
from renxing.grid.models import GridUnit, Level
from renxing.i18n import _, bilingual, localized

MAX_TEXT = 120  # device_id, account_id
MAX_MEDIA_URL = 500
MAX_ANSWER = 1000  # characters of a free-text answer
TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})
HTTP_URL = re.compile(r"^https?://[^\s/]+\S*$", re.IGNORECASE)

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


def _name(first: str | None, last: str | None) -> str | None:
    """Family name first for Chinese names (张 + 三 → 张三), given name first for Latin ones."""
    first, last = (first or "").strip(), (last or "").strip()
    if not first or not last:
        return first or last or None
    if (first + last).isascii():
        return f"{first} {last}"
    return f"{last}{first}"


def _answer(attr: Attribute, values: list[str], param: str, errors: Collector) -> str | list[str] | None:
    """One question's answer if it is one of its values (or of its type); None, noted in ``errors``, if not."""
    keys = [k for k, _ in attr.values]
    if attr.datatype == "multivaluelist":
        bad = [v for v in values if v not in keys]
        if bad:
            errors.add(param, _("取值应为 {join} 之一").format(join=", ".join(keys)), value=",".join(bad))
            return None
        return values
    if len(values) > 1:
        errors.add(param, _("只能有一个值"), value=",".join(values))
        return None
    value = values[0]
    if attr.datatype == "singlevaluelist" and value not in keys:
        errors.add(param, _("取值应为 {join} 之一").format(join=", ".join(keys)), value=value)
        return None
    if attr.datatype == "number" and number(value, param, -1e15, 1e15, errors) is None:
        return None
    if attr.datatype == "datetime":
        try:
            parse_w3c(value, param)
        except Invalid as exc:
            errors.errors.extend(exc.errors)
            return None
    if attr.datatype in ("string", "text") and len(value) > MAX_ANSWER:
        errors.add(param, _("过长"))
        return None
    return value


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
            errors.add(param, _("此服务没有该属性"), value=code)
            continue
        values = [v.strip() for v in raw if v.strip()]
        if attr.variable and values and (answer := _answer(attr, values, param, errors)) is not None:
            out[code] = answer
    for attr in attrs:
        if attr.variable and attr.required and not any(v.strip() for v in given.get(attr.code, [])):
            errors.add(f"attribute[{attr.code}]", _("必填").format(description=attr.description))
    return out


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


def _category(session: Session, data: RequestIn) -> EventCategory:
    if not data.service_code:
        msg = _("service_code 必填")
        raise Invalid(msg, [FieldError("service_code", msg)])
    cat = active_category(session, data.service_code)
    if cat is None:
        msg = _("未知的服务：{service_code}").format(service_code=data.service_code)
        raise Invalid(msg, [FieldError("service_code", msg, None, data.service_code)])
    return cat


def _addressed_unit(session: Session, data: RequestIn, within: str | None, errors: Collector) -> int | None:
    """The unit named by ``address_string`` or ``address_id`` (a request without a point)."""
    if data.address_string:
        try:
            return resolve_address(session, data.address_string, within).id
        except Invalid as exc:
            errors.errors.extend(exc.errors)
            return None
    if data.address_id:
        unit = session.scalar(
            select(GridUnit).where(GridUnit.code == data.address_id, GridUnit.level != Level.street.value)
        )
        if unit is None or (within is not None and not unit.path.startswith(within)):
            errors.add("address_id", _("address_id 不存在"), value=data.address_id)
            return None
        return unit.id
    errors.add("lat", _("须提供 lat 和 long，或 address_string"))
    return None


def _place(
    session: Session, data: RequestIn, within: str | None, errors: Collector
) -> tuple[float | None, float | None, int | None]:
    """(lat, long, unit id): a point inside the jurisdiction, or the unit an address names."""
    lat = number(data.lat, "lat", -90, 90, errors)
    lon = number(data.long, "long", -180, 180, errors)
    if (data.lat is None) != (data.long is None):
        missing = "long" if data.long is None else "lat"
        errors.add(missing, _("lat 与 long 须同时提供"))
    if data.lat is None and data.long is None:
        return lat, lon, _addressed_unit(session, data, within, errors)
    if lat is not None and lon is not None and within is not None:
        hit = placing.geo_index(session).locate(lon, lat, nearest_m=placing.NEAREST_BUILDING_M)
        if hit is not None and not hit.path.startswith(within):
            errors.add("lat", _("该位置不在此辖区内"), value=data.lat)
    return lat, lon, None


def _consent(data: RequestIn, errors: Collector) -> bool:
    """Our extension ``public_consent``: true or false, false when not given."""
    consent = (data.public_consent or "false").strip().lower()
    if consent not in TRUE | FALSE:
        errors.add("public_consent", _("应为 true 或 false"), value=data.public_consent)
    return consent in TRUE


def _check_extras(data: RequestIn, errors: Collector) -> None:
    if data.media_url and (not HTTP_URL.match(data.media_url) or len(data.media_url) > MAX_MEDIA_URL):
        errors.add("media_url", _("须为 http(s) 链接"), value=data.media_url[:100])
    for param in ("device_id", "account_id"):
        if len(getattr(data, param) or "") > MAX_TEXT:
            errors.add(param, _("过长").format(max_text=MAX_TEXT))


def submit(
    session: Session, client: str, data: RequestIn, *, photos: list[bytes] | None = None, now: datetime | None = None
) -> Report:
    """POST requests: check the Open311 parameters, then the common intake pipeline.
    ``client`` is the API key's name: the report records it, the audit trail names it.
    ``photos`` are the files sent as ``media``; they go through the same checks and cleaning
    as every photo (:mod:`renxing.events.media`, by way of ``submit_report``)."""
    within = jurisdiction_path(session, data.jurisdiction_id)
    cat = _category(session, data)
    errors = Collector()
    answers = check_attributes(attributes_for(cat, severities(session)), data.attributes, errors)
    lat, lon, unit_id = _place(session, data, within, errors)
    _check_extras(data, errors)
    agreed = _consent(data, errors)
    errors.raise_if_any()
    agreed = agreed or answers.pop("public_consent", None) == "yes"

    extras = {"media_url": data.media_url, "device_id": data.device_id, "account_id": data.account_id}
    description = (data.description or "").strip() or bilingual(
        lambda: _("{category}（未附描述）").format(category=localized(cat.name_zh, cat.name_en))
    )
    fields: dict[str, Any] = {
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
        return intake.submit_report(session, actor, fields, channel=Channel.open311, photos=photos or (), now=now)
    except Invalid as exc:
        raise _renamed(exc, data) from exc


def created(session: Session, report: Report, account_id: str | None) -> dict[str, Any]:
    """The answer to POST requests."""
    return {
        "service_request_id": report.id,
        "service_notice": notice(session.get(SeverityDeadline, report.severity)),
        "account_id": account_id,
    }
