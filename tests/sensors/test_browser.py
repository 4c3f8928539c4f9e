"""In a real browser (one flow; Chromium starts once): the community secretary opens the sensors'
map, sees the silent smoke sensor marked offline and the water-level sensor in alarm, opens the
water level's week of readings charted with its threshold lines, and reads the rules; at 1280 px
and at 360 px nothing scrolls sideways. Screenshots go to the test artifacts (sensors-*.png)."""

import math
from collections.abc import Iterator
from datetime import timedelta

import pytest

from renxing.db import transaction, utcnow
from renxing.sensors import ingest
from tests.kit.browser import ARTIFACTS, serve
from tests.kit.sensors_world import sensors_world

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}
DESK = {"width": 1280, "height": 860}


@pytest.fixture
def week(ev):
    """A week of water levels every 10 minutes, a rain event crossing 30 cm in the last hours;
    the smoke sensor never heard since its registration a week ago."""
    now = utcnow()
    sw = sensors_world(ev, registered=now - timedelta(days=8))
    start = now - timedelta(days=7)
    readings = []
    for i in range(7 * 144):
        at = start + timedelta(minutes=10 * i)
        hours_left = (now - at).total_seconds() / 3600
        rain = 26 * math.exp(-(((hours_left - 1) / 3) ** 2))  # the storm peaks an hour ago
        readings.append((at, round(8 + 1.5 * math.sin(i / 20) + rain, 1)))
    readings.append((now - timedelta(minutes=1), 34.0))  # still rising, heard a minute ago
    with transaction(ev.engine) as s:
        device = ingest.device_for(s, sw.codes["wl_b1"], sw.secrets["wl_b1"])
        ingest.receive(s, device, ingest.check_batch(readings, now), now=now)
    return sw


@pytest.fixture
def sensors_server(ev, week) -> Iterator[str]:
    with serve(ev.engine) as url:
        yield url


def _fits(page, size) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], width  # nothing sticks out sideways


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"sensors-{name}.png"), full_page=True)


@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
def test_secretary_sees_states_on_the_map_and_a_week_charted(browser, sensors_server, week):
    context = browser.new_context(viewport=DESK, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{sensors_server}/login")
    page.fill("input[name=username]", "secretary")
    page.fill("input[name=password]", "test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{sensors_server}/")

    page.goto(f"{sensors_server}/sensors")
    page.wait_for_selector("#devices-map path.sn-marker-offline", state="attached")
    assert page.locator("#devices-map path.sn-marker-alarm").count() == 1
    assert "离线" in page.inner_text("#offline-alert")
    assert "告警" in page.inner_text("tr[data-device='WL-B1']")
    assert "离线" in page.inner_text("tr[data-device='SM-B2']")
    _fits(page, DESK)
    _shot(page, "devices-1280")
    page.locator("#devices-map path.sn-marker-offline").click()
    page.wait_for_selector(".sn-popup")
    assert "2栋楼道烟感" in page.inner_text(".sn-popup")

    page.click("tr[data-device='WL-B1'] a")
    page.wait_for_selector("#readings-chart svg")
    chart = page.inner_text("#readings-chart")
    assert "地下车库积水" in chart and "30" in chart  # the threshold's mark line and its label
    assert page.locator("#triggers tr[data-trigger]").count() == 1
    _fits(page, DESK)
    _shot(page, "device-1280")

    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_selector("#readings-chart svg")
    _fits(page, PHONE)
    _shot(page, "device-360")
    page.goto(f"{sensors_server}/sensors")
    page.wait_for_selector("#devices-map path.sn-marker-offline", state="attached")
    _fits(page, PHONE)
    _shot(page, "devices-360")
    page.goto(f"{sensors_server}/sensors/rules")
    assert "地下车库积水" in page.inner_text("#rules")
    _fits(page, PHONE)
    _shot(page, "rules-360")
    context.close()
    assert not errors, errors
