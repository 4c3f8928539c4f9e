"""The warning pages through a browser's requests (both databases): the list with the colour table,
compose with a drawn polygon and the errors it names, a second staff member approving, refusing,
updating and cancelling from the warning's page, street admins editing the colour table."""

import json

import pytest
from sqlalchemy import select

from renxing.db import transaction
from renxing.warning.models import WarningLevel, WarningMessage
from tests.kit.client import page_login
from tests.kit.warning_world import AROUND_B1, add_warning, warning_world


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def form(ww, token, **extra) -> dict:
    return {
        "csrf_token": token,
        "unit_id": str(ww.units["C1"]),
        "level": "orange",
        "event": "暴雨内涝",
        "category": "Met",
        "headline": "阳光社区暴雨橙色预警",
        "description": "预计未来3小时降雨量超过80毫米。",
        "instruction": "地下室住户请立即转移。",
        "expires": "2031-07-01T21:30",
        "channels": ["in_app", "sms"],
        "public": "on",
        "polygon": json.dumps(AROUND_B1),
        "crs": "wgs84",
        **extra,
    }


def latest(ww) -> WarningMessage:
    with transaction(ww.engine) as s:
        return s.scalar(select(WarningMessage).order_by(WarningMessage.id.desc()).limit(1))


def test_compose_send_and_a_second_person_approves(client, ww):
    token = page_login(client, "secretary")
    page = client.get("/warning/new")
    assert page.status_code == 200 and 'id="compose-map"' in page.text and "一片区" in page.text
    r = client.post("/warning/new", data=form(ww, token, then="send"), follow_redirects=False)
    assert r.status_code == 303, r.text
    w = latest(ww)
    assert r.headers["location"] == f"/warning/{w.id}?done=pending"
    assert (w.status, w.expires.isoformat()) == ("pending", "2031-07-01T13:30:00+00:00")  # 21:30 in Shanghai
    assert json.loads(w.polygon)["coordinates"][0][0] == AROUND_B1["coordinates"][0][0]
    mine = client.get(f"/warning/{w.id}")
    assert 'id="awaiting"' in mine.text and 'id="approve"' not in mine.text
    assert client.post(f"/warning/{w.id}/approve", data={"csrf_token": token}).status_code == 403
    token = page_login(client, "approver")
    theirs = client.get(f"/warning/{w.id}")
    assert 'id="approve"' in theirs.text and 'id="refuse"' in theirs.text
    r = client.post(f"/warning/{w.id}/approve", data={"csrf_token": token}, follow_redirects=True)
    assert r.status_code == 200 and 'id="progress-link"' in r.text and 'id="cap-link"' in r.text
    assert latest(ww).status == "sent"
    listing = client.get("/warning")
    assert "阳光社区暴雨橙色预警" in listing.text and 'data-status="sent"' in listing.text


def test_a_refused_form_names_its_fields_and_writes_nothing(client, ww):
    token = page_login(client, "secretary")
    ring = AROUND_B1["coordinates"][0][:-1]
    bad = form(ww, token, polygon=json.dumps({"type": "Polygon", "coordinates": [ring]}), expires="soon", headline="")
    r = client.post("/warning/new", data=bad)
    assert r.status_code == 422
    assert 'data-error-field="expires"' in r.text
    r = client.post(
        "/warning/new", data=form(ww, token, polygon=json.dumps({"type": "Polygon", "coordinates": [ring]}))
    )
    assert r.status_code == 422 and 'data-error-field="polygon"' in r.text and "闭合" in r.text
    r = client.post("/warning/new", data=form(ww, token, headline="", level="purple"))
    assert r.status_code == 422 and 'data-error-field="headline"' in r.text and 'data-error-field="level"' in r.text
    assert latest(ww) is None


def test_drafts_are_edited_then_sent_and_refusals_are_kept(client, ww):
    token = page_login(client, "secretary")
    client.post("/warning/new", data=form(ww, token, level="blue", polygon=""))
    w = latest(ww)
    assert w.status == "draft" and w.polygon is None
    assert client.get(f"/warning/{w.id}/edit").status_code == 200
    r = client.post(
        f"/warning/{w.id}/edit", data=form(ww, token, level="red", headline="红色预警"), follow_redirects=False
    )
    assert r.status_code == 303
    r = client.post(f"/warning/{w.id}/send", data={"csrf_token": token}, follow_redirects=True)
    assert "须由另一位工作人员批准" in r.text
    token = page_login(client, "approver")
    assert client.post(f"/warning/{w.id}/refuse", data={"csrf_token": token, "reason": ""}).status_code == 422
    r = client.post(f"/warning/{w.id}/refuse", data={"csrf_token": token, "reason": "信息有误"}, follow_redirects=True)
    assert "信息有误" in r.text and latest(ww).status == "rejected"


def test_update_and_cancel_from_the_page(client, ww):
    wid = add_warning(ww, level="yellow")
    with transaction(ww.engine) as s:  # a real frozen message to reference
        s.get(WarningMessage, wid).identifier = "RX-20250303100000-1"
    token = page_login(client, "secretary")
    page = client.get(f"/warning/{wid}")
    assert 'id="update-form"' in page.text and 'id="cancel-form"' in page.text
    r = client.post(
        f"/warning/{wid}/update",
        data={"csrf_token": token, "level": "yellow", "headline": "雨势持续", "expires": ""},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "雨势持续" in r.text
    update = latest(ww)
    assert (update.msg_type, update.status, update.references_id) == ("Update", "sent", wid)
    assert 'id="chain"' in r.text
    r = client.post(
        f"/warning/{update.id}/cancel", data={"csrf_token": token, "description": "降雨结束"}, follow_redirects=True
    )
    assert latest(ww).msg_type == "Cancel"
    assert client.post(f"/warning/{wid}/cancel", data={"csrf_token": token, "description": "再次"}).status_code == 409


def test_the_colour_table_on_the_list_page(client, ww):
    token = page_login(client, "secretary")
    assert 'action="/warning/levels/red"' not in client.get("/warning").text
    assert client.post("/warning/levels/red", data={"csrf_token": token, "severity": "Minor"}).status_code == 403
    token = page_login(client, "street")
    page = client.get("/warning")
    assert 'action="/warning/levels/red"' in page.text
    data = {
        "csrf_token": token,
        "severity": "Extreme",
        "urgency": "Immediate",
        "certainty": "Observed",
        "step_minutes": "10",
    }
    r = client.post("/warning/levels/red", data={**data, "needs_approval": "on"}, follow_redirects=False)
    assert r.status_code == 303
    with transaction(ww.engine) as s:
        row = s.get(WarningLevel, "red")
        assert (row.certainty, row.step_minutes, row.needs_approval) == ("Observed", 10, True)
    assert client.post("/warning/levels/red", data={**data, "urgency": "Soon"}).status_code == 422
    page_login(client, "gridworker1")
    assert client.get("/warning").status_code == 200
    assert client.get("/warning/new").status_code == 403
