"""The cloud warehouse's pages through a browser's requests (both databases): the autonomy dashboard
names the days and the item that runs out first; an allocation run is computed, its pick lists
downloaded, committed, and its transfers found in the ledger; a point's forms post to the ledger
and a refused one writes nothing; the ledger and expiry filters; agreements with their status;
a partner sees only its own stock."""

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.space.planning import scenarios
from renxing.supplies import ledger, movements, stock
from renxing.supplies.models import Movement
from renxing.supplies.movements import ReceiptLine
from tests.kit.client import page_login
from tests.kit.space_plan_world import build_plan_world
from tests.kit.supplies_world import supplies_world

LATER = date.today() + timedelta(days=200)
SOON = date.today() + timedelta(days=20)
GONE = date.today() - timedelta(days=1)


def _stock(engine, sw) -> None:
    """The store: water (one lot expired), food expiring within 60 days, masks, medicine;
    the supermarket: water, half of it drawable under its agreement."""
    with transaction(engine) as s:
        it = sw.items
        movements.receive(
            s,
            SYSTEM,
            sw.points["store"],
            [
                ReceiptLine(it["water"], 120, expiry=LATER),
                ReceiptLine(it["food"], 36, expiry=SOON),
                ReceiptLine(it["mask"], 40, expiry=LATER),
                ReceiptLine(it["medicine"], 10, expiry=LATER),
                ReceiptLine(it["water"], 500, expiry=GONE),
            ],
        )
        movements.receive(s, SYSTEM, sw.points["market"], [ReceiptLine(it["water"], 1000, expiry=LATER)])


@pytest.fixture
def stocked(engine, world):
    sw = supplies_world(engine, world)
    _stock(engine, sw)
    return sw


@pytest.fixture
def planned(engine, world):
    """The stock, and a saved scenario sending C1's residents to its shelters."""
    build_plan_world(engine, world)
    sw = supplies_world(engine, world)
    _stock(engine, sw)
    with transaction(engine) as s:
        sc = scenarios.create_scenario(
            s, SYSTEM, {"community_id": world.units["C1"], "name": "洪涝全员疏散", "evacuate_all": True}
        )
        return sw, sc.id


def _entries(engine) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(Movement)) or 0


def _level(engine, point_id, item_id) -> int:
    with transaction(engine) as s:
        return ledger.level(s, point_id, item_id)


def test_dashboard_and_an_allocation_run_into_the_ledger(client, engine, world, planned):
    _sw, scenario_id = planned
    token = page_login(client, "secretary")
    r = client.get("/supplies")
    assert r.status_code == 200, r.text
    # 36 portions of food for 4 residents × 3 a day: 3 days, the first item to run out (water
    # lasts 620 / 60 days, masks and medicine 10); the scenario is shown by default.
    assert "可保障 3 天" in r.text and "最先耗尽：方便食品" in r.text
    assert 'id="scenario"' in r.text and "洪涝全员疏散" in r.text and 'id="chart-days"' in r.text
    r = client.get(f"/supplies?community_id={world.units['C1']}&scenario_id=")
    assert r.status_code == 200 and 'id="scenario"' not in r.text
    assert client.get(f"/supplies?community_id={world.units['C2']}").status_code == 403
    assert client.get(f"/supplies?community_id={world.units['A1']}").status_code == 422

    c1 = world.units["C1"]
    assert "洪涝全员疏散" in client.get(f"/supplies/allocations?community_id={c1}").text
    form = {"csrf_token": token, "community_id": str(c1), "scenario_id": str(scenario_id), "days": "99"}
    r = client.post("/supplies/allocations", data=form, follow_redirects=False)
    assert r.status_code == 422 and 'data-error-field="days"' in r.text
    form["days"] = "2"
    r = client.post("/supplies/allocations", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    run_id = int(url.rsplit("/", 1)[1])
    r = client.get(url)
    assert r.status_code == 200 and 'id="flows"' in r.text and 'id="commit"' in r.text
    assert 'id="supplies-run-map"' in r.text and "苏果超市仓库" in r.text
    x = client.get(f"/supplies/allocations/{run_id}/picklists.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    before = _entries(engine)
    r = client.post(f"{url}/commit", data={"csrf_token": token}, follow_redirects=True)
    assert r.status_code == 200 and 'id="run-flash"' in r.text and 'id="commit"' not in r.text
    assert client.post(f"{url}/commit", data={"csrf_token": token}, follow_redirects=False).status_code == 409
    # The transfers are in the ledger, found by the run.
    r = client.get(f"/supplies/ledger?run_id={run_id}")
    assert r.status_code == 200 and 'id="run-filter"' in r.text
    assert r.text.count('data-movement="') >= 2 and "调出" in r.text
    assert _entries(engine) > before


def test_point_forms_and_the_count_sheet_post_to_the_ledger_or_write_nothing(client, engine, world, stocked):
    sw = stocked
    token = page_login(client, "secretary")
    store, water, food = sw.points["store"], sw.items["water"], sw.items["food"]
    r = client.get(f"/supplies/points/{store}")
    assert r.status_code == 200 and 'id="form-receipt"' in r.text and 'id="levels"' in r.text
    base = f"/supplies/points/{store}"

    r = client.post(
        f"{base}/receipt",
        data={"csrf_token": token, "item_id": str(food), "quantity": "2", "unit": "桶", "expiry": LATER.isoformat()},
        follow_redirects=False,
    )
    assert r.status_code == 422 and 'data-error-field="unit"' in r.text
    r = client.post(
        f"{base}/receipt",
        data={"csrf_token": token, "item_id": str(food), "quantity": "12", "expiry": LATER.isoformat()},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=receipt")
    assert _level(engine, store, food) == 48

    # An issue beyond the usable stock (the expired 500 L do not count) names the quantity.
    written = _entries(engine)
    r = client.post(f"{base}/issue", data={"csrf_token": token, "item_id": str(water), "quantity": "121"})
    assert r.status_code == 422 and 'data-error-field="quantity"' in r.text and "121" in r.text
    assert _entries(engine) == written
    r = client.post(f"{base}/issue", data={"csrf_token": token, "item_id": str(water), "quantity": "20"})
    assert r.status_code == 200 and 'id="point-flash"' in r.text

    # A transfer to itself is refused; to the school it is in transit until the school signs.
    r = client.post(
        f"{base}/transfer",
        data={"csrf_token": token, "to_point_id": str(store), "item_id": str(water), "quantity": "5"},
    )
    assert r.status_code == 422 and 'data-error-field="to_point_id"' in r.text
    school = sw.points["school"]
    r = client.post(
        f"{base}/transfer",
        data={"csrf_token": token, "to_point_id": str(school), "item_id": str(water), "quantity": "30"},
    )
    assert r.status_code == 200
    r = client.get(f"/supplies/points/{school}")
    assert 'id="coming"' in r.text
    receive = r.text.split(f'action="/supplies/points/{school}/transfers/')[1].split('"')[0]
    r = client.post(f"/supplies/points/{school}/transfers/{receive}", data={"csrf_token": token})
    assert r.status_code == 200 and _level(engine, school, water) == 30

    # The expired lot is written off from its row; an entry is reversed from the recent list.
    r = client.post(
        f"{base}/write-off",
        data={
            "csrf_token": token,
            "item_id": str(water),
            "lot": GONE.isoformat(),
            "quantity": "500",
            "reason": "expired",
        },
    )
    assert r.status_code == 200 and _level(engine, store, water) == 70
    with transaction(engine) as s:
        last = s.scalar(select(func.max(Movement.id)).where(Movement.point_id == store))
    r = client.post(f"{base}/movements/{last}/reverse", data={"csrf_token": token})
    assert r.status_code == 200 and _level(engine, store, water) == 570
    r = client.post(f"{base}/movements/{last}/reverse", data={"csrf_token": token})
    assert r.status_code == 409 and 'id="point-errors"' in r.text

    # The count sheet goes out with the book; one bad row refuses it whole.
    sheet = client.get(f"/api/v1/supplies/points/{store}/count-sheet.xlsx")
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    ws = book.active
    headers = [c.value for c in ws[1]]
    counted, code = headers.index("实盘数量") + 1, headers.index("物资编码") + 1
    bad_row = food_row = None
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, code).value == "food" and food_row is None:  # the lot expiring first, 36 on the book
            food_row = row
            ws.cell(row, counted).value = 30
            ws.cell(row, headers.index("差异原因") + 1).value = "损坏"
        elif ws.cell(row, code).value == "mask":
            ws.cell(row, counted).value = "四十"
            bad_row = row
    out = io.BytesIO()
    book.save(out)
    written = _entries(engine)
    files = {"file": ("盘点表.xlsx", out.getvalue(), "application/octet-stream")}
    r = client.post(f"/supplies/points/{store}/count", data={"csrf_token": token}, files=files)
    assert r.status_code == 422 and f"第 {bad_row} 行" in r.text and _entries(engine) == written
    ws.cell(bad_row, counted).value = 40
    out = io.BytesIO()
    book.save(out)
    files = {"file": ("盘点表.xlsx", out.getvalue(), "application/octet-stream")}
    r = client.post(f"/supplies/points/{store}/count", data={"csrf_token": token}, files=files)
    assert r.status_code == 200 and _level(engine, store, food) == 30 + 12


def test_lists_and_what_a_partner_sees(client, world, stocked):
    sw = stocked
    page_login(client, "secretary")
    r = client.get(f"/supplies/ledger?point_id={sw.points['market']}&kind=receipt")
    assert r.status_code == 200 and r.text.count('data-movement="') == 1 and "苏果超市仓库" in r.text
    today = stock.today_here().isoformat()  # the platform's day (Asia/Shanghai), not the machine's
    r = client.get(f"/supplies/ledger?since={today}&until={today}&item_id={sw.items['water']}")
    assert r.text.count('data-movement="') == 3
    tomorrow = (stock.today_here() + timedelta(days=1)).isoformat()
    assert 'data-movement="' not in client.get(f"/supplies/ledger?since={tomorrow}").text
    assert client.get("/supplies/ledger?since=2026-13-01").status_code == 422
    export = r.text.split('id="ledger-export"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    x = client.get(export)
    assert x.status_code == 200 and x.content[:2] == b"PK"
    assert load_workbook(io.BytesIO(x.content)).active.max_row == 4  # the header and the three entries

    r = client.get("/supplies/expiry")
    assert r.status_code == 200
    assert 'data-action="write_off"' in r.text and 'data-action="use_first"' in r.text
    assert 'data-action="use_first"' not in client.get("/supplies/expiry?expired_only=true").text

    r = client.get("/supplies/agreements")
    assert 'data-status="expiring"' in r.text and 'data-status="expired"' in r.text
    r = client.get("/supplies/agreements?status=expired")
    assert 'data-status="expiring"' not in r.text and "XY-2025-07" in r.text
    r = client.get(f"/supplies/agreements/{sw.agreements['market']}")
    assert r.status_code == 200 and "刘经理" in r.text and "025-52000001" in r.text and "2000" in r.text

    # A partner's account: its own site, entries and agreements only.
    page_login(client, "partner1")
    assert 'href="/supplies/points"' in client.get("/").text  # the menu's entry
    for url in ("/supplies", "/supplies/allocations"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/supplies/points"
    r = client.get("/supplies/points")
    assert r.status_code == 200 and "苏果超市仓库" in r.text
    assert "阳光社区应急物资储备点" not in r.text and "桂花小学器材室" not in r.text
    assert client.get(f"/supplies/points/{sw.points['store']}").status_code == 404
    r = client.get(f"/supplies/points/{sw.points['market']}")
    assert r.status_code == 200 and 'id="form-issue"' in r.text
    r = client.get("/supplies/ledger")
    assert r.text.count('data-movement="') == 1
    r = client.get("/supplies/agreements")
    assert "XY-2026-01" in r.text and "XY-2025-07" not in r.text
    page_login(client, "resident1")
    assert "/supplies" not in client.get("/").text
    assert client.get("/supplies").status_code == 403
