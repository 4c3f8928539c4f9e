"""Helpers the HTML pages share: page links, form errors, htmx detection, layout globals.

Importing this module registers the template filters and globals the layout relies on.
"""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from renxing.auth.policy import ROLE_LABELS
from renxing.config import get_settings
from renxing.errors import FieldError
from renxing.geo.coords import CRS, UnknownCRS, parse_crs
from renxing.i18n import _l
from renxing.web.templating import templates


def basemap() -> tuple[dict[str, str] | None, CRS]:
    """The configured tile basemap (None: our own layers only) and the datum a map's layers are
    drawn in to line up with it. BD-09 tiles would need a projection Leaflet lacks, so they are
    drawn as GCJ-02 (off by the few metres between the two)."""
    settings = get_settings()
    if not settings.basemap_url:
        return None, CRS.wgs84
    try:
        crs = parse_crs(settings.basemap_crs)
    except UnknownCRS:
        crs = CRS.wgs84
    crs = CRS.gcj02 if crs is CRS.bd09 else crs
    return {"url": settings.basemap_url, "attribution": settings.basemap_attribution}, crs


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 20: the first, the last and a window; ``None`` marks a gap."""
    keep = {1, pages, *range(max(1, page - around), min(pages, page + around) + 1)}
    out: list[int | None] = []
    last = 0
    for n in sorted(keep):
        if n - last > 1:
            out.append(None)
        out.append(n)
        last = n
    return out


def with_params(request: Request, **params: Any) -> str:
    """The current path and query with some parameters replaced; ``None`` or "" drops one.

    The language switch is left out: the cookie carries it from page to page.
    """
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in params and k != "lang"]
    query += [(k, str(v)) for k, v in params.items() if v is not None and v != ""]
    return f"{request.url.path}?{urlencode(query)}" if query else request.url.path


async def _posted_form(request: Request) -> FormData:
    return await request.form()


# Read the body here, asynchronously, so that handlers can stay plain functions: they talk to
# the database, which must not block the event loop.
PostedForm = Annotated[FormData, Depends(_posted_form)]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


PYDANTIC_MESSAGES = {
    "string_too_short": _l("必填"),
    "missing": _l("必填"),
    "string_too_long": _l("内容太长"),
    "string_pattern_mismatch": _l("取值无效"),
    "int_parsing": _l("应为整数"),
    "int_from_float": _l("应为整数"),
    "greater_than_equal": _l("超出范围"),
    "less_than_equal": _l("超出范围"),
    "date_from_datetime_parsing": _l("日期格式应为 年-月-日"),
    "date_parsing": _l("日期格式应为 年-月-日"),
    "date_type": _l("日期格式应为 年-月-日"),
    "bool_parsing": _l("应为是或否"),
}


def field_errors(exc: ValidationError) -> list[FieldError]:
    """A schema's complaints about a form, as the same FieldErrors the services raise."""
    out = []
    for e in exc.errors():
        field = ".".join(str(p) for p in e.get("loc", ())) or "form"
        out.append(FieldError(field, PYDANTIC_MESSAGES.get(e.get("type", ""), e.get("msg", "invalid"))))
    return out


templates.env.globals["page_numbers"] = page_numbers
templates.env.globals["with_params"] = with_params
templates.env.globals["ROLE_LABELS"] = ROLE_LABELS
