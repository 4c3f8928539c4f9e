"""In a real browser, on a phone (360 px): the secretary switches 阳光社区 to emergency as an
exercise from /response; the badge shows in the top bar of every page and nothing scrolls sideways."""

import pytest

from tests.kit.browser import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # nothing sticks out sideways


@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
def test_the_secretary_switches_on_a_phone_and_the_badge_follows(page, server):
    page.set_viewport_size(PHONE)
    page.fill("input[name=username]", "secretary")
    page.fill("input[name=password]", "test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    page.click("label.nav-button")
    page.click("nav.sidenav >> text=应急响应")
    page.wait_for_url(f"{server}/response")
    _fits(page)
    card = page.locator("section.mode-card").first
    card.locator("select[name=to_state]").select_option("emergency")
    card.locator("input[name=exercise]").check()
    card.locator("button[type=submit]").click()
    page.wait_for_selector("a.mode-badge.mode-emergency")
    badge = page.locator("a.mode-badge")
    assert "应急状态" in badge.inner_text() and "演练" in badge.inner_text()
    assert badge.get_attribute("title") == "应急状态 · 阳光社区"  # the community, in the title on a phone
    assert "应急" in page.inner_text("section.mode-card.mode-emergency .mode-pill")
    _fits(page)
    page.goto(f"{server}/reports/mine")
    assert page.locator("a.mode-badge.mode-emergency").count() == 1
    _fits(page)
    page.screenshot(path=str(ARTIFACTS / "response-phone.png"), full_page=True)
