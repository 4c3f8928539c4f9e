"""Shapes of a warning's reach in the API: a household's acknowledgement, what a worker records,
the live progress (totals, channels, buildings, areas, climbs) and the unreached households.
Times are ISO 8601 with their zone."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from renxing.warning.acks import MAX_NOTE
from renxing.web.schemas import IsoTime

Note = Annotated[str | None, Field(default=None, max_length=MAX_NOTE)]


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class LinkAckOut(BaseModel):
    """A household's copy of a warning, acknowledged (the answer to its link's token)."""

    warning_id: int
    level: str = Field(description="blue, yellow, orange, red")
    headline: str
    acknowledged_at: IsoTime
    lifted: bool = Field(description="the warning was cancelled (or is the Cancel): acknowledged all the same")


class RecordAckIn(_In):
    how: Literal["call", "door", "app"] = Field(description="reached by a call, a door knock, or in the app")
    note: Note = None


class UndoAckIn(_In):
    reason: Note = None


class TargetAckOut(BaseModel):
    """One household of a warning as the acknowledgement left it."""

    target_id: int
    warning_id: int
    acknowledged_at: IsoTime | None
    ack_how: str | None = Field(description="link, call, door, app; null when unreached")
    ack_by: int | None = Field(description="the account that recorded it (null for the household's own tap)")
    acknowledged: int = Field(description="households of the warning acknowledged, after this change")
    households: int


class Tally(BaseModel):
    households: int
    acknowledged: int
    percent: float = Field(description="acknowledged ÷ households × 100, one decimal")


class StateCounts(BaseModel):
    """Households by the furthest their copy got: acknowledged, or the best delivery state."""

    acknowledged: int = 0
    delivered: int = 0
    sent: int = 0
    queued: int = 0
    failed: int = 0


class ChannelOut(BaseModel):
    channel: str
    states: dict[str, int] = Field(description="deliveries by state: queued, sent, delivered, acknowledged, failed")


class PlaceOut(BaseModel):
    """A building or an area of the warning with how far its households are reached."""

    id: int
    name: str
    households: int
    acknowledged: int
    unreached: int
    percent: float
    states: StateCounts
    lon: float | None = None
    lat: float | None = None
    area_id: int | None = Field(None, description="buildings: their area")


class ClimbOut(BaseModel):
    at: IsoTime
    rung: int
    rung_label: str
    households: int
    recipients: int = Field(description="accounts told")


class ProgressOut(BaseModel):
    """A warning's live progress: totals, by channel, per building and area, and the climbs so far."""

    warning_id: int
    headline: str
    level: str
    msg_type: str
    status: str
    sent_at: IsoTime | None
    next_climb_at: IsoTime | None
    lifted: bool
    superseded: bool = Field(description="an Update or Cancel replaced it (it climbs no more)")
    totals: Tally
    states: StateCounts
    channels: list[ChannelOut]
    buildings: list[PlaceOut]
    areas: list[PlaceOut]
    climbs: list[ClimbOut]


class UnreachedOut(BaseModel):
    """A household still to reach, as much of it as the reader's role may see."""

    target_id: int
    household_id: int
    building_id: int
    building: str
    unit_no: str = Field(description="masked (*) for roles that do not visit")
    room: str = Field(description="masked (***) for roles that do not visit")
    phone: str | None = Field(description="in the clear for roles that call (their reads are audited)")
    door_to_door: bool
    vulnerability: int | None = Field(description="the register's score; null for roles that do not see health")
    rung: int
    channels: dict[str, str] = Field(description="delivery state by channel")
