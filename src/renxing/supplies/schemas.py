"""Shapes of the warehouse's registers going in and out of the API: the item catalogue and its
needs, storage points and their minimum levels, agreements with partners and their lines."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Day, Id
from renxing.web.schemas import IsoTime

MAX_QUANTITY = 10_000_000  # as the ledger's: any committed or minimum quantity fits an integer column
CATEGORIES = ("water", "food", "shelter", "medical", "hygiene", "lighting", "power", "rescue", "other")
GROUPS = "everyone, vulnerable, bedridden, infants"
KINDS = "community_store, partner_site, shelter_store, household_kits"
DrawWhen = Literal["any", "alert", "emergency"]


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)


# ---- items and needs ----------------------------------------------------------------------


class ItemIn(_In):
    """A catalogue item. Quantities are kept in whole ``unit``s; ``pack_unit`` × ``pack_size``
    lets receipts be entered in packs."""

    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$", description="stable key, e.g. water")
    name: str = Field(min_length=1, max_length=80)
    name_en: str | None = Field(default=None, max_length=80)
    category: str = Field(description=", ".join(CATEGORIES))
    unit: str = Field(min_length=1, max_length=12, description="the counting unit: L, 份, 条 …")
    pack_unit: str | None = Field(default=None, max_length=12, description="a pack of several units: 箱, 盒 …")
    pack_size: int | None = Field(default=None, ge=2, le=100_000, description="units in one pack")
    shelf_life_days: int | None = Field(default=None, ge=1, le=36_500, description="none: does not expire")
    lot_tracked: bool = Field(default=False, description="lots and expiry recorded (needed with a shelf life)")
    active: bool = True
    note: str | None = Field(default=None, max_length=2000)


class ItemPatch(_In):
    code: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    name: str | None = Field(default=None, min_length=1, max_length=80)
    name_en: str | None = Field(default=None, max_length=80)
    category: str | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=12)
    pack_unit: str | None = Field(default=None, max_length=12)
    pack_size: int | None = Field(default=None, ge=2, le=100_000)
    shelf_life_days: int | None = Field(default=None, ge=1, le=36_500)
    lot_tracked: bool | None = None
    active: bool | None = Field(default=None, description="false: deactivated (items are never deleted)")
    note: str | None = Field(default=None, max_length=2000)


class NeedIn(_In):
    """A planning need per person (per day when ``daily``) of one group, with its source."""

    group: str = Field(description=GROUPS)
    quantity: float = Field(gt=0, le=10_000, description="in the item's unit, per person")
    daily: bool = True
    source: str = Field(min_length=1, max_length=1000, description="the standard, handbook or decision it comes from")


class NeedPatch(_In):
    group: str | None = None
    quantity: float | None = Field(default=None, gt=0, le=10_000)
    daily: bool | None = None
    source: str | None = Field(default=None, min_length=1, max_length=1000)


class NeedOut(BaseModel):
    id: int
    item_id: int
    group: str = Field(description=GROUPS)
    group_label: str
    quantity: float
    daily: bool
    source: str


class ItemOut(BaseModel):
    """One catalogue item with its needs."""

    id: int
    code: str
    name: str
    name_en: str | None
    category: str
    category_label: str
    unit: str
    pack_unit: str | None
    pack_size: int | None
    shelf_life_days: int | None
    lot_tracked: bool
    active: bool
    note: str | None
    needs: list[NeedOut]


# ---- storage points and minimum levels ------------------------------------------------------


class PointIn(_In):
    """A storage point. Coordinates are WGS-84 unless the route's ``crs`` says otherwise."""

    unit_id: Id = Field(description="the community it belongs to")
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(description=KINDS)
    org_id: Id | None = Field(default=None, description="partner_site: the partner holding it (of that community)")
    shelter_id: Id | None = Field(default=None, description="shelter_store: the shelter it serves (optional)")
    building_id: Id | None = Field(default=None, description="household_kits: the building surveyed")
    households: int | None = Field(default=None, ge=0, le=100_000, description="household_kits: households surveyed")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str | None = Field(default=None, max_length=200)
    access_hours: str | None = Field(default=None, max_length=120, description="when it can be opened, e.g. 24小时")
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = Field(default=None, max_length=30)
    active: bool = True


class PointPatch(_In):
    """Fields to change. A partner may change only address, access hours and contact of its own site."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    kind: str | None = None
    org_id: Id | None = None
    shelter_id: Id | None = None
    building_id: Id | None = None
    households: int | None = Field(default=None, ge=0, le=100_000)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str | None = Field(default=None, max_length=200)
    access_hours: str | None = Field(default=None, max_length=120)
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = Field(default=None, max_length=30)
    active: bool | None = None


class PointOut(BaseModel):
    """One storage point (its stock levels are the stock routes')."""

    id: int
    unit_id: int = Field(description="the community")
    path: str
    name: str
    kind: str = Field(description=KINDS)
    kind_label: str
    org_id: int | None
    organization: str | None = Field(description="the partner's name, for a partner site")
    shelter_id: int | None
    building_id: int | None
    households: int | None
    lon: float | None = Field(description="WGS-84 unless a crs was asked for")
    lat: float | None
    address: str | None
    access_hours: str | None
    contact_name: str | None
    contact_phone: str | None = Field(description="a work phone of the point, not personal data")
    active: bool


class MinimumIn(_In):
    minimum: int = Field(ge=1, le=MAX_QUANTITY, description="in the item's unit")


class MinimumOut(BaseModel):
    """The least a point should hold of an item; ``below_since`` is set while the notice stands."""

    point_id: int
    item_id: int
    item: str
    unit: str
    minimum: int
    below_since: IsoTime | None


# ---- agreements ---------------------------------------------------------------------------


class ContactIn(_In):
    name: str = Field(min_length=1, max_length=60)
    role: str = Field(default="", max_length=40)
    phone: str = Field(min_length=1, max_length=30)


class LineIn(_In):
    item_id: Id
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="committed, in the item's unit")
    point_id: Id | None = Field(default=None, description="the partner's site holding it (optional)")


class AgreementIn(_In):
    """A signed agreement: the partner holds what the lines commit, the community draws up to
    ``draw_share`` of it when ``draw_when`` allows, while it is valid."""

    org_id: Id = Field(description="the partner (its community is the agreement's)")
    number: str = Field(min_length=1, max_length=40, description="协议编号, unique in the community")
    title: str = Field(min_length=1, max_length=200)
    valid_from: Day
    valid_until: Day
    draw_share: float = Field(default=1.0, gt=0, le=1, description="share of the committed stock drawable")
    draw_when: DrawWhen = Field(default="emergency", description="any, alert or emergency")
    activation: str | None = Field(default=None, max_length=4000, description="the activation procedure")
    contact_chain: list[ContactIn] = Field(default_factory=list, max_length=12, description="called in this order")
    note: str | None = Field(default=None, max_length=4000)
    lines: list[LineIn] = Field(default_factory=list, max_length=200)


class AgreementPatch(_In):
    """Fields to change (``lines`` replaces every line). A partner may change only
    ``activation``, ``contact_chain`` and ``note`` of its own agreements."""

    number: str | None = Field(default=None, min_length=1, max_length=40)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    valid_from: Day | None = None
    valid_until: Day | None = None
    draw_share: float | None = Field(default=None, gt=0, le=1)
    draw_when: DrawWhen | None = None
    activation: str | None = Field(default=None, max_length=4000)
    contact_chain: list[ContactIn] | None = Field(default=None, max_length=12)
    note: str | None = Field(default=None, max_length=4000)
    lines: list[LineIn] | None = Field(default=None, max_length=200)


class RenewIn(_In):
    """The new term; by default it starts the day after the old one ends and lasts as long."""

    number: str | None = Field(default=None, min_length=1, max_length=40, description="default: the old one's + year")
    valid_from: Day | None = None
    valid_until: Day | None = None


class TerminateIn(_In):
    reason: str | None = Field(default=None, max_length=500)


class ContactOut(BaseModel):
    name: str
    role: str
    phone: str


class LineOut(BaseModel):
    id: int
    item_id: int
    item: str
    unit: str
    quantity: int
    point_id: int | None
    point: str | None


class AgreementRow(BaseModel):
    """An agreement as lists show it. ``status`` is computed from the dates: upcoming, in_force,
    expiring (in force, 30 days or fewer left), expired, terminated."""

    id: int
    org_id: int
    organization: str
    unit_id: int = Field(description="the community")
    number: str
    title: str
    valid_from: date
    valid_until: date
    days_left: int = Field(description="days until valid_until (negative once expired)")
    status: str
    status_label: str
    draw_share: float
    draw_when: str
    terminated_at: IsoTime | None
    reminded_on: date | None = Field(description="the day the renewal reminder went out")


class AgreementOut(AgreementRow):
    """One agreement with its procedure, contact chain and lines."""

    activation: str | None
    contact_chain: list[ContactOut]
    note: str | None
    lines: list[LineOut]
    renewed_by: int | None = Field(description="the agreement continuing it, once renewed")


class RemindedOut(BaseModel):
    reminded: int = Field(description="agreements reminded of now")


class Done(BaseModel):
    ok: bool
