"""Devices through the API: registration with a secret shown once, places and datums, scope,
rotation and deactivation; a device's readings as a series."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from renxing.db import transaction, utcnow
from renxing.geo.coords import CRS, convert
from renxing.sensors.models import SensorDevice
from tests.kit.client import login
from tests.kit.sensors_world import batch, sensors_world

DEVICES = "/api/v1/sensors/devices"


@pytest.fixture
def sw(ev):
    return sensors_world(ev)


def _new(ev, **extra) -> dict:
    return {"code": "WL-NEW", "name": "新水位计", "kind": "water_level", "unit_id": ev.w.units["B1"], **extra}


def test_a_registered_device_gets_its_secret_once_and_stands_where_it_is_put(client, ev, sw):
    staff = login(client, "secretary")
    r = client.post(DEVICES, json=_new(ev, measure_unit="cm", interval_seconds=120), headers=staff)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["state"] == "unknown" and made["unit"] == "1栋" and len(made["secret"]) >= 32
    with transaction(ev.engine) as s:
        device = s.get(SensorDevice, made["id"])
        assert device.credential_hash == hashlib.sha256(made["secret"].encode()).hexdigest()
        assert made["secret"] not in str(device.__dict__)
    assert (made["lon"], made["lat"]) == (118.785, 32.060)  # the building's own place by default
    read = client.get(f"{DEVICES}/{made['id']}", headers=staff).json()
    assert "secret" not in read and read["code"] == "WL-NEW"
    # Coordinates read off a Chinese map (GCJ-02) are stored in WGS-84.
    gcj = convert(118.785, 32.060, CRS.wgs84, CRS.gcj02)
    body = _new(ev, code="WL-GCJ", lon=gcj[0], lat=gcj[1])
    r = client.post(f"{DEVICES}?crs=gcj02", json=body, headers=staff)
    assert r.status_code == 201
    assert r.json()["lon"] == pytest.approx(118.785, abs=1e-5) and r.json()["lat"] == pytest.approx(32.060, abs=1e-5)


def test_who_may_register_where(client, ev, sw):
    cases = [
        ("gridworker1", _new(ev), 403),  # reads, does not manage
        ("staff2", _new(ev), 403),  # B1 is not in 和平社区
        ("secretary", _new(ev, unit_id=ev.w.units["A1"]), 422),  # an area is neither building nor community
        ("secretary", _new(ev, code=sw.codes["wl_b1"]), 409),
        ("secretary", _new(ev, code="has/slash"), 422),
        ("secretary", _new(ev, lon=118.7), 422),  # a longitude without a latitude
    ]
    for user, body, status in cases:
        r = client.post(DEVICES, json=body, headers=login(client, user))
        assert r.status_code == status, (user, body, r.text)
        if status in (409, 422):
            assert r.json()["errors"][0]["field"] in ("unit_id", "code", "lat"), r.text
    staff = login(client, "secretary")
    r = client.post(DEVICES, json=_new(ev, unit_id=ev.w.units["C1"], code="WL-C1"), headers=staff)
    assert r.status_code == 201  # a point outside buildings stands at the community


def test_each_role_lists_the_devices_of_its_scope(client, ev, sw):
    def codes(user):
        r = client.get(DEVICES, headers=login(client, user))
        assert r.status_code == 200, r.text
        return sorted(d["code"] for d in r.json()["items"])

    assert codes("secretary") == ["SM-B2", "WL-B1"]
    assert codes("gridworker1") == ["WL-B1"]
    assert codes("staff2") == ["WL-B3"]
    assert codes("street") == ["SM-B2", "WL-B1", "WL-B3"]
    assert client.get(DEVICES, headers=login(client, "resident1")).status_code == 403
    r = client.get(f"{DEVICES}/{sw.devices['wl_b3']}", headers=login(client, "secretary"))
    assert r.status_code == 403
    r = client.get(DEVICES, params={"kind": "smoke"}, headers=login(client, "secretary"))
    assert [d["code"] for d in r.json()["items"]] == ["SM-B2"]
    r = client.get(DEVICES, params={"kind": "lava"}, headers=login(client, "secretary"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"


def test_a_rotated_secret_replaces_the_old_one_and_a_deactivated_device_is_refused(client, ev, sw):
    staff = login(client, "secretary")
    device_id = sw.devices["wl_b1"]
    r = client.post(f"{DEVICES}/{device_id}/rotate-credential", headers=staff)
    assert r.status_code == 200
    new = r.json()["secret"]
    assert new != sw.secrets["wl_b1"]
    readings = "/api/v1/sensors/readings"
    assert client.post(readings, json=batch([1.0]), headers=sw.auth("wl_b1")).status_code == 401
    fresh = {"Authorization": f"Device {sw.codes['wl_b1']}:{new}"}
    assert client.post(readings, json=batch([1.0]), headers=fresh).status_code == 200
    gridworker = login(client, "gridworker1")
    assert client.post(f"{DEVICES}/{device_id}/rotate-credential", headers=gridworker).status_code == 403
    r = client.patch(f"{DEVICES}/{device_id}", json={"active": False, "name": "旧水位计"}, headers=staff)
    assert r.status_code == 200 and r.json()["state"] == "inactive" and r.json()["name"] == "旧水位计"
    assert client.post(readings, json=batch([2.0]), headers=fresh).status_code == 403
    # Moved to another building it takes that building's path and place.
    r = client.patch(f"{DEVICES}/{device_id}", json={"unit_id": ev.w.units["B2"], "active": True}, headers=staff)
    assert r.status_code == 200
    with transaction(ev.engine) as s:
        device = s.scalar(select(SensorDevice).where(SensorDevice.id == device_id))
        assert device.unit_id == ev.w.units["B2"] and device.path.endswith(f"/{ev.w.units['B2']}/")


def test_a_series_is_bounded_and_thinned(client, ev, sw):
    start = utcnow() - timedelta(hours=20)
    values = [10.0] * 3000
    values[1234] = 55.0  # one spike must survive the thinning
    r = client.post(
        "/api/v1/sensors/readings", json=batch(values, start=start, step_seconds=20), headers=sw.auth("wl_b1")
    )
    assert r.json()["stored"] == 3000
    staff = login(client, "gridworker1")
    url = f"{DEVICES}/{sw.devices['wl_b1']}/readings"
    series = client.get(url, headers=staff).json()
    assert series["count"] == 3000 and series["downsampled"] and len(series["points"]) <= 1200
    assert max(p["value"] for p in series["points"]) == 55.0
    since = (start + timedelta(minutes=10)).isoformat()
    until = (start + timedelta(minutes=20)).isoformat()
    part = client.get(url, params={"since": since, "until": until}, headers=staff).json()
    assert part["count"] == 30 and not part["downsampled"]
    for params, field in [
        ({"since": "2026-01-01T00:00:00"}, "since"),  # no offset
        ({"since": "2020-01-01T00:00:00+08:00"}, "since"),  # longer than 92 days
        ({"since": until, "until": since}, "since"),
    ]:
        r = client.get(url, params=params, headers=staff)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
