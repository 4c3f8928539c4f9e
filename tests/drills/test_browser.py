"""Drill sign-in end to end in headless Chromium over real HTTP: staff open an activity and its QR
code, a resident on a phone signs in on the page the code links to, and the building's coverage
rises on the coverage page."""

from datetime import timedelta

import pytest

from renxing.db import utcnow
from tests.kit.browser import ARTIFACTS
from tests.kit.drills_world import activity, count_attendance

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 760}
DESK = {"width": 1366, "height": 900}


def open_as(browser, server: str, username: str, *, phone: bool = False):
    options = {"viewport": PHONE if phone else DESK, "locale": "zh-CN"}
    if phone:
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    return context, page, errors


def building_reach(page, unit_id: int) -> str:
    return page.inner_text(f"#units tr[data-unit='{unit_id}'] td.reach")


def test_sign_in_lifts_building_coverage(browser, server, engine, world):
    w = world
    backend = engine.dialect.name
    aid = activity(engine, w, starts=utcnow() - timedelta(minutes=15), title="急救技能培训")
    ARTIFACTS.mkdir(exist_ok=True)

    # Staff see the coverage of building 1 (nobody reached yet), then open the activity and its code.
    staff_ctx, staff, staff_errors = open_as(browser, server, "secretary")
    staff.goto(f"{server}/drills/coverage?unit_id={w.units['C1']}")
    staff.wait_for_selector("#chart-buildings svg")
    assert building_reach(staff, w.units["B1"]) == "0%"
    staff.click("nav.sidenav >> text=演练培训")
    staff.click("text=列表")
    staff.click("#activity-list >> text=急救技能培训")
    staff.wait_for_selector("#signin-qr svg")
    link = staff.get_attribute("#signin-link", "href")
    assert link and f"/drills/{aid}/signin?t=" in link
    staff.screenshot(path=str(ARTIFACTS / f"drills-activity-{backend}.png"), full_page=True)

    # The resident opens the link on a 375 px phone and signs in as themselves.
    res_ctx, phone, phone_errors = open_as(browser, server, "resident1", phone=True)
    phone.goto(link)
    phone.click("#signin-self")
    phone.wait_for_selector("#signin-result")
    assert "签到成功" in phone.inner_text("#signin-result")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=str(ARTIFACTS / f"drills-signin-phone-{backend}.png"), full_page=True)
    assert count_attendance(engine, aid) == 1

    # Someone without an account signs in by name and phone digits.
    anon_ctx = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    anon = anon_ctx.new_page()
    anon.goto(link)
    anon.fill("input[name=name]", "李梅")
    anon.fill("input[name=phone_last4]", "5678")
    anon.click("#signin-form button[type=submit]")
    anon.wait_for_selector("#signin-result")
    assert "李*" in anon.inner_text("#signin-result")

    # The attendance list and the building's coverage show both.
    staff.reload()
    assert staff.inner_text("#signed-count") == "2"
    staff.goto(f"{server}/drills/coverage?unit_id={w.units['C1']}")
    staff.wait_for_selector("#chart-buildings svg")
    assert building_reach(staff, w.units["B1"]) == "67%"  # 2 of the 3 residents of building 1
    assert "李梅" not in staff.inner_text("#not-reached")
    staff.screenshot(path=str(ARTIFACTS / f"drills-coverage-{backend}.png"), full_page=True)
    for ctx in (staff_ctx, res_ctx, anon_ctx):
        ctx.close()
    assert not staff_errors and not phone_errors
