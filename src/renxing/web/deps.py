"""Request dependencies: a database session per request and the acting Principal."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, params
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from renxing.auth import service as auth_service
from renxing.auth import throttle
from renxing.auth.models import AuthSession
from renxing.auth.principal import Principal
from renxing.errors import FieldError, NotAuthenticated, UnsupportedMediaType
from renxing.i18n import _
from renxing.web import csrf

SESSION_COOKIE = "rx_session"
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    factory = request.app.state.session_factory
    with factory() as session, session.begin():
        yield session


# "function" scope commits before the response is sent; the default would commit after it,
# and a browser following a redirect (login, save, undo) could then read the old state.
DB = Annotated[Session, Depends(db_session, scope="function")]


def _login(request: Request, session: Session, bearer: str | None) -> tuple[Principal, AuthSession]:
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated(_("请先登录"))
    principal, row = auth_service.resolve_token(session, token)
    if not bearer:
        csrf.check_api_header(request, row.csrf_token)
    request.state.auth_session = row
    # A plain copy: an error rolls the session back and expires the row before the error page renders.
    request.state.csrf_token = row.csrf_token
    return principal, row


def current_principal(request: Request, session: DB, bearer: Annotated[str | None, Depends(oauth2)]) -> Principal:
    principal, _ = _login(request, session, bearer)
    request.state.principal = principal
    return principal


def optional_principal(request: Request, session: DB) -> Principal | None:
    try:
        principal, _ = _login(request, session, None)
    except NotAuthenticated:
        return None
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def client_address(request: Request) -> str:
    """Where the request comes from, for login throttling (X-Forwarded-For only from a trusted proxy)."""
    peer = request.client.host if request.client else None
    return throttle.client_address(peer, request.headers.get("x-forwarded-for"))


_FORMS = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _form_types(route: object) -> frozenset[str]:
    """The non-JSON body types a route takes: forms for routes with Form or File parameters (the
    OAuth2 token endpoint, uploads), else what a route that reads its body itself documents."""
    if not isinstance(route, APIRoute):
        return frozenset()
    if route.body_field is not None and isinstance(route.body_field.field_info, params.Form):
        return _FORMS
    documented = ((route.openapi_extra or {}).get("requestBody") or {}).get("content") or {}
    return frozenset(documented) & _FORMS


async def api_body_guard(request: Request) -> None:
    """Every API write with a body: JSON (application/json or +json), unless the route takes forms.
    Async: it reads headers only, so no request waits for a worker thread to run it.
    A text/plain or form body that happened to hold JSON used to be read as JSON: that is how a
    page on another site could post to the API, so it is refused (415) whatever the credentials."""
    if not csrf.is_api_write(request):
        return
    headers = request.headers
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if _is_json(media_type) or media_type in _form_types(request.scope.get("route")):
        return
    message = _("请求体须为 JSON（Content-Type: application/json），收到 {media_type}").format(
        media_type=media_type or _("无类型")
    )
    raise UnsupportedMediaType(message, [FieldError("body", message, value=media_type or None)])
