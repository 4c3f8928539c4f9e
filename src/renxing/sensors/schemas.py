"""Shapes of the sensors' API: devices (with the secret shown once), batches of readings, a
device's series, rules and their triggers."""

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from renxing.bounds import Id
from renxing.sensors.models import DeviceKind
from renxing.web.schemas import IsoTime

KINDS = ", ".join(DeviceKind)
LEVELS = ("blue", "yellow", "orange", "red")
# The closed loop's categories a sensor may raise a report in (seeded by the events migration).
CATEGORIES = ("waterlogging", "fire_hazard", "gas", "building_danger", "electrical", "damaged_facility", "other")
STATES = "unknown, normal, alarm, offline, inactive"
# A device's name on the wire: one MQTT topic level, so no "/", "+" or "#".
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
MAX_INTERVAL = 7 * 86400


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)


# ---- devices ---------------------------------------------------------------------------------------


class DeviceIn(_In):
    """A device at a building or a community (a point outside buildings). Coordinates are WGS-84
    unless the route's ``crs`` says otherwise; none: the unit's own location."""

    code: str = Field(pattern=CODE_PATTERN, description="the device's name on the wire (MQTT topic, batches)")
    name: str = Field(min_length=1, max_length=120)
    kind: DeviceKind = Field(description=KINDS)
    unit_id: Id = Field(description="the building or community it stands at")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    measure_unit: str = Field(default="", max_length=16, description="cm, %LEL, °C …")
    interval_seconds: int = Field(default=300, ge=10, le=MAX_INTERVAL, description="how often it reports")
    note: str | None = Field(default=None, max_length=2000)


class DevicePatch(_In):
    """Fields to change; ``active=false`` deactivates the device (its readings are refused, 403)."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    kind: DeviceKind | None = None
    unit_id: Id | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    measure_unit: str | None = Field(default=None, max_length=16)
    interval_seconds: int | None = Field(default=None, ge=10, le=MAX_INTERVAL)
    note: str | None = Field(default=None, max_length=2000)
    active: bool | None = None


class DeviceOut(BaseModel):
    """A device and where it stands; ``state`` is what it shows now (a device silent past its
    interval reads ``offline`` even before the sweep records it)."""

    id: int
    code: str
    name: str
    kind: str = Field(description=KINDS)
    kind_label: str
    unit_id: int
    unit: str | None = Field(description="the unit's name")
    path: str
    lon: float | None = Field(description="WGS-84 unless a crs was asked for")
    lat: float | None
    measure_unit: str
    interval_seconds: int
    active: bool
    state: str = Field(description=STATES)
    state_label: str
    state_since: IsoTime | None
    last_reading_at: IsoTime | None
    last_value: float | None
    note: str | None
    created_at: IsoTime


class DeviceSecretOut(DeviceOut):
    """The answer to registering a device or rotating its credential: the only time its secret
    is shown (only a SHA-256 of it is stored)."""

    secret: str = Field(description="send as `Authorization: Device <code>:<secret>`, or in an MQTT payload")


# ---- readings ------------------------------------------------------------------------------------------


class ReadingIn(BaseModel):
    at: AwareDatetime = Field(description="when it was measured, with its offset (2026-12-03T10:00:00+08:00)")
    value: Annotated[float, Field(allow_inf_nan=False)]


class BatchIn(BaseModel):
    """Readings of the one device named by the request's credential."""

    readings: list[ReadingIn] = Field(description="at most the configured sensor_batch_max")


class MqttPayload(BatchIn):
    """An MQTT message on ``renxing/sensors/{device}/readings``: the device's secret travels in the
    payload, since plain MQTT carries no per-device identity unless the broker enforces one."""

    secret: str = Field(min_length=1, max_length=200)


class IngestOut(BaseModel):
    device_id: int
    received: int = Field(description="readings in the batch")
    stored: int = Field(description="new readings stored")
    duplicates: int = Field(description="readings already stored (same device and moment), left as they were")
    triggered: int = Field(description="rules that raised")
    cleared: int = Field(description="rules that cleared")
    state: str = Field(description=STATES)


class PointOut(BaseModel):
    at: IsoTime
    value: float


class SeriesOut(BaseModel):
    """A device's readings between two moments; a long series is thinned to each bucket's lowest
    and highest reading, so peaks past a threshold stay visible."""

    device_id: int
    since: IsoTime
    until: IsoTime
    count: int = Field(description="readings in the range before thinning")
    downsampled: bool
    points: list[PointOut]


# ---- rules and triggers ------------------------------------------------------------------------------


class RuleIn(_In):
    """A rule for a kind of device across a community or street (``unit_id``), or for one device
    (``device_id``: its kind and place)."""

    name: str = Field(min_length=1, max_length=120)
    kind: DeviceKind | None = Field(default=None, description=f"{KINDS}; with unit_id")
    unit_id: Id | None = Field(default=None, description="the community (or street) the rule covers")
    device_id: Id | None = Field(default=None, description="instead of kind and unit_id: one device")
    rule_type: Literal["threshold", "rate"] = "threshold"
    direction: Literal["above", "below"] = "above"
    threshold: float | None = Field(default=None, allow_inf_nan=False, description="threshold rules")
    clear_at: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description="hysteresis: threshold rules clear only past this value; rate rules under this rate",
    )
    rate_per_minute: float | None = Field(default=None, gt=0, allow_inf_nan=False, description="rate rules")
    window_minutes: int = Field(default=10, ge=1, le=1440)
    snooze_minutes: int = Field(default=60, ge=0, le=10080, description="a rule raises once per device per window")
    level: Literal["blue", "yellow", "orange", "red"] = "yellow"
    category: str = Field(default="other", description=", ".join(CATEGORIES))


class RulePatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    direction: Literal["above", "below"] | None = None
    threshold: float | None = Field(default=None, allow_inf_nan=False)
    clear_at: float | None = Field(default=None, allow_inf_nan=False)
    rate_per_minute: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    window_minutes: int | None = Field(default=None, ge=1, le=1440)
    snooze_minutes: int | None = Field(default=None, ge=0, le=10080)
    level: Literal["blue", "yellow", "orange", "red"] | None = None
    category: str | None = None
    active: bool | None = None


class RuleOut(BaseModel):
    id: int
    name: str
    kind: str = Field(description=KINDS)
    kind_label: str
    path: str
    unit_id: int | None = Field(description="the community or street (none for a device's own rule)")
    unit: str | None
    device_id: int | None
    device: str | None
    rule_type: str
    direction: str
    threshold: float | None
    clear_at: float | None
    rate_per_minute: float | None
    window_minutes: int
    snooze_minutes: int
    level: str
    category: str
    active: bool
    created_at: IsoTime


class TriggerOut(BaseModel):
    """A rule that raised for a device, or a device found offline (``kind`` offline, no rule)."""

    id: int
    device_id: int
    device: str
    device_code: str
    rule_id: int | None
    rule: str | None
    kind: str = Field(description="threshold, rate, offline")
    level: str | None
    value: float | None
    triggered_at: IsoTime
    cleared_at: IsoTime | None
    report_id: int | None = Field(description="the closed loop's report raised for it")
    path: str


class Done(BaseModel):
    ok: bool = True
