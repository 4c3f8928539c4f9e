"""Sending and the two-person rule: blue and yellow go at once, orange and red wait for a second staff
member (the composer approving their own is 403), exercises are exempt; a sent warning is frozen as a
valid CAP 1.2 message (+08:00, closed lat,lon polygon) and never edited; Update and Cancel reference
the chain; a sensor trigger proposes a draft."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, NotFound
from renxing.notify.models import Notification
from renxing.signals.bus import bus
from renxing.signals.catalog import AlertReceived, SensorRuleTriggered
from renxing.warning import approving, cap_schema, composing, following, proposing
from renxing.warning.models import IncomingAlert, WarningMessage, WarningTarget
from renxing.warning.schemas import CancelIn, UpdateIn, WarningIn
from tests.kit.client import login
from tests.kit.warning_world import AROUND_B1, warning_world

NS = {"cap": cap_schema.NS}
T0 = datetime(2025, 7, 1, 1, 30, 15, 500000, tzinfo=UTC)  # 09:30:15 in Shanghai


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def compose(ww, level="orange", username="secretary", **extra) -> int:
    data = {
        "unit_id": ww.units["C1"],
        "level": level,
        "event": "暴雨内涝",
        "headline": f"阳光社区暴雨{level}预警",
        "description": "预计未来3小时降雨量将达100毫米以上。",
        "instruction": "请立即转移地下室人员和物品。",
        "expires": T0 + timedelta(hours=12),
        "channels": ["in_app", "log"],
        **extra,
    }
    with transaction(ww.engine) as s:
        return composing.compose(s, ww.principal(username), WarningIn(**data)).id


def act(ww, username, fn, warning_id, *args, now=T0):
    with transaction(ww.engine) as s:
        w = fn(s, ww.principal(username), warning_id, *args, now=now)
        return w.id, w.status


def warning(ww, warning_id) -> WarningMessage:
    with transaction(ww.engine) as s:
        return s.get(WarningMessage, warning_id)


def cap(w: WarningMessage):
    return cap_schema.parse_valid(w.cap_xml.encode())


def inbox(ww, username) -> list[str]:
    with transaction(ww.engine) as s:
        return list(s.scalars(select(Notification.title).where(Notification.user_id == ww.uid(username))))


def test_yellow_is_sent_at_once_frozen_as_valid_cap(ww):
    wid = compose(ww, "yellow", polygon=AROUND_B1)
    assert act(ww, "secretary", approving.send, wid) == (wid, "sent")
    w = warning(ww, wid)
    assert w.identifier == f"RX-20250701093015-{wid}"
    assert w.sent_text == "2025-07-01T09:30:15+08:00"
    root = cap(w)
    assert root.findtext("cap:sent", namespaces=NS) == "2025-07-01T09:30:15+08:00"
    assert root.findtext("cap:info/cap:effective", namespaces=NS) == "2025-07-01T09:30:15+08:00"
    assert root.findtext("cap:info/cap:expires", namespaces=NS) == "2025-07-01T21:30:15+08:00"
    assert root.findtext("cap:info/cap:senderName", namespaces=NS) == "测试街道阳光社区"
    polygon = root.findtext("cap:info/cap:area/cap:polygon", namespaces=NS).split(" ")
    assert polygon[0] == polygon[-1] == "32.058,118.783"  # lat,lon
    assert root.findtext("cap:info/cap:area/cap:geocode/cap:value", namespaces=NS) == "C1"
    assert w.households == 2  # H1 and H2 of building B1
    with transaction(ww.engine) as s:
        actions = list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "warning", AuditEntry.entity_id == wid)
                .order_by(AuditEntry.id)
            )
        )
        assert actions == ["create", "send"]
        assert s.scalar(select(WarningTarget.id).where(WarningTarget.warning_id == wid)) is not None


def test_orange_waits_for_a_second_staff_member_who_is_told(ww):
    wid = compose(ww, "orange")
    assert act(ww, "secretary", approving.send, wid) == (wid, "pending")
    assert warning(ww, wid).cap_xml is None
    assert any("预警待审核" in t for t in inbox(ww, "approver"))
    assert not any("预警待审核" in t for t in inbox(ww, "secretary"))  # not the composer
    with pytest.raises(Forbidden) as exc:
        act(ww, "secretary", approving.approve, wid)
    assert "另一位工作人员" in exc.value.message
    with pytest.raises(NotFound):
        act(ww, "staff2", approving.approve, wid)  # C2's staff do not see C1's drafts
    with pytest.raises(Forbidden):
        act(ww, "gridworker1", approving.approve, wid)
    assert act(ww, "approver", approving.approve, wid) == (wid, "sent")
    w = warning(ww, wid)
    assert (w.approved_by, w.created_by) == (ww.uid("approver"), ww.uid("secretary"))
    root = cap(w)
    assert root.findtext("cap:info/cap:severity", namespaces=NS) == "Severe"
    assert w.households == 6  # C1's outline: B1 (H1, H2) and B2 (H3, H5, H6, H7)
    assert root.findtext("cap:info/cap:area/cap:polygon", namespaces=NS).startswith("32.05,118.78 ")
    with pytest.raises(Conflict):
        act(ww, "approver", approving.approve, wid)


def test_an_exercise_at_red_needs_no_approval_and_says_exercise(ww):
    wid = compose(ww, "red", exercise=True, public=False)
    assert act(ww, "secretary", approving.send, wid)[1] == "sent"
    root = cap(warning(ww, wid))
    assert root.findtext("cap:status", namespaces=NS) == "Exercise"
    assert root.findtext("cap:scope", namespaces=NS) == "Restricted"
    assert root.findtext("cap:restriction", namespaces=NS)


def test_refused_with_a_reason_and_never_sent(ww, client):
    wid = compose(ww, "red")
    act(ww, "secretary", approving.send, wid)
    headers = login(client, "approver")
    r = client.post(f"/api/v1/warning/warnings/{wid}/refuse", json={"reason": ""}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("reason")
    r = client.post(f"/api/v1/warning/warnings/{wid}/refuse", json={"reason": "雨量预报已下调"}, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["decision_note"] == "雨量预报已下调"
    assert client.post(f"/api/v1/warning/warnings/{wid}/send", headers=login(client, "secretary")).status_code == 409


def test_the_two_person_rule_over_http(ww, client):
    wid = compose(ww, "orange")
    mine = login(client, "secretary")
    assert client.post(f"/api/v1/warning/warnings/{wid}/send", headers=mine).json()["status"] == "pending"
    r = client.post(f"/api/v1/warning/warnings/{wid}/approve", headers=mine)
    assert r.status_code == 403
    other = login(client, "approver")
    assert client.get(f"/api/v1/warning/warnings/{wid}", headers=other).json()["may_decide"] is True
    r = client.post(f"/api/v1/warning/warnings/{wid}/approve", headers=other)
    assert r.status_code == 200 and r.json()["status"] == "sent"
    assert r.json()["cap_url"].endswith(f"/cap/alerts/{r.json()['identifier']}.xml")
    xml = client.get(f"/api/v1/warning/warnings/{wid}/cap.xml", headers=other)
    assert xml.headers["content-type"].startswith("application/cap+xml")
    assert client.patch(f"/api/v1/warning/warnings/{wid}", json={"headline": "改"}, headers=mine).status_code == 409


def test_update_and_cancel_reference_the_chain(ww):
    wid = compose(ww, "yellow")
    act(ww, "secretary", approving.send, wid)
    first = warning(ww, wid)
    later = T0 + timedelta(hours=1)
    uid, status = act(ww, "secretary", following.update, wid, UpdateIn(headline="雨势加大，预警维持"), now=later)
    assert status == "sent"
    update = warning(ww, uid)
    assert (update.msg_type, update.references_id) == ("Update", wid)
    ref = cap(update).findtext("cap:references", namespaces=NS)
    assert ref == f"renxing@localhost,{first.identifier},{first.sent_text}"
    # An update raised to orange waits for the second person; the cancel quotes both sent messages.
    oid, status = act(ww, "secretary", following.update, uid, UpdateIn(level="orange"), now=later)
    assert status == "pending"
    act(ww, "approver", approving.approve, oid, now=later + timedelta(minutes=5))
    cid, status = act(
        ww,
        "approver",
        following.cancel,
        wid,
        CancelIn(description="降雨结束，预警解除。"),
        now=later + timedelta(hours=2),
    )
    assert status == "pending"  # the chain is orange now: someone else approves the cancel
    act(ww, "secretary", approving.approve, cid, now=later + timedelta(hours=2))
    cancel = warning(ww, cid)
    refs = cap(cancel).findtext("cap:references", namespaces=NS).split(" ")
    assert [r.split(",")[1] for r in refs] == [first.identifier, update.identifier, warning(ww, oid).identifier]
    assert cancel.msg_type == "Cancel" and cancel.headline.startswith("解除：") and cancel.references_id == oid
    assert cancel.households == first.households
    with pytest.raises(Conflict):
        act(ww, "secretary", following.update, wid, UpdateIn(headline="再更新"))
    with pytest.raises(Conflict):
        draft = compose(ww, "blue")
        act(ww, "secretary", following.cancel, draft, CancelIn(description="x"))


def test_withdraw_and_ownership_of_a_proposed_draft(ww):
    wid = compose(ww, "orange")
    act(ww, "secretary", approving.send, wid)
    with transaction(ww.engine) as s:
        assert approving.withdraw(s, ww.principal("secretary"), wid).status == "withdrawn"
    with pytest.raises(Conflict), transaction(ww.engine) as s:
        approving.withdraw(s, ww.principal("secretary"), wid)


def trigger(ww, level="orange", trigger_id=7) -> SensorRuleTriggered:
    return SensorRuleTriggered(
        trigger_id=trigger_id,
        device_id=1,
        device="1号水位计 WL-01",
        kind="water_level",
        rule="水位超警戒",
        level=level,
        category="flooding",
        value=42.5,
        measure_unit="cm",
        unit_id=ww.units["B1"],
        lon=118.785,
        lat=32.06,
        at=T0,
    )


def test_a_sensor_trigger_proposes_a_draft_to_the_community_staff_once(ww):
    with transaction(ww.engine) as s:
        assert proposing.propose_from_trigger(s, trigger(ww, "blue", 6)) is None
        w = proposing.propose_from_trigger(s, trigger(ww))
        assert proposing.propose_from_trigger(s, trigger(ww)) is None  # once per trigger
        wid = w.id
    w = warning(ww, wid)
    assert (w.status, w.unit_id, w.trigger_id, w.created_by) == ("draft", ww.units["C1"], 7, None)
    assert "42.5cm" in w.description and w.event == "内涝"
    assert any("建议发布预警" in t for t in inbox(ww, "secretary"))
    assert act(ww, "approver", approving.send, wid)[1] == "pending"  # whoever sends it composes it
    with pytest.raises(Forbidden):
        act(ww, "approver", approving.approve, wid)
    assert act(ww, "secretary", approving.approve, wid)[1] == "sent"
    bus.ensure_wired()
    assert bus.subscription("warning.propose_from_trigger") is not None


def test_an_incoming_alert_proposes_a_draft_per_matched_community_once(ww):
    with transaction(ww.engine) as s:
        alert = IncomingAlert(
            identifier="GD-2025-0701-01",
            sender="qxj@example.gov.cn",
            sent=T0,
            sent_text="2025-07-01T09:30:15+08:00",
            status="Actual",
            msg_type="Alert",
            scope="Public",
            event="暴雨",
            headline="南京市气象台发布暴雨橙色预警",
            description="预计未来6小时内降雨量将达100毫米以上。",
            instruction="停止户外作业。",
            level="orange",
            expires=T0 + timedelta(hours=6),
            source="upload",
            xml="<alert/>",
        )
        s.add(alert)
        s.flush()
        e = AlertReceived(
            alert_id=alert.id,
            identifier=alert.identifier,
            msg_type="Alert",
            level="orange",
            headline=alert.headline,
            community_ids=(ww.units["C1"], ww.units["C2"]),
            recipients=(),
            link=f"/warning/incoming/{alert.id}",
        )
        drafts = proposing.propose_from_alert(s, e)
        assert sorted(w.unit_id for w in drafts) == sorted([ww.units["C1"], ww.units["C2"]])
        assert proposing.propose_from_alert(s, e) == []  # once per alert and community
        assert proposing.propose_from_alert(s, replace(e, level="blue", alert_id=alert.id)) == []
        assert proposing.propose_from_alert(s, replace(e, msg_type="Cancel")) == []
        assert {(w.status, w.level, w.headline, w.incoming_alert_id) for w in drafts} == {
            ("draft", "orange", "南京市气象台发布暴雨橙色预警", alert.id)
        }
    assert any("建议发布预警" in t for t in inbox(ww, "staff2"))
