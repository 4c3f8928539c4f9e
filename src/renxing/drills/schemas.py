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


# ---- answers ----------------------------------------------------------------------------

ISO = "ISO 8601 with the zone"


class ActivityRow(BaseModel):
    """An activity as lists show it."""

    id: int
    unit_id: int = Field(description="the community")
    kind: str
    hazard: str
    title: str
    starts_at: str = Field(description=ISO)
    ends_at: str = Field(description=ISO)
    place: str | None
    status: str = Field(description="planned, done, cancelled")
    attendance: int = Field(description="residents signed in")


class PartnerRef(BaseModel):
    id: int
    name: str
    kind: str


class TargetRef(BaseModel):
    id: int
    name: str
    level: str


class ActivityOut(ActivityRow):
    """One activity with its partners and the units it is meant for (none: the whole community)."""

    community: str
    place_unit_id: int | None
    lon: float | None
    lat: float | None
    organizer_user_id: int | None
    organizer_team_id: int | None
    notes: str | None
    partners: list[PartnerRef]
    targets: list[TargetRef]


class SigninCodeOut(BaseModel):
    activity_id: int
    token: str = Field(description="the code in the link; it cannot be made up from the id")
    url: str = Field(description="the sign-in page for residents' phones")
    svg: str = Field(description="the QR code of the url, an inline SVG")


class SignInOut(BaseModel):
    activity_id: int
    title: str
    resident: str = Field(description="the name of the resident signed in, masked")
    status: str = Field(description="signed, or already when they had signed in before")


class AttendanceRow(BaseModel):
    resident_id: int
    name: str = Field(description="in the clear for roles that meet people, masked otherwise")
    signed_at: str = Field(description=ISO)
    method: str = Field(description="qr, list, staff")


class AttendancePage(BaseModel):
    """The residents signed in that the user may see, one page; ``signed_in`` counts everyone."""

    items: list[AttendanceRow]
    total: int
    page: int
    size: int
    pages: int
    signed_in: int


class StaffSignInOut(BaseModel):
    added: int
    already: int = Field(description="had signed in before")


class UploadOut(StaffSignInOut):
    rows: int = Field(description="residents named by the sheet")


class Done(BaseModel):
    ok: bool


class UnitRef(BaseModel):
    id: int
    name: str
    level: str
    path: str


class UnitCoverageOut(BaseModel):
    id: int
    path: str
    name: str
    level: str
    depth: int = Field(description="levels below the unit asked for")
    residents: int
    reached: int = Field(description="residents who took part in a live activity in the window")
    reach: float | None = Field(description="reached ÷ residents; null where nobody lives")
    needed: int = Field(description="more residents to reach before the target is met")
    activities: int = Field(description="live activities meant for the unit, a part of it or a unit around it")
    standing: str = Field(description="ok, behind, lagging, empty")


class CommunityCoverageOut(UnitCoverageOut):
    activity_target: int = Field(description="activities a community should hold in the window")


class CoverageOut(BaseModel):
    """Rolling 12-month coverage of a unit's subtree against the targets."""

    unit: UnitRef
    since: str = Field(description=ISO)
    until: str = Field(description=ISO)
    reach_target: float
    activity_target: int
    lag_ratio: float
    total: UnitCoverageOut | None = Field(description="the unit asked for")
    communities: list[CommunityCoverageOut]
    units: list[UnitCoverageOut] = Field(description="every unit of the subtree, in grid order")
    lagging: list[UnitCoverageOut] = Field(description="buildings below the target, the worst first")


class InviteeOut(BaseModel):
    """A resident not reached, masked as lists are."""

    id: int
    name: str
    household: str = Field(description="building and room")
    age: int | None
    tags: list[str] = Field(description="vulnerability tags the role may see")
    phone: str | None = Field(description="masked")
