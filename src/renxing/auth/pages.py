"""Login and logout pages."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from renxing.auth import service
from renxing.config import get_settings
from renxing.errors import NotAuthenticated, TooManyRequests
from renxing.web import csrf
from renxing.web.deps import DB, SESSION_COOKIE, client_address, optional_principal
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would make the login page a phishing tool.
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/", error: str | None = None):
    token = csrf.pre_session_token(request)
    response = render(request, "login.html", {"next": _safe_next(next), "error": error, "login_csrf": token})
    csrf.set_pre_session(response, token)
    return response


@router.post("/login")
def login(
    request: Request,
    session: DB,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    csrf.check(request, csrf_token)
    try:
        user = service.authenticate(session, username, password, address=client_address(request))
    except NotAuthenticated:
        return RedirectResponse(f"/login?error=1&next={_safe_next(next)}", status_code=303)
    except TooManyRequests as exc:
        # The form again, saying when to retry.
        context = {"next": _safe_next(next), "throttled": exc.message, "login_csrf": csrf_token}
        response = render(request, "login.html", context, status_code=exc.status)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    token, _ = service.start_session(session, user, "cookie")
    response = RedirectResponse(_safe_next(next), status_code=303)
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_hours * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, session: DB, csrf_token: Annotated[str, Form()] = ""):
    if optional_principal(request, session) is not None:
        csrf.check(request, csrf_token)
        service.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
