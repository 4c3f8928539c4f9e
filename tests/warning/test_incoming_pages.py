"""The incoming-alert pages over HTTP (both databases): the list with its chips and the upload form,
a dry run, a refusal naming the element, one alert with its map data and stored text escaped, the
feeds page and its forms; who sees which."""

import json
import re

import pytest

from tests.kit.alerts_world import RAINSTORM, alerts_world, cap
from tests.kit.client import page_login

MAP = re.compile(r'<script type="application/json" id="incoming-map">(.*?)</script>', re.S)


@pytest.fixture
def aw(engine, world):
    return alerts_world(engine, world)


def post_file(client, token, data: bytes, **form):
    return client.post(
        "/warning/incoming/upload",
        data={"csrf_token": token, **form},
        files={"file": ("alert.xml", data, "application/xml")},
        follow_redirects=False,
    )


def test_upload_list_and_read_an_alert(client, aw, world):
    token = page_login(client, "secretary")
    dry = post_file(client, token, RAINSTORM.read_bytes(), dry_run="on")
    assert dry.status_code == 200 and 'id="dry-run"' in dry.text and "阳光社区（多边形）" in dry.text
    bad = post_file(client, token, cap(status="Bogus"))
    assert bad.status_code == 422 and 'data-error-field="/alert/status"' in bad.text

    evil = cap("RX-EVIL", headline="<script>alert(1)</script>暴雨红色预警")
    evil = evil.replace(b"<script>alert(1)</script>", b"&lt;script&gt;alert(1)&lt;/script&gt;")
    r = post_file(client, token, evil)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=received")
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and 'id="alert-flash"' in page.text
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
    data = json.loads(MAP.search(page.text).group(1))
    assert data["level"] == "red" and data["outlines"]["features"][0]["properties"]["name"] == "阳光社区"
    assert data["areas"]["features"][0]["geometry"]["type"] == "Polygon"
    again = post_file(client, token, evil)
    assert again.headers["location"].endswith("?done=duplicate")

    listing = client.get("/warning/incoming", params={"level": "red"})
    assert (
        listing.status_code == 200 and 'class="ax-chip ax-red"' in listing.text and 'id="upload-form"' in listing.text
    )
    assert "RX-EVIL" not in client.get("/warning/incoming", params={"level": "blue"}).text

    page_login(client, "gridworker1")
    worker = client.get("/warning/incoming")
    assert worker.status_code == 200 and 'id="upload-form"' not in worker.text and "暴雨红色预警" in worker.text
    page_login(client, "staff2")
    assert client.get(r.headers["location"].split("?")[0]).status_code == 404
    page_login(client, "volunteer1")
    assert client.get("/warning/incoming").status_code == 403


def test_the_feeds_page_and_its_forms(client, aw):
    token = page_login(client, "secretary")
    bad = client.post("/warning/feeds", data={"csrf_token": token, "name": "x", "url": "ftp://x.cn/a", "minutes": "5"})
    assert bad.status_code == 422 and 'data-error-field="url"' in bad.text
    r = client.post(
        "/warning/feeds",
        data={"csrf_token": token, "name": "市预警中心", "url": "http://127.0.0.1:9/cap.atom", "minutes": "10"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/warning/feeds")
    feed_id = re.search(r'data-feed="(\d+)"', page.text).group(1)
    assert "市预警中心" in page.text and "每 10 分钟" in page.text
    polled = client.post(f"/warning/feeds/{feed_id}/poll", data={"csrf_token": token})
    assert polled.status_code == 200 and "ConnectError" in polled.text
    client.post(f"/warning/feeds/{feed_id}/toggle", data={"csrf_token": token})
    assert "已停用" in client.get("/warning/feeds").text
    client.post(f"/warning/feeds/{feed_id}/delete", data={"csrf_token": token})
    assert "还没有订阅源" in client.get("/warning/feeds").text
    assert (
        client.post("/warning/feeds", data={"csrf_token": "forged", "name": "y", "url": "http://a.cn/x"}).status_code
        == 403
    )
    page_login(client, "gridworker1")
    assert client.get("/warning/feeds").status_code == 403
