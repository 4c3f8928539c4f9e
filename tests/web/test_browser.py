"""The pages in a real browser over real HTTP: login, the grid walk, a building, live search."""

import pytest

from tests.kit.browser import ARTIFACTS

pytestmark = pytest.mark.browser


def test_gridworker_walks_their_grid_to_a_building(page, server, engine):
    backend = engine.dialect.name
    page.fill("input[name=username]", "gridworker1")
    page.fill("input[name=password]", "test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    assert "网格员" in page.inner_text(".topbar")

    # Home: my area only, and the vulnerable-group chart drawn by ECharts.
    scope = page.inner_text("main")
    assert "一片区" in scope and "二片区" not in scope and "和平社区" not in scope
    page.wait_for_selector("#tag-chart canvas")

    # The tree: down from my area to its building.
    page.click("nav.sidenav >> text=网格")
    page.click("main table >> text=一片区")
    page.wait_for_url(f"{server}/grid/*")
    assert "1栋" in page.inner_text("main") and "2栋" not in page.inner_text("main")
    page.click("main table >> text=1栋")
    page.wait_for_selector("text=住户")
    main = page.inner_text("main")
    for text in ("1单元101室", "2单元201室", "王建国", "王小明", "李梅"):
        assert text in main, text
    assert "赵强" not in main and "陈芳" not in main
    page.wait_for_selector("#unitmap .leaflet-interactive")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"building-gridworker1-{backend}.png"), full_page=True)

    # The resident list holds only my area, and the live search narrows it without a reload.
    page.click("nav.sidenav >> text=居民")
    table = page.inner_text("#results")
    assert "王建国" in table and "李梅" in table
    assert "赵强" not in table and "陈芳" not in table
    page.fill("form.filters input[name=q]", "李")
    page.wait_for_function("() => !document.querySelector('#results').innerText.includes('王建国')")
    assert "李梅" in page.inner_text("#results")
    assert "q=" in page.url
    page.screenshot(path=str(ARTIFACTS / f"residents-gridworker1-{backend}.png"), full_page=True)

    # A person page: phone in the clear for a grid worker, the ID number masked.
    page.click("#results >> text=李梅")
    page.wait_for_selector("h1 >> text=李梅")
    assert "13712345678" in page.inner_text("[data-field=phone]")
    assert "*" in page.inner_text("[data-field=id_number]")


def test_phone_layout_has_a_menu_button(page, server):
    page.set_viewport_size({"width": 390, "height": 780})
    page.fill("input[name=username]", "secretary")
    page.fill("input[name=password]", "test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    assert not page.is_visible("nav.sidenav")
    page.click("label.nav-button")
    assert page.is_visible("nav.sidenav")
    page.click("nav.sidenav >> text=居民")
    page.wait_for_selector("#results table")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "residents-phone.png"), full_page=True)
