"""In a real browser: the secretary sees who nobody visits, proposes carers, assigns them all in one
action, and they leave the uncovered list; a volunteer on a phone-sized screen records a visit."""

import pytest

from tests.kit.care_world import care_world

pytestmark = pytest.mark.browser


def _login(page, server, username):
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")


def test_secretary_assigns_all_uncovered(page, server, engine, world):
    care_world(engine, world)
    _login(page, server, "secretary")
    page.click("nav.sidenav a[href='/care']")
    page.wait_for_selector("#uncovered")
    listed = page.inner_text("#uncovered")
    assert "王建国" in listed and "李梅" in listed
    assert page.inner_text("#uncovered-count") == "2"
    page.click("#propose")
    page.wait_for_selector("#pairs")
    pairs = page.inner_text("#pairs")
    assert "王建国" in pairs and "赵强" in pairs and "护理" in pairs  # the nurse, explained
    page.click("#assign-all")
    page.wait_for_selector("#assigned-flash")
    assert page.inner_text("#uncovered-count") == "0"
    assert page.locator("#uncovered").count() == 0 and page.locator("#none-uncovered").count() == 1
    # The coverage map draws the building, now fully covered.
    page.goto(f"{server}/care/coverage")
    page.wait_for_selector("#care-map .leaflet-interactive")


def test_volunteer_records_a_visit_on_a_phone(page, server, engine, world):
    care_world(engine, world)
    _login(page, server, "secretary")
    page.goto(f"{server}/care")
    page.click("#propose")
    page.click("#assign-all")
    page.wait_for_selector("#assigned-flash")
    page.click("form[action='/logout'] button")
    page.set_viewport_size({"width": 375, "height": 740})
    _login(page, server, "volunteer1")
    page.goto(f"{server}/care/mine")
    card = page.locator(".care-card").first
    assert "王建国" in card.inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width  # nothing sticks out sideways on a phone
    card.locator("a.btn").click()
    page.wait_for_selector("#visit-form")
    page.check("input[name=found][value=problem]")
    page.select_option("select[name=problem_category]", "health")
    page.fill("textarea[name=note]", "氧气快用完了")
    page.check("input[name=raise_report]")
    page.click("#visit-form button[type=submit]")
    page.wait_for_url("**/care/mine?visited=*")
    assert "report=" in page.url
