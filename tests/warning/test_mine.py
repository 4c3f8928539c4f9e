"""A resident's warnings: the household's side of the in-app channel, in the service, the API,
the page /warning/mine and the banners of the home page."""

from datetime import timedelta

import pytest

from renxing.db import transaction, utcnow
from renxing.errors import Forbidden
from renxing.warning import acks, inbox
from tests.kit.acks_world import deliver, deliveries, sent_warning, target
from tests.kit.client import login, page_login
from tests.kit.warning_world import AROUND_B1, warning_world

HTML = {"Accept": "text/html"}


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def _mine(ww, username: str, **kw) -> list[inbox.MineItem]:
    with transaction(ww.engine) as s:
        return inbox.mine(s, ww.principal(username), **kw)


def test_a_resident_sees_their_households_warnings_and_links_not_anothers(client, ww):
    now = utcnow()
    b1 = sent_warning(ww, now=now - timedelta(minutes=5), polygon=AROUND_B1, headline="1栋积水预警")  # H1, H2
    c1 = sent_warning(ww, now=now, level="yellow", headline="社区大风预警")  # every household of C1

    mine = _mine(ww, "resident1", now=now)  # 王小明, H1 in B1
    assert [i.warning_id for i in mine] == [c1.id, b1.id]  # newest first
    assert [i.token for i in mine] == [c1.tokens["H1"], b1.tokens["H1"]]
    assert mine[1].headline == "1栋积水预警" and mine[1].level == "orange" and not mine[1].lifted
    assert mine[1].instruction == "请远离低洼地带，转移地下室物品。" and mine[1].acknowledged_at is None

    theirs = _mine(ww, "resident2", now=now)  # 赵强, H3 in B2: the drawn area leaves B2 out
    assert [(i.warning_id, i.token) for i in theirs] == [(c1.id, c1.tokens["H3"])]

    r = client.get("/api/v1/warning/mine", headers=login(client, "resident1"))
    assert r.status_code == 200
    body = r.json()
    assert [w["warning_id"] for w in body] == [c1.id, b1.id]
    assert body[1]["link"].endswith(b1.link("H1")) and body[1]["headline"] == "1栋积水预警"
    assert body[1]["acknowledged_at"] is None and body[1]["in_app"] == "delivered" and body[1]["lifted"] is False
    # The link is the household's own: its page shows the warning and acknowledges H1 only.
    assert client.get(b1.link("H1"), headers=HTML).status_code == 200

    r = client.get("/api/v1/warning/mine", headers=login(client, "resident2"))
    assert [w["warning_id"] for w in r.json()] == [c1.id]
    assert b1.tokens["H1"] not in r.text and "1栋积水预警" not in r.text


def test_opening_marks_the_in_app_copy_delivered_and_an_acknowledged_one_stays(ww):
    now = utcnow()
    sent = sent_warning(ww, now=now)
    deliver(ww, sent, "sent", "H1", "H2", channel="in_app")  # dispatch handed the in-app copies on
    other = sent_warning(ww, now=now + timedelta(seconds=1), headline="另一条预警")
    with transaction(ww.engine) as s:
        acks.acknowledge_link(s, other.tokens["H1"], now=now)

    mine = _mine(ww, "resident1", now=now + timedelta(minutes=1))
    assert {i.warning_id: i.in_app for i in mine} == {sent.id: "delivered", other.id: "acknowledged"}
    assert deliveries(ww, sent.targets["H1"]) == {"in_app": "delivered", "sms": "queued"}  # the SMS is not the app's
    assert deliveries(ww, sent.targets["H2"]) == {"in_app": "sent", "sms": "queued"}  # the neighbour did not open it
    assert set(deliveries(ww, other.targets["H1"]).values()) == {"acknowledged"}  # never backwards
    done = next(i for i in mine if i.warning_id == other.id)
    assert done.acknowledged_at is not None and done.ack_how == "link"

    # Acknowledged later: opening again leaves it so, and writes nothing for what is already delivered.
    with transaction(ww.engine) as s:
        acks.acknowledge_link(s, sent.tokens["H1"])
    again = _mine(ww, "resident1")
    assert all(i.acknowledged_at is not None for i in again)
    assert set(deliveries(ww, sent.targets["H1"]).values()) == {"acknowledged"}
    assert target(ww, sent.targets["H1"]).ack_how == "link"


def test_superseded_expired_and_unsent_warnings_are_left_out_and_a_cancel_is_lifted(ww):
    now = utcnow()
    expired = sent_warning(ww, now=now - timedelta(hours=13), headline="昨夜的预警")  # expires after 12 hours
    first = sent_warning(ww, now=now - timedelta(minutes=30), headline="暴雨橙色预警")
    update = sent_warning(ww, now=now - timedelta(minutes=20), msg_type="Update", references_id=first.id)
    cancel = sent_warning(
        ww, now=now - timedelta(minutes=10), msg_type="Cancel", references_id=update.id, headline="解除：暴雨橙色预警"
    )
    other = sent_warning(ww, now=now - timedelta(minutes=40), headline="大风预警")
    updated = sent_warning(ww, now=now - timedelta(minutes=5), msg_type="Update", references_id=other.id)
    sent_warning(ww, now=now, status="pending", headline="待审核的预警")  # not sent: reaches nobody yet

    mine = _mine(ww, "resident1", now=now)
    assert [i.warning_id for i in mine] == [updated.id, cancel.id]
    assert [i.lifted for i in mine] == [False, True]
    assert expired.id not in {i.warning_id for i in mine}
    with transaction(ww.engine) as s:  # the home page's banners: unacknowledged, the Cancel's too
        assert [i.warning_id for i in inbox.banners(s, ww.principal("resident1"), now=now)] == [updated.id, cancel.id]
        acks.acknowledge_link(s, updated.tokens["H1"])
    with transaction(ww.engine) as s:
        assert [i.warning_id for i in inbox.banners(s, ww.principal("resident1"), now=now)] == [cancel.id]


def test_nobody_but_a_resident_reads_a_households_warnings(client, ww):
    sent_warning(ww, now=utcnow())
    with pytest.raises(Forbidden):
        _mine(ww, "secretary")
    with transaction(ww.engine) as s:
        for username in ("secretary", "gridworker1", "leader1", "street"):
            assert inbox.mine_if_resident(s, ww.principal(username)) == []
            assert inbox.banners(s, ww.principal(username)) == []
    r = client.get("/api/v1/warning/mine", headers=login(client, "secretary"))
    assert r.status_code == 403 and r.json()["detail"]
    page = client.get("/warning/mine", headers={**HTML, **login(client, "secretary")})
    assert page.status_code == 200 and "暴雨橙色预警" not in page.text and "/w/" not in page.text
    assert client.get("/api/v1/warning/mine").status_code == 401


def test_the_resident_home_page_shows_a_banner_until_the_household_acknowledges(client, ww):
    sent = sent_warning(ww, now=utcnow(), headline="暴雨<b>橙色</b>预警")
    page_login(client, "resident1")
    home = client.get("/")
    assert home.status_code == 200
    assert 'class="mine-card mine-banner level-orange' in home.text
    assert "暴雨&lt;b&gt;橙色&lt;/b&gt;预警" in home.text and "<b>橙色</b>" not in home.text  # text, never HTML
    assert "请远离低洼地带" in home.text and "我已收到" in home.text
    assert f'action="{sent.link("H1")}"' in home.text and "<script>" not in home.text.split("mine-banners")[1]
    assert deliveries(ww, sent.targets["H1"])["in_app"] == "delivered"  # seen on the home page: opened

    # The big button posts the household's link (no CSRF token: the token is the credential).
    r = client.post(sent.link("H1"), follow_redirects=False)
    assert r.status_code == 303
    home = client.get("/")
    assert "mine-banner" not in home.text
    listing = client.get("/warning/mine")
    assert listing.status_code == 200 and "暴雨&lt;b&gt;橙色&lt;/b&gt;预警" in listing.text
    assert "已确认（" in listing.text and "链接确认" in listing.text
    assert f'action="{sent.link("H1")}"' not in listing.text

    page_login(client, "resident2")  # another household of the warning still sees its own banner
    assert f'action="{sent.link("H3")}"' in client.get("/").text
    page_login(client, "secretary")  # staff: their home page as before
    home = client.get("/")
    assert home.status_code == 200 and "mine-banner" not in home.text
