"""The risk map and the evacuation plan in headless Chromium over real HTTP: a community worker opens
the map, toggles a layer, draws a risk point (and sees an error next to the field of a bad shelter),
runs the flood scenario, turns the school into a shelter and sees who gains."""

import pytest
from sqlalchemy import select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.space.models import RiskPoint
from renxing.space.planning import scenarios
from tests.kit.browser import ARTIFACTS
from tests.kit.space_plan_world import build_plan_world

pytestmark = pytest.mark.browser


@pytest.fixture
def pw(engine, world):
    pw = build_plan_world(engine, world)
    with transaction(engine) as s:
        scenarios.create_scenario(
            s,
            SYSTEM,
            {
                "community_id": world.units["C1"],
                "name": "暴雨内涝",
                "hazard_zone_ids": [pw.zones["flood_b1"], pw.zones["flood_east"]],
                "evacuate_all": True,
            },
        )
    return pw


@pytest.fixture
def page(browser, server, pw):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{server}/login")
    pg.fill("input[name=username]", "secretary")
    pg.fill("input[name=password]", "test-password")
    pg.click("button[type=submit]")
    pg.wait_for_url(f"{server}/")
    yield pg
    context.close()
    assert not errors, errors


def overlay_paths(page) -> int:
    return page.locator("#spacemap .leaflet-overlay-pane path").count()


def test_worker_maps_runs_the_flood_scenario_and_opens_the_school(page, server, world, pw, engine):
    backend = engine.dialect.name
    ARTIFACTS.mkdir(exist_ok=True)

    # 1. The map of the community, every layer from our own GeoJSON (no basemap, no internet).
    page.click("nav.sidenav >> text=风险地图")
    page.wait_for_url(f"{server}/space/{world.units['C1']}")
    page.wait_for_selector("#spacemap[data-loaded='1']")
    assert page.inner_text("[data-layer-count=shelters]") == "4"
    assert page.inner_text("[data-layer-count=roads]") == "6"
    assert page.inner_text("[data-layer-count=hazard_zones]") == "3"
    with_roads = overlay_paths(page)
    page.uncheck("input[data-layer=roads]")
    assert overlay_paths(page) == with_roads - 6
    page.check("input[data-layer=roads]")
    assert overlay_paths(page) == with_roads
    page.screenshot(path=str(ARTIFACTS / f"space-map-{backend}.png"), full_page=True)

    # 2. Draw a risk point by clicking the map, fill its form, save through the API.
    page.click("[data-add-layer=risk_points]")
    assert page.is_visible("#draw-hint")
    box = page.locator("#spacemap").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    page.fill("#space-form input[name=name]", "东门加油站")
    page.select_option("#space-form select[name=kind]", "petrol_station")
    page.click("#space-save")
    page.wait_for_selector("#space-flash:not([hidden])")
    page.wait_for_function("() => document.querySelector('[data-layer-count=risk_points]').textContent === '1'")
    with transaction(engine) as s:
        rp = s.scalars(select(RiskPoint)).one()
        assert (rp.name, rp.kind, rp.unit_id) == ("东门加油站", "petrol_station", world.units["C1"])
    # A shelter without its effective area: the API's error shows next to that field, nothing is stored.
    page.click("[data-add-layer=shelters]")
    page.locator("#spacemap").scroll_into_view_if_needed()
    box = page.locator("#spacemap").bounding_box()
    for fx, fy in ((0.3, 0.2), (0.4, 0.2), (0.4, 0.3)):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    page.click("#space-draw-done")
    page.fill("#space-form input[name=name]", "临时广场")
    page.click("#space-save")
    page.wait_for_selector("[data-field=effective_area_m2].has-error .field-error:not([hidden])")
    assert not page.is_visible("[data-field=geometry] .field-error")  # the drawn polygon was fine
    assert not page.is_visible("[data-field=exits] .field-error")  # left empty: the default applies
    assert page.inner_text("[data-layer-count=shelters]") == "4"
    page.screenshot(path=str(ARTIFACTS / f"space-map-edit-{backend}.png"), full_page=True)

    # 3. The flood scenario: the plan names every building's shelter and who is left over.
    page.click("#to-evacuation")
    page.wait_for_selector("#scenario-form")
    page.select_option("#scenario-pick", label="暴雨内涝")
    page.wait_for_selector("#plan-table")
    page.wait_for_selector("#plan-map[data-loaded='1'] path.leaflet-interactive", state="attached")
    assert page.inner_text("[data-kpi=unplaced] .kpi-value") == "1"
    assert "1栋" in page.inner_text("#unplaced")
    table = page.inner_text("#plan-table")
    assert "1栋" in table and "2栋" in table and "幸福公园" in table
    page.screenshot(path=str(ARTIFACTS / f"space-plan-{backend}.png"), full_page=True)

    # 4. What if the school became a shelter? Side by side, and who gains.
    page.check(f"#whatif-form input[name=whatif][value='{pw.shelters['school']}']")
    page.click("#run-whatif")
    page.wait_for_selector("#gains")
    gains = page.inner_text("#gains")
    assert "1栋" in gains
    assert page.inner_text("#whatif [data-row=unplaced]").split()[-1] == "-1"
    page.wait_for_selector("#plan-map-alt[data-loaded='1']")
    page.screenshot(path=str(ARTIFACTS / f"space-whatif-{backend}.png"), full_page=True)

    # 5. On a phone the map page still works: the panel stacks above the map.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{server}/space/{world.units['C1']}")
    page.wait_for_selector("#spacemap[data-loaded='1']")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1
    page.screenshot(path=str(ARTIFACTS / f"space-map-phone-{backend}.png"), full_page=True)
