"""In a real browser (one journey): the community secretary composes an orange rainstorm warning,
draws its area on the map by clicking four corners around both of its buildings and sends it; it
waits for a second person; the other staff member approves it on a phone, and it is sent with a
valid CAP message. At 1280 px and 360 px nothing scrolls sideways."""

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from renxing.db import transaction
from renxing.warning import cap_schema
from renxing.warning.models import WarningMessage
from tests.kit.browser import ARTIFACTS, serve
from tests.kit.warning_world import warning_world

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}
DESK = {"width": 1280, "height": 860}
SHOTS = Path(os.environ.get("RENXING_SHOTS") or ARTIFACTS / "shots")


@pytest.fixture
def site(engine):
    ww = warning_world(engine)
    with serve(engine) as url:
        yield url, ww


def _login(page, server, username):
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")


def _fits(page, size) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], width  # nothing sticks out sideways


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"warning-{name}.png"), full_page=True)


def _page(browser, size, errors):
    context = browser.new_context(viewport=size, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.on("pageerror", lambda exc: errors.append(f"{pg.url}: {exc} {exc.stack}"))
    return context, pg


# One database: the same steps run on both through HTTP (test_compose_pages).
@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
def test_compose_draw_send_and_a_second_staff_member_approves(browser, site, engine):
    server, ww = site
    errors: list[str] = []
    context, page = _page(browser, DESK, errors)
    _login(page, server, "secretary")
    page.goto(f"{server}/warning/new")
    page.select_option("#unit_id", str(ww.units["C1"]))
    page.click("label.wx-level-option.wx-orange")
    assert "另一位工作人员" in page.inner_text("#approval-hint")
    page.fill("#event", "暴雨内涝")
    page.fill("#headline", "阳光社区暴雨橙色预警")
    page.fill("#description", "预计未来3小时降雨量超过80毫米，一栋周边低洼处可能积水。")
    page.fill("#instruction", "地下室和一楼住户请转移贵重物品，老人由楼栋长协助。")
    page.fill("#expires", "2031-07-01T21:30")
    page.click("#draw-start")
    box = page.locator("#compose-map").bounding_box()
    for fx, fy in [(0.12, 0.2), (0.88, 0.2), (0.88, 0.8), (0.12, 0.8)]:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    assert "4" in page.inner_text("#draw-status")
    ring = json.loads(page.input_value("#polygon"))["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    _fits(page, DESK)
    _shot(page, "compose-1280")
    page.click("#save-send")
    page.wait_for_selector("#awaiting")
    assert "须由另一位工作人员批准" in page.inner_text("#flash")
    _shot(page, "pending-1280")
    warning_url = page.url.split("?")[0]
    context.close()

    context, phone = _page(browser, PHONE, errors)
    _login(phone, server, "approver")
    phone.goto(warning_url)
    phone.wait_for_selector("#approve")
    _fits(phone, PHONE)
    _shot(phone, "approve-360")
    phone.once("dialog", lambda d: d.accept())
    phone.click("#approve")
    phone.wait_for_selector("#progress-link")
    assert "预警已发布" in phone.inner_text("#flash")
    _fits(phone, PHONE)
    _shot(phone, "sent-360")
    phone.goto(f"{server}/warning")
    _fits(phone, PHONE)
    _shot(phone, "list-360")
    context.close()

    context, page = _page(browser, DESK, errors)
    _login(page, server, "secretary")
    page.goto(f"{server}/warning")
    _shot(page, "list-1280")
    page.goto(warning_url)
    _shot(page, "sent-1280")
    context.close()
    assert not errors, errors
    with transaction(engine) as s:
        w = s.scalar(select(WarningMessage))
        assert (w.status, w.approved_by, w.level) == ("sent", ww.uid("approver"), "orange")
        assert cap_schema.validate(cap_schema.parse(w.cap_xml.encode())) == []
        assert w.households == 6  # the drawn square holds buildings 1 and 2
