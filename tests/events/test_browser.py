"""The closed loop end to end in headless Chromium over real HTTP: a resident files a report on a
phone, the area's grid worker finds it in the inbox, the overdue report climbs the chain, the
handler checks in on site and resolves it, the resident rates it, and the dashboard counts it."""

import io
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from PIL import Image

from renxing.db import utcnow
from renxing.events.sweep import run_sweep
from tests.kit.browser import ARTIFACTS, serve

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}
# Inside building B1 of area A1 (see the outlines of tests.kit.events_world).
HERE = {"latitude": 32.0601, "longitude": 118.7851}


@pytest.fixture
def events_server(ev) -> Iterator[str]:
    """The app on the closed-loop test world, served by uvicorn on a free local port."""
    with serve(ev.engine) as url:
        yield url


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 60, 40)).save(out, format="PNG")
    return out.getvalue()


class Actor:
    """One person in their own browser context (own cookies, own screen size)."""

    def __init__(self, browser, server: str, username: str, *, phone: bool = False):
        self.server = server
        options = {"viewport": PHONE if phone else DESK, "locale": "zh-CN"}
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        self.context = browser.new_context(**options, geolocation=HERE, permissions=["geolocation"])
        self.page = self.context.new_page()
        # Generous: CI machines run several test processes and Chromium at once.
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(f"{server}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", "test-password")
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{server}/")

    def go(self, path: str) -> None:
        self.page.goto(f"{self.server}{path}")

    def shot(self, name: str, backend: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar belongs at the top
        self.page.screenshot(path=str(ARTIFACTS / f"events-{name}-{backend}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert not self.errors, self.errors


def test_the_closed_loop_end_to_end(browser, events_server, ev):
    backend = ev.engine.dialect.name
    server = events_server

    # 1. A resident files a report on the phone: category, words, their position, a photo.
    resident = Actor(browser, server, "resident1", phone=True)
    resident.go("/report/new")
    page = resident.page
    assert "我要上报" in page.inner_text("h1")
    page.wait_for_selector("#pick-map .leaflet-interactive, #pick-map path", state="attached")
    page.click("label.cat-tile >> text=消防隐患")
    page.fill("textarea[name=description]", "3单元楼道堆满纸箱，堵住了安全出口")
    page.click("#locate-me")
    page.wait_for_function("() => document.getElementById('lat').value !== ''")
    assert page.is_checked("input[name=place][value=point]")
    page.set_input_files("#photos", files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.check("input[name=show_name_publicly]")
    resident.shot("file-phone", backend)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/reports/\d+\?filed=1$"))
    rid = int(re.search(r"/reports/(\d+)", page.url).group(1))
    token = page.inner_text("[data-token]")
    assert token == ev.report(rid).token
    page.wait_for_selector(".photos img")
    resident.shot("filed-phone", backend)
    report = ev.report(rid)
    assert (report.unit_id, report.handler_user_id) == (ev.w.units["B1"], ev.uid("gridworker1"))
    resident.go("/reports/mine")
    assert f"#{rid}" in page.inner_text("#my-reports")

    # 2. The grid worker of area A1 finds it in the inbox.
    worker = Actor(browser, server, "gridworker1")
    worker.go("/inbox")
    card = worker.page.locator(f"#inbox-reports [data-report='{rid}']")
    assert "3单元楼道堆满纸箱" in card.inner_text()
    worker.page.wait_for_selector("#bell-count:not([hidden])")
    worker.shot("inbox-gridworker1", backend)

    # 3. Nobody accepts it in time: the sweep climbs one level to the building's party group leader.
    result = run_sweep(ev.engine, now=utcnow() + timedelta(minutes=31))
    assert result.escalated == 1
    assert ev.report(rid).escalated_to_user_id == ev.uid("leader1")
    leader = Actor(browser, server, "leader1")
    leader.go("/inbox")
    card = leader.page.locator(f"#inbox-reports [data-report='{rid}']")
    assert "升级给我" in card.inner_text()
    assert "督办" in leader.page.inner_text("#messages")
    leader.shot("inbox-escalated-leader1", backend)
    leader.close()

    # 4. The handler accepts, checks in on site with position and photo, and resolves it.
    worker.go(f"/reports/{rid}")
    wp = worker.page
    assert "升级督办" in wp.inner_text("#timeline")
    wp.click("form.act-accept button[type=submit]")
    wp.wait_for_selector("text=已受理")
    wp.click("#ci-locate")
    wp.wait_for_function("() => document.getElementById('ci-lat').value !== ''")
    wp.set_input_files(
        "form.act-check_in input[name=photo]",
        files=[{"name": "onsite.png", "mimeType": "image/png", "buffer": png_bytes()}],
    )
    wp.fill("form.act-check_in textarea[name=note]", "已到现场，正在清理")
    wp.click("form.act-check_in button[type=submit]")
    wp.wait_for_selector("form.act-resolve")
    assert ev.report(rid).state == "on_site"
    wp.fill("form.act-resolve textarea[name=note]", "纸箱已清走，已提醒住户")
    wp.click("form.act-resolve button[type=submit]")
    wp.wait_for_selector(".tl-resolve")
    worker.shot("resolved-gridworker1", backend)
    worker.close()

    # 5. The resident says it is solved and gives five stars.
    resident.go("/reports/mine")
    page.click(f"#my-reports [data-report='{rid}'] a")
    page.wait_for_selector("#feedback")
    page.check("input[name=solved][value=yes]")
    page.click("label[for=rating-5]")
    page.fill("#feedback textarea[name=comment]", "处理及时，谢谢")
    resident.shot("feedback-phone", backend)
    page.click("#feedback button[type=submit]")
    page.wait_for_selector("text=谢谢您的评价")
    assert "★★★★★" in page.inner_text("[data-field=feedback]")
    report = ev.report(rid)
    assert (report.state, report.feedback_rating, report.close_reason) == ("closed", 5, "feedback")
    resident.close()

    # 6. The dashboard counts it, closed with feedback.
    staff = Actor(browser, server, "secretary")
    staff.go("/dashboard")
    sp = staff.page
    assert sp.inner_text("[data-kpi=count] .kpi-value") == "1"
    assert sp.inner_text("[data-kpi=closed_loop_rate] .kpi-value") == "100%"
    assert sp.inner_text("[data-kpi=satisfaction] .kpi-value").startswith("5")
    sp.wait_for_selector("#chart-month canvas")
    sp.wait_for_selector("#hotmap path.leaflet-interactive")
    staff.shot("dashboard-secretary", backend)
    sp.set_viewport_size({"width": 1920, "height": 1080})
    staff.go("/dashboard?screen=big")
    sp.wait_for_selector("#chart-category canvas")
    assert not sp.is_visible("nav.sidenav")
    staff.shot("dashboard-big", backend)
    staff.go("/reports")
    assert f"#{rid}" in sp.inner_text("#reports")
    with sp.expect_download() as info:
        sp.click("#export-xlsx")
    assert info.value.suggested_filename.endswith(".xlsx")
    staff.close()
