"""Values of Open311 parameters: ids, numbers and W3C date-times, each refused with the name
of the parameter at fault."""

import math
import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from renxing.bounds import YEAR_MESSAGE, valid_id, valid_year
from renxing.config import get_settings
from renxing.errors import Collector, FieldError, Invalid
from renxing.i18n import _

ID = re.compile(r"^[0-9]{1,18}$")


def is_id(text: str) -> bool:
    """Digits within the range of an id (beyond it no report exists, and PostgreSQL would refuse it)."""
    return bool(ID.match(text)) and valid_id(int(text))


# A date, or a date-time with its zone.
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")


def parse_w3c(value: str, param: str) -> datetime:
    """A W3C date-time with its zone (``2025-03-01T08:00:00+08:00``, ``…Z``), or a date taken
    as local midnight. A '+' that arrived unencoded in a query string is a space: put it back."""
    text = value.strip()
    if re.search(r"T.* \d{2}:\d{2}$", text):
        text = text[:-6] + "+" + text[-5:]
    if not W3C.match(text):
        raise Invalid(
            _("{param} 须为带时区的 W3C 时间").format(param=param),
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
            _("{param} 不是有效时间").format(param=param), [FieldError(param, str(exc), None, value)]
        ) from exc
    # Year 1 or 9999 would overflow when converted to UTC for the query.
    if not valid_year(parsed):
        raise Invalid(f"{param}: {YEAR_MESSAGE}", [FieldError(param, YEAR_MESSAGE, None, value)])
    return parsed


def w3c(value: datetime | None) -> str | None:
    """A W3C date-time in the installation's zone: 2025-03-03T10:00:00+08:00."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(get_settings().timezone)).isoformat(timespec="seconds")


def number(value: str | None, param: str, low: float, high: float, errors: Collector) -> float | None:
    """A number in [low, high]; None when not given, or noted in ``errors`` when not such a number."""
    if value is None:
        return None
    try:
        parsed = float(value)
    except ValueError:
        parsed = math.nan
    if not math.isfinite(parsed) or not low <= parsed <= high:
        errors.add(
            param,
            _("{param} 须为 {low:g} 到 {high:g} 之间的数").format(param=param, low=low, high=high),
            value=value,
        )
        return None
    return parsed
