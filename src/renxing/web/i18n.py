"""The language of a request: ``?lang=``, then the ``lang`` cookie, then Accept-Language; zh-CN by default.

Set once per request as the context language (:mod:`renxing.i18n`), so services, error messages
and templates all speak it without passing a ``lang`` around.
"""

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from renxing.i18n import DEFAULT_LANG, normalise, use_lang

LANG_COOKIE = "lang"


def from_accept_language(header: str) -> str | None:
    """The first language we have, by the header's q-values (``en-GB,en;q=0.8,zh;q=0.5`` → en)."""
    ranked = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality < 0 and (lang := normalise(tag)):
            return lang
    return None


def request_lang(scope: Scope) -> str:
    headers = Headers(scope=scope)
    chosen = normalise(QueryParams(scope.get("query_string", b"")).get("lang"))
    if chosen:
        return chosen
    cookie = next((c.split("=", 1)[1] for c in _cookies(headers) if c.startswith(f"{LANG_COOKIE}=")), None)
    return normalise(cookie) or from_accept_language(headers.get("accept-language", "")) or DEFAULT_LANG


def _cookies(headers: Headers) -> list[str]:
    return [part.strip() for value in headers.getlist("cookie") for part in value.split(";")]


class RequestLanguage:
    """Pure ASGI middleware, so the context language reaches the handler's thread and the error handlers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with use_lang(request_lang(scope)):
            await self.app(scope, receive, send)
