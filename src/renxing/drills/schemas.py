"""Shapes of activities going in and out of the API."""

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Id, Moment


class ActivityIn(BaseModel):
    """An activity as staff plan it. Times without a zone are read as the platform's local time."""

    model_config = ConfigDict(str_strip_whitespace=True)

    unit_id: Id = Field(description="the community")
    kind: str = Field(description="evacuation_drill, fire_drill, first_aid_training, lecture, tabletop")
    hazard: str = Field(description="flood, fire, earthquake, gas, typhoon, heat, epidemic, general")
    title: str = Field(min_length=1, max_length=120)
    starts_at: Moment
    ends_at: Moment
    place: str | None = Field(default=None, max_length=200)
    place_unit_id: Id | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    organizer_team_id: Id | None = None
    partner_ids: list[Id] = Field(default_factory=list)
    target_unit_ids: list[Id] = Field(default_factory=list, description="none: the whole community")
    status: str = "planned"
    notes: str | None = None


class ActivityPatch(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    kind: str | None = None
    hazard: str | None = None
    title: str | None = Field(default=None, min_length=1, max_length=120)
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    place: str | None = Field(default=None, max_length=200)
    place_unit_id: Id | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    organizer_team_id: Id | None = None
    partner_ids: list[Id] | None = None
    target_unit_ids: list[Id] | None = None
    status: str | None = None
    notes: str | None = None


class SelfSignIn(BaseModel):
    """A resident signing in by the code shown at the event; without an account, by name, the last
    four digits of their phone and, when several residents match, their room number."""

    model_config = ConfigDict(str_strip_whitespace=True)

    token: str = Field(min_length=8, max_length=64)
    name: str | None = Field(default=None, max_length=60)
    phone_last4: str | None = Field(default=None, max_length=8)
    room: str | None = Field(default=None, max_length=20)


class StaffSignIn(BaseModel):
    resident_ids: list[Id] = Field(min_length=1, max_length=500)
