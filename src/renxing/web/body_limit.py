"""A cap on the size of request bodies, enforced while they arrive.

Starlette buffers a JSON body whole and spools multipart files to disk without a limit, and a
few megabytes of JSON unpack to tens of times as much in Python objects (2 MB of ``[{},{},…]``
is 53 MB). So every request is held to ``Settings.max_body_bytes`` (2 MB); the routes that
take photos or import files allow what those need, in the media type they take them in
(``limit_for``). A declared Content-Length over
the limit is answered 413 before any of the body is read; a body without one (chunked) is
counted as it arrives and refused as soon as it passes the limit, so at most the limit plus
one chunk is ever received. The answer names the field ``body``, as every 4xx does.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from renxing.config import Settings, get_settings
from renxing.errors import FieldError, ServiceError
from renxing.events.policy import MAX_PHOTO_BYTES, MAX_PHOTOS
from renxing.i18n import _, _lp

ENVELOPE = 256 * 1024  # multipart boundaries, part headers and the form's other fields


class BodyTooLarge(ServiceError):
    status = 413

    def __init__(self, message: str, errors: list[FieldError], limit: int) -> None:
        super().__init__(message, errors)
        self.limit = limit


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MB"


@dataclass(frozen=True)
class Allowance:
    """What a route that takes files may receive: ``files(settings)`` bytes of them, named ``field``."""

    field: str
    files: Callable[[Settings], int]
    what: Any  # the files, as the message names them (a lazy label)


PHOTOS = Allowance("photos", lambda s: MAX_PHOTOS * MAX_PHOTO_BYTES, _lp("too large", "照片合计"))
PHOTO = Allowance("photo", lambda s: MAX_PHOTO_BYTES, _lp("too large", "照片"))
MEDIA = Allowance("media", lambda s: MAX_PHOTO_BYTES, _lp("too large", "照片"))
FILE = Allowance("file", lambda s: s.max_import_bytes, _lp("too large", "文件"))
MULTIPART = ("multipart/form-data",)
JSON = ("application/json", "application/geo+json")

# POST routes that take files, in which media type, with what they may receive; every other
# request gets the default (a JSON report without photos is held to it too).
UPLOAD_ROUTES: tuple[tuple[re.Pattern[str], tuple[str, ...], Allowance], ...] = (
    (re.compile(r"/api/v1/reports|/report/new"), MULTIPART, PHOTOS),
    (re.compile(r"/api/v1/reports/\d+/\w+|/reports/\d+/\w+"), MULTIPART, PHOTO),
    (re.compile(r"/open311/v2/requests\.\w+"), MULTIPART, MEDIA),
    (re.compile(r"/api/v1/import/\w+|/import/preview"), MULTIPART, FILE),
    (re.compile(r"/api/v1/drills/\d+/attendance/upload|/drills/\d+/upload"), MULTIPART, FILE),
    (re.compile(r"/api/v1/supplies/points/\d+/counts/upload"), MULTIPART, FILE),
    (re.compile(r"/api/v1/warning/incoming|/warning/incoming/upload"), MULTIPART, FILE),
    (re.compile(r"/api/v1/space/layers/\w+/import"), JSON, FILE),
)


def limit_for(method: str, path: str, content_type: str = "", settings: Settings | None = None) -> BodyTooLarge:
    """The largest body the request may have (``.limit``), with the refusal that names its field."""
    s = settings or get_settings()
    if method == "POST":
        media_type = content_type.split(";", 1)[0].strip().lower()
        for pattern, media_types, allowance in UPLOAD_ROUTES:
            if media_type in media_types and pattern.fullmatch(path):
                files = allowance.files(s)
                message = _("{what}超过 {mb}，请缩小或拆分").format(what=allowance.what, mb=_mb(files))
                return BodyTooLarge(
                    message, [FieldError(allowance.field, message)], max(s.max_body_bytes, files + ENVELOPE)
                )
    limit = s.max_body_bytes
    message = _("请求内容超过 {mb}").format(mb=_mb(limit))
    return BodyTooLarge(message, [FieldError("body", message, value=str(limit))], limit)


class BodyLimit:
    """ASGI middleware: refuses (413) a request whose body is larger than its route allows."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = limit_for(scope["method"], scope["path"], _header(scope, b"content-type"))
        limit = refusal.limit
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > limit:
            await _refuse(scope, receive, send, refusal)
            return
        state = {"received": 0, "over": None, "started": False}

        async def capped_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["over"] = refusal
                    raise refusal
            return message

        async def checked_send(message: Message) -> None:
            if state["over"] is not None:
                # Whatever the route made of the interruption (FastAPI turns an error while
                # reading a form into a 400), the answer is the 413.
                if message["type"] == "http.response.start" and not state["started"]:
                    state["started"] = True
                    await _refuse(scope, receive, send, state["over"])
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, capped_receive, checked_send)
        except BodyTooLarge as exc:
            if state["started"]:
                raise
            await _refuse(scope, receive, send, exc)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
    from renxing.web.errors import service_error  # the same answer as any other service error

    response = await service_error(Request(scope, receive), exc)
    await response(scope, receive, send)
