"""Stored text never runs as script, in headless Chromium over real HTTP.

Every object a map or a chart shows gets a hostile name — grid units, buildings, shelters, hazard
zones, risk points, passages, reserved land, roads, base features, volunteer teams, a report
category, people (handlers, residents, members) — and each page that draws them is visited by a
role that sees them, its tooltips and popups opened. Nothing may run (``window.__xss`` stays
unset), no element may come out of the names, and where a label shows a name it shows the
characters as typed. The same tour asserts that the pages still work under the
Content-Security-Policy: maps and charts draw, no violation is reported, forms submit.
"""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from renxing.auth import service as auth_service
from renxing.auth.models import User
from renxing.auth.principal import SYSTEM
from renxing.db import transaction, utcnow
from renxing.evaluation.models import Rating
from renxing.events import intake
from renxing.events.models import EventCategory
from renxing.events.schemas import ReportIn
from renxing.grid.models import GridUnit, Responsibility
from renxing.people.models import Resident
from renxing.space import layers as space
from renxing.space.models import HazardZone, Road, Shelter
from renxing.space.planning import scenarios
from renxing.volunteers.models import TeamMember, VolunteerTeam
from tests.kit.browser import serve
from tests.kit.care_world import care_world
from tests.kit.drills_world import activity, attend, org
from tests.kit.events_world import draw_outlines, link_chain
from tests.kit.space_plan_world import build_plan_world
from tests.kit.space_world import line, ll, square

pytestmark = pytest.mark.browser

IMG = '<img src=x onerror="window.__xss=1">'
SVG = '"><svg onload=window.__xss=1>'


def hostile(tag: str, i: int = 0) -> str:
    return tag + (IMG if i % 2 == 0 else SVG)


# What a name turned into markup would leave behind, whether or not the CSP stopped its script.
PLANTED = "img[src='x'], svg[onload], [onerror]"

OPEN_TOOLTIPS = """(sel) => {
  const root = document.querySelector(sel);
  root.querySelectorAll('.leaflet-interactive').forEach((el) =>
    el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true, view: window})));
  return Array.from(root.querySelectorAll('.leaflet-tooltip')).map((t) => t.textContent);
}"""

OPEN_POPUPS = """(sel) => {
  const root = document.querySelector(sel), seen = [];
  root.querySelectorAll('.leaflet-interactive').forEach((el) => {
    el.dispatchEvent(new MouseEvent('click', {bubbles: true, view: window}));
    // A closed popup fades out for a moment: the newest is the last one.
    const pops = root.querySelectorAll('.leaflet-popup-content');
    if (pops.length) { seen.push(pops[pops.length - 1].textContent); }
  });
  return seen;
}"""

CHART_TIPS = """(id) => {
  const node = document.getElementById(id), chart = echarts.getInstanceByDom(node), seen = [];
  const n = chart.getOption().series[0].data.length;
  for (let i = 0; i < n; i++) {
    chart.dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: i});
    seen.push(node.textContent);
  }
  return seen;
}"""


def seed(engine, w) -> dict:
    """The test world with a hostile name on everything a map or chart shows; returns ids and names."""
    link_chain(engine, w)
    draw_outlines(engine, w)
    names: dict[str, str] = {}
    with transaction(engine) as s:
        for i, key in enumerate(["C1", "P1", "A1", "A2", "B1", "B2"]):
            names[key] = hostile(f"单元{key}", i)
            s.get(GridUnit, w.units[key]).name = names[key]
        # People: handlers (accounts and the chain), residents (care lists, members).
        for i, user in enumerate(s.scalars(select(User).order_by(User.id))):
            user.display_name = hostile(f"人{i}", i)
        for i, duty in enumerate(s.scalars(select(Responsibility))):
            duty.person_name = hostile(f"责{i}", i)
        for i, r in enumerate(s.scalars(select(Resident).order_by(Resident.id))):
            r.name = hostile(f"居{i}", i)
        cat = s.scalar(select(EventCategory).where(EventCategory.code == "fire_hazard"))
        cat.name_zh = cat.name_en = names["category"] = hostile("类", 1)
    pw = build_plan_world(engine, w)
    c1 = w.units["C1"]
    with transaction(engine) as s:
        for model, tag in [(Shelter, "避"), (HazardZone, "险"), (Road, "路")]:
            for i, obj in enumerate(s.scalars(select(model).order_by(model.id))):
                obj.name = names[f"{tag}{i}"] = hostile(f"{tag}{i}", i)
        for layer, tag, values in [
            (
                "risk_points",
                "危",
                {"kind": "petrol_station", "geometry": {"type": "Point", "coordinates": ll(100, 60)}},
            ),
            ("passages", "道", {"geometry": line((0, 30), (200, 30)), "width_m": 5}),
            ("reserved_land", "留", {"geometry": square(100, -80, 20)}),
            ("features", "房", {"layer": "building", "kind": "house", "geometry": square(60, 60, 8)}),
            (
                "features",
                "店",
                {"layer": "poi", "kind": "clinic", "geometry": {"type": "Point", "coordinates": ll(60, -40)}},
            ),
        ]:
            names[tag] = hostile(tag, len(names))
            space.create_feature(s, SYSTEM, layer, {"unit_id": c1, "name": names[tag], **values})
        scenario = scenarios.create_scenario(
            s,
            SYSTEM,
            {
                "community_id": c1,
                "name": hostile("情景"),
                "hazard_zone_ids": [pw.zones["flood_b1"]],
                "evacuate_all": True,
            },
        )
    cw = care_world(engine, w)
    with transaction(engine) as s:
        for i, team in enumerate(s.scalars(select(VolunteerTeam).order_by(VolunteerTeam.id))):
            team.name = names[f"队{i}"] = hostile(f"队{i}", i)
        for i, m in enumerate(s.scalars(select(TeamMember).order_by(TeamMember.id))):
            m.name = hostile(f"员{i}", i)
    org(engine, w, hostile("社会组织"))
    done = activity(
        engine, w, starts=utcnow() - timedelta(days=3), status="done", title=hostile("演练"), targets=["B1"]
    )
    attend(engine, done, w.residents["wang"], w.residents["li"])
    with transaction(engine) as s:
        actor = auth_service.principal_for(s, s.get(User, w.users["resident1"]))
        for unit in ("B1", "B2", "B1"):
            intake.submit_report(
                s,
                actor,
                ReportIn(category="fire_hazard", description=hostile("描述"), unit_id=w.units[unit]),
                channel="resident_app",
                photos=[],
                now=utcnow(),
            )
        b1 = s.get(GridUnit, w.units["B1"])
        s.add(
            Rating(
                resident_id=w.residents["wang"],
                path=b1.path,
                target_kind="team",
                target_id=cw.silver,
                team_id=cw.silver,
                period=f"{utcnow().year}Q1",
                variety=4,
                quality=5,
                responsiveness=3,
                comment=hostile("评价"),
                basis="care_visit",
            )
        )
    return {"names": names, "scenario": scenario.id, "team": cw.silver, "activity": done}


@pytest.fixture
def xss_world(engine, world):
    return seed(engine, world)


@pytest.fixture
def server(engine, xss_world) -> Iterator[str]:
    with serve(engine) as url:
        yield url


class Visitor:
    """One role in its own browser context, collecting page errors and CSP reports from the console."""

    def __init__(self, browser, server: str, username: str, width: int = 1280):
        self.server = server
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"error: {exc}"))
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console: {m.text}") if "Content Security Policy" in m.text else None,
        )
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dismiss)  # an alert() from a name must not hang the test
        self.page.goto(f"{server}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", "test-password")
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{server}/")

    def _dismiss(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visit(self, path: str, ready: str | None = None) -> None:
        self.page.goto(f"{self.server}{path}")
        if ready:
            self.page.wait_for_selector(ready, state="attached")
        self.check(path)

    def check(self, where: str) -> None:
        assert self.page.evaluate("typeof window.__xss") == "undefined", f"script ran on {where}"
        planted = self.page.evaluate(f"Array.from(document.querySelectorAll({PLANTED!r})).map((e) => e.outerHTML)")
        assert not planted, (where, planted)
        assert not self.problems, (where, self.problems)

    def opened(self, script: str, arg: str) -> str:
        """Open every tooltip (or popup) of a map or chart; check that nothing ran; their text."""
        seen = "\n".join(self.page.evaluate(script, arg))
        self.page.wait_for_timeout(300)  # an <img src=x> would fail to load and fire onerror by now
        self.check(f"{self.page.url} {arg}")
        return seen

    def tooltips(self, sel: str) -> str:
        return self.opened(OPEN_TOOLTIPS, sel)

    def popups(self, sel: str) -> str:
        return self.opened(OPEN_POPUPS, sel)

    def chart_tips(self, chart_id: str) -> str:
        self.page.wait_for_selector(f"#{chart_id} canvas, #{chart_id} svg", state="attached")
        return self.opened(CHART_TIPS, chart_id)

    def close(self) -> None:
        self.context.close()


def test_hostile_names_stay_text_on_every_map_and_chart(browser, server, world, xss_world):
    w, names = world, xss_world["names"]
    c1 = w.units["C1"]

    staff = Visitor(browser, server, "secretary")
    # The risk map: every layer's tooltip and popup shows the name as typed, nothing runs.
    staff.visit(f"/space/{c1}", "#spacemap[data-loaded='1']")
    tips = staff.tooltips("#spacemap")
    for key in ("避0", "避1", "险0", "险1", "危", "道", "留", "店"):
        assert names[key] in tips, key
    pops = staff.popups("#spacemap")
    for key in ("路0", "路1", "房", "避0", "险2"):
        assert names[key] in pops, key

    # The evacuation plan: buildings and shelters on the routes.
    staff.visit(f"/space/evacuation?community={c1}&scenario={xss_world['scenario']}", "#plan-map[data-loaded='1'] path")
    tips = staff.tooltips("#plan-map")
    assert names["B1"] in tips and names["避0"] in tips

    # The grid: a compound's areas and an area's building, labelled on the map.
    staff.visit(f"/grid/{w.units['P1']}", "#unitmap .leaflet-tooltip")
    labels = staff.tooltips("#unitmap")
    assert names["A1"] in labels and names["A2"] in labels
    staff.visit(f"/grid/{w.units['A1']}", "#unitmap .leaflet-tooltip")
    assert names["B1"] in staff.tooltips("#unitmap")
    staff.visit(f"/grid/{w.units['B1']}", "#unitmap")

    # Care coverage: a circle per building.
    staff.visit("/care/coverage", "#care-map .leaflet-interactive")
    assert names["B1"] in staff.tooltips("#care-map")

    # The dashboard: categories, handlers (people), units in the charts; the hot-spot map.
    staff.visit("/dashboard", "#hotmap .leaflet-interactive")
    assert names["category"] in staff.chart_tips("chart-category")
    handlers = staff.chart_tips("chart-handler")  # the duty holder's name from the chain
    assert "责" in handlers and (IMG in handlers or SVG in handlers)
    units = staff.chart_tips("chart-unit")
    assert IMG in units or SVG in units
    staff.tooltips("#hotmap")

    # Drills: the building chart (SVG text) and its tooltips.
    staff.visit(f"/drills/coverage?unit_id={c1}", "#chart-buildings svg")
    assert names["B1"] in staff.page.text_content("#chart-buildings")
    assert names["B1"] in staff.chart_tips("chart-buildings")
    staff.visit("/drills", "#chart-buildings svg")

    # Teams and partners: lists and a scorecard with its charts.
    staff.visit("/volunteers", "#hours-chart canvas")
    assert names["队0"] in staff.page.inner_text("main")
    staff.visit("/evaluation/scorecards")
    staff.visit(f"/evaluation/scorecards/team/{xss_world['team']}", "#chart-dist svg")
    assert names["队0"] in staff.page.inner_text("h1")
    staff.chart_tips("chart-dist")

    # Home (the chart of vulnerable groups), the report form's map as staff.
    staff.visit("/", "#tag-chart canvas")
    staff.visit("/report/new?mode=phone", "#pick-map .leaflet-pane")
    staff.close()

    # The resident sees the public safety layers and the report form's map.
    resident = Visitor(browser, server, "resident1", width=360)
    resident.visit(f"/space/{c1}", "#spacemap[data-loaded='1']")
    assert names["避0"] in resident.tooltips("#spacemap")
    resident.popups("#spacemap")
    resident.visit("/report/new", "#pick-map .leaflet-pane")
    resident.close()

    # The street admin: the map and the coverage of the whole street.
    street = Visitor(browser, server, "street")
    street.visit(f"/space/{c1}", "#spacemap[data-loaded='1']")
    street.tooltips("#spacemap")
    street.visit("/care/coverage", "#care-map")
    street.close()


def test_pages_work_under_the_csp(browser, server, world, xss_world, engine):
    """Forms still submit and scripts still act with inline script refused: the select that submits
    its form, the live search (htmx), the map editor's write through the API (CSRF header), the
    confirm before a delete, the report form."""
    w = world
    staff = Visitor(browser, server, "secretary")
    page = staff.page

    # A select that submits its form (data-autosubmit, formerly onchange=...).
    staff.visit(f"/evaluation/scorecards/team/{xss_world['team']}", "#chart-dist svg")
    period = page.locator("select[name=period] option").nth(1).get_attribute("value")
    with page.expect_navigation():
        page.select_option("select[name=period]", period)
    assert f"period={period}" in page.url
    staff.check("autosubmit")

    # The live search of the resident list: htmx swaps the results without a reload.
    staff.visit("/residents", "#results table")
    page.fill("form.filters input[name=q]", "居1")
    page.wait_for_function("() => document.location.search.includes('q=')")
    staff.check("htmx search")

    # The map editor saves through the JSON API with the CSRF header (rx.api).
    staff.visit(f"/space/{w.units['C1']}", "#spacemap[data-loaded='1']")
    page.click("[data-add-layer=risk_points]")
    box = page.locator("#spacemap").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    page.fill("#space-form input[name=name]", "东门加油站")
    page.select_option("#space-form select[name=kind]", "petrol_station")
    page.click("#space-save")
    page.wait_for_selector("#space-flash:not([hidden])")
    page.wait_for_function("() => document.querySelector('[data-layer-count=risk_points]').textContent === '2'")
    staff.check("map editor")

    # A staff report by phone: the form posts and lands on the new report.
    staff.visit("/report/new?mode=phone", "#pick-map .leaflet-pane")
    page.fill("input[name=reporter_name]", "来电人")
    page.check("input[name=category][value=fire_hazard]", force=True)
    page.fill("textarea[name=description]", "楼道堆放纸箱")
    page.check("input[name=place][value=building]")
    page.click("#report-form button[type=submit]")
    page.wait_for_url("**/reports/*")
    staff.check("report form")

    # The other pages load with nothing refused by the policy.
    for path in (
        "/grid",
        "/residents?tag=elderly",
        "/search?q=13",
        "/reports",
        "/reports/mine",
        "/inbox",
        "/care",
        f"/drills/{xss_world['activity']}",
        "/drills/new",
        "/evaluation",
        "/evaluation/report",
        "/import",
        "/dashboard?screen=big",
    ):
        staff.visit(path)

    # The confirm before removing a resident (data-confirm): dismissed, nothing happens.
    staff.visit(f"/residents/{w.residents['zhao']}")
    page.click("form[action$='/delete'] button")
    assert staff.dialogs == ["确定移除该居民？可撤销。"]
    assert "/residents/" in page.url and page.locator("form[action$='/delete']").count() == 1
    staff.check("confirm")
    staff.close()
