"""The demo's early warning: the flagship's gauges and smoke detectors with a week of readings, the
storm's gauge past its threshold with a report at the right grid worker, a silent detector offline,
the observatory's rainstorm alert matched to the street, and an orange warning approved by someone
other than its composer, acknowledged by link and by door knock, with a climb for the unreached."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func, select

from renxing.auth.models import User, UserScope
from renxing.db import transaction, utcnow
from renxing.demo import sensors as demo_sensors
from renxing.demo import warning as demo_warning
from renxing.demo.build import build_demo
from renxing.events.models import Report
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import path_ids
from renxing.sensors.models import SensorDevice, SensorReading, SensorTrigger
from renxing.warning import cap_schema
from renxing.warning.models import (
    IncomingAlert,
    IncomingAlertMatch,
    WarningClimb,
    WarningDelivery,
    WarningMessage,
    WarningTarget,
)

SCALE = 0.03


def test_readings_and_alert_are_deterministic_and_valid():
    now = datetime(2026, 7, 3, 9, 7, tzinfo=UTC)
    times = demo_sensors.moments(now, demo_sensors.WATER_EVERY)
    assert len(times) == 7 * 24 * 12 + 1 and times[-1] <= now < times[-1] + demo_sensors.WATER_EVERY

    def levels(seed: int) -> list[float]:
        return demo_sensors.water_levels(random.Random(seed), times, 1.0, demo_sensors.storms(now))

    first = levels(1)
    assert first == levels(1) and first != levels(2)
    assert min(first) >= 0 and max(first[: -12 * 4]) < 15 < 25 < first[-1]  # dry week, the storm at the end
    street = shape(
        {"type": "Polygon", "coordinates": [[[118.76, 32.04], [118.79, 32.04], [118.79, 32.06], [118.76, 32.04]]]}
    )
    data = demo_warning.rainstorm_alert(street, now)
    assert data == demo_warning.rainstorm_alert(street, now)
    root = cap_schema.parse_valid(data)
    ns = {"cap": cap_schema.NS}
    assert [e.text for e in root.iterfind("cap:info/cap:language", ns)] == ["zh-CN", "en-US"]
    assert root.findtext("cap:sent", namespaces=ns).endswith("+08:00")
    pairs = root.findtext("cap:info/cap:area/cap:polygon", namespaces=ns).split()
    assert pairs[0] == pairs[-1] and len(pairs) >= 4
    lat, lon = map(float, pairs[0].split(","))
    assert 31 < lat < 33 and 118 < lon < 120  # "lat,lon", as CAP writes it


# One database: test_build.py builds the demo, these steps included, on both.
@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
def test_demo_early_warning(engine):
    until = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=10)
    build_demo(engine, scale=SCALE, until=until)
    with transaction(engine) as s:
        flagship = demo_sensors.flagship(s)
        assert flagship is not None and flagship.name == "桂花园社区"
        devices = s.scalars(select(SensorDevice).order_by(SensorDevice.code)).all()
        kinds = Counter(d.kind for d in devices)
        assert kinds["water_level"] >= 2 and kinds["smoke"] >= 2
        assert all(d.path.startswith(flagship.path) for d in devices)

        # A week of readings, every 5 or 10 minutes, from each device.
        spans = {
            d: (first, last, n)
            for d, first, last, n in s.execute(
                select(
                    SensorReading.device_id,
                    func.min(SensorReading.measured_at),
                    func.max(SensorReading.measured_at),
                    func.count(SensorReading.id),
                ).group_by(SensorReading.device_id)
            )
        }
        for d in devices:
            first, last, n = spans[d.id]
            assert first <= until - timedelta(days=7) + timedelta(minutes=10), d.code
            assert n >= (last - first) / timedelta(minutes=10), d.code

        # The gauges stand in the low courtyards; the storm's gauge crossed its threshold and the
        # report it raised went to the grid worker of the gauge's area.
        area = demo_sensors.waterlogging_area(s, flagship)
        gauges = [d for d in devices if d.kind == "water_level"]
        assert all(area.buffer(0.0003).contains(Point(d.lon, d.lat)) for d in gauges)
        trigger = s.scalar(
            select(SensorTrigger).where(SensorTrigger.kind == "threshold", SensorTrigger.level == "orange")
        )
        assert trigger is not None and trigger.value >= 25 and until - trigger.triggered_at < timedelta(hours=3)
        report = s.get(Report, trigger.report_id)
        handler = s.get(User, report.handler_user_id)
        gauge = s.get(SensorDevice, trigger.device_id)
        assert handler.role == "grid_worker" and gauge.state == "alarm"
        area_id = path_ids(gauge.path)[3]
        assert s.get(UserScope, (handler.id, area_id)) is not None

        # One detector fell silent a day ago: offline, and a report to check it; the others are heard.
        silent = [d for d in devices if d.state == "offline"]
        assert [d.kind for d in silent] == ["smoke"]
        assert until - silent[0].last_reading_at > timedelta(hours=20)
        assert s.scalar(
            select(SensorTrigger.report_id).where(
                SensorTrigger.device_id == silent[0].id, SensorTrigger.kind == "offline"
            )
        )
        assert all(until - d.last_reading_at < timedelta(minutes=10) for d in devices if d not in silent)

        # The observatory's alert, kept as received, matched to every community of the street.
        (alert,) = s.scalars(select(IncomingAlert)).all()
        assert (alert.level, alert.msg_type, alert.state) == ("orange", "Alert", "active")
        cap_schema.parse_valid(alert.xml.encode())
        matched = set(s.scalars(select(IncomingAlertMatch.unit_id).where(IncomingAlertMatch.alert_id == alert.id)))
        assert matched == set(s.scalars(select(GridUnit.id).where(GridUnit.level == Level.community.value)))

        # The orange warning: proposed by the trigger, sent by one person, approved by another.
        (warning,) = s.scalars(select(WarningMessage).where(WarningMessage.status == "sent")).all()
        assert (warning.level, warning.trigger_id, warning.unit_id) == ("orange", trigger.id, flagship.id)
        assert warning.approved_by is not None and warning.created_by is not None
        assert warning.approved_by != warning.created_by
        cap_schema.parse_valid(warning.cap_xml.encode())
        assert "+08:00" in warning.sent_text

        # Reached: most by link, some by door knock; one climb for the unreached.
        targets = s.scalars(select(WarningTarget).where(WarningTarget.warning_id == warning.id)).all()
        hows = Counter(t.ack_how for t in targets)
        assert warning.households == len(targets) >= 10
        assert warning.acknowledged == len(targets) - hows[None]
        assert 0.70 <= warning.acknowledged / warning.households <= 0.99
        assert hows["link"] > hows["door"] > 0
        early = [
            t for t in targets if t.ack_how == "link" and t.acknowledged_at - warning.sent_at <= timedelta(minutes=30)
        ]
        assert len(early) > hows["link"] / 2
        assert all(t.acknowledged_at <= until for t in targets if t.acknowledged_at)
        climbs = s.scalars(select(WarningClimb).where(WarningClimb.warning_id == warning.id)).all()
        assert len(climbs) >= 1 and climbs[0].households > 0 and climbs[0].recipients
        states = Counter(s.scalars(select(WarningDelivery.state).where(WarningDelivery.warning_id == warning.id)))
        assert states["acknowledged"] == warning.acknowledged and states["queued"] == 0
