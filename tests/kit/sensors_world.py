"""Sensors on the closed-loop world (``ev``): a water-level sensor at building B1 and a smoke
sensor at B2 of 阳光社区 (C1), a water-level sensor at building B3 of 和平社区 (C2); a water-level
rule across C1 (≥ 30 cm, cleared under 25, orange, waterlogging) and a smoke rule across C1
(≥ 10 %/m, red, fire hazard). Devices report every minute; their secrets are kept by key."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from renxing.auth.principal import SYSTEM
from renxing.db import transaction, utcnow
from renxing.sensors import devices, rule_admin
from renxing.sensors.schemas import DeviceIn, RuleIn
from tests.kit.events_world import Ev

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class SensorsWorld:
    devices: dict[str, int] = field(default_factory=dict)  # wl_b1, smoke_b2, wl_b3
    codes: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)  # water, smoke

    def auth(self, key: str) -> dict[str, str]:
        """The ``Authorization`` header of a device."""
        return {"Authorization": f"Device {self.codes[key]}:{self.secrets[key]}"}


def batch(values: list[float], start: datetime | None = None, step_seconds: int = 60) -> dict:
    """A JSON batch: one reading per step from ``start`` (by default ending a minute ago)."""
    start = start or utcnow() - timedelta(seconds=step_seconds * (len(values) + 1))
    return {
        "readings": [
            {"at": (start + timedelta(seconds=i * step_seconds)).astimezone(SHANGHAI).isoformat(), "value": v}
            for i, v in enumerate(values)
        ]
    }


def sensors_world(ev: Ev, registered: datetime | None = None) -> SensorsWorld:
    """Registered a day ago unless told."""
    registered = registered or utcnow() - timedelta(days=1)
    sw = SensorsWorld()
    units = ev.w.units
    specs = [
        ("wl_b1", "WL-B1", "1栋地下车库水位", "water_level", "B1", "cm"),
        ("smoke_b2", "SM-B2", "2栋楼道烟感", "smoke", "B2", "%/m"),
        ("wl_b3", "WL-B3", "3栋水位", "water_level", "B3", "cm"),
    ]
    with transaction(ev.engine) as s:
        for key, code, name, kind, unit, measure in specs:
            data = DeviceIn(
                code=code, name=name, kind=kind, unit_id=units[unit], measure_unit=measure, interval_seconds=60
            )
            device, secret = devices.register_device(s, SYSTEM, data, now=registered)
            sw.devices[key], sw.codes[key], sw.secrets[key] = device.id, code, secret
        water = RuleIn(
            name="地下车库积水",
            kind="water_level",
            unit_id=units["C1"],
            threshold=30,
            clear_at=25,
            level="orange",
            category="waterlogging",
        )
        smoke = RuleIn(
            name="楼道烟雾", kind="smoke", unit_id=units["C1"], threshold=10, level="red", category="fire_hazard"
        )
        sw.rules["water"] = rule_admin.create_rule(s, SYSTEM, water).id
        sw.rules["smoke"] = rule_admin.create_rule(s, SYSTEM, smoke).id
    return sw
