"""Tables of the sensors: devices with their own credential, readings (one per device and
moment, so a resent reading is stored once), rules per kind, each rule's state per device, and
the triggers a rule raised.

A device is placed at a grid unit (a building, or a community for a point outside buildings)
and copies its path, so the scope check of a device list needs no join.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renxing.db import Base, UTCDateTime, utcnow
from renxing.i18n import _l


class DeviceKind(StrEnum):
    water_level = "water_level"  # 水位, cm above the local datum
    smoke = "smoke"  # 烟感, obscuration %/m
    gas = "gas"  # 可燃气体, % LEL
    temperature = "temperature"  # 温度, °C
    tilt = "tilt"  # 倾斜/裂缝, degrees or mm
    power = "power"  # 电气火灾/电力, A (residual current) or V
    other = "other"


DEVICE_KIND_LABELS = {
    DeviceKind.water_level: _l("水位"),
    DeviceKind.smoke: _l("烟感"),
    DeviceKind.gas: _l("可燃气体"),
    DeviceKind.temperature: _l("温度"),
    DeviceKind.tilt: _l("倾斜/裂缝"),
    DeviceKind.power: _l("电气"),
    DeviceKind.other: _l("其他"),
}


class DeviceState(StrEnum):
    unknown = "unknown"  # registered, nothing heard yet
    normal = "normal"
    alarm = "alarm"  # at least one rule triggered and not cleared
    offline = "offline"  # silent past its interval (never read as all clear)


class RuleType(StrEnum):
    threshold = "threshold"  # value crosses `threshold`; clears only past `clear_at` (hysteresis)
    rate = "rate"  # change per minute over `window_minutes` beyond `rate_per_minute`


class SensorDevice(Base):
    __tablename__ = "sensor_devices"
    __table_args__ = (Index("ix_sensor_devices_path_id", "path", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # the device's name on the wire (MQTT topic, batches)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("grid_units.id"), index=True)  # building or community
    path: Mapped[str] = mapped_column(String(255))  # the unit's path
    lon: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lat: Mapped[float | None] = mapped_column(Float)
    measure_unit: Mapped[str] = mapped_column(String(16), default="")  # cm, %LEL, °C …
    interval_seconds: Mapped[int] = mapped_column(Integer, default=300)  # how often it reports
    credential_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the device's secret
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(16), default=DeviceState.unknown)
    state_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reading_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SensorReading(Base):
    __tablename__ = "sensor_readings"
    __table_args__ = (UniqueConstraint("device_id", "measured_at", name="uq_sensor_readings_device_moment"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("sensor_devices.id", ondelete="CASCADE"))
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    via: Mapped[str] = mapped_column(String(8), default="http")  # http, mqtt


class SensorRule(Base):
    """A rule for one kind of device, across a community (``path``) or for one device."""

    __tablename__ = "sensor_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True)  # the community (or street) the rule covers
    device_id: Mapped[int | None] = mapped_column(ForeignKey("sensor_devices.id", ondelete="CASCADE"))
    rule_type: Mapped[str] = mapped_column(String(16), default=RuleType.threshold)
    direction: Mapped[str] = mapped_column(String(8), default="above")  # above, below
    threshold: Mapped[float | None] = mapped_column(Float)
    clear_at: Mapped[float | None] = mapped_column(Float)  # hysteresis: cleared only past this value
    rate_per_minute: Mapped[float | None] = mapped_column(Float)
    window_minutes: Mapped[int] = mapped_column(Integer, default=10)
    snooze_minutes: Mapped[int] = mapped_column(Integer, default=60)  # one trigger per device per window
    level: Mapped[str] = mapped_column(String(8), default="yellow")  # blue, yellow, orange, red
    category: Mapped[str] = mapped_column(String(40), default="other")  # the closed loop's report category
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SensorRuleState(Base):
    """Where one rule stands for one device: triggered or not, since when, last raised when."""

    __tablename__ = "sensor_rule_states"

    rule_id: Mapped[int] = mapped_column(ForeignKey("sensor_rules.id", ondelete="CASCADE"), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("sensor_devices.id", ondelete="CASCADE"), primary_key=True)
    triggered: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SensorTrigger(Base):
    """A rule that fired for a device (or a device found offline: ``rule_id`` None)."""

    __tablename__ = "sensor_triggers"
    __table_args__ = (Index("ix_sensor_triggers_device_at", "device_id", "triggered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("sensor_devices.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("sensor_rules.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # threshold, rate, offline
    level: Mapped[str | None] = mapped_column(String(8))
    value: Mapped[float | None] = mapped_column(Float)
    triggered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_id: Mapped[int | None] = mapped_column(Integer)  # the closed loop's report, linked back by its event
    path: Mapped[str] = mapped_column(String(255), index=True)
