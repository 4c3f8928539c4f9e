"""The sensors' pages through HTTP: the map and list with states, registering a device by form
(its secret shown once, not cached), a device's chart data, rules by form; who sees what."""

import json
import re

from tests.kit.client import page_login
from tests.kit.sensors_world import batch, sensors_world

DATA = re.compile(r'<script type="application/json" id="([\w-]+)">(.*?)</script>', re.S)


def _data(html: str, block: str):
    return json.loads(dict(DATA.findall(html))[block])


def test_staff_register_a_device_and_read_its_chart(client, ev):
    sw = sensors_world(ev)
    client.post("/api/v1/sensors/readings", json=batch([10, 20, 31, 33, 24]), headers=sw.auth("wl_b1"))
    token = page_login(client, "secretary")
    page = client.get("/sensors")
    assert page.status_code == 200
    html = page.text
    assert 'id="register"' in html and "WL-B1" in html and "WL-B3" not in html
    # smoke_b2 was registered a day ago and never heard: it shows offline, and the page says so.
    assert 'id="offline-alert"' in html
    mapped = {d["code"]: d["state"] for d in _data(html, "sensors-map")["devices"]}
    assert mapped == {"WL-B1": "normal", "SM-B2": "offline"}
    # A form with a bad field comes back with the field named; nothing is registered.
    form = {"csrf_token": token, "code": "WL-NEW", "name": "新水位计", "kind": "water_level", "unit_id": ""}
    r = client.post("/sensors/devices", data=form)
    assert r.status_code == 422 and 'data-error-field="unit_id"' in r.text
    form["unit_id"] = str(ev.w.units["B1"])
    r = client.post("/sensors/devices", data=form)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    secret = re.search(r'id="device-secret">([^<]+)<', r.text).group(1)
    assert len(secret) >= 32 and "renxing/sensors/WL-NEW/readings" in r.text
    # The device's page charts its readings with the rule's threshold and clearing level.
    device = client.get(f"/sensors/devices/{sw.devices['wl_b1']}?days=1")
    chart = _data(device.text, "sensors-chart")
    assert [p[1] for p in chart["points"]] == [10, 20, 31, 33, 24]
    assert sorted(m["value"] for m in chart["marks"]) == [25, 30]
    assert 'data-trigger="' in device.text and 'id="rotate"' in device.text


def test_rules_by_form_and_what_a_grid_worker_sees(client, ev):
    sw = sensors_world(ev)
    token = page_login(client, "secretary")
    form = {
        "csrf_token": token,
        "name": "燃气泄漏",
        "kind": "gas",
        "unit_id": str(ev.w.units["C1"]),
        "rule_type": "threshold",
        "direction": "above",
        "threshold": "20",
        "clear_at": "25",
        "level": "red",
        "category": "gas",
    }
    r = client.post("/sensors/rules", data=form)
    assert r.status_code == 422 and 'data-error-field="clear_at"' in r.text
    form["clear_at"] = "10"
    r = client.post("/sensors/rules", data=form, follow_redirects=False)
    assert r.status_code == 303
    rules = client.get("/sensors/rules").text
    assert "燃气泄漏" in rules and "地下车库积水" in rules and 'id="rule-form"' in rules
    page_login(client, "gridworker1")
    mine = client.get("/sensors").text
    assert "WL-B1" in mine and "SM-B2" not in mine and 'id="register"' not in mine
    assert 'id="rule-form"' not in client.get("/sensors/rules").text
    assert client.get(f"/sensors/devices/{sw.devices['smoke_b2']}").status_code == 403
    page_login(client, "resident1")
    assert client.get("/sensors").status_code == 403
