"""JSON routes of authentication: the OAuth2 password flow, logout, who am I, audit."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm

from renxing.auth import service
from renxing.auth.policy import ROLE_LABELS, Role
from renxing.auth.schemas import Done, MeOut, TokenOut, UserIn, UserOut
from renxing.i18n import in_each_lang
from renxing.web.deps import DB, SESSION_COOKIE, CurrentUser, client_address, oauth2
from renxing.web.params import Id, ListParams
from renxing.web.schemas import PageOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, summary="Log in (OAuth2 password flow) and get a bearer token")
def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: DB) -> dict:
    user = service.authenticate(session, form.username, form.password, address=client_address(request))
    raw, row = service.start_session(session, user, "bearer")
    return {
        "access_token": raw,
        "token_type": "bearer",
        "expires_at": row.expires_at.isoformat(),
    }


@router.post("/logout", response_model=Done, summary="Revoke the token or cookie used for this request")
def logout(request: Request, session: DB, actor: CurrentUser, bearer: Annotated[str | None, Depends(oauth2)]) -> dict:
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(session, token)
    return {"ok": True}


@router.get("/me", response_model=MeOut, summary="The logged-in user, role and scope")
def me(actor: CurrentUser) -> dict:
    return {
        "id": actor.user_id,
        "username": actor.username,
        "display_name": actor.display_name,
        "role": actor.role.value,
        "role_label": in_each_lang(ROLE_LABELS[actor.role]),
        "scope_paths": list(actor.scope_paths),
        "household_id": actor.household_id,
    }


users = APIRouter(prefix="/api/v1/users", tags=["users"])


def user_dict(u) -> dict:
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "is_active": u.is_active,
        "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
    }


@users.get(
    "",
    response_model=PageOut[UserOut],
    summary="User accounts (system administrators; q: part of the user name or display name; "
    "sort: username, display_name, role, last_login)",
)
def list_users(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    role: Annotated[Role | None, Query(description="only accounts of this role")] = None,
    active: Annotated[bool | None, Query(description="only enabled (true) or disabled (false) accounts")] = None,
) -> dict:
    query.filters = {"role": role.value if role else None, "active": active}
    result = service.list_users(session, actor, query)
    return result.to_dict([user_dict(u) for u in result.items])


@users.post("", status_code=201, response_model=UserOut, summary="Create a user account")
def create_user(data: UserIn, session: DB, actor: CurrentUser) -> dict:
    return user_dict(service.create_user(session, actor, **data.model_dump()))


@users.post("/{user_id}/disable", response_model=UserOut, summary="Disable an account and end its sessions")
def disable_user(user_id: Id, session: DB, actor: CurrentUser) -> dict:
    return user_dict(service.set_active(session, actor, user_id, False))


@users.post("/{user_id}/enable", response_model=UserOut, summary="Re-enable an account")
def enable_user(user_id: Id, session: DB, actor: CurrentUser) -> dict:
    return user_dict(service.set_active(session, actor, user_id, True))
