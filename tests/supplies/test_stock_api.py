"""The stock routes over HTTP: movements, levels, the ledger, transfers, counts and expiry, their
.xlsx exports, and bad input as one 422 naming the field (or the sheet's row and column)."""

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from renxing.config import get_settings
from renxing.web.body_limit import limit_for
from tests.kit.client import login
from tests.kit.supplies_world import supplies_world
from tests.supplies.stock_kit import GONE, LATER, SOON, TODAY

API = "/api/v1/supplies"


@pytest.fixture
def sw(engine, world):
    return supplies_world(engine, world)


def fields(r) -> list[str]:
    return [e["field"] for e in r.json()["errors"]]


def stock_of(client, headers, point_id) -> dict[str, dict]:
    r = client.get(f"{API}/points/{point_id}/stock", headers=headers)
    assert r.status_code == 200, r.text
    return {row["code"]: row for row in r.json()["items"]}


def receive(client, headers, point_id, *lines, **extra):
    r = client.post(f"{API}/receipts", json={"point_id": point_id, "lines": list(lines), **extra}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["ids"]


def test_movements_levels_and_the_ledger(client, world, sw):
    staff = login(client, "secretary")
    store, kits, it = sw.points["store"], sw.points["kits_b1"], sw.items
    receive(
        client,
        staff,
        store,
        {"item_id": it["water"], "quantity": 10, "unit": "箱", "lot": "A", "expiry": LATER.isoformat()},
        {"item_id": it["water"], "quantity": 30, "lot": "B", "expiry": SOON.isoformat()},
        {"item_id": it["blanket"], "quantity": 12},
        occurred_at="2026-01-05T08:00:00+08:00",
    )
    r = client.post(f"{API}/issues", json={"point_id": store, "item_id": it["water"], "quantity": 35}, headers=staff)
    assert r.status_code == 201 and len(r.json()["ids"]) == 2  # B (earliest) emptied, then 5 of A
    water = stock_of(client, staff, store)["water"]
    assert (water["quantity"], water["usable"], [x["lot"] for x in water["lots"]]) == (115, 115, ["A"])

    r = client.post(
        f"{API}/transfers",
        json={"from_point_id": store, "to_point_id": kits, "item_id": it["blanket"], "quantity": 4},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    (t,) = r.json()["transfers"]
    assert (t["status"], t["from_point"], t["to_point"], t["quantity"]) == (
        "in_transit",
        "阳光社区应急物资储备点",
        "1栋家庭应急包",
        4,
    )
    moving = client.get(f"{API}/transfers", headers=staff).json()
    assert [x["id"] for x in moving["items"]] == [t["id"]]
    assert stock_of(client, staff, kits)["blanket"]["in_transit"] == 4
    area = client.get(f"{API}/stock", params={"unit_id": world.units["C1"]}, headers=staff).json()
    totals = {row["code"]: (row["quantity"], row["in_transit"], row["points"]) for row in area["items"]}
    assert totals == {"water": (115, 0, 1), "blanket": (8, 4, 1)}
    r = client.post(f"{API}/transfers/{t['id']}/receive", json={}, headers=staff)
    assert r.status_code == 200 and r.json()["transfers"][0]["status"] == "received"
    assert client.post(f"{API}/transfers/{t['id']}/cancel", headers=staff).status_code == 409

    r = client.get(f"{API}/ledger", params={"point_id": store, "sort": "id"}, headers=staff)
    kinds = [(m["kind"], m["quantity"]) for m in r.json()["items"]]
    assert kinds == [
        ("receipt", 120),
        ("receipt", 30),
        ("receipt", 12),
        ("issue", -30),
        ("issue", -5),
        ("transfer_out", -4),
    ]
    first, small_issue = r.json()["items"][0], r.json()["items"][4]
    assert first["occurred_at"].startswith("2026-01-05T00:00:00") and first["recorded_at"] > first["occurred_at"]
    r = client.get(f"{API}/ledger", params={"kind": "issue", "since": "2026-01-01"}, headers=staff)
    assert r.json()["total"] == 2
    r = client.post(f"{API}/movements/{first['id']}/reverse", headers=staff)
    assert r.status_code == 422 and fields(r) == ["quantity"]  # 120 received, 5 of them issued since
    r = client.post(f"{API}/movements/{small_issue['id']}/reverse", json={"note": "录错"}, headers=staff)
    assert r.status_code == 201
    assert client.post(f"{API}/movements/{small_issue['id']}/reverse", headers=staff).status_code == 409
    assert stock_of(client, staff, store)["water"]["quantity"] == 120
    for path in ("ledger.xlsx", "transfers.xlsx?status=any", f"points/{store}/stock.xlsx", "stock.xlsx", "expiry.xlsx"):
        x = client.get(f"{API}/{path}", headers=staff)
        assert x.status_code == 200 and x.content[:2] == b"PK", path
        assert "attachment" in x.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(client.get(f"{API}/ledger.xlsx", headers=staff).content)).active.values)
    assert rows[0][:3] == ("流水号", "类型", "储备点") and len(rows) == 1 + 8


def test_bad_input_is_a_422_naming_the_field_and_nothing_is_written(client, sw):
    staff = login(client, "secretary")
    store, it = sw.points["store"], sw.items
    receive(client, staff, store, {"item_id": it["blanket"], "quantity": 5})
    cases = [
        ("receipts", {"point_id": store, "lines": [{"item_id": it["blanket"], "quantity": 0}]}, "lines.0.quantity"),
        ("receipts", {"point_id": 2**31, "lines": [{"item_id": it["blanket"], "quantity": 1}]}, "point_id"),
        (
            "receipts",
            {
                "point_id": store,
                "lines": [
                    {"item_id": it["blanket"], "quantity": 1},
                    {"item_id": it["water"], "quantity": 2, "unit": "kg", "expiry": "2027-01-01"},
                ],
            },
            "lines.1.unit",
        ),
        ("receipts", {"point_id": store, "lines": [{"item_id": it["water"], "quantity": 2}]}, "lines.0.expiry"),
        (
            "receipts",
            {"point_id": store, "lines": [{"item_id": it["water"], "quantity": 2, "expiry": "2027-02-30"}]},
            "lines.0.expiry",
        ),
        ("issues", {"point_id": store, "item_id": it["blanket"], "quantity": 6}, "quantity"),
        (
            "issues",
            {"point_id": store, "item_id": it["blanket"], "quantity": 1, "occurred_at": "yesterday"},
            "occurred_at",
        ),
        (
            "transfers",
            {"from_point_id": store, "to_point_id": store, "item_id": it["blanket"], "quantity": 1},
            "to_point_id",
        ),
        (
            "transfers",
            {"from_point_id": store, "to_point_id": 99999, "item_id": it["blanket"], "quantity": 1},
            "to_point_id",
        ),
        (
            "issues",
            {
                "point_id": sw.points["school"],
                "item_id": it["blanket"],
                "quantity": 1,
                "agreement_id": sw.agreements["school"],
            },
            "agreement_id",
        ),
        ("write-offs", {"point_id": store, "item_id": it["blanket"], "quantity": 1, "reason": "found"}, "reason"),
        (
            f"points/{store}/counts",
            {"lines": [{"item_id": it["blanket"], "counted": 5}, {"item_id": it["blanket"], "counted": 3, "lot": ""}]},
            "lines.1.lot",
        ),
        (f"points/{store}/counts", {"lines": [{"item_id": it["blanket"], "counted": 3}]}, "lines.0.reason"),
        (f"points/{store}/counts", {"lines": [{"item_id": it["blanket"], "counted": -1}]}, "lines.0.counted"),
    ]
    for path, body, field in cases:
        r = client.post(f"{API}/{path}", json=body, headers=staff)
        assert r.status_code == 422, (path, body, r.text)
        assert fields(r) == [field], (path, r.text)
    for params, field in [({"days": -1}, "days"), ({"kind": "shop"}, "kind"), ({"sort": "nope"}, "sort")]:
        r = client.get(f"{API}/expiry", params=params, headers=staff)
        assert r.status_code == 422 and fields(r) == [field], r.text
    r = client.get(f"{API}/ledger", params={"kind": "gift"}, headers=staff)
    assert r.status_code == 422 and fields(r) == ["kind"]
    assert client.get(f"{API}/ledger", headers=staff).json()["total"] == 1


def test_counts_by_form_and_by_sheet(client, sw):
    staff = login(client, "secretary")
    store, it = sw.points["store"], sw.items
    receive(
        client,
        staff,
        store,
        {"item_id": it["water"], "quantity": 50, "lot": "A", "expiry": LATER.isoformat()},
        {"item_id": it["blanket"], "quantity": 10},
    )
    r = client.post(
        f"{API}/points/{store}/counts",
        json={"lines": [{"item_id": it["blanket"], "counted": 9, "reason": "damaged"}], "note": "月度盘点"},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["adjustments"], r.json()["differences"][0]["difference"]) == (1, -1)

    sheet = client.get(f"{API}/points/{store}/count-sheet.xlsx", headers=staff)
    assert sheet.status_code == 200
    wb = load_workbook(io.BytesIO(sheet.content))
    ws = wb.active
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "water":
            row[6].value, row[7].value = 48, "丢失"
        if row[0].value == "blanket":
            row[6].value, row[7].value = "很多", None  # not a number
    bad = io.BytesIO()
    wb.save(bad)
    files = {"file": ("盘点表.xlsx", bad.getvalue(), "application/octet-stream")}
    r = client.post(f"{API}/points/{store}/counts/upload", files=files, headers=staff)
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert (error["field"], error["row"]) == ("实盘数量", 2)
    assert stock_of(client, staff, store)["water"]["quantity"] == 50
    ws["G2"].value = 9
    good = io.BytesIO()
    wb.save(good)
    files = {"file": ("盘点表.xlsx", good.getvalue(), "application/octet-stream")}
    r = client.post(f"{API}/points/{store}/counts/upload", files=files, data={"note": "复盘"}, headers=staff)
    assert r.status_code == 201, r.text
    assert [(d["difference"], d["reason"]) for d in r.json()["differences"]] == [(-2, "lost")]
    assert stock_of(client, staff, store)["water"]["quantity"] == 48


def test_the_expiry_list_says_what_to_rotate(client, sw):
    staff = login(client, "secretary")
    store, kits, it = sw.points["store"], sw.points["kits_b1"], sw.items
    far = TODAY + timedelta(days=200)
    receive(
        client,
        staff,
        store,
        {"item_id": it["water"], "quantity": 5, "lot": "OLD", "expiry": GONE.isoformat()},
        {"item_id": it["water"], "quantity": 6, "lot": "SOON", "expiry": SOON.isoformat()},
        {"item_id": it["water"], "quantity": 7, "lot": "FAR", "expiry": far.isoformat()},
    )
    receive(client, staff, kits, {"item_id": it["food"], "quantity": 3, "expiry": SOON.isoformat()})
    r = client.get(f"{API}/expiry", headers=staff)
    got = [(x["point_id"], x["lot"], x["days_left"], x["action"]) for x in r.json()["items"]]
    assert got == [
        (store, "OLD", -3, "write_off"),
        (store, "SOON", 30, "use_first"),
        (kits, SOON.isoformat(), 30, "replace"),
    ]
    r = client.get(f"{API}/expiry", params={"expired_only": True}, headers=staff)
    assert [x["lot"] for x in r.json()["items"]] == ["OLD"]
    assert client.get(f"{API}/expiry", params={"days": 365}, headers=staff).json()["total"] == 4
    assert stock_of(client, staff, store)["water"]["expired"] == 5


def test_a_partner_reads_and_moves_only_its_own_sites(client, sw):
    staff = login(client, "secretary")
    receive(client, staff, sw.points["store"], {"item_id": sw.items["blanket"], "quantity": 5})
    partner = login(client, "partner1")
    receive(
        client, partner, sw.points["market"], {"item_id": sw.items["food"], "quantity": 24, "expiry": LATER.isoformat()}
    )
    assert client.get(f"{API}/points/{sw.points['store']}/stock", headers=partner).status_code == 404
    r = client.post(
        f"{API}/receipts",
        json={"point_id": sw.points["store"], "lines": [{"item_id": sw.items["blanket"], "quantity": 1}]},
        headers=partner,
    )
    assert r.status_code == 404
    ledger = client.get(f"{API}/ledger", headers=partner).json()
    assert {m["point_id"] for m in ledger["items"]} == {sw.points["market"]}
    assert {row["code"] for row in client.get(f"{API}/stock", headers=partner).json()["items"]} == {"food"}


def test_a_count_sheet_may_be_as_large_as_any_import():
    settings = get_settings()
    allowed = limit_for("POST", f"{API}/points/7/counts/upload", "multipart/form-data; boundary=x", settings)
    assert allowed.limit >= settings.max_import_bytes > settings.max_body_bytes
    assert [e.field for e in allowed.errors] == ["file"]
