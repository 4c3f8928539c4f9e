"""Shapes of stock going in and out of the API: movements posted, levels, the ledger, transfers,
counts and the expiry list. Quantities are whole numbers of the item's unit (or of its pack when
``unit`` names the pack); times are ISO 8601 with their zone."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Day, Id, Moment
from renxing.supplies.counts import MAX_LINES
from renxing.supplies.movements import MAX_QUANTITY
from renxing.web.schemas import IsoTime

Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, description="a whole number of the unit")]
Counted = Annotated[int, Field(ge=0, le=MAX_QUANTITY, description="what was found, in the item's unit")]
Unit = Annotated[str | None, Field(default=None, max_length=12, description="the item's unit or its pack unit")]
LotNo = Annotated[str | None, Field(default=None, max_length=40, description="lot number (default: the expiry)")]
Note = Annotated[str | None, Field(default=None, max_length=200)]
WHEN = "when it happened (ISO 8601 with the zone; default now; may be in the past, not the future)"


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class ReceiptLineIn(_In):
    item_id: Id
    quantity: Quantity
    unit: Unit = None
    lot: LotNo = None
    expiry: Day | None = Field(default=None, description="required for items with a shelf life")


class ReceiptIn(_In):
    point_id: Id
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=1000)
    occurred_at: Moment | None = Field(default=None, description=WHEN)
    note: Note = None


class IssueIn(_In):
    point_id: Id
    item_id: Id
    quantity: Quantity
    unit: Unit = None
    lot: str | None = Field(default=None, max_length=40, description="take this lot (default: earliest expiry first)")
    agreement_id: Id | None = Field(default=None, description="a partner's site: the agreement drawn on")
    occurred_at: Moment | None = Field(default=None, description=WHEN)
    note: Note = None


class TransferIn(_In):
    from_point_id: Id = Field(description="the point the goods leave")
    to_point_id: Id
    item_id: Id
    quantity: Quantity
    unit: Unit = None
    lot: str | None = Field(default=None, max_length=40, description="send this lot (default: earliest expiry first)")
    agreement_id: Id | None = Field(default=None, description="from a partner's site: the agreement drawn on")
    occurred_at: Moment | None = Field(default=None, description=WHEN)
    received: bool = Field(default=False, description="the goods arrived at once (no time in transit)")
    note: Note = None


class ReceiveIn(_In):
    occurred_at: Moment | None = Field(default=None, description="when the goods arrived")


class WriteOffIn(_In):
    point_id: Id
    item_id: Id
    quantity: Quantity
    unit: Unit = None
    lot: str | None = Field(default=None, max_length=40, description="required for items kept by lot")
    reason: Literal["lost", "damaged", "expired", "consumed", "miscounted", "other"]
    occurred_at: Moment | None = Field(default=None, description=WHEN)
    note: Note = None


class ReverseIn(_In):
    note: Note = None


class CountLineIn(_In):
    item_id: Id
    counted: Counted
    lot: LotNo = None
    expiry: Day | None = None
    reason: str | None = Field(
        default=None, max_length=16, description="lost, found, damaged, expired, miscounted, consumed, other"
    )


class CountIn(_In):
    lines: list[CountLineIn] = Field(min_length=1, max_length=MAX_LINES)
    counted_at: Moment | None = Field(default=None, description="when the count was made (default now)")
    source: Literal["form", "survey"] = Field(
        default="form", description="survey: household kits, where a difference needs no reason"
    )
    note: Note = None


# ---- answers ---------------------------------------------------------------------------------


class PointRef(BaseModel):
    id: int
    name: str
    kind: str
    unit_id: int = Field(description="the community")
    path: str
    org_id: int | None


class LotOut(BaseModel):
    lot: str
    expiry: date | None
    quantity: int
    expired: bool


class ItemLevelOut(BaseModel):
    item_id: int
    code: str
    name: str
    name_en: str | None
    unit: str
    quantity: int = Field(description="held, every lot")
    usable: int = Field(description="held in lots not expired")
    expired: int = Field(description="held in expired lots: to be written off")
    in_transit: int = Field(description="sent towards the point(s), not yet received")
    minimum: int | None = None
    below_minimum: bool = False
    points: int = Field(0, description="points holding some (area stock)")
    lots: list[LotOut] = []


class PointStockOut(BaseModel):
    point: PointRef
    as_of: date
    items: list[ItemLevelOut]


class AreaStockOut(BaseModel):
    unit_id: int | None = Field(description="the unit summed over (none: every point the user reads)")
    unit_name: str | None
    kind: str | None
    as_of: date
    items: list[ItemLevelOut]


class MovementOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    point_id: int
    point: str
    item_id: int
    item_code: str
    item: str
    unit: str
    lot: str
    expiry: date | None
    quantity: int = Field(description="signed: + in, − out")
    reason: str | None
    occurred_at: IsoTime
    recorded_at: IsoTime
    user_id: int | None
    reverses_id: int | None
    transfer_id: int | None
    agreement_id: int | None
    count_id: int | None
    run_id: int | None
    note: str | None


class MovementIdsOut(BaseModel):
    ids: list[int] = Field(description="the new ledger entries")


class TransferOut(BaseModel):
    id: int
    status: str
    item_id: int
    item_code: str
    item: str
    unit: str
    from_point_id: int
    from_point: str
    to_point_id: int
    to_point: str
    lot: str
    expiry: date | None
    quantity: int
    sent_at: IsoTime
    received_at: IsoTime | None
    run_id: int | None


class TransfersOut(BaseModel):
    transfers: list[TransferOut] = Field(description="one per lot sent")


class ExpiryOut(BaseModel):
    balance_id: int
    point_id: int
    point: str
    point_kind: str
    item_id: int
    item_code: str
    item: str
    unit: str
    lot: str
    expiry: date
    quantity: int
    days_left: int = Field(description="negative: expired that many days ago")
    expired: bool
    action: str = Field(description="write_off, use_first, replace")
    action_label: str


class DifferenceOut(BaseModel):
    item_id: int
    lot: str
    book: int
    counted: int
    difference: int
    reason: str | None
    row: int | None = Field(description="the line (from 1) or the sheet row")


class CountOut(BaseModel):
    id: int
    point_id: int
    counted_at: IsoTime
    source: str
    lines: int
    adjustments: int
    movement_ids: list[int]
    differences: list[DifferenceOut]
