"""The registers over HTTP: items and needs, points and minimum levels, agreements with their
lines, terminate and renew; 422s naming the field, lists as pages, every list as .xlsx."""

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from tests.kit.client import login
from tests.kit.supplies_world import supplies_world

API = "/api/v1/supplies"


@pytest.fixture
def sw(engine, world):
    return supplies_world(engine, world)


def named(r) -> set[str]:
    return {e["field"] for e in r.json()["errors"]}


def sheet(r) -> list[tuple]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))


def test_items_and_needs(client, world, sw):
    staff = login(client, "secretary")
    r = client.get(f"{API}/items", params={"category": "water"}, headers=staff)
    assert r.status_code == 200 and r.json()["total"] == 1
    water = r.json()["items"][0]
    assert water["code"] == "water" and water["needs"][0]["group_label"] == "所有人"
    r = client.post(
        f"{API}/items", json={"code": "Rope!", "name": "", "category": "rescue", "unit": "米"}, headers=staff
    )
    assert r.status_code == 422 and named(r) == {"code", "name"}
    r = client.post(
        f"{API}/items", json={"code": "rope", "name": "救援绳", "category": "rescue", "unit": "米"}, headers=staff
    )
    assert r.status_code == 201 and r.json()["needs"] == []
    rope = r.json()["id"]
    r = client.patch(f"{API}/items/{rope}", json={"active": False}, headers=staff)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get(f"{API}/items/{rope}", headers=login(client, "partner1")).json()["active"] is False
    r = client.post(f"{API}/items/{rope}/needs", json={"group": "everyone", "quantity": 0, "source": ""}, headers=staff)
    assert r.status_code == 422 and named(r) == {"quantity", "source"}
    r = client.post(
        f"{API}/items/{rope}/needs", json={"group": "everyone", "quantity": 0.1, "source": "每十人一米"}, headers=staff
    )
    assert r.status_code == 201 and r.json()["daily"] is True
    need = r.json()["id"]
    r = client.patch(f"{API}/items/{rope}/needs/{need}", json={"daily": False}, headers=staff)
    assert r.status_code == 200 and r.json()["daily"] is False
    assert [n["id"] for n in client.get(f"{API}/items/{rope}/needs", headers=staff).json()] == [need]
    assert client.delete(f"{API}/items/{rope}/needs/{need}", headers=staff).json() == {"ok": True}
    assert client.delete(f"{API}/items/{rope}/needs/{need}", headers=staff).status_code == 404
    rows = sheet(client.get(f"{API}/items.xlsx", params={"active": True}, headers=staff))
    assert rows[0][:2] == ("编码", "名称") and len(rows) == 1 + 14
    assert any(r[0] == "water" and "所有人 15L/人/天" in r[-1] for r in rows)


def test_points_and_minimum_levels(client, world, sw):
    staff = login(client, "secretary")
    r = client.get(f"{API}/points", params={"kind": "partner_site", "sort": "-name"}, headers=staff)
    assert r.status_code == 200
    assert [p["name"] for p in r.json()["items"]] == ["苏果超市仓库", "桂花小学器材室"]
    assert r.json()["items"][0]["organization"] == "苏果社区超市"
    body = {"unit_id": world.units["C1"], "name": "二号储备点", "kind": "community_store", "lon": 118.8, "lat": 32.06}
    r = client.post(f"{API}/points", params={"crs": "bd09"}, json=body, headers=staff)
    assert r.status_code == 201 and r.json()["lon"] < 118.8  # Baidu's datum lies east of WGS-84 here
    point = r.json()["id"]
    r = client.get(f"{API}/points/{point}", params={"crs": "bd09"}, headers=staff)
    assert r.json()["lon"] == pytest.approx(118.8, abs=1e-6)
    assert client.post(f"{API}/points", json={**body, "lat": 95}, headers=staff).status_code == 422
    r = client.patch(f"{API}/points/{point}", json={"contact_phone": "110"}, headers=staff)
    assert r.status_code == 422 and named(r) == {"contact_phone"}
    assert client.patch(f"{API}/points/{point}", json={"name": "x"}, headers=login(client, "staff2")).status_code == 404
    partner = login(client, "partner1")
    assert [p["id"] for p in client.get(f"{API}/points", headers=partner).json()["items"]] == [sw.points["market"]]
    r = client.patch(
        f"{API}/points/{sw.points['market']}", json={"address": "中山路 1 号", "kind": "x"}, headers=partner
    )
    assert r.status_code == 403 and named(r) == {"kind"}

    url = f"{API}/points/{point}/minimums/{sw.items['water']}"
    assert client.put(url, json={"minimum": 0}, headers=staff).status_code == 422
    r = client.put(url, json={"minimum": 600}, headers=staff)
    assert r.status_code == 200 and r.json()["minimum"] == 600 and r.json()["below_since"] is None
    assert [m["item"] for m in client.get(f"{API}/points/{point}/minimums", headers=staff).json()] == ["饮用水"]
    assert client.delete(url, headers=staff).json() == {"ok": True}
    assert client.get(f"{API}/points/{point}/minimums", headers=staff).json() == []

    rows = sheet(client.get(f"{API}/points.xlsx", params={"unit_id": world.units["C1"]}, headers=staff))
    assert rows[0][0] == "社区" and len(rows) == 1 + 5
    assert {r[1] for r in rows[1:]} >= {"二号储备点", "1栋家庭应急包"} and rows[1][0] == "阳光社区"


def test_agreements_lines_terminate_renew(client, world, sw):
    staff = login(client, "secretary")
    today = date.today()
    body = {
        "org_id": sw.orgs["market"],
        "number": "XY-2026-10",
        "title": "应急食品补充协议",
        "valid_from": str(today),
        "valid_until": str(today + timedelta(days=365)),
        "draw_share": 1.5,
        "draw_when": "never",
        "lines": [{"item_id": sw.items["food"], "quantity": 0}],
    }
    r = client.post(f"{API}/agreements", json=body, headers=staff)
    assert r.status_code == 422 and named(r) == {"draw_share", "draw_when", "lines.0.quantity"}
    fixed = {**body, "draw_share": 0.5, "draw_when": "any"}
    fixed["lines"] = [{"item_id": sw.items["food"], "quantity": 300, "point_id": sw.points["market"]}]
    r = client.post(f"{API}/agreements", json=fixed, headers=staff)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["organization"] == "苏果社区超市" and made["lines"][0]["point"] == "苏果超市仓库"
    r = client.get(f"{API}/agreements", params={"org_id": sw.orgs["market"], "sort": "number"}, headers=staff)
    assert [a["number"] for a in r.json()["items"]] == ["XY-2026-01", "XY-2026-10"]
    assert client.get(f"{API}/agreements", params={"status": "lapsed"}, headers=staff).status_code == 422

    partner = login(client, "partner1")
    chain = [{"name": "刘经理", "role": "店长", "phone": "13912345678"}]
    r = client.patch(f"{API}/agreements/{made['id']}", json={"contact_chain": chain}, headers=partner)
    assert r.status_code == 200 and r.json()["contact_chain"] == chain
    r = client.patch(f"{API}/agreements/{made['id']}", json={"title": "x"}, headers=partner)
    assert r.status_code == 403 and named(r) == {"title"}
    assert client.get(f"{API}/agreements/{sw.agreements['school']}", headers=partner).status_code == 404

    r = client.post(
        f"{API}/agreements/{sw.agreements['market']}/renew", json={"number": "XY-2026-01-续"}, headers=staff
    )
    assert r.status_code == 201 and r.json()["number"] == "XY-2026-01-续"
    assert (
        client.get(f"{API}/agreements/{sw.agreements['market']}", headers=staff).json()["renewed_by"] == r.json()["id"]
    )
    r = client.post(f"{API}/agreements/{made['id']}/terminate", json={"reason": "重复签订"}, headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "terminated" and r.json()["terminated_at"]
    assert client.post(f"{API}/agreements/{made['id']}/terminate", headers=staff).status_code == 409

    rows = sheet(client.get(f"{API}/agreements.xlsx", headers=staff))
    assert rows[0][:4] == ("协议编号", "名称", "合作单位", "状态") and len(rows) == 1 + 4
    by_number = {r[0]: r for r in rows[1:]}
    assert by_number["XY-2026-10"][3] == "已终止" and "方便食品 300份" in by_number["XY-2026-10"][8]
    assert by_number["XY-2025-07"][3] == "已过期"
    assert len(sheet(client.get(f"{API}/agreements.xlsx", headers=partner))) == 1 + 3  # its own only
