"""The types of route parameters: every id, page number and date a route reads is one of these.

They are the bounded types of ``renxing.bounds`` (usable in body schemas too) plus paging. A value
out of range is a 422 naming the parameter, in the API's JSON shape or on the error page.
"""

from typing import Annotated

from fastapi import Depends, Query
from pydantic import Field

from renxing.bounds import INT_MAX, Day, DbInt, Id, Moment, valid_id
from renxing.errors import FieldError, Invalid
from renxing.i18n import _
from renxing.listing import MAX_SEARCH, ListQuery

# Page numbers and sizes: the offset (page - 1) * size of any allowed page stays far inside the
# databases' 64-bit OFFSET; the configured maximum page size is checked by ``listing``.
PageNo = Annotated[int, Field(ge=1, le=INT_MAX, description="page number, from 1")]
PageSize = Annotated[int, Field(ge=1, le=INT_MAX, description="items per page (at most the configured maximum)")]


def form_id(value: object, field: str) -> int | None:
    """An id a page reads by hand from a form or a query string, where a blank (or a choice that is
    not a number) means "none": digits beyond the range of an id are a 422 naming the field."""
    text = str(value or "").strip()
    if not text.isdigit():
        return None
    number = int(text)
    if not valid_id(number):
        raise Invalid(_("编号超出范围"), [FieldError(field, "not an id", value=text)])
    return number


def list_query(
    page: Annotated[PageNo, Query()] = 1,
    size: Annotated[PageSize | None, Query()] = None,
    sort: Annotated[str | None, Query(max_length=40, description="a sort key; '-' before it sorts descending")] = None,
    q: Annotated[str | None, Query(max_length=MAX_SEARCH, description="search text")] = None,
) -> ListQuery:
    """The paging, sorting and search parameters every list route takes; a route adds its filters
    to ``filters`` by name (declared as its own query parameters, so they are documented)."""
    return ListQuery(page=page, size=size, sort=sort, q=q)


ListParams = Annotated[ListQuery, Depends(list_query)]


__all__ = ["INT_MAX", "Day", "DbInt", "Id", "ListParams", "Moment", "PageNo", "PageSize", "form_id", "list_query"]
