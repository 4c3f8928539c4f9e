"""Silent devices: a device not heard from for more than ``sensor_offline_factor`` × its reporting
interval (or, never heard, that long since it was registered) is marked offline, a
``SensorTrigger`` of kind ``offline`` is written and ``SensorOffline`` published — once, until the
device reports again (ingestion clears it). A silent sensor must never read as all clear.

``sweep`` works in the caller's transaction; ``run`` is one sweep in a transaction of its own, for
the web process's scheduler and ``renxing sensors offline``.
"""

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from renxing.config import get_settings
from renxing.db import transaction, utcnow
from renxing.sensors.models import DeviceState, SensorDevice, SensorTrigger
from renxing.sensors.rules import silent
from renxing.signals.bus import publish
from renxing.signals.catalog import SensorOffline


def _candidates(session: Session, now: datetime, factor: float) -> list[SensorDevice]:
    """Active devices not yet offline that may be silent: heard from (or registered) before the
    shortest interval allowed could have passed; ``silent`` decides per device."""
    heard = func.coalesce(SensorDevice.last_reading_at, SensorDevice.created_at)
    least = session.scalar(select(func.min(SensorDevice.interval_seconds)).where(SensorDevice.active.is_(True)))
    if least is None:
        return []
    stmt = (
        select(SensorDevice)
        .where(
            SensorDevice.active.is_(True),
            SensorDevice.state != DeviceState.offline.value,
            heard < now - timedelta(seconds=least * factor),
        )
        .order_by(SensorDevice.id)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def sweep(session: Session, now: datetime | None = None) -> int:
    """Mark the silent devices offline; how many were."""
    at = now or utcnow()
    factor = get_settings().sensor_offline_factor
    count = 0
    for device in _candidates(session, at, factor):
        last = device.last_reading_at
        if not silent(last or device.created_at, device.interval_seconds, factor, at):
            continue
        device.state, device.state_since = DeviceState.offline.value, at
        trigger = SensorTrigger(
            device_id=device.id, rule_id=None, kind="offline", level=None, value=None, triggered_at=at, path=device.path
        )
        session.add(trigger)
        session.flush()
        publish(
            session,
            SensorOffline(
                trigger_id=trigger.id,
                device_id=device.id,
                device=f"{device.name}（{device.code}）",
                kind=device.kind,
                unit_id=device.unit_id,
                last_reading_at=last,
                at=at,
            ),
        )
        count += 1
    return count


def run(engine: Engine, now: datetime | None = None) -> int:
    """One sweep in its own transaction."""
    with transaction(engine) as session:
        return sweep(session, now)
