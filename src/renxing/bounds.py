"""Bounded input types: what a client sends is checked where it enters, never by the database.

An id beyond the database's integer (2^31 on PostgreSQL, 2^63 on SQLite) or a date in year 1
(whose conversion between Asia/Shanghai and UTC leaves Python's range) used to reach a query or
a time-zone conversion and fail there as a server error. These types refuse such values while
parsing, as a 422 naming the field. They are plain pydantic annotations, so one type serves a
path or query parameter of a route and a field of a request body alike.
"""

from datetime import date, datetime
from typing import Annotated

from babel.support import LazyProxy
from pydantic import AfterValidator, Field

from renxing.i18n import _

# The narrowest integer column of both databases (PostgreSQL's ``integer``).
INT_MAX = 2**31 - 1
YEAR_MIN, YEAR_MAX = 1900, 2200

# Worded when shown, in the language of that moment.
YEAR_MESSAGE = LazyProxy(
    lambda: _("年份须在{year_min}–{year_max}之间").format(year_min=YEAR_MIN, year_max=YEAR_MAX), enable_cache=False
)


def valid_id(value: int) -> bool:
    """For ids parsed by hand (Open311's comma lists): the range the ``Id`` type accepts."""
    return 1 <= value <= INT_MAX


def valid_year(value: date) -> bool:
    return YEAR_MIN <= value.year <= YEAR_MAX


def _year(value: date) -> date:
    if not valid_year(value):
        raise ValueError(YEAR_MESSAGE)
    return value


# A row id: positive and within an integer column.
Id = Annotated[int, Field(ge=1, le=INT_MAX)]
# Any other whole number stored in an integer column (an order, a priority, a count).
DbInt = Annotated[int, Field(ge=-INT_MAX - 1, le=INT_MAX)]
# A calendar day or an instant in years 1900..2200; a date-time keeps its zone (or its lack of one).
Day = Annotated[date, AfterValidator(_year)]
Moment = Annotated[datetime, AfterValidator(_year)]
