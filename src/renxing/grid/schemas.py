"""Shapes of the grid going out of the API: units, buildings with their households, the chain."""

from pydantic import BaseModel, Field


class UnitOut(BaseModel):
    """One unit of the grid tree (street, community, compound, area or building)."""

    id: int
    parent_id: int | None
    level: str = Field(description="street, community, compound, area or building")
    code: str
    name: str
    kind: str | None = Field(description="e.g. old_estate, highrise, walkup_1980s")
    lon: float | None = Field(description="a representative point, WGS-84")
    lat: float | None


class UnitCountOut(UnitOut):
    """A unit with how many residents live in its subtree."""

    residents: int


class UnitDetailOut(UnitOut):
    geometry: str | None = Field(description="the outline as GeoJSON text, WGS-84")
    ancestors: list[UnitOut] = Field(description="from the top of the tree down to the parent")
    children: list[UnitCountOut] = Field(description="the visible units below (none for a building)")


class BuildingAttrsOut(BaseModel):
    """What a building has beyond being a unit of the tree."""

    id: int
    address: str | None
    units: int
    floors: int
    year_built: int | None
    structure: str | None
    has_elevator: bool


class HouseholdOut(BaseModel):
    id: int
    unit_no: int
    room: str
    address: str | None
    residents: int


class BuildingOut(UnitOut):
    building: BuildingAttrsOut | None
    households: list[HouseholdOut] = Field(description="every household for staff; a resident's own only")


class DutyHolderOut(BaseModel):
    name: str
    phone: str | None = Field(description="in the clear for roles that call duty holders, else masked or null")
    since: str = Field(description="the start of the duty, ISO date")
    user_id: int | None


class ChainLinkOut(BaseModel):
    """One level of the five-level chain (五级负责制) and who answers there."""

    level: str
    level_label: str
    duty: str
    duty_label: str
    unit_id: int | None
    unit_name: str
    people: list[DutyHolderOut]
