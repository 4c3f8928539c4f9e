"""JSON routes of authentication: the OAuth2 password flow, logout, who am I, audit."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from renxing.auth import service
from renxing.auth.policy import ROLE_LABELS
from renxing.web.deps import DB, SESSION_COOKIE, CurrentUser, oauth2

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", summary="Log in (OAuth2 password flow) and get a bearer token")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: DB) -> dict:
    user = service.authenticate(session, form.username, form.password)
    raw, row = service.start_session(session, user, "bearer")
    return {
        "access_token": raw,
        "token_type": "bearer",
        "expires_at": row.expires_at.isoformat(),
    }


@router.post("/logout", summary="Revoke the token or cookie used for this request")
def logout(request: Request, session: DB, actor: CurrentUser, bearer: Annotated[str | None, Depends(oauth2)]) -> dict:
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(session, token)
    return {"ok": True}


@router.get("/me", summary="The logged-in user, role and scope")
def me(actor: CurrentUser) -> dict:
    zh, en = ROLE_LABELS[actor.role]
    return {
        "id": actor.user_id,
        "username": actor.username,
        "display_name": actor.display_name,
        "role": actor.role.value,
        "role_label": {"zh": zh, "en": en},
        "scope_paths": list(actor.scope_paths),
        "household_id": actor.household_id,
    }
