"""Shapes of partner organizations going in and out of the API."""

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Id
from renxing.partners.models import OrgKind


class OrganizationIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    unit_id: Id = Field(description="the community it serves")
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(description=", ".join(OrgKind))
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = None
    user_id: Id | None = Field(default=None, description="its account (role partner), if it has one")
    services: str | None = None
    active: bool = True


class OrganizationPatch(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=120)
    kind: str | None = None
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = None
    user_id: Id | None = None
    services: str | None = None
    active: bool | None = None


class OrganizationOut(BaseModel):
    """One organization of the register."""

    id: int
    unit_id: int = Field(description="the community it serves")
    name: str
    kind: str = Field(description=", ".join(OrgKind))
    contact_name: str | None
    contact_phone: str | None = Field(description="a work phone of the organization, not personal data")
    user_id: int | None = Field(description="its account (role partner), if it has one")
    services: str | None
    active: bool
