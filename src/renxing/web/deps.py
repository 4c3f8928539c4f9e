"""Request dependencies: a database session per request and the acting Principal."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from renxing.auth import service as auth_service
from renxing.auth import throttle
from renxing.auth.models import AuthSession
from renxing.auth.principal import Principal
from renxing.errors import NotAuthenticated

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
        raise NotAuthenticated("请先登录 / please log in")
    principal, row = auth_service.resolve_token(session, token)
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
