"""In a real browser (one flow, SQLite): the community secretary uploads a Chinese rainstorm
warning, lands on it with the rain area and the matched community drawn on the map, finds it in the
list with its orange chip, then adds a feed and polls it; on a phone the pages fit the screen.
Screenshots at 1280 and 360 px go to test-artifacts/."""

import pytest

from tests.kit.alerts_world import RAINSTORM, alerts_world
from tests.kit.browser import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}
DESK = {"width": 1280, "height": 860}


def _fits(page, size) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], width  # nothing sticks out sideways


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
def test_a_secretary_uploads_a_rainstorm_warning_and_sees_it_on_the_map(page, server, engine, world, tmp_path):
    alerts_world(engine, world)
    current = tmp_path / "rainstorm.xml"  # the same warning, still in force
    current.write_bytes(RAINSTORM.read_bytes().replace(b"2025-07-04T09:30:00", b"2099-07-04T09:30:00"))
    page.set_viewport_size(DESK)
    page.fill("input[name=username]", "secretary")
    page.fill("input[name=password]", "test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")

    page.goto(f"{server}/warning/incoming")
    page.set_input_files("input[name=file]", str(current))
    page.click("#upload-submit")
    page.wait_for_selector("#alert-flash")
    page.wait_for_selector("#alert-map[data-drawn]")
    assert "南京市鼓楼区气象台发布暴雨橙色预警" in page.inner_text("#alert-headline")
    assert page.locator("#alert-map path.leaflet-interactive").count() >= 2  # the rain area and the community
    assert "阳光社区" in page.inner_text("#alert-map .ax-tip")
    assert "多边形" in page.inner_text("#matched")
    assert "切断有危险的室外电源" in page.inner_text("#alert-instruction")
    _fits(page, DESK)
    _shot(page, "incoming-alert-1280")
    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_selector("#alert-map[data-drawn]")
    _fits(page, PHONE)
    _shot(page, "incoming-alert-360")

    page.goto(f"{server}/warning/incoming")
    row = page.locator("#incoming li.ax-row").first
    assert row.locator(".ax-chip.ax-orange").inner_text() == "橙色"
    assert "生效中" in row.inner_text() and "阳光社区" in row.inner_text()
    _fits(page, PHONE)
    _shot(page, "incoming-list-360")
    page.set_viewport_size(DESK)
    page.reload()
    _fits(page, DESK)
    _shot(page, "incoming-list-1280")

    page.goto(f"{server}/warning/feeds")
    page.fill("input[name=name]", "市突发事件预警信息发布中心")
    page.fill("input[name=url]", "http://127.0.0.1:9/cap/feed.atom")
    page.click("#feed-submit")
    page.wait_for_selector("#feeds-flash")
    page.click("#feeds li >> text=立即读取")
    page.wait_for_selector("#feeds .ax-error")
    _fits(page, DESK)
    _shot(page, "incoming-feeds-1280")
    page.set_viewport_size(PHONE)
    page.reload()
    _fits(page, PHONE)
    _shot(page, "incoming-feeds-360")
