"""CSRF protection for HTML forms.

Logged-in forms carry the token stored with the server-side session; the login form, which
has no session yet, uses a double-submit cookie.
"""

import hmac
import secrets

from fastapi import Request, Response

from renxing.errors import Forbidden

PRE_COOKIE = "rx_csrf"


def check(request: Request, submitted: str | None) -> None:
    row = getattr(request.state, "auth_session", None)
    expected = row.csrf_token if row is not None else request.cookies.get(PRE_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden("表单已过期，请刷新后重试 / form expired (CSRF check failed), reload and retry")


def pre_session_token(request: Request) -> str:
    return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)


def set_pre_session(response: Response, token: str) -> None:
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="lax", max_age=3600)
