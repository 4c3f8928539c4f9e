"""Rating periods: a quarter ("2026Q4") is what a resident rates; a year ("2026") is four of
them. Bounds are local time."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, Invalid
from renxing.i18n import _

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
YEAR = re.compile(r"\d{4}")


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def period_of(moment: datetime) -> str:
    local = moment.astimezone(tz())
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """A quarter "2026Q4" or a year "2026" as [start, end) in local time."""
    if YEAR.fullmatch(period or ""):
        y = int(period)
        return datetime(y, 1, 1, tzinfo=tz()), datetime(y + 1, 1, 1, tzinfo=tz())
    m = QUARTER.match(period or "")
    if not m:
        raise Invalid(_("期间格式应为 2026Q4 或 2026"), [FieldError("period", "format")])
    y, q = int(m.group(1)), int(m.group(2))
    start = datetime(y, 3 * q - 2, 1, tzinfo=tz())
    end = datetime(y + (q == 4), (3 * q) % 12 + 1, 1, tzinfo=tz())
    return start, end


def periods_in(period: str) -> list[str]:
    """The quarters a period covers (a 422 naming ``period`` when it is neither)."""
    if YEAR.fullmatch(period or ""):
        return [f"{period}Q{q}" for q in range(1, 5)]
    period_bounds(period)
    return [period]


def default_period(now: datetime | None = None) -> str:
    return period_of(now or utcnow())


def previous_periods(n: int = 8, today: date | None = None) -> list[str]:
    """The current quarter and the ones before it, newest first, for the pages' pickers."""
    today = today or utcnow().astimezone(tz()).date()
    y, q = today.year, (today.month - 1) // 3 + 1
    out = []
    for _quarter in range(n):
        out.append(f"{y}Q{q}")
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    return out
