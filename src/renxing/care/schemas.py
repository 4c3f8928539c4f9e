"""The shapes of the care API's answers (``care/api.py`` builds them from plain dicts)."""

from datetime import date, datetime

from pydantic import BaseModel, Field


class ResidentOut(BaseModel):
    """A vulnerable resident as the care lists show them: phone and health needs masked unless
    the role sees those fields in the clear."""

    id: int
    name: str
    household_id: int
    address: str
    building_id: int | None
    building: str | None
    area_id: int | None
    area: str | None
    phone: str | None
    kinds: list[str] = Field(
        description="elderly_alone, aged80, bedridden, disabled, special_needs (health kinds masked)"
    )
    needs: list[str] = Field(description="skills a carer needs; one hidden marker when masked")
    masked: bool


class CarerLinkOut(BaseModel):
    """A carer assigned to a plan."""

    assignment_id: int
    key: str = Field(description="m<team member id> or u<user id>")
    name: str
    kind: str
    kind_label: list[str] = Field(description="[Chinese, English]")
    team: str | None
    team_id: int | None
    since: date
    reason: str | None


class PlanOut(BaseModel):
    id: int
    status: str
    frequency_days: int = Field(description="the effective days between visits (1 in an emergency)")
    emergency: bool
    resident: ResidentOut
    carers: list[CarerLinkOut]
    last_visit_at: datetime | None
    due_at: datetime
    overdue: bool
    days_overdue: int
    created_at: datetime


class VisitOut(BaseModel):
    id: int
    plan_id: int
    resident: str | None = Field(description="the resident's name (in lists)")
    carer_kind: str
    member_id: int | None
    user_id: int | None
    visited_at: datetime
    found: str
    problem_category: str | None
    note: str | None
    report_id: int | None = Field(description="the report raised into the closed loop, if any")


class PlanDetailOut(PlanOut):
    visits: list[VisitOut] = Field(description="the latest 50 visits, newest first")


class OverdueOut(PlanOut):
    grid_workers: list[str] = Field(description="grid workers of the resident's area")


class UncoveredOut(ResidentOut):
    plan_id: int | None = Field(description="the resident's active plan without a carer, if any")


class ProposedPairOut(BaseModel):
    resident: ResidentOut
    carer: str
    carer_name: str
    carer_kind: str
    team: str | None
    distance_m: float
    explanation: str


class ProposedGapOut(BaseModel):
    resident: ResidentOut
    reason: str = Field(description="no_skilled_carer, none_within_reach, all_full or no_position")
    message: str


class ProposalOut(BaseModel):
    community_id: int
    covered: int
    total: int
    total_distance_m: float
    carers_available: int
    pairs: list[ProposedPairOut]
    uncovered: list[ProposedGapOut]


class AssignedOut(BaseModel):
    assigned: int
    ids: list[int] = Field(description="the new assignments")
    plan_ids: list[int]


class AssignmentEndedOut(BaseModel):
    id: int
    plan_id: int
    until: date | None


class UnitCoverageOut(BaseModel):
    """Coverage of the whole unit, an area or a building (a building carries its position)."""

    unit_id: int | None
    name: str | None
    vulnerable: int
    by_kind: dict[str, int]
    covered: int
    share: float | None
    uncovered: int
    over_served_residents: int
    carers: int
    assigned: int
    max_care: int
    load: float | None
    lon: float | None = None
    lat: float | None = None


class KindShareOut(BaseModel):
    kind: str
    vulnerable: int
    covered: int
    share: float


class OverServedOut(BaseModel):
    level: str = Field(description="resident or building")
    id: int | None = Field(description="hidden (null) for a resident when the role reads no names")
    name: str | None
    service_kind: str
    teams: list[str]
    residents: int
    uncovered_in_area: int


class CarerLoadOut(BaseModel):
    carer: str
    name: str | None
    team: str | None
    assigned: int
    max_care: int | None
    load: float | None
    over_limit: bool


class CoverageOut(BaseModel):
    unit_id: int
    total: UnitCoverageOut
    by_kind: list[KindShareOut]
    areas: list[UnitCoverageOut]
    buildings: list[UnitCoverageOut]
    uncovered: list[ResidentOut] | int = Field(
        description="the residents, or only their number for roles that read no names"
    )
    over_served: list[OverServedOut]
    carers: list[CarerLoadOut]


class CoverageCountOut(BaseModel):
    covered: int
    total: int
    coverage: float


class WhatIfOut(BaseModel):
    before: CoverageCountOut
    after: CoverageCountOut
    gain: int
    newly_covered: list[int] = Field(description="residents uncovered before and covered after")
    summary: str
