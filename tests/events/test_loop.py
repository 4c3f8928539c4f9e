"""The closed loop: submit → accept → on site → resolve → feedback → closed, and every way off it."""

import io

import pytest
from PIL import Image

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, Invalid, NotFound
from renxing.events import queries
from renxing.events.models import Report, ReportEvent, ReportFollower
from tests.kit.client import login
from tests.kit.events_world import T0, later


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 120, 0)).save(out, format="PNG")
    return out.getvalue()


def test_the_whole_loop_over_the_api(ev, client):
    resident, worker = login(client, "resident1"), login(client, "gridworker1")
    r = client.post(
        "/api/v1/reports",
        json={"category": "fire_hazard", "description": "楼道堆放纸箱", "lat": 32.0601, "long": 118.7851},
        headers=resident,
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["state"] == "assigned" and r.json()["actions"] == []  # the reporter waits

    inbox = client.get("/api/v1/reports/inbox", headers=worker).json()
    assert [x["id"] for x in inbox["items"]] == [rid]
    view = client.get(f"/api/v1/reports/{rid}", headers=worker).json()
    assert set(view["actions"]) >= {"accept", "transfer", "reject", "merge"}
    assert view["routing"]["steps"] and view["reporter"]["phone"] == "13912345678"

    assert client.post(f"/api/v1/reports/{rid}/accept", json={"note": "马上去"}, headers=worker).status_code == 200
    r = client.post(
        f"/api/v1/reports/{rid}/check_in",
        data={"lat": "32.06012", "long": "118.78515", "note": "已到现场"},
        files={"photo": ("scene.png", png(), "image/png")},
        headers=worker,
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "on_site" and [p["kind"] for p in r.json()["photos"]] == ["check_in"]
    r = client.post(f"/api/v1/reports/{rid}/resolve", json={"note": "已清理，通知物业巡查"}, headers=worker)
    assert r.json()["state"] == "resolved"

    seen = client.get(f"/api/v1/reports/{rid}", headers=resident).json()
    assert seen["actions"] == ["feedback", "reopen"]
    assert seen["routing"] is None  # why it went where it went is for staff
    r = client.post(
        f"/api/v1/reports/{rid}/feedback", json={"solved": True, "rating": 5, "comment": "很快"}, headers=resident
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "closed" and body["close_reason"] == "feedback"
    assert body["feedback"]["rating"] == 5
    assert [e["action"] for e in body["timeline"]] == [
        "submit",
        "route",
        "accept",
        "check_in",
        "resolve",
        "feedback",
    ]
    check_in = body["timeline"][3]
    assert (check_in["lat"], check_in["lon"]) == (32.06012, 118.78515)
    # The resident was told at each step, in the inbox.
    titles = [n["title"] for n in client.get("/api/v1/notifications", headers=resident).json()["items"]]
    assert any("受理" in t for t in titles) and any("到场" in t for t in titles) and any("办结" in t for t in titles)
    stats = client.get("/api/v1/reports/stats?group_by=category", headers=login(client, "secretary")).json()
    assert stats["total"]["closed_loop_rate"] == 1.0 and stats["total"]["satisfaction"] == 5.0


def test_reject_with_a_reason_the_reporter_sees(ev, client):
    rid = ev.submit("resident1")
    with pytest.raises(Invalid) as err:
        ev.act("gridworker1", rid, "reject")
    assert err.value.errors[0].field == "reason"
    ev.act("gridworker1", rid, "reject", reason="属物业维修范围，已告知物业电话 / for the property company")
    view = client.get(f"/api/v1/reports/{rid}", headers=login(client, "resident1")).json()
    assert view["state"] == "rejected" and view["reject_reason"].startswith("属物业维修范围")
    assert any("退回" in n.title for n in ev.inbox("resident1"))
    assert ev.report(rid).next_due_at is None


def test_reopen_within_seven_days_of_resolution_and_not_after(ev):
    rid = ev.submit("resident1")
    for action, kw in [("accept", {}), ("check_in", {"lat": 32.06, "long": 118.785}), ("resolve", {"note": "ok"})]:
        ev.act("gridworker1", rid, action, now=later(10), **kw)
    ev.act("resident1", rid, "reopen", now=later(10, days=6), reason="又堆上了")
    r = ev.report(rid)
    assert (r.state, r.reopen_count) == ("reopened", 1)
    assert r.due_accept == later(40, days=6)  # a fresh round of deadlines
    for action, kw in [("accept", {}), ("check_in", {"lat": 32.06, "long": 118.785}), ("resolve", {"note": "ok"})]:
        ev.act("gridworker1", rid, action, now=later(0, days=7), **kw)
    before = len(ev.events(rid))
    with pytest.raises(Conflict):
        ev.act("resident1", rid, "reopen", now=later(1, days=14))
    assert len(ev.events(rid)) == before and ev.report(rid).state == "resolved"


def test_forbidden_actions_and_wrong_states_store_nothing(ev, client):
    rid = ev.submit("resident1")
    before = (len(ev.events(rid)), ev.report(rid).state)
    with pytest.raises(Forbidden):
        ev.act("resident1", rid, "accept")  # a reporter never accepts
    with pytest.raises(Conflict):
        ev.act("gridworker1", rid, "resolve", note="x")  # not yet accepted, not on site
    with pytest.raises(Conflict):
        ev.act("resident1", rid, "feedback", solved=True)  # not resolved
    with pytest.raises(NotFound):
        ev.act("staff2", rid, "accept")  # another community: cannot even see it
    with pytest.raises(Conflict):
        ev.act("gridworker1", rid, "assign", to_user_id=ev.uid("leader1"))  # assign is for unassigned ones
    assert (len(ev.events(rid)), ev.report(rid).state) == before
    h = login(client, "resident1")
    assert client.post(f"/api/v1/reports/{rid}/accept", json={}, headers=h).status_code == 403
    assert client.post(f"/api/v1/reports/{rid}/fly", json={}, headers=h).status_code == 404
    r = client.post(f"/api/v1/reports/{rid}/resolve", json={"note": "x"}, headers=login(client, "gridworker1"))
    assert r.status_code == 409 and "不能" in r.json()["detail"]
    assert client.get(f"/api/v1/reports/{rid}", headers=login(client, "staff2")).status_code == 404
    assert (
        client.post(
            f"/api/v1/reports/{rid}/accept",
            content=b"{oops",
            headers={**login(client, "gridworker1"), "content-type": "application/json"},
        ).status_code
        == 422
    )
    assert (len(ev.events(rid)), ev.report(rid).state) == before


def test_assign_an_unassigned_report_and_transfer_with_a_reason(ev):
    with transaction(ev.engine) as s:
        s.execute(ReportFollower.__table__.delete())
    with ev.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE responsibilities SET user_id = NULL")
        conn.exec_driver_sql(
            "DELETE FROM user_scopes WHERE user_id IN (SELECT id FROM users WHERE role = 'community_staff')"
        )
    rid = ev.submit("resident1")
    assert (ev.report(rid).state, ev.report(rid).handler_user_id) == ("submitted", None)
    with pytest.raises(Forbidden):
        ev.act("resident1", rid, "assign", to_user_id=ev.uid("gridworker1"))
    ev.act("gridworker1", rid, "assign", to_user_id=ev.uid("leader1"))  # a grid role in scope is staff
    assert (ev.report(rid).state, ev.report(rid).handler_user_id) == ("assigned", ev.uid("leader1"))
    with pytest.raises(Invalid) as err:
        ev.act("leader1", rid, "transfer", to_user_id=ev.uid("gridworker1"))
    assert err.value.errors[0].field == "reason"
    ev.act("leader1", rid, "transfer", to_label="阳光物业", reason="电路维修归物业")
    r = ev.report(rid)
    assert (r.state, r.handler_user_id, r.handler_label) == ("transferred", None, "阳光物业")
    ev.act("gridworker1", rid, "accept")  # staff take it on for the property company
    assert ev.report(rid).handler_user_id == ev.uid("gridworker1")


def test_merge_carries_followers_who_then_get_the_updates(ev, client):
    original = ev.submit("resident1")
    duplicate = ev.submit("resident2", unit_id=ev.w.units["B1"], description="楼道里纸箱很多")
    with pytest.raises(Invalid):
        ev.act("gridworker1", duplicate, "merge", into_report_id=duplicate)
    ev.act("gridworker1", duplicate, "merge", into_report_id=original)
    d = ev.report(duplicate)
    assert (d.state, d.merged_into_id, d.next_due_at) == ("merged", original, None)
    with transaction(ev.engine) as s:
        followers = set(
            s.scalars(
                ReportFollower.__table__.select()
                .with_only_columns(ReportFollower.user_id)
                .where(ReportFollower.report_id == original)
            )
        )
    assert followers == {ev.uid("resident1"), ev.uid("resident2")}
    assert [e.action for e in ev.events(original)][-1] == "merged_in"
    for action, kw in [("accept", {}), ("check_in", {"lat": 32.06, "long": 118.785}), ("resolve", {"note": "已清"})]:
        ev.act("gridworker1", original, action, **kw)
    assert any(n.report_id == original and "办结" in n.title for n in ev.inbox("resident2"))
    # resident2 follows the original now, but sees resident1's name only if allowed.
    view = client.get(f"/api/v1/reports/{original}", headers=login(client, "resident2")).json()
    assert view["reporter"] == {"name": "匿名", "phone": None, "email": None}
    assert view["actions"] == []  # following is not reporting: no feedback on someone else's report
    with pytest.raises(Conflict):
        ev.act("gridworker1", ev.submit("resident1"), "merge", into_report_id=duplicate)  # merged is finished


def test_not_solved_feedback_reopens_and_escalates(ev):
    rid = ev.submit("resident1", household_id=ev.w.households["H1"])
    for action, kw in [("accept", {}), ("check_in", {"lat": 32.06, "long": 118.785}), ("resolve", {"note": "ok"})]:
        ev.act("gridworker1", rid, action, now=later(20), **kw)
    with pytest.raises(Invalid) as err:
        ev.act("resident1", rid, "feedback", rating=9, solved=False, now=later(60))
    assert err.value.errors[0].field == "rating"
    ev.act("resident1", rid, "feedback", solved=False, rating=2, comment="还在漏", now=later(60))
    r = ev.report(rid)
    assert (r.state, r.feedback_rating, r.feedback_solved) == ("reopened", 2, False)
    assert (r.escalation_level, r.escalated_to_user_id) == (1, ev.uid("member1"))  # the household's party member
    assert [e.action for e in ev.events(rid)][-2:] == ["reopen", "escalate"]
    assert any("升级" in n.title for n in ev.inbox("member1"))
    # The person escalated to may act on it as a handler.
    ev.act("member1", rid, "accept", now=later(70))
    assert ev.report(rid).state == "accepted"


def test_phone_is_masked_for_street_admins_and_reads_are_audited(ev, client):
    rid = ev.submit("gridworker1", channel="phone", reporter_name="张三", reporter_phone="13800001111")
    street = client.get(f"/api/v1/reports/{rid}", headers=login(client, "street")).json()
    assert street["reporter"]["phone"] == "138****1111"
    worker = client.get(f"/api/v1/reports/{rid}", headers=login(client, "gridworker1")).json()
    assert worker["reporter"]["phone"] == "13800001111"
    with transaction(ev.engine) as s:
        reads = s.query(AuditEntry).filter_by(entity="report", entity_id=rid, action="read_personal").count()
    assert reads == 1


def test_lists_are_scoped_filtered_and_the_inbox_is_by_deadline(ev, client):
    urgent = ev.submit("gridworker1", channel="patrol", category="gas", severity="urgent", now=later(30))
    normal = ev.submit("resident1", category="sanitation")
    other = ev.submit("gridworker1", channel="patrol", unit_id=ev.w.units["B3"])  # community C2
    worker = login(client, "gridworker1")
    inbox = client.get("/api/v1/reports/inbox", headers=worker).json()["items"]
    assert [x["id"] for x in inbox] == [urgent, normal]  # urgent's deadline (10:45) before low's (18:00)
    assert client.get("/api/v1/reports", headers=login(client, "staff2")).json()["total"] == 1
    c1 = client.get("/api/v1/reports", headers=login(client, "secretary")).json()
    assert {x["id"] for x in c1["items"]} == {urgent, normal}
    mine = client.get("/api/v1/reports", headers=login(client, "resident1")).json()
    assert [x["id"] for x in mine["items"]] == [normal]
    got = client.get("/api/v1/reports?category=gas&state=assigned", headers=login(client, "street")).json()
    assert [x["id"] for x in got["items"]] == [urgent]
    got = client.get("/api/v1/reports?overdue=true", headers=login(client, "street")).json()
    assert {x["id"] for x in got["items"]} == {urgent, normal, other}  # all filed in 2025, never accepted
    assert got["items"][0]["overdue"] is True
    assert client.get("/api/v1/reports?sort=size", headers=worker).status_code == 422
    with transaction(ev.engine) as s:
        page = queries.inbox(s, ev.principal("secretary"))
    assert page.total == 0


def test_reports_count_in_the_audit_and_timeline(ev):
    rid = ev.submit("resident1")
    with transaction(ev.engine) as s:
        assert s.query(AuditEntry).filter_by(entity="report", entity_id=rid, action="create").count() == 1
        assert s.query(ReportEvent).filter_by(report_id=rid).count() == 2
        assert s.get(Report, rid).created_at == T0


def test_only_the_reporter_rates_and_never_the_handler(ev):
    rid = ev.submit("resident1", household_id=ev.w.households["H1"])
    for action, kw in [("accept", {}), ("check_in", {"lat": 32.06, "long": 118.785}), ("resolve", {"note": "ok"})]:
        ev.act("gridworker1", rid, action, now=later(20), **kw)
    with pytest.raises(Forbidden):
        ev.act("gridworker1", rid, "feedback", solved=True, rating=5, now=later(30))
    with pytest.raises(Forbidden):
        ev.act("secretary", rid, "feedback", solved=True, rating=5, now=later(30))
    assert ev.report(rid).state == "resolved" and ev.report(rid).feedback_rating is None
    ev.act("resident1", rid, "feedback", solved=True, rating=4, now=later(40))
    assert ev.report(rid).state == "closed"
