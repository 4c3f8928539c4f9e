"""CSRF protection for HTML forms and for the JSON API.

Logged-in forms carry the token stored with the server-side session; the login form, which
has no session yet, uses a double-submit cookie. A browser sends the session cookie with any
request, whichever site made it, so an API write authenticated by that cookie must also carry
the session's token in the ``X-CSRF-Token`` header, which only our own pages can read (from
``<meta name="csrf-token">``). Bearer-token clients send no cookie and need no header.
"""

import hmac
import secrets

from fastapi import Request, Response

from renxing.errors import FieldError, Forbidden
from renxing.i18n import _

PRE_COOKIE = "rx_csrf"
API_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _same(expected: str | None, submitted: str | None) -> bool:
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a 500, not a 403).
    return bool(expected and submitted) and hmac.compare_digest(expected.encode(), submitted.encode())


def check(request: Request, submitted: str | None) -> None:
    row = getattr(request.state, "auth_session", None)
    expected = row.csrf_token if row is not None else request.cookies.get(PRE_COOKIE)
    if not _same(expected, submitted):
        raise Forbidden(_("表单已过期，请刷新后重试"))


def is_api_write(request: Request) -> bool:
    return request.method in UNSAFE_METHODS and request.url.path.startswith("/api/")


def check_api_header(request: Request, expected: str) -> None:
    """An API write authenticated by the session cookie: the session's token must be in the header."""
    if is_api_write(request) and not _same(expected, request.headers.get(API_HEADER)):
        message = _("用会话 Cookie 调用接口写入时须带 {api_header} 请求头（页面 meta csrf-token 的值）").format(
            api_header=API_HEADER
        )
        raise Forbidden(message, [FieldError(API_HEADER, message)])


def pre_session_token(request: Request) -> str:
    return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)


def set_pre_session(response: Response, token: str) -> None:
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="lax", max_age=3600)
