"""Composing warnings: a draft for a community, an area or a drawn polygon; validation naming each
field (an unclosed polygon is a 422 naming ``polygon``); edits while a draft; the list and who sees
what (scope, drafts hidden from readers who neither compose nor approve)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, Invalid, NotFound
from renxing.listing import ListQuery
from renxing.warning import composing
from renxing.warning.models import WarningMessage
from renxing.warning.schemas import WarningIn, WarningPatch
from tests.kit.client import login
from tests.kit.warning_world import AROUND_B1, add_warning, warning_world

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def draft(ww, unit="C1", **extra) -> dict:
    return {
        "unit_id": ww.units[unit],
        "level": "yellow",
        "event": "暴雨内涝",
        "headline": "阳光社区暴雨黄色预警",
        "description": "预计未来6小时降雨量将达50毫米以上。",
        "instruction": "请转移地下室物品，远离低洼地带。",
        "effective": NOW.isoformat(),
        "expires": (NOW + timedelta(hours=6)).isoformat(),
        **extra,
    }


def compose(ww, username="secretary", **data):
    with transaction(ww.engine) as s:
        return composing.compose(s, ww.principal(username), WarningIn(**data)).id


def fields(exc) -> set[str]:
    return {e.field for e in exc.value.errors}


def test_staff_compose_a_draft_with_a_drawn_polygon_over_http(client, ww):
    headers = login(client, "secretary")
    r = client.post(
        "/api/v1/warning/warnings",
        json=draft(ww, polygon=AROUND_B1, channels=["sms", "in_app", "sms"]),
        headers=headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "draft" and body["identifier"] is None and body["cap_url"] is None
    assert body["polygon"]["coordinates"][0][0] == AROUND_B1["coordinates"][0][0]
    assert body["channels"] == ["in_app", "sms"]
    assert body["area_desc"] == "阳光社区"
    assert body["may_edit"] and body["may_send"] and not body["may_decide"]
    got = client.get(f"/api/v1/warning/warnings/{body['id']}", headers=headers).json()
    assert got["headline"] == "阳光社区暴雨黄色预警"
    with transaction(ww.engine) as s:
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.entity == "warning")) == "create"


def test_an_area_of_the_community_may_be_warned_but_not_a_building(ww):
    wid = compose(ww, **draft(ww, unit="A1"))
    with transaction(ww.engine) as s:
        assert s.get(WarningMessage, wid).area_desc == "一片区"
    with pytest.raises(Invalid) as exc:
        compose(ww, **draft(ww, unit="B1"))
    assert fields(exc) == {"unit_id"}


def test_an_unclosed_polygon_is_a_422_naming_polygon(client, ww):
    ring = AROUND_B1["coordinates"][0][:-1]
    r = client.post(
        "/api/v1/warning/warnings",
        json=draft(ww, polygon={"type": "Polygon", "coordinates": [ring]}),
        headers=login(client, "secretary"),
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["polygon"]
    assert "闭合" in r.json()["errors"][0]["message"]
    with transaction(ww.engine) as s:
        assert s.scalar(select(WarningMessage.id)) is None  # nothing half-written


def test_bad_times_colours_channels_and_far_polygons_are_refused_by_name(client, ww):
    headers = login(client, "secretary")
    naive = draft(ww, effective="2025-03-03T10:00:00")
    backwards = draft(ww, expires=(NOW - timedelta(hours=1)).isoformat())
    far = draft(
        ww,
        polygon={"type": "Polygon", "coordinates": [[[118.9, 32.2], [118.91, 32.2], [118.91, 32.21], [118.9, 32.2]]]},
    )
    for body, field in [
        (naive, "effective"),
        (backwards, "expires"),
        (draft(ww, level="purple"), "level"),
        (draft(ww, channels=["fax"]), "channels"),
        (draft(ww, channels=[]), "channels"),
        (draft(ww, category="Weather"), "category"),
        (far, "polygon"),
        (draft(ww, polygon={"type": "Polygon", "coordinates": "x"}), "polygon"),
    ]:
        r = client.post("/api/v1/warning/warnings", json=body, headers=headers)
        assert r.status_code == 422, (field, r.text)
        assert any(e["field"].split(".")[0] == field or e["field"].endswith(field) for e in r.json()["errors"]), r.text


def test_a_polygon_drawn_on_an_amap_base_map_is_stored_in_wgs84(ww):
    wid = compose(ww, **draft(ww, polygon=AROUND_B1, crs="gcj02"))
    with transaction(ww.engine) as s:
        ring = json.loads(s.get(WarningMessage, wid).polygon)["coordinates"][0]
    assert ring[0] == ring[-1]
    assert 0.001 < AROUND_B1["coordinates"][0][0][0] - ring[0][0] < 0.01  # GCJ-02 lies east of WGS-84 here


def test_who_may_compose_where(client, ww):
    with pytest.raises(Forbidden):
        compose(ww, "staff2", **draft(ww))  # C2's staff, C1's unit
    with pytest.raises(Forbidden):
        compose(ww, "gridworker1", **draft(ww, unit="A1"))  # reads warnings, does not compose
    r = client.post("/api/v1/warning/warnings", json=draft(ww), headers=login(client, "resident1"))
    assert r.status_code == 403
    assert compose(ww, "street", **draft(ww, unit="C2"))


def test_a_draft_is_edited_until_it_is_sent(ww):
    wid = compose(ww, **draft(ww))
    with transaction(ww.engine) as s:
        w = composing.edit(
            s,
            ww.principal("secretary"),
            wid,
            WarningPatch(level="blue", polygon=AROUND_B1, channels=["log"], unit_id=ww.units["A1"]),
        )
        assert (w.level, w.channels, w.unit_id, w.area_desc) == ("blue", ["log"], ww.units["A1"], "一片区")
        assert w.polygon is not None
    with transaction(ww.engine) as s:
        w = composing.edit(s, ww.principal("approver"), wid, WarningPatch.model_validate({"polygon": None}))
        assert w.polygon is None
    with pytest.raises(Invalid) as exc, transaction(ww.engine) as s:
        composing.edit(s, ww.principal("secretary"), wid, WarningPatch.model_validate({"headline": None}))
    assert fields(exc) == {"headline"}
    with transaction(ww.engine) as s:
        composing.edit(s, ww.principal("street"), wid, WarningPatch(unit_id=ww.units["C2"], polygon=None))
    with pytest.raises(NotFound), transaction(ww.engine) as s:
        composing.edit(s, ww.principal("secretary"), wid, WarningPatch(headline="y"))  # now out of C1's sight
    sent = add_warning(ww)
    with pytest.raises(Conflict), transaction(ww.engine) as s:
        composing.edit(s, ww.principal("secretary"), sent, WarningPatch(headline="改写"))


def test_lists_filter_search_and_hide_drafts_from_those_who_only_read(client, ww):
    compose(ww, **draft(ww, headline="黄色草稿"))
    sent = add_warning(ww, level="orange", headline="橙色已发")
    add_warning(ww, unit="C2", level="red", by="staff2", headline="和平社区红色")
    headers = login(client, "secretary")
    r = client.get("/api/v1/warning/warnings", headers=headers)
    assert [x["headline"] for x in r.json()["items"]] == ["橙色已发", "黄色草稿"]
    r = client.get("/api/v1/warning/warnings?status=sent&level=orange&q=橙色", headers=headers)
    assert [x["id"] for x in r.json()["items"]] == [sent]
    r = client.get("/api/v1/warning/warnings?status=lost", headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"
    r = client.get("/api/v1/warning/warnings", headers=login(client, "gridworker1"))
    assert [x["headline"] for x in r.json()["items"]] == ["橙色已发"]  # A1's grid worker: the community's sent one
    assert client.get(f"/api/v1/warning/warnings/{sent}", headers=login(client, "staff2")).status_code == 404
    street = client.get("/api/v1/warning/warnings?sort=level", headers=login(client, "street")).json()
    assert street["total"] == 3
    with transaction(ww.engine) as s:
        page = composing.list_warnings(s, ww.principal("leader1"), ListQuery(page=1, size=10))
        assert [w.id for w in page.items] == [sent]
        with pytest.raises(NotFound):
            composing.get_warning(s, ww.principal("staff2"), sent)
