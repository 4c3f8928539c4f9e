"""The public CAP side: a public sent warning's message as transmitted at /cap/alerts/{identifier}.xml,
the Atom feed of public ones (parsed with feedparser, each CAP message validated); drafts, pending,
refused and restricted warnings are never served; no personal data."""

from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from renxing.db import transaction
from renxing.warning import approving, cap_schema, composing
from renxing.warning.models import WarningMessage
from renxing.warning.schemas import WarningIn
from tests.kit.warning_world import warning_world

T0 = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def warn(ww, level, headline, *, sent_at=None, public=True, exercise=False, approve=True) -> WarningMessage:
    data = WarningIn(
        unit_id=ww.units["C1"],
        level=level,
        event="暴雨内涝",
        headline=headline,
        description="低洼地带可能积水。",
        public=public,
        exercise=exercise,
    )
    with transaction(ww.engine) as s:
        wid = composing.compose(s, ww.principal("secretary"), data).id
    if sent_at is not None:
        with transaction(ww.engine) as s:
            w = approving.send(s, ww.principal("secretary"), wid, now=sent_at)
        if w.status == "pending" and approve:
            with transaction(ww.engine) as s:
                approving.approve(s, ww.principal("approver"), wid, now=sent_at)
    with transaction(ww.engine) as s:
        return s.get(WarningMessage, wid)


def test_a_public_sent_warning_is_served_as_transmitted_and_nothing_else_is(client, ww):
    sent = warn(ww, "yellow", "黄色预警", sent_at=T0)
    r = client.get(f"/cap/alerts/{sent.identifier}.xml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/cap+xml")
    assert r.content == sent.cap_xml.encode()
    assert cap_schema.validate(cap_schema.parse(r.content)) == []
    draft = warn(ww, "blue", "草稿")
    pending = warn(ww, "orange", "待审核", sent_at=T0, approve=False)
    restricted = warn(ww, "blue", "内部预警", sent_at=T0, public=False)
    for w in (draft, pending, restricted):
        assert client.get(f"/cap/alerts/{w.identifier}.xml").status_code == 404
    assert client.get("/cap/alerts/no such thing.xml").status_code in (404, 422)
    assert client.get("/cap/alerts/RX-1.xml").status_code == 404


def test_the_atom_feed_lists_public_sent_warnings_newest_first_linking_their_cap(client, ww):
    first = warn(ww, "yellow", "第一条黄色预警", sent_at=T0)
    second = warn(ww, "orange", "第二条橙色预警", sent_at=T0 + timedelta(hours=1))
    drill = warn(ww, "red", "红色演练", sent_at=T0 + timedelta(hours=2), exercise=True)
    warn(ww, "blue", "内部预警", sent_at=T0 + timedelta(hours=3), public=False)
    warn(ww, "blue", "草稿")
    r = client.get("/cap/feed.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    titles = [e.title for e in feed.entries]
    assert titles == ["红色演练", "第二条橙色预警", "第一条黄色预警"]
    for entry, w in zip(feed.entries, (drill, second, first), strict=True):
        cap_links = [link for link in entry.links if link.get("type") == "application/cap+xml"]
        assert [link.rel for link in cap_links] == ["alternate"]
        path = cap_links[0].href.split("://", 1)[1].split("/", 1)[1]
        assert path == f"cap/alerts/{w.identifier}.xml"
        xml = client.get("/" + path)
        assert cap_schema.validate(cap_schema.parse(xml.content)) == []
    assert {t.term for t in feed.entries[0].tags} == {"red", "Exercise"}
    for name in ("王建国", "李梅", "刘奶奶", "138", "secretary"):
        assert name not in r.text  # no person in the public feed


def test_an_empty_feed_is_still_a_feed(client, ww):
    feed = feedparser.parse(client.get("/cap/feed.atom").content)
    assert not feed.bozo and feed.entries == [] and feed.feed.title
