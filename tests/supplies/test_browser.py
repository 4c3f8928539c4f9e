"""In a real browser (one test: Chromium starts once per test): the community secretary sees how many
days the stock lasts and which item runs out first, runs an allocation for the flood scenario,
commits it and finds the transfers in the ledger; then a partner on a phone sees only its own site
and its stock. At 360 px and 1280 px nothing scrolls sideways."""

import re
from datetime import date, timedelta

import pytest

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.space.planning import scenarios
from renxing.supplies import movements
from renxing.supplies.movements import ReceiptLine
from tests.kit.space_plan_world import build_plan_world
from tests.kit.supplies_world import supplies_world

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}
DESK = {"width": 1280, "height": 800}


@pytest.fixture
def warehouse(engine, world):
    build_plan_world(engine, world)
    sw = supplies_world(engine, world)
    later = date.today() + timedelta(days=200)
    with transaction(engine) as s:
        it = sw.items
        receipt = [ReceiptLine(it["water"], 120, expiry=later), ReceiptLine(it["food"], 36, expiry=later)]
        receipt += [ReceiptLine(it["mask"], 40, expiry=later), ReceiptLine(it["medicine"], 10, expiry=later)]
        movements.receive(s, SYSTEM, sw.points["store"], receipt)
        movements.receive(s, SYSTEM, sw.points["market"], [ReceiptLine(it["water"], 1000, expiry=later)])
        flood = {"community_id": world.units["C1"], "name": "暴雨内涝", "evacuate_all": True}
        scenarios.create_scenario(s, SYSTEM, flood)
    return sw


def _login(page, server, username):
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")


def _fits(page, size) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], width  # nothing sticks out sideways


# One database: the same journey runs on both through HTTP (test_pages, test_planning); a second
# browser run would only double the minutes.
@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
def test_secretary_allocates_and_a_partner_sees_only_its_own_stock(page, server, warehouse):
    page.set_viewport_size(DESK)
    _login(page, server, "secretary")
    page.click("nav.sidenav >> text=应急物资")
    page.wait_for_selector("#chart-days svg")
    big = page.inner_text("#autonomy-days")
    assert "可保障 3 天" in big and "方便食品" in big  # 36 portions for 4 residents at 3 a day
    assert "暴雨内涝" in page.inner_text("#scenario-days")
    _fits(page, DESK)
    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_selector("#chart-days svg")
    box = page.locator("#autonomy-days .sx-big-value").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    _fits(page, PHONE)

    page.set_viewport_size(DESK)
    page.click("#allocate-link")
    page.fill("input[name=days]", "2")
    page.click("#run-submit")
    # Lines from points to shelters (a level one has no height: attached, not "visible").
    page.wait_for_selector("#run-map path.leaflet-interactive", state="attached")
    assert "苏果超市仓库" in page.inner_text("#flows")
    _fits(page, DESK)
    page.on("dialog", lambda d: d.accept())
    page.click("#commit")
    page.wait_for_selector("#run-flash")
    page.click("#run-ledger")
    page.wait_for_selector("#ledger tr[data-movement]")
    assert "调出" in page.inner_text("#ledger")
    page.set_viewport_size(PHONE)
    _fits(page, PHONE)

    # A partner, on a phone: its own site on the map, its stock in the popup, nothing else.
    page.click("form[action='/logout'] button")
    _login(page, server, "partner1")
    page.click("label.nav-button")
    page.click("nav.sidenav >> text=应急物资")
    page.wait_for_selector("#points-map path.leaflet-interactive", state="attached")
    assert page.locator("#points-map path.leaflet-interactive").count() == 1
    rows = page.inner_text("#points")
    assert "苏果超市仓库" in rows and "阳光社区应急物资储备点" not in rows
    _fits(page, PHONE)
    page.locator("#points-map path.leaflet-interactive").click()
    page.wait_for_selector(".sx-popup-stock li:not(.muted)")
    # 1,000 L received, less what the committed allocation sent (in transit to the shelters).
    assert re.fullmatch(r"饮用水 \d+ L", page.inner_text(".sx-popup-stock").strip())
    page.click(".sx-popup a")
    page.wait_for_selector("#levels")
    assert "饮用水" in page.inner_text("#levels")
    _fits(page, PHONE)
