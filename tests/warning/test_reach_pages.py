"""The reach's pages: a worker records a door knock from the progress page (both databases, over
HTTP); in a real browser, a household acknowledges with JavaScript off, and the progress page
draws its chart and map and follows the acknowledgements as they come (SQLite only)."""

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from tests.kit.acks_world import deliver, sent_warning, target, warning
from tests.kit.browser import serve
from tests.kit.client import page_login
from tests.kit.warning_world import warning_world

SHOTS = Path("/tmp/shots") if Path("/tmp").is_dir() else None
PHONE = {"width": 360, "height": 780}
DESK = {"width": 1280, "height": 860}


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def test_the_progress_page_records_a_door_knock(client, ww):
    sent = sent_warning(ww)
    deliver(ww, sent, "delivered", "H1")
    token = page_login(client, "gridworker1")
    url = f"/warning/{sent.id}/progress"
    page = client.get(url)
    assert page.status_code == 200, page.text
    for text in ("暴雨橙色预警", "0.0%", "1栋", "2栋", "一片区", "13812345678", "记录", "需上门"):
        assert text in page.text, text
    assert "13312345678" not in page.text  # H6 lies in B2, outside the worker's area

    form = f"/warning/{sent.id}/targets/{sent.targets['H1']}/acknowledge"
    assert client.post(form, data={"how": "door"}).status_code == 403  # no CSRF token
    bad = client.post(form, data={"how": "pigeon", "csrf_token": token})
    assert bad.status_code == 422 and "确认方式无效" in bad.text
    r = client.post(form, data={"how": "door", "note": "已上门告知", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=ack#unreached")
    assert target(ww, sent.targets["H1"]).ack_how == "door" and warning(ww, sent.id).acknowledged == 1
    after = client.get(url + "?done=ack")
    assert "已记录确认" in after.text and "16.7%" in after.text
    outside = f"/warning/{sent.id}/targets/{sent.targets['H6']}/acknowledge"
    assert client.post(outside, data={"how": "door", "csrf_token": token}).status_code == 404
    page_login(client, "resident1")
    assert client.get(url).status_code == 403
    with transaction(ww.engine) as s:
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "read_personal")) is not None


def _shot(pg, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(SHOTS / name), full_page=True)


def _fits(pg, size) -> None:
    assert pg.evaluate("document.documentElement.scrollWidth") <= size["width"]


@pytest.mark.browser
@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
def test_a_household_acknowledges_without_javascript_and_the_progress_page_follows(browser, ww):
    sent = sent_warning(ww)
    deliver(ww, sent, "delivered", "H1", "H3")
    deliver(ww, sent, "failed", "H5", error="no_phone")
    with serve(ww.engine) as server:
        # A phone with JavaScript off, as a locked-down WeChat browser may be.
        phone = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
        pg = phone.new_page()
        pg.goto(server + sent.link("H2"))
        assert "我已收到" in pg.inner_text("#ack")
        _fits(pg, PHONE)
        _shot(pg, "ack-360.png")
        pg.click("button[type=submit]")
        pg.wait_for_url("**?done=1")
        assert "已确认（" in pg.inner_text("#ack")
        _shot(pg, "ack-360-done.png")
        pg.goto(server + "/w/" + sent.tokens["H2"].split(".")[0] + ".forged")
        assert "链接无效" in pg.content()
        phone.close()
        desk = browser.new_context(viewport=DESK, locale="zh-CN")
        dp = desk.new_page()
        dp.goto(server + sent.link("H3"))
        _shot(dp, "ack-1280.png")
        desk.close()

        context = browser.new_context(viewport=DESK, locale="zh-CN")
        errors: list[str] = []
        pg = context.new_page()
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.set_default_timeout(30_000)
        pg.goto(f"{server}/login")
        pg.fill("input[name=username]", "secretary")
        pg.fill("input[name=password]", "test-password")
        pg.click("button[type=submit]")
        pg.wait_for_url(f"{server}/")
        pg.goto(f"{server}/warning/{sent.id}/progress")
        pg.wait_for_selector("#reach-chart svg")
        pg.wait_for_selector("#reach-map .leaflet-interactive")
        assert pg.inner_text("#reach-pct") == "16.7%"
        rows = pg.locator("#unreached-list tbody tr").count()
        assert rows == 5
        # Two more households tap their links: the page follows within a refresh or two.
        for key in ("H1", "H6"):
            assert httpx.post(f"{server}/api/v1/warning/ack/{sent.tokens[key]}").status_code == 200
        pg.wait_for_function("() => document.getElementById('reach-pct').textContent === '50.0%'", timeout=20_000)
        pg.wait_for_function("() => document.querySelectorAll('#unreached-list tbody tr').length === 3")
        _fits(pg, DESK)
        _shot(pg, "progress-1280.png")
        pg.set_viewport_size(PHONE)
        pg.wait_for_timeout(300)
        _fits(pg, PHONE)
        _shot(pg, "progress-360.png")
        context.close()
        assert not errors, errors
