"""A household acknowledges with one tap on its link; workers record calls and door knocks; staff undo."""

import pytest
from sqlalchemy import func, select

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, Invalid, NotFound
from renxing.warning import acks
from renxing.warning.models import WarningTarget
from tests.kit.acks_world import deliver, deliveries, sent_warning, target, warning
from tests.kit.client import login
from tests.kit.warning_world import add_warning, warning_world

HTML = {"Accept": "text/html"}


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def _counted(ww, warning_id: int) -> tuple[int, int]:
    """The warning's counter and the targets actually acknowledged: always equal."""
    with transaction(ww.engine) as s:
        real = s.scalar(
            select(func.count())
            .select_from(WarningTarget)
            .where(WarningTarget.warning_id == warning_id, WarningTarget.acknowledged_at.is_not(None))
        )
    return warning(ww, warning_id).acknowledged, real


def test_the_link_shows_the_warning_and_one_tap_acknowledges(client, ww):
    sent = sent_warning(ww)
    page = client.get(sent.link("H1"), headers=HTML)
    assert page.status_code == 200
    assert "暴雨橙色预警" in page.text and "请远离低洼地带" in page.text and "我已收到" in page.text
    for personal in ("王建国", "王小明", "101", "13812345678"):  # nothing personal on the page
        assert personal not in page.text
    assert 'name="csrf_token"' not in page.text  # the token is the credential

    r = client.post(sent.link("H1"), headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == sent.link("H1") + "?done=1"
    done = client.get(r.headers["location"], headers=HTML)
    assert "已确认（" in done.text and "我已收到" not in done.text

    t = target(ww, sent.targets["H1"])
    assert t.ack_how == "link" and t.acknowledged_at is not None and t.ack_by is None
    assert set(deliveries(ww, t.id).values()) == {"acknowledged"}
    assert set(deliveries(ww, sent.targets["H2"]).values()) == {"queued"}  # the neighbour's untouched
    assert _counted(ww, sent.id) == (1, 1)


def test_forged_tokens_are_404_and_change_nothing(client, ww):
    sent = sent_warning(ww)
    other = sent_warning(ww, headline="另一条预警")
    good = sent.tokens["H1"]
    target_id, mac = good.split(".")
    forged = [
        f"{target_id}.{'A' * len(mac)}",  # a guessed MAC
        f"{sent.targets['H2']}.{mac}",  # the MAC moved to the neighbour
        f"{other.targets['H1']}.{mac}",  # to the same household in another warning
        "99999999.abc",  # no such target
        "not-a-token",
        "0.x",
    ]
    for token in forged:
        page = client.get(f"/w/{token}", headers=HTML)
        assert page.status_code == 404, token
        assert "暴雨橙色预警" not in page.text and "另一条预警" not in page.text
        assert client.post(f"/w/{token}", headers=HTML).status_code == 404
        r = client.post(f"/api/v1/warning/ack/{token}")
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "token"
    assert _counted(ww, sent.id) == (0, 0) and _counted(ww, other.id) == (0, 0)
    assert set(deliveries(ww, sent.targets["H2"]).values()) == {"queued"}


def test_a_draft_has_no_link(client, ww):
    sent = sent_warning(ww)
    draft = add_warning(ww, status="draft")
    with transaction(ww.engine) as s:  # a target of a warning not sent (as if left over)
        s.execute(
            WarningTarget.__table__.update().where(WarningTarget.id == sent.targets["H3"]).values(warning_id=draft)
        )
    from renxing.config import get_settings
    from renxing.warning import tokens

    token = tokens.make(get_settings().secret_key, draft, sent.targets["H3"])
    assert client.post(f"/api/v1/warning/ack/{token}").status_code == 404


def test_a_reused_link_is_409_on_the_api_and_calm_on_the_page(client, ww):
    sent = sent_warning(ww)
    first = client.post(f"/api/v1/warning/ack/{sent.tokens['H2']}")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["warning_id"] == sent.id and body["level"] == "orange" and body["lifted"] is False
    at = target(ww, sent.targets["H2"]).acknowledged_at

    again = client.post(f"/api/v1/warning/ack/{sent.tokens['H2']}")
    assert again.status_code == 409
    assert again.json()["detail"].startswith("已确认（") and again.json()["errors"][0]["field"] == "token"
    page = client.post(sent.link("H2"), headers=HTML)  # followed to the page: calm, no error
    assert page.status_code == 200 and "已确认（" in page.text and "无需再次确认" in page.text
    assert target(ww, sent.targets["H2"]).acknowledged_at == at  # the first time stands
    assert _counted(ww, sent.id) == (1, 1)


def test_a_cancelled_warning_still_takes_acknowledgements_and_says_it_was_lifted(client, ww):
    sent = sent_warning(ww)
    add_warning(ww, msg_type="Cancel", references_id=sent.id, headline="解除暴雨橙色预警")
    page = client.get(sent.link("H3"), headers=HTML)
    assert "此预警已解除" in page.text
    r = client.post(f"/api/v1/warning/ack/{sent.tokens['H3']}")
    assert r.status_code == 200 and r.json()["lifted"] is True
    assert _counted(ww, sent.id) == (1, 1)


def test_workers_record_within_their_scope_only(client, ww):
    sent = sent_warning(ww)
    worker = ww.principal("gridworker1")  # area A1: building B1 (H1, H2)
    with transaction(ww.engine) as s:
        acks.record(s, worker, sent.id, sent.targets["H2"], how="door", note="上门确认，老人已知晓")
    t = target(ww, sent.targets["H2"])
    assert (t.ack_how, t.ack_by, t.ack_note) == ("door", ww.uid("gridworker1"), "上门确认，老人已知晓")
    with transaction(ww.engine) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "warning_target")).one()
        assert entry.action == "acknowledge" and entry.entity_id == t.id and entry.after["how"] == "door"

    with transaction(ww.engine) as s, pytest.raises(NotFound):  # B2 lies in A2: not theirs
        acks.record(s, worker, sent.id, sent.targets["H3"], how="call")
    with transaction(ww.engine) as s, pytest.raises(NotFound):  # C2's household is no target of this warning
        acks.record(s, ww.principal("staff2"), sent.id, sent.targets["H1"], how="call")
    with transaction(ww.engine) as s, pytest.raises(Forbidden):
        acks.record(s, ww.principal("volunteer1"), sent.id, sent.targets["H1"], how="call")
    with transaction(ww.engine) as s, pytest.raises(Invalid) as bad:
        acks.record(s, worker, sent.id, sent.targets["H1"], how="telepathy", note="x" * 300)
    assert [e.field for e in bad.value.errors] == ["how"]
    with transaction(ww.engine) as s, pytest.raises(Conflict):
        acks.record(s, ww.principal("leader1"), sent.id, sent.targets["H2"], how="call")
    assert _counted(ww, sent.id) == (1, 1)

    # Over HTTP: the leader of B1 records a call; outside the scope 404, a resident 403.
    leader = login(client, "leader1")
    url = f"/api/v1/warning/warnings/{sent.id}/targets/{sent.targets['H1']}/acknowledge"
    r = client.post(url, json={"how": "call", "note": "电话已通知"}, headers=leader)
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged"] == 2 and r.json()["ack_how"] == "call"
    outside = f"/api/v1/warning/warnings/{sent.id}/targets/{sent.targets['H5']}/acknowledge"
    assert client.post(outside, json={"how": "call"}, headers=leader).status_code == 404
    assert client.post(outside, json={"how": "call"}, headers=login(client, "resident1")).status_code == 403
    assert client.post(outside, json={"how": "fax"}, headers=login(client, "secretary")).status_code == 422
    assert _counted(ww, sent.id) == (2, 2)


def test_undo_puts_the_household_back_and_is_audited(client, ww):
    sent = sent_warning(ww)
    deliver(ww, sent, "sent", "H1", channel="sms")
    deliver(ww, sent, "failed", "H1", channel="in_app", error="no_account")
    assert client.post(f"/api/v1/warning/ack/{sent.tokens['H1']}").status_code == 200
    with transaction(ww.engine) as s:
        acks.record(s, ww.principal("gridworker1"), sent.id, sent.targets["H2"], how="call")
    assert _counted(ww, sent.id) == (2, 2)

    # The household's own tap is undone by staff only; the recorder may undo their own record.
    with transaction(ww.engine) as s, pytest.raises(Forbidden):
        acks.undo(s, ww.principal("gridworker1"), sent.id, sent.targets["H1"])
    with transaction(ww.engine) as s:
        acks.undo(s, ww.principal("gridworker1"), sent.id, sent.targets["H2"], reason="记错了户")
    staff = login(client, "secretary")
    url = f"/api/v1/warning/warnings/{sent.id}/targets/{sent.targets['H1']}/acknowledge/undo"
    r = client.post(url, json={"reason": "误点"}, headers=staff)
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_at"] is None and r.json()["acknowledged"] == 0
    assert client.post(url, json={}, headers=staff).status_code == 409  # nothing left to undo

    assert deliveries(ww, sent.targets["H1"]) == {"sms": "sent", "in_app": "failed"}
    assert set(deliveries(ww, sent.targets["H2"]).values()) == {"queued"}
    assert _counted(ww, sent.id) == (0, 0)
    with transaction(ww.engine) as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "warning_target")).all()
    assert sorted(actions) == ["acknowledge", "unacknowledge", "unacknowledge"]
    # The link works again after an undo.
    assert client.post(f"/api/v1/warning/ack/{sent.tokens['H1']}").status_code == 200


def test_taps_written_together_each_get_their_own_answer(ww):
    sent = sent_warning(ww)
    h1, h3 = sent.tokens["H1"], sent.tokens["H3"]
    with transaction(ww.engine) as s:  # one batch: a link tapped twice, a forged one, a neighbour
        results = acks.acknowledge_links(s, [h1, h1, h1.split(".")[0] + ".forged", h3])
    assert [type(r).__name__ for r in results] == ["LinkView", "Conflict", "NotFound", "LinkView"]
    assert results[0].just_now and results[3].target_id == sent.targets["H3"]
    assert _counted(ww, sent.id) == (2, 2)
    with transaction(ww.engine) as s:  # the next batch finds them used
        again = acks.acknowledge_links(s, [h3, sent.tokens["H5"]])
    assert isinstance(again[0], Conflict) and again[1].just_now
    assert _counted(ww, sent.id) == (3, 3)


def test_concurrent_taps_over_http(ww):
    """Taps arriving at once through the app (one event loop, as under uvicorn) are batched and
    answered one by one: each household once, the second tap of a link 409, a forged one 404."""
    import asyncio

    import httpx

    from renxing.app import create_app

    sent = sent_warning(ww)
    app = create_app(ww.engine, upgrade=False)
    taps = [sent.tokens[k] for k in ("H1", "H2", "H3", "H5", "H6", "H7")] + [sent.tokens["H1"], "1.forged"]

    async def tap_all():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(*(c.post(f"/api/v1/warning/ack/{t}") for t in taps))

    answers = [r.status_code for r in asyncio.run(tap_all())]
    assert sorted(answers) == [200] * 6 + [404, 409]
    assert _counted(ww, sent.id) == (6, 6)
