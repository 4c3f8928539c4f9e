"""Shapes of the closed loop's input, shared by the JSON API, pages, Open311 and internal callers."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Id


class ReportIn(BaseModel):
    """A new report. The place is a household, a grid unit (usually a building), or a point."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(description="category code, e.g. fire_hazard")
    description: str = Field(max_length=4000)
    lat: float | None = Field(None, description="WGS-84 latitude")
    long: float | None = Field(None, description="WGS-84 longitude")
    unit_id: Id | None = Field(None, description="the building (or other grid unit) picked")
    household_id: Id | None = Field(None, description="the household, e.g. one's own")
    address: str | None = Field(None, max_length=200)
    severity: str | None = Field(None, description="urgent, high, normal, low; staff only, else the category's")
    show_name_publicly: bool = False
    # 愿意公开: the reporter agrees that a moderated copy without personal details may be public.
    public_consent: bool = False
    # Reporter details for phone calls, Open311 and internal sources (users are known already).
    reporter_name: str | None = Field(None, max_length=60)
    reporter_phone: str | None = Field(None, max_length=30)
    reporter_email: str | None = Field(None, max_length=120)
    attributes: dict[str, Any] | None = None
    external_ref: str | None = Field(None, max_length=120)


class ActionIn(BaseModel):
    """Arguments of an action on a report; each action reads the fields it needs."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=4000)
    reason: str | None = Field(None, max_length=4000, description="transfer, reject, reopen")
    to_user_id: Id | None = Field(None, description="assign, transfer: the new handler")
    to_label: str | None = Field(None, max_length=120, description="transfer to an organization without an account")
    into_report_id: Id | None = Field(None, description="merge: the report this one duplicates")
    lat: float | None = Field(None, description="check_in: where the handler is")
    long: float | None = None
    solved: bool | None = Field(None, description="feedback: was the problem solved")
    rating: int | None = Field(None, description="feedback: 1 (bad) to 5 (very good)")
    comment: str | None = Field(None, max_length=2000)


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1, max_length=40)
    name_en: str = Field(min_length=1, max_length=60)
    description: str | None = None
    group_name: str | None = Field(None, max_length=40)
    default_severity: str = "normal"
    handler_kind: str = Field("grid_worker", max_length=24)
    active: bool = True
    private: bool = Field(False, description="reports of this category are never public")
    sort_order: int = 100


class CategoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str | None = Field(None, min_length=1, max_length=40)
    name_en: str | None = Field(None, min_length=1, max_length=60)
    description: str | None = None
    group_name: str | None = Field(None, max_length=40)
    default_severity: str | None = None
    handler_kind: str | None = Field(None, max_length=24)
    active: bool | None = None
    private: bool | None = None
    sort_order: int | None = None


class DeadlinePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept_minutes: int | None = None
    on_site_minutes: int | None = None
    resolve_minutes: int | None = None


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_code: str | None = None
    level: str | None = Field(None, description="household, building, area, compound, community; none = any")
    unit_id: Id | None = Field(None, description="only places inside this unit")
    handler_kind: str = Field(description="duty, user, partner, team")
    duty: str | None = None
    user_id: Id | None = None
    org_name: str | None = Field(None, max_length=120)
    priority: int = 100
    active: bool = True
    note: str | None = Field(None, max_length=200)


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_code: str | None = None
    level: str | None = None
    unit_id: Id | None = None
    handler_kind: str | None = None
    duty: str | None = None
    user_id: Id | None = None
    org_name: str | None = Field(None, max_length=120)
    priority: int | None = None
    active: bool | None = None
    note: str | None = Field(None, max_length=200)
