"""Rules through the API: a kind across a community or one device, what a rule must hold, scope;
a device's own rule firing, and the triggers list."""

from sqlalchemy import select

from renxing.db import transaction
from renxing.sensors.models import SensorRule
from tests.kit.client import login
from tests.kit.sensors_world import batch, sensors_world

RULES = "/api/v1/sensors/rules"


def test_rules_are_checked_whole_and_kept_in_scope(client, ev):
    sw = sensors_world(ev)
    staff = login(client, "secretary")
    c1 = ev.w.units["C1"]
    bad = [
        ({"name": "x", "kind": "smoke", "unit_id": c1, "threshold": 10, "clear_at": 12}, 422, ["clear_at"]),
        ({"name": "x", "kind": "smoke", "unit_id": c1}, 422, ["threshold"]),
        ({"name": "x", "kind": "smoke", "unit_id": c1, "rule_type": "rate"}, 422, ["rate_per_minute"]),
        ({"name": "x", "kind": "smoke", "unit_id": c1, "threshold": 1, "category": "party"}, 422, ["category"]),
        ({"name": "x", "unit_id": c1, "threshold": 1}, 422, ["kind"]),
        ({"name": "x", "kind": "smoke", "unit_id": ev.w.units["B1"], "threshold": 1}, 422, ["unit_id"]),
        ({"name": "x", "kind": "smoke", "unit_id": ev.w.units["C2"], "threshold": 1}, 403, []),
        ({"name": "x", "device_id": sw.devices["wl_b3"], "threshold": 1}, 403, []),
    ]
    for body, status, fields in bad:
        r = client.post(RULES, json=body, headers=staff)
        assert r.status_code == status, (body, r.text)
        assert [e["field"] for e in r.json()["errors"]] == fields, r.text
    assert client.post(RULES, json=bad[0][0], headers=login(client, "gridworker1")).status_code == 403
    # A rate rule for one device: its kind and place are the device's.
    rate = {
        "name": "水位猛涨",
        "device_id": sw.devices["wl_b1"],
        "rule_type": "rate",
        "rate_per_minute": 2,
        "window_minutes": 4,
        "level": "red",
        "category": "waterlogging",
    }
    r = client.post(RULES, json=rate, headers=staff)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["kind"], made["device"], made["unit_id"]) == ("water_level", "1栋地下车库水位", None)
    listed = client.get(RULES, params={"sort": "name"}, headers=login(client, "gridworker1")).json()
    assert [x["name"] for x in listed["items"]] == ["地下车库积水", "楼道烟雾", "水位猛涨"]
    assert client.get(RULES, headers=login(client, "staff2")).json()["total"] == 0
    r = client.patch(f"{RULES}/{made['id']}", json={"clear_at": 3}, headers=staff)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "clear_at"
    r = client.patch(f"{RULES}/{sw.rules['water']}", json={"threshold": 40, "clear_at": 35}, headers=staff)
    assert r.status_code == 200 and r.json()["threshold"] == 40


def test_a_devices_own_rate_rule_fires_and_the_triggers_are_listed(client, ev):
    sw = sensors_world(ev)
    staff = login(client, "secretary")
    rate = {
        "name": "水位猛涨",
        "device_id": sw.devices["wl_b1"],
        "rule_type": "rate",
        "rate_per_minute": 2,
        "window_minutes": 4,
        "snooze_minutes": 0,
        "level": "red",
        "category": "waterlogging",
    }
    assert client.post(RULES, json=rate, headers=staff).status_code == 201
    with transaction(ev.engine) as s:  # the community's level rule out of the way
        s.get(SensorRule, sw.rules["water"]).active = False
    # Rising 5 cm a minute, still well under the level threshold, then flat.
    r = client.post(
        "/api/v1/sensors/readings", json=batch([0, 5, 10, 15, 20, 20, 20, 20, 20, 20]), headers=sw.auth("wl_b1")
    )
    assert (r.json()["triggered"], r.json()["cleared"]) == (1, 1)
    triggers = client.get("/api/v1/sensors/triggers", headers=staff).json()
    assert triggers["total"] == 1
    (t,) = triggers["items"]
    assert (t["kind"], t["level"], t["rule"], t["device_code"]) == ("rate", "red", "水位猛涨", "WL-B1")
    assert t["report_id"] and t["cleared_at"]
    still_open = client.get("/api/v1/sensors/triggers", params={"open": "true"}, headers=staff).json()
    assert still_open["total"] == 0
    assert client.get("/api/v1/sensors/triggers", headers=login(client, "staff2")).json()["total"] == 0
    r = client.get("/api/v1/sensors/triggers", params={"since": "2026-01-01T00:00:00"}, headers=staff)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "since"
    with transaction(ev.engine) as s:
        assert s.scalar(select(SensorRule.active).where(SensorRule.id == sw.rules["water"])) is False
