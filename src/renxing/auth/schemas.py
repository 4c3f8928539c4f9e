"""Shapes of authentication going in and out of the API: tokens, the current user, accounts."""

from pydantic import BaseModel, Field

from renxing.auth.passwords import MIN_PASSWORD
from renxing.auth.policy import Role
from renxing.bounds import Id


class TokenOut(BaseModel):
    access_token: str = Field(description="send as `Authorization: Bearer <token>`")
    token_type: str = Field(description="always bearer")
    expires_at: str = Field(description="ISO 8601; log in again after it")


class Done(BaseModel):
    ok: bool


class LabelOut(BaseModel):
    zh: str
    en: str


class MeOut(BaseModel):
    """The logged-in user as the services see them: role and grid scope."""

    id: int | None
    username: str
    display_name: str
    role: str
    role_label: LabelOut
    scope_paths: list[str] = Field(description="grid paths of the units in scope, e.g. /1/2/")
    household_id: int | None = Field(description="residents: their own household")


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=MIN_PASSWORD, max_length=200)
    role: Role
    display_name: str = Field(min_length=1, max_length=60)
    scope_unit_ids: list[Id] = []
    resident_id: Id | None = None
    phone: str | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    is_active: bool
    last_login_at: str | None = Field(description="ISO 8601")
