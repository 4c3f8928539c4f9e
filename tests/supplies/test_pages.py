"""The cloud warehouse's pages through a browser's requests (both databases): the autonomy
dashboard names the days and the binding item, an allocation run is computed, its pick lists
downloaded and committed into the ledger; partners are sent to their own stock."""

from datetime import date, timedelta

import pytest

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.space.planning import scenarios
from renxing.supplies import movements
from renxing.supplies.movements import ReceiptLine
from tests.kit.client import page_login
from tests.kit.space_plan_world import build_plan_world
from tests.kit.supplies_world import supplies_world


@pytest.fixture
def stocked(engine, world):
    """Stock at the community store and the supermarket (half of it drawable), an expired lot,
    and a saved scenario sending C1's residents to its shelters."""
    build_plan_world(engine, world)
    sw = supplies_world(engine, world)
    later = date.today() + timedelta(days=200)
    soon = date.today() + timedelta(days=20)
    with transaction(engine) as s:
        it = sw.items
        movements.receive(
            s,
            SYSTEM,
            sw.points["store"],
            [
                ReceiptLine(it["water"], 120, expiry=later),
                ReceiptLine(it["food"], 36, expiry=soon),
                ReceiptLine(it["mask"], 40, expiry=later),
                ReceiptLine(it["medicine"], 10, expiry=later),
                ReceiptLine(it["water"], 500, expiry=date.today() - timedelta(days=1)),
            ],
        )
        movements.receive(s, SYSTEM, sw.points["market"], [ReceiptLine(it["water"], 1000, expiry=later)])
        sc = scenarios.create_scenario(
            s, SYSTEM, {"community_id": world.units["C1"], "name": "洪涝全员疏散", "evacuate_all": True}
        )
        sw.agreements["scenario"] = sc.id
    return sw


def test_dashboard_names_days_and_the_binding_item(client, world, stocked):
    page_login(client, "secretary")
    r = client.get("/supplies")
    assert r.status_code == 200, r.text
    # 36 portions of food for 4 residents × 3 a day: 3 days; food runs out first.
    assert "可保障 3 天" in r.text and "最先耗尽：" in r.text
    assert 'id="scenario"' in r.text and "洪涝全员疏散" in r.text
    r = client.get(f"/supplies?community_id={world.units['C1']}&scenario_id=")
    assert r.status_code == 200 and 'id="scenario"' not in r.text


def test_allocation_run_pick_lists_and_commit_into_the_ledger(client, world, stocked):
    token = page_login(client, "secretary")
    c1 = world.units["C1"]
    r = client.get(f"/supplies/allocations?community_id={c1}")
    assert r.status_code == 200 and "洪涝全员疏散" in r.text
    scenario = str(stocked.agreements["scenario"])
    form = {"csrf_token": token, "community_id": str(c1), "scenario_id": scenario, "days": "99"}
    r = client.post("/supplies/allocations", data=form, follow_redirects=False)
    assert r.status_code == 422 and 'data-error-field="days"' in r.text
    form["days"] = "2"
    r = client.post("/supplies/allocations", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    run_id = int(url.rsplit("/", 1)[1])
    r = client.get(url)
    assert r.status_code == 200 and 'id="flows"' in r.text and 'id="commit"' in r.text
    x = client.get(f"/supplies/allocations/{run_id}/picklists.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    r = client.post(f"{url}/commit", data={"csrf_token": token}, follow_redirects=True)
    assert r.status_code == 200 and 'id="run-flash"' in r.text and 'id="commit"' not in r.text
    r = client.post(f"{url}/commit", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 409


def test_partners_are_sent_to_their_own_stock(client, world, stocked):
    page_login(client, "partner1")
    home = client.get("/")
    assert 'href="/supplies/points"' in home.text  # the menu's entry
    for url in ("/supplies", "/supplies/allocations"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/supplies/points"
    page_login(client, "resident1")
    assert "/supplies" not in client.get("/").text
    assert client.get("/supplies").status_code == 403
