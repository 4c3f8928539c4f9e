"""Bodies of days of autonomy and allocation runs, the API's contract."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from renxing.bounds import Id, Moment


class ItemRef(BaseModel):
    id: int
    code: str
    name: str
    unit: str


class ItemDaysOut(BaseModel):
    item: ItemRef | None
    stock: int
    daily_need: float
    days: float | None


class AutonomyOut(BaseModel):
    days: float | None = Field(description="how many days the stock lasts: the binding item's")
    binding_item: ItemRef | None = Field(description="the item that runs out first")
    items: list[ItemDaysOut]


class AreaAutonomyOut(AutonomyOut):
    id: int
    name: str
    population: int


class ShelterAutonomyOut(AutonomyOut):
    id: int
    name: str
    persons: int
    capacity: int
    store_points: int


class CoverageOut(BaseModel):
    item: str
    unit: str
    needed: int
    stock: int


class ScenarioAutonomyOut(BaseModel):
    id: int
    name: str
    evacuees: int
    unplaced: int
    groups: dict[str, int]
    autonomy: AutonomyOut
    shelters: list[ShelterAutonomyOut]


class Named(BaseModel):
    id: int
    name: str


class CommunityAutonomyOut(BaseModel):
    community: Named
    today: str
    population: dict[str, int]
    autonomy: AutonomyOut
    coverage: list[CoverageOut]
    areas: list[AreaAutonomyOut]
    scenarios: list[Named]
    scenario: ScenarioAutonomyOut | None


class AllocationIn(BaseModel):
    community_id: Id
    scenario_id: Id = Field(description="a saved evacuation scenario of the community")
    days: int = Field(3, ge=1, le=30, description="days the evacuees are to be supplied for")


class CommitIn(BaseModel):
    occurred_at: Moment | None = Field(None, description="when the goods left (default: now)")


class RunRow(BaseModel):
    id: int
    community_id: int
    scenario_id: int | None
    scenario_name: str
    days: int
    status: str
    objective: int = Field(description="Σ quantity × distance, unit·metres")
    met: int
    shortfall: int
    created_at: datetime
    committed_at: datetime | None


class RunOut(RunRow):
    result: dict[str, Any] = Field(description="shelters, flows, shortfalls, the solver's certificate, warnings")
