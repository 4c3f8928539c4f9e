"""Readings in over HTTP: the device's own credential, a batch checked whole, stored once, run
through the rules; a crossing becomes a report with the grid worker of the device's area."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from renxing.config import get_settings
from renxing.db import transaction, utcnow
from renxing.events.models import Report
from renxing.sensors import ingest
from renxing.sensors.models import SensorDevice, SensorReading, SensorTrigger
from tests.kit.client import login
from tests.kit.sensors_world import batch, sensors_world

URL = "/api/v1/sensors/readings"


@pytest.fixture
def sw(ev):
    return sensors_world(ev)


def _count(engine, model, **where) -> int:
    with transaction(engine) as s:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return s.scalar(stmt) or 0


def _reports(engine) -> list[Report]:
    with transaction(engine) as s:
        return list(s.scalars(select(Report).order_by(Report.id)))


def test_a_batch_is_stored_once_and_a_resend_counts_its_duplicates(client, ev, sw):
    body = batch([12.0, 12.5, 13.0])
    r = client.post(URL, json=body, headers=sw.auth("wl_b1"))
    assert r.status_code == 200, r.text
    assert r.json() | {"state": None} == {
        "device_id": sw.devices["wl_b1"],
        "received": 3,
        "stored": 3,
        "duplicates": 0,
        "triggered": 0,
        "cleared": 0,
        "state": None,
    }
    assert r.json()["state"] == "normal"
    more = {"readings": [*body["readings"][1:], *batch([14.0])["readings"]]}
    again = client.post(URL, json=more, headers=sw.auth("wl_b1")).json()
    assert (again["received"], again["stored"], again["duplicates"]) == (3, 1, 2)
    assert _count(ev.engine, SensorReading, device_id=sw.devices["wl_b1"]) == 4
    with transaction(ev.engine) as s:
        device = s.get(SensorDevice, sw.devices["wl_b1"])
        assert device.last_value == 14.0 and device.state == "normal"


def test_only_the_device_itself_may_send_its_readings(client, ev, sw):
    body = batch([12.0])
    code, secret = sw.codes["wl_b1"], sw.secrets["wl_b1"]
    for headers in (
        {},
        {"Authorization": f"Device {code}:wrong"},
        {"Authorization": f"Device NOPE:{secret}"},
        {"Authorization": f"Device {code}"},
        {"Authorization": f"Device {sw.codes['smoke_b2']}:{secret}"},  # another device's name
        login(client, "secretary"),  # a person's token is not a device's
    ):
        r = client.post(URL, json=body, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.json()["errors"][0]["field"] == "Authorization"
    client.patch(
        f"/api/v1/sensors/devices/{sw.devices['wl_b1']}", json={"active": False}, headers=login(client, "secretary")
    )
    r = client.post(URL, json=body, headers=sw.auth("wl_b1"))
    assert r.status_code == 403, r.text
    assert _count(ev.engine, SensorReading) == 0


def test_one_bad_reading_refuses_the_whole_batch(client, ev, sw, monkeypatch):
    now = utcnow()
    good = batch([12.0, 13.0, 14.0])["readings"]
    ahead = (now + timedelta(seconds=get_settings().sensor_future_seconds + 120)).isoformat()
    cases = [
        ([*good, {"at": ahead, "value": 1.0}], "readings.3.at"),
        ([*good[:1], {"at": "2026-12-03T10:00:00", "value": 1.0}], "readings.1.at"),  # no offset
        ([*good[:2], {"at": good[2]["at"], "value": float("nan")}], "readings.2.value"),
        ([*good[:2], {"at": good[2]["at"], "value": "high"}], "readings.2.value"),
    ]
    for readings, field in cases:
        body = json.dumps({"readings": readings})  # NaN as JavaScript writes it, which JSON parsers take
        headers = {**sw.auth("wl_b1"), "Content-Type": "application/json"}
        r = client.post(URL, content=body, headers=headers)
        assert r.status_code == 422, (field, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], r.text
    monkeypatch.setattr(get_settings(), "sensor_batch_max", 2)
    r = client.post(URL, json={"readings": good}, headers=sw.auth("wl_b1"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "readings"
    assert _count(ev.engine, SensorReading) == 0


def test_a_crossing_raises_a_report_for_the_grid_worker_and_clears_with_hysteresis(client, ev, sw):
    r = client.post(URL, json=batch([10, 20, 31, 28, 26]), headers=sw.auth("wl_b1"))
    assert r.json()["triggered"] == 1 and r.json()["cleared"] == 0 and r.json()["state"] == "alarm"
    (report,) = _reports(ev.engine)
    assert report.category_code == "waterlogging"
    assert report.unit_id == ev.w.units["B1"]
    assert report.handler_user_id == ev.uid("gridworker1")  # routed like any report of area A1
    assert "1栋地下车库水位" in report.description and "31" in report.description
    with transaction(ev.engine) as s:
        (trigger,) = s.scalars(select(SensorTrigger))
        assert trigger.report_id == report.id and report.external_ref == f"sensor-trigger-{trigger.id}"
        assert (trigger.kind, trigger.level, trigger.value, trigger.cleared_at) == ("threshold", "orange", 31, None)
    # Back under 25 clears it; the device is normal again.
    r = client.post(URL, json=batch([24.0]), headers=sw.auth("wl_b1"))
    assert r.json()["cleared"] == 1 and r.json()["state"] == "normal"
    with transaction(ev.engine) as s:
        assert s.scalar(select(SensorTrigger.cleared_at)) is not None
    # A late reading (older than the last one) is stored but does not move the present.
    late = batch([99.0], start=utcnow() - timedelta(hours=2))
    r = client.post(URL, json=late, headers=sw.auth("wl_b1"))
    assert (r.json()["stored"], r.json()["triggered"], r.json()["state"]) == (1, 0, "normal")
    assert len(_reports(ev.engine)) == 1


def test_a_flood_of_high_readings_raises_one_report(client, ev, sw):
    start = utcnow() - timedelta(hours=1)
    flood = batch([40.0 + i % 7 for i in range(1000)], start=start, step_seconds=3)
    r = client.post(URL, json=flood, headers=sw.auth("wl_b1"))
    assert r.status_code == 200 and r.json()["stored"] == 1000 and r.json()["triggered"] == 1
    more = batch([45.0] * 100, start=start + timedelta(seconds=3000), step_seconds=3)
    assert client.post(URL, json=more, headers=sw.auth("wl_b1")).json()["triggered"] == 0
    assert len(_reports(ev.engine)) == 1
    assert _count(ev.engine, SensorTrigger) == 1


def test_the_service_takes_a_clock(ev, sw):
    """The demo and the MQTT listener call the same service; the future is the caller's clock's."""
    now = utcnow() - timedelta(days=30)
    with transaction(ev.engine) as s:
        device = ingest.device_for(s, sw.codes["smoke_b2"], sw.secrets["smoke_b2"])
        samples = ingest.check_batch([(now - timedelta(minutes=1), 2.0), (now, 12.0)], now)
        result = ingest.receive(s, device, samples, via="mqtt", now=now)
    assert (result.stored, result.triggered, result.state) == (2, 1, "alarm")
    (report,) = _reports(ev.engine)
    assert report.category_code == "fire_hazard" and report.unit_id == ev.w.units["B2"]
    with pytest.raises(ingest.Invalid) as refused, transaction(ev.engine) as s:
        ingest.check_batch([(now + timedelta(hours=1), 1.0)], now)
    assert refused.value.errors[0].field == "readings.0.at"
