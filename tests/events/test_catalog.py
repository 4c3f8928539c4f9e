"""What staff configure: categories, deadlines per severity, routing rules — and who may."""

from renxing.events.models import EventCategory, RoutingRule
from tests.kit.client import login
from tests.kit.events_world import later


def test_categories_are_public_and_edited_by_staff(ev, client):
    listed = client.get("/api/v1/categories").json()
    assert len(listed) == 13 and listed[0]["code"] == "fire_hazard"
    new = {
        "code": "elevator",
        "name_zh": "电梯故障",
        "name_en": "Elevator fault",
        "default_severity": "high",
        "handler_kind": "property",
    }
    assert client.post("/api/v1/categories", json=new, headers=login(client, "gridworker1")).status_code == 403
    # Categories are street-wide: a community's staff may not add or change them.
    assert client.post("/api/v1/categories", json=new, headers=login(client, "secretary")).status_code == 403
    staff = login(client, "street")
    r = client.post("/api/v1/categories", json=new, headers=staff)
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/categories", json=new, headers=staff).status_code == 409
    bad = client.post("/api/v1/categories", json={**new, "code": "lift", "default_severity": "extreme"}, headers=staff)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "default_severity"
    assert ev.report(ev.submit("resident1", category="elevator")).severity == "high"
    r = client.patch("/api/v1/categories/elevator", json={"active": False}, headers=staff)
    assert r.json()["active"] is False
    assert "elevator" not in [c["code"] for c in client.get("/api/v1/categories").json()]
    r = client.post(
        "/api/v1/reports",
        json={"category": "elevator", "description": "x", "unit_id": ev.w.units["B1"]},
        headers=login(client, "resident1"),
    )
    assert r.status_code == 422  # an inactive category takes no new reports
    with ev.engine.begin() as conn:
        conn.execute(EventCategory.__table__.update().where(EventCategory.code == "gas").values(editable=False))
    assert client.patch("/api/v1/categories/gas", json={"name_en": "Gas!"}, headers=staff).status_code == 403


def test_deadlines_are_configurable_and_apply_to_new_reports(ev, client):
    staff = login(client, "street")
    r = client.patch("/api/v1/severities/high", json={"accept_minutes": 20}, headers=staff)
    assert r.status_code == 200 and r.json()["accept_minutes"] == 20
    bad = client.patch("/api/v1/severities/high", json={"on_site_minutes": 5}, headers=staff)
    assert bad.status_code == 422
    assert (
        client.patch(
            "/api/v1/severities/high", json={"accept_minutes": 1}, headers=login(client, "resident1")
        ).status_code
        == 403
    )
    assert ev.report(ev.submit("resident1")).due_accept == later(20)
    states = client.get("/api/v1/report-states", headers=staff).json()
    assert len(states["states"]) == 10 and any(t["action"] == "check_in" for t in states["transitions"])


def test_routing_rules_respect_scope(ev, client):
    rule = {"category_code": "fire_hazard", "handler_kind": "user", "user_id": ev.uid("leader1"), "priority": 5}
    secretary = login(client, "secretary")
    # A rule for every place is the street's to set; a community sets rules for its own units.
    assert client.post("/api/v1/routing-rules", json=rule, headers=secretary).status_code == 403
    foreign = {**rule, "unit_id": ev.w.units["C2"]}
    assert client.post("/api/v1/routing-rules", json=foreign, headers=secretary).status_code == 403
    r = client.post("/api/v1/routing-rules", json={**rule, "unit_id": ev.w.units["C1"]}, headers=secretary)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert ev.report(ev.submit("resident1")).handler_user_id == ev.uid("leader1")
    bad = client.post("/api/v1/routing-rules", json={"handler_kind": "duty", "duty": "king"}, headers=secretary)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "duty"
    assert rid in [x["id"] for x in client.get("/api/v1/routing-rules", headers=secretary).json()]
    assert rid not in [x["id"] for x in client.get("/api/v1/routing-rules", headers=login(client, "staff2")).json()]
    # Another community's staff see the rules for every place; the street sees all, by priority.
    theirs = client.get("/api/v1/routing-rules", headers=login(client, "staff2")).json()
    everyone = client.get("/api/v1/routing-rules", headers=login(client, "street")).json()
    assert theirs and {x["unit_id"] for x in theirs} == {None}
    assert rid in [x["id"] for x in everyone]
    assert [(x["priority"], x["id"]) for x in everyone] == sorted((x["priority"], x["id"]) for x in everyone)
    assert (
        client.patch(f"/api/v1/routing-rules/{rid}", json={"priority": 1}, headers=login(client, "staff2")).status_code
        == 403
    )
    assert client.patch(f"/api/v1/routing-rules/{rid}", json={"active": False}, headers=secretary).status_code == 200
    assert ev.report(ev.submit("resident1")).handler_user_id == ev.uid("gridworker1")
    assert client.delete(f"/api/v1/routing-rules/{rid}", headers=secretary).json() == {"ok": True}
    assert ev.count(RoutingRule) == 4  # the seeded defaults remain
