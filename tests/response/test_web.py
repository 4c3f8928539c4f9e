"""Operating modes through HTTP: the JSON API, the /response page and the badge on every page."""

import pytest

from renxing.db import transaction
from renxing.signals.bus import publish
from renxing.signals.catalog import WarningSent
from tests.kit.client import login, page_login
from tests.kit.warning_world import add_warning, warning_world


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def test_the_api_reads_switches_and_refuses_by_field(ww, client):
    c1, c2 = ww.units["C1"], ww.units["C2"]
    staff = login(client, "secretary")
    r = client.get("/api/v1/response/modes", headers=staff)
    assert r.status_code == 200
    [one] = r.json()
    assert (one["unit_id"], one["state"], one["may_switch"]) == (c1, "normal", True)
    assert [t["code"] for t in one["targets"]] == ["alert", "emergency"]
    r = client.post(f"/api/v1/response/modes/{c1}", json={"to_state": "recovery"}, headers=staff)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["to_state"]
    r = client.post(f"/api/v1/response/modes/{c1}", json={"to_state": "alert", "reason": "暴雨将至"}, headers=staff)
    assert r.status_code == 200 and r.json()["from_state"] == "normal"
    r = client.post(f"/api/v1/response/modes/{c1}", json={"to_state": "normal"}, headers=staff)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["reason"]
    assert client.post(f"/api/v1/response/modes/{c2}", json={"to_state": "alert"}, headers=staff).status_code == 403
    grid = login(client, "gridworker1")
    assert client.get(f"/api/v1/response/modes/{c1}", headers=grid).json()["state"] == "alert"
    assert client.post(f"/api/v1/response/modes/{c1}", json={"to_state": "emergency"}, headers=grid).status_code == 403
    r = client.get("/api/v1/response/history", params={"unit_id": c1}, headers=grid)
    assert r.status_code == 200 and [h["to_state"] for h in r.json()["items"]] == ["alert"]
    assert client.get("/api/v1/response/history", params={"sort": "nope"}, headers=grid).status_code == 422


def test_proposals_are_listed_and_confirmed_through_the_api(ww, client):
    red = add_warning(ww, level="red")
    with transaction(ww.engine) as s:
        publish(
            s,
            WarningSent(
                warning_id=red, msg_type="Alert", level="red", headline="红色", households=1, door_to_door=(), link="/"
            ),
        )
    staff = login(client, "secretary")
    r = client.get("/api/v1/response/proposals", params={"status": "pending"}, headers=staff)
    [p] = r.json()["items"]
    assert p["source"] == f"warning:{red}"
    assert (
        client.post(
            f"/api/v1/response/proposals/{p['id']}/confirm", json={}, headers=login(client, "staff2")
        ).status_code
        == 404
    )
    r = client.post(f"/api/v1/response/proposals/{p['id']}/confirm", json={}, headers=staff)
    assert r.status_code == 200 and r.json()["to_state"] == "emergency"
    assert client.post(f"/api/v1/response/proposals/{p['id']}/dismiss", headers=staff).status_code == 409


def test_the_page_switches_shows_the_badge_everywhere_and_refuses_in_place(ww, client):
    c1 = ww.units["C1"]
    token = page_login(client, "secretary")
    page = client.get("/response")
    assert page.status_code == 200 and "阳光社区" in page.text and "mode-badge" not in page.text
    r = client.post(
        f"/response/{c1}/switch",
        data={"csrf_token": token, "to_state": "emergency", "exercise": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    home = client.get("/")
    assert "mode-badge mode-emergency" in home.text and "应急状态 · 阳光社区" in home.text and "演练" in home.text
    r = client.post(f"/response/{c1}/switch", data={"csrf_token": token, "to_state": "recovery"})
    assert r.status_code == 422 and "field-error" in r.text
    page_login(client, "resident1")
    assert "应急状态 · 阳光社区" in client.get("/").text
    page_login(client, "staff2")
    assert "mode-badge" not in client.get("/").text
