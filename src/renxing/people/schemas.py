"""Shapes of resident data going in and out of the API."""

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Day, Id


class ResidentIn(BaseModel):
    """A resident as staff enter it. Birth date and gender come from the ID number when missing."""

    model_config = ConfigDict(str_strip_whitespace=True)

    household_id: Id
    name: str = Field(min_length=1, max_length=60)
    gender: str | None = Field(default=None, pattern="^[MF]$")
    birth_date: Day | None = None
    id_number: str | None = None
    phone: str | None = None
    relation: str | None = Field(default=None, max_length=20)
    hukou_here: bool = True
    lives_here: bool = True
    registered_address: str | None = Field(default=None, max_length=200)
    living_alone: bool = False
    disability_kind: str | None = Field(default=None, max_length=20)
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    bedridden: bool = False
    chronic_illness: str | None = Field(default=None, max_length=120)
    pregnant: bool = False
    special_needs: str | None = None
    mobility: str | None = None
    emergency_contact: str | None = Field(default=None, max_length=60)
    emergency_phone: str | None = None
    party_member: bool = False
    notes: str | None = None


class ResidentPatch(BaseModel):
    """Fields to change; any left out stay as they are."""

    model_config = ConfigDict(str_strip_whitespace=True)

    household_id: Id | None = None
    name: str | None = Field(default=None, min_length=1, max_length=60)
    gender: str | None = Field(default=None, pattern="^[MF]$")
    birth_date: Day | None = None
    id_number: str | None = None
    phone: str | None = None
    relation: str | None = Field(default=None, max_length=20)
    hukou_here: bool | None = None
    lives_here: bool | None = None
    registered_address: str | None = Field(default=None, max_length=200)
    living_alone: bool | None = None
    disability_kind: str | None = Field(default=None, max_length=20)
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    bedridden: bool | None = None
    chronic_illness: str | None = Field(default=None, max_length=120)
    pregnant: bool | None = None
    special_needs: str | None = None
    mobility: str | None = None
    emergency_contact: str | None = Field(default=None, max_length=60)
    emergency_phone: str | None = None
    party_member: bool | None = None
    notes: str | None = None
