"""The JSON API of incoming alerts and feeds (both databases): upload answers 201, 200 for a
duplicate or a dry run, 422 naming the element; the list, one alert with its areas, the message as
received; scope and permissions; the feeds' register and polling now."""

import pytest

from tests.kit.alerts_world import RAINSTORM, SPEC, alerts_world, cap
from tests.kit.client import login

BASE = "/api/v1/warning"


@pytest.fixture
def aw(engine, world):
    return alerts_world(engine, world)


def upload(client, headers, data: bytes, **form):
    return client.post(f"{BASE}/incoming", headers=headers, files={"file": ("alert.xml", data)}, data=form)


def test_upload_list_and_read(client, aw, world):
    staff = login(client, "secretary")
    dry = upload(client, staff, RAINSTORM.read_bytes(), dry_run="true")
    assert dry.status_code == 200 and dry.json()["dry_run"] and dry.json()["alert_id"] is None
    r = upload(client, staff, RAINSTORM.read_bytes())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["level"] == "orange" and body["communities"] == [
        {"unit_id": world.units["C1"], "name": "阳光社区", "how": "polygon"}
    ]
    again = upload(client, staff, RAINSTORM.read_bytes())
    assert again.status_code == 200 and again.json()["duplicate"] and again.json()["alert_id"] == body["alert_id"]

    bad = upload(client, staff, cap(status="Bogus"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "/alert/status"
    empty = upload(client, staff, b"")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "file"

    listed = client.get(f"{BASE}/incoming", headers=staff, params={"state": "expired", "level": "orange"})
    assert listed.status_code == 200 and [a["id"] for a in listed.json()["items"]] == [body["alert_id"]]
    assert (
        client.get(f"{BASE}/incoming", headers=staff, params={"state": "nope"}).json()["errors"][0]["field"] == "state"
    )
    one = client.get(f"{BASE}/incoming/{body['alert_id']}", headers=staff).json()
    assert (
        one["headline"].startswith("南京市鼓楼区气象台")
        and one["areas"]["features"][0]["properties"]["kind"] == "polygon"
    )
    assert one["outlines"]["features"][0]["properties"]["name"] == "阳光社区"
    xml = client.get(f"{BASE}/incoming/{body['alert_id']}/cap.xml", headers=staff)
    assert xml.headers["content-type"].startswith("application/cap+xml") and xml.content == RAINSTORM.read_bytes()

    worker = login(client, "gridworker1")
    assert client.get(f"{BASE}/incoming/{body['alert_id']}", headers=worker).status_code == 200
    assert upload(client, worker, SPEC["a1"].read_bytes()).status_code == 403
    other = login(client, "staff2")
    assert client.get(f"{BASE}/incoming/{body['alert_id']}", headers=other).status_code == 404
    assert client.get(f"{BASE}/incoming", headers=other).json()["total"] == 0


def test_the_feeds_register_and_polling_now(client, aw):
    staff = login(client, "secretary")
    r = client.post(f"{BASE}/feeds", headers=staff, json={"name": "市预警中心", "url": "http://127.0.0.1:9/cap.atom"})
    assert r.status_code == 201, r.text
    feed = r.json()
    assert feed["due"] and feed["interval_seconds"] == 300 and feed["alerts"] == 0
    assert client.post(f"{BASE}/feeds", headers=staff, json={"name": "x", "url": feed["url"]}).status_code == 409
    bad = client.post(f"{BASE}/feeds", headers=staff, json={"name": "x", "url": "ftp://example.cn/x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "url"
    polled = client.post(f"{BASE}/feeds/{feed['id']}/poll", headers=staff)
    assert polled.status_code == 200 and "ConnectError" in polled.json()["error"]
    changed = client.patch(f"{BASE}/feeds/{feed['id']}", headers=staff, json={"active": False})
    assert changed.json()["active"] is False and changed.json()["last_error"]
    assert client.get(f"{BASE}/feeds", headers=staff).json()["total"] == 1
    assert client.get(f"{BASE}/feeds", headers=login(client, "gridworker1")).status_code == 403
    assert client.delete(f"{BASE}/feeds/{feed['id']}", headers=staff).json() == {"ok": True}
    assert client.get(f"{BASE}/feeds/{feed['id']}", headers=staff).status_code == 404
