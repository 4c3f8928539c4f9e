"""Silent devices: found offline once, reported to the closed loop, cleared when they speak again;
never shown as all clear in between."""

from datetime import timedelta

from sqlalchemy import select

from renxing.db import transaction, utcnow
from renxing.events.models import Report
from renxing.sensors import ingest, offline
from renxing.sensors.models import SensorDevice, SensorTrigger
from tests.kit.client import login
from tests.kit.sensors_world import sensors_world


def _send(ev, sw, key, value, at):
    with transaction(ev.engine) as s:
        device = ingest.device_for(s, sw.codes[key], sw.secrets[key])
        return ingest.receive(s, device, ingest.check_batch([(at, value)], at), now=at)


def test_a_silent_device_is_reported_once_and_cleared_when_it_speaks(ev):
    now = utcnow()
    sw = sensors_world(ev, registered=now - timedelta(minutes=10))
    _send(ev, sw, "wl_b1", 12.0, now - timedelta(minutes=1))  # heard a minute ago: not silent
    _send(ev, sw, "smoke_b2", 1.0, now - timedelta(minutes=4))  # 4 minutes > 3 × its 60 s
    # wl_b3 was registered ten minutes ago and never heard: silent too.
    assert offline.run(ev.engine, now) == 2
    assert offline.run(ev.engine, now + timedelta(minutes=1)) == 0  # once, until it reports again
    with transaction(ev.engine) as s:
        states = dict(s.execute(select(SensorDevice.code, SensorDevice.state)).all())
        assert states == {"WL-B1": "normal", "SM-B2": "offline", "WL-B3": "offline"}
        reports = list(s.scalars(select(Report).order_by(Report.id)))
        triggers = list(s.scalars(select(SensorTrigger).order_by(SensorTrigger.id)))
    assert [r.category_code for r in reports] == ["damaged_facility", "damaged_facility"]
    assert {r.unit_id for r in reports} == {ev.w.units["B2"], ev.w.units["B3"]}
    assert [t.kind for t in triggers] == ["offline", "offline"] and all(t.report_id for t in triggers)
    # Speaking again clears it (and its trigger); silence again raises a new one.
    back = now + timedelta(minutes=2)
    assert _send(ev, sw, "smoke_b2", 1.5, back).state == "normal"
    with transaction(ev.engine) as s:
        smoke = s.scalar(select(SensorDevice).where(SensorDevice.code == "SM-B2"))
        assert smoke.state == "normal"
        assert s.scalar(select(SensorTrigger.cleared_at).where(SensorTrigger.device_id == smoke.id)) == back
    assert offline.run(ev.engine, back + timedelta(minutes=10)) == 2  # wl_b1 and smoke_b2 silent now
    assert len(ev.inbox("gridworker1")) >= 1  # the grid worker of B1's area heard of it


def test_silence_shows_offline_before_the_sweep(client, ev):
    sw = sensors_world(ev, registered=utcnow() - timedelta(hours=2))
    staff = login(client, "secretary")
    r = client.get(f"/api/v1/sensors/devices/{sw.devices['wl_b1']}", headers=staff)
    assert r.json()["state"] == "offline"  # stored "unknown", but two hours of silence is not "no news"
    with transaction(ev.engine) as s:
        assert s.get(SensorDevice, sw.devices["wl_b1"]).state == "unknown"
