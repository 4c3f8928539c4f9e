"""The shapes of the volunteer API's answers."""

from datetime import date

from pydantic import BaseModel, Field


class TeamOut(BaseModel):
    id: int
    unit_id: int = Field(description="the team's community")
    name: str
    kind: str
    kind_label: list[str] = Field(description="[Chinese, English]")
    leader_member_id: int | None
    contact: str | None
    description: str | None
    active: bool


class TeamRowOut(TeamOut):
    members: int = Field(description="active members")
    hours_12m: float = Field(description="service hours in the last 12 months")
    community: str


class MemberSkillOut(BaseModel):
    skill: str
    label: list[str] = Field(description="[Chinese, English]")
    certificate_no: str | None
    issued_on: date | None
    expires_on: date | None
    valid: bool


class MemberOut(BaseModel):
    """A member; the phone is masked unless the role sees phones in the clear."""

    id: int
    team_id: int
    name: str
    resident_id: int | None
    user_id: int | None
    external: bool = Field(description="from outside the register")
    phone: str | None
    role: str
    role_label: list[str] = Field(description="[Chinese, English]")
    joined_on: date
    max_care: int
    availability: dict[str, list[str]] = Field(description='weekday (0 = Monday) → ["08:00-11:30", ...]')
    building_id: int | None
    lon: float | None
    lat: float | None
    active: bool
    skills: list[MemberSkillOut]
    hours_12m: float | None


class SkillAddedOut(BaseModel):
    id: int
    member_id: int
    skill: str
    expires_on: date | None


class HoursAddedOut(BaseModel):
    id: int
    member_id: int
    team_id: int
    served_on: date
    hours: float


class MonthHoursOut(BaseModel):
    month: str = Field(description="YYYY-MM")
    id: int = Field(description="the team's or the member's id")
    name: str
    hours: float
    entries: int


class ExpiringOut(BaseModel):
    member_id: int
    member: str
    team_id: int
    team: str
    skill: str
    certificate_no: str | None
    expires_on: date
    days_left: int = Field(description="negative: already expired")
