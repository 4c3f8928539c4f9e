"""Polled feeds of CAP alerts, over real HTTP from a local server (both databases): Atom with linked
and inline alerts, RSS with an enclosure, a refused file and an unreachable link named in the
feed's error, entries fetched once, ETag and 304, the run over due feeds, the register."""

import hashlib
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, Invalid
from renxing.listing import ListQuery
from renxing.warning import feeds
from renxing.warning.incoming_schemas import FeedIn, FeedPatch
from renxing.warning.models import AlertFeed, IncomingAlert
from tests.kit.alerts_world import RAINSTORM, alerts_world, cap

NOW = datetime(2025, 7, 3, 2, 0, tzinfo=UTC)


class Site:
    """A local web server of fixed files, answering If-None-Match with 304 and counting requests."""

    def __init__(self):
        self.files: dict[str, tuple[bytes, str]] = {}
        self.hits: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.hits[self.path] += 1
                if self.path not in site.files:
                    self.send_error(404)
                    return
                body, media_type = site.files[self.path]
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path: str, body: bytes, media_type: str = "application/cap+xml") -> None:
        self.files[path] = (body, media_type)


@pytest.fixture
def site():
    s = Site()
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def aw(engine, world):
    return alerts_world(engine, world)


def atom(entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>区气象台预警</title><id>urn:feed:gulou</id><updated>2025-07-03T01:30:00Z</updated>"
        f"{entries}</feed>"
    ).encode()


def entry(key: str, body: str) -> str:
    return f"<entry><id>urn:{key}</id><title>{key}</title><updated>2025-07-03T01:30:00Z</updated>{body}</entry>"


def add_feed(engine, url: str, **extra) -> int:
    with transaction(engine) as s:
        return feeds.create_feed(s, SYSTEM, FeedIn(name="区气象台", url=url, **extra)).id


def poll(engine, feed_id: int, now=NOW) -> feeds.Polled:
    with transaction(engine) as s:
        return feeds.poll(s, s.get(AlertFeed, feed_id), now)


def test_an_atom_feed_is_polled_over_http(aw, engine, site):
    inline = cap("RX-INLINE").split(b"?>", 1)[1].decode()
    site.put("/cap/rain.xml", RAINSTORM.read_bytes())
    site.put("/cap/bad.xml", cap(status="Bogus"))
    site.put(
        "/feed.atom",
        atom(
            entry(
                "rain",
                '<link rel="alternate" type="application/cap+xml" href="/cap/rain.xml"/>'
                '<link rel="alternate" type="text/html" href="/rain.html"/>',
            )
            + entry("inline", f'<content type="application/cap+xml">{inline}</content>')
            + entry("bad", '<link type="application/cap+xml" href="cap/bad.xml"/>')
            + entry("gone", '<link type="application/cap+xml" href="/cap/gone.xml"/>')
        ),
        "application/atom+xml",
    )
    feed_id = add_feed(engine, f"{site.url}/feed.atom")

    first = poll(engine, feed_id)
    assert (first.entries, first.received, first.refused, first.duplicates) == (4, 2, 1, 0)
    assert "/alert/status" in first.error and "cap/gone.xml: HTTP 404" in first.error
    with transaction(engine) as s:
        got = {a.identifier: a for a in s.scalars(select(IncomingAlert))}
        assert set(got) == {"32010641600000_20250703093000", "RX-INLINE"}
        assert all(a.source == "feed" and a.feed_id == feed_id for a in got.values())
        feed = s.get(AlertFeed, feed_id)
        assert feed.etag is None and feed.last_ok_at is None and feed.last_polled_at == NOW  # a link failed
    assert site.hits["/rain.html"] == 0

    # The missing file appears: only the entries not yet received are fetched again.
    site.put("/cap/gone.xml", cap("RX-GONE"))
    second = poll(engine, feed_id, NOW + timedelta(minutes=5))
    assert (second.received, second.skipped, second.refused) == (1, 2, 1)
    assert site.hits["/cap/rain.xml"] == 1 and site.hits["/cap/gone.xml"] == 2
    third = poll(engine, feed_id, NOW + timedelta(minutes=10))
    assert third.unchanged and site.hits["/feed.atom"] == 3
    with transaction(engine) as s:
        feed = s.get(AlertFeed, feed_id)
        assert feed.etag and feed.last_ok_at == NOW + timedelta(minutes=10) and feed.last_error is None


def test_an_rss_feed_s_enclosures_and_what_a_poll_refuses(aw, engine, site):
    site.put("/a.xml", cap("RX-RSS"))
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>预警</title><link>http://x/</link>'
        "<description>d</description><item><title>暴雨</title><link>http://x/page</link><guid>rx-rss</guid>"
        f'<enclosure url="{site.url}/a.xml" length="1" type="application/octet-stream"/></item></channel></rss>'
    )
    site.put("/feed.rss", rss.encode(), "application/rss+xml")
    feed_id = add_feed(engine, f"{site.url}/feed.rss")
    assert poll(engine, feed_id).received == 1

    site.put("/junk", b"<html><body>not a feed", "text/html")
    junk = add_feed(engine, f"{site.url}/junk")
    assert "Atom" in poll(engine, junk).error
    site.put("/huge", b"<feed>" + b" " * (feeds.MAX_FEED_BYTES + 10), "application/atom+xml")
    huge = add_feed(engine, f"{site.url}/huge")
    assert "larger than" in poll(engine, huge).error
    down = add_feed(engine, "http://127.0.0.1:9/feed.atom")
    assert "ConnectError" in poll(engine, down).error


def test_the_run_polls_only_active_feeds_that_are_due(aw, engine, site):
    site.put("/feed.atom", atom(""), "application/atom+xml")
    due = add_feed(engine, f"{site.url}/feed.atom", interval_seconds=3600)
    add_feed(engine, f"{site.url}/feed.atom?off", active=False)
    recent = add_feed(engine, f"{site.url}/feed.atom?recent", interval_seconds=600)
    with transaction(engine) as s:
        s.get(AlertFeed, recent).last_polled_at = NOW - timedelta(minutes=5)
    assert [p.feed_id for p in feeds.run(engine, NOW)] == [due]
    assert [p.feed_id for p in feeds.run(engine, NOW + timedelta(minutes=6))] == [recent]
    assert feeds.run(engine, NOW + timedelta(minutes=6)) == []


def test_the_register_of_feeds(aw, engine):
    secretary, worker = aw.principal("secretary"), aw.principal("gridworker1")
    with transaction(engine) as s:
        feed = feeds.create_feed(s, secretary, FeedIn(name="市预警中心", url="https://example.cn/cap.atom"))
        feed_id = feed.id
        with pytest.raises(Conflict) as caught, s.begin_nested():
            feeds.create_feed(s, secretary, FeedIn(name="again", url="https://example.cn/cap.atom"))
        assert caught.value.errors[0].field == "url"
        with pytest.raises(Invalid) as caught:
            feeds.create_feed(s, secretary, FeedIn(name="x", url="file:///etc/passwd"))
        assert caught.value.errors[0].field == "url"
        feeds.update_feed(s, secretary, feed_id, FeedPatch(interval_seconds=900, active=False))
        page = feeds.list_feeds(s, secretary, ListQuery())
        shown = feeds.present_all(s, page.items)
        assert [(f["name"], f["interval_seconds"], f["active"], f["due"]) for f in shown] == [
            ("市预警中心", 900, False, False)
        ]
        with pytest.raises(Forbidden):
            feeds.list_feeds(s, worker, ListQuery())
        feeds.delete_feed(s, secretary, feed_id)
        assert s.get(AlertFeed, feed_id) is None
