"""Dispatching a warning's deliveries: SMS through a real local gateway and its signed receipts,
retries until the attempts run out, no phone, the log and in-app channels, e-mail over SMTP."""

import json
import logging
import socket
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from renxing.app import create_app
from renxing.auth.models import AuditEntry
from renxing.config import get_settings
from renxing.db import transaction
from renxing.notify.models import NotificationContact
from renxing.warning import channels, dispatch, gateway_receipts, reach, tokens
from renxing.warning.models import DeliveryState, WarningDelivery, WarningMessage, WarningTarget
from tests.kit.events_world import T0
from tests.kit.gateway_stub import gateway
from tests.kit.warning_world import add_warning, warning_world

SECRET = "gateway-test-secret"
RECEIPTS = "/api/v1/warning/gateway/receipts"


@pytest.fixture
def ww(engine):
    return warning_world(engine)


@pytest.fixture
def gw(monkeypatch):
    settings = get_settings()
    with gateway() as g:
        monkeypatch.setattr(settings, "sms_gateway_url", g.url)
        monkeypatch.setattr(settings, "gateway_secret", SECRET)
        monkeypatch.setattr(settings, "delivery_attempts", 3)
        yield g


@pytest.fixture
def api(engine):
    app = create_app(engine, upgrade=False)
    if not any(getattr(r, "path", None) == RECEIPTS for r in app.routes):
        app.include_router(gateway_receipts.router)
    with TestClient(app) as c:
        yield c


def send(ww, channels_=("sms",), **kw) -> int:
    wid = add_warning(ww, unit="C1", channels=channels_, **kw)
    with transaction(ww.engine) as s:
        reach.start(s, s.get(WarningMessage, wid), T0)
    return wid


def by_household(ww, wid) -> dict[str, WarningDelivery]:
    names = {v: k for k, v in ww.households.items()}
    with transaction(ww.engine) as s:
        rows = s.execute(
            select(WarningTarget.household_id, WarningDelivery)
            .join(WarningTarget, WarningTarget.id == WarningDelivery.target_id)
            .where(WarningDelivery.warning_id == wid)
        )
        return {f"{names[h]}:{d.channel}": d for h, d in rows}


def post(api, receipts, secret=SECRET, header=None):
    body = json.dumps({"receipts": receipts}).encode()
    headers = {"Content-Type": "application/json"}
    if secret:
        headers[gateway_receipts.HEADER] = header or gateway_receipts.signature(secret, body)
    return api.post(RECEIPTS, content=body, headers=headers)


def test_sms_goes_through_the_gateway_and_signed_receipts_mark_it_delivered(ww, gw, api, caplog):
    wid = send(ww)
    with caplog.at_level(logging.DEBUG):
        counts = dispatch.dispatch(ww.engine, now=T0)
    assert (counts.claimed, counts.sent, counts.failed, counts.given_up) == (6, 4, 2, 2)
    phones = sorted(m["to"] for m in gw.messages)
    assert phones == sorted(["13812345678", "13712345678", "13612345678", "13312345678"])  # H1 its householder
    assert not any(p in caplog.text for p in phones)  # a phone never reaches the log
    rows = by_household(ww, wid)
    for m in gw.messages:
        assert m["text"].startswith("【橙色预警】暴雨橙色预警") and len(m["text"]) <= 300
        target = next(d.target_id for d in rows.values() if str(d.id) == m["ref"])
        assert m["text"].endswith(dispatch.ack_link(get_settings(), wid, target))
        assert tokens.check(get_settings().secret_key, m["text"].rsplit("/w/", 1)[1], wid)
    assert {k: (d.state, d.last_error) for k, d in rows.items() if d.state == "failed"} == {
        "H5:sms": ("failed", "no_phone"),  # 刘奶奶 has no phone, H7 nobody registered
        "H7:sms": ("failed", "no_phone"),
    }
    assert rows["H5:sms"].next_attempt_at is None  # nothing to retry: it climbs the chain
    assert rows["H1:sms"].state == "sent" and rows["H1:sms"].gateway_ref == f"gw-{rows['H1:sms'].id}"
    with transaction(ww.engine) as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "warning", AuditEntry.entity_id == wid)))
    assert [(e.action, e.after["households"]) for e in entries] == [("read_personal", 4)]
    assert not any(p in (entries[0].summary or "") for p in phones)

    h1, h2 = rows["H1:sms"].gateway_ref, rows["H2:sms"].gateway_ref
    receipts = [{"id": h1, "status": "delivered"}, {"id": h2, "status": "failed", "error": "absent"}]
    assert post(api, receipts, secret=None).status_code == 401
    assert post(api, receipts, secret="forged").status_code == 401
    assert post(api, receipts, header="sha256=" + "0" * 64).status_code == 401
    r = post(api, [*receipts, {"id": "gw-unknown", "status": "delivered"}])
    assert r.status_code == 200 and r.json() == {"delivered": 1, "failed": 1, "unknown": 1}
    rows = by_household(ww, wid)
    assert rows["H1:sms"].state == "delivered"
    assert (rows["H2:sms"].state, rows["H2:sms"].last_error) == ("failed", "absent")
    assert rows["H2:sms"].next_attempt_at is not None  # retried
    # never backwards: an acknowledged copy stays acknowledged, a delivered one is not failed
    with transaction(ww.engine) as s:
        s.execute(update(WarningDelivery).where(WarningDelivery.gateway_ref == h1).values(state="acknowledged"))
    r = post(api, [{"id": h1, "status": "failed"}, {"id": h1, "status": "delivered"}])
    assert r.json() == {"delivered": 0, "failed": 0, "unknown": 2}
    assert by_household(ww, wid)["H1:sms"].state == "acknowledged"
    bad = post(api, [{"id": h1, "status": "lost"}])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("receipts")


def test_a_failing_gateway_is_retried_until_the_attempts_run_out(ww, gw):
    gw.mode = "down"
    wid = send(ww)
    first = dispatch.dispatch(ww.engine, now=T0)
    assert (first.claimed, first.failed, first.given_up) == (6, 6, 2)
    assert dispatch.dispatch(ww.engine, now=T0 + timedelta(seconds=30)).claimed == 0  # backing off
    second = dispatch.dispatch(ww.engine, now=T0 + timedelta(minutes=1))
    assert (second.claimed, second.failed, second.given_up) == (4, 4, 0)
    third = dispatch.dispatch(ww.engine, now=T0 + timedelta(minutes=3))  # 1 min, then 2
    assert (third.claimed, third.failed, third.given_up) == (4, 4, 4)
    assert dispatch.dispatch(ww.engine, now=T0 + timedelta(days=1)).claimed == 0
    assert len(gw.batches) == 3
    rows = by_household(ww, wid)
    assert {(d.state, d.attempts, d.next_attempt_at) for k, d in rows.items() if k not in ("H5:sms", "H7:sms")} == {
        ("failed", 3, None)
    }
    assert rows["H3:sms"].last_error.startswith("HTTPStatusError")


def test_a_rejected_or_unanswered_message_fails_and_a_leased_one_is_not_sent_twice(ww, gw, monkeypatch):
    monkeypatch.setattr(get_settings(), "delivery_attempts", 5)
    gw.mode = "partial"
    send(ww)
    counts = dispatch.dispatch(ww.engine, now=T0)
    assert (counts.sent, counts.failed) == (1, 5)
    gw.mode = "reject"
    again = dispatch.dispatch(ww.engine, now=T0 + timedelta(minutes=1))
    assert (again.claimed, again.failed) == (3, 3)
    with transaction(ww.engine) as s:  # a dispatcher claims, then dies before it records anything
        assert len(dispatch._claim(s, T0 + timedelta(minutes=3), 10, 5)) == 3
    assert dispatch.dispatch(ww.engine, now=T0 + timedelta(minutes=4)).claimed == 0
    assert dispatch.dispatch(ww.engine, now=T0 + timedelta(minutes=9)).claimed == 3  # its lease ended


def test_the_log_channel_delivers_and_in_app_is_delivered_once_opened(ww):
    wid = send(ww, channels_=("log", "in_app"))
    gone = add_warning(ww, unit="A1", channels=("log",))
    with transaction(ww.engine) as s:  # a warning whose target went missing: nothing to send, nothing retried
        reach.start(s, s.get(WarningMessage, gone), T0)
        s.execute(delete(WarningTarget).where(WarningTarget.warning_id == gone))
    counts = dispatch.dispatch(ww.engine, now=T0)
    assert (counts.claimed, counts.delivered, counts.sent, counts.given_up) == (14, 6, 6, 2)
    rows = by_household(ww, wid)
    assert {d.state for k, d in rows.items() if k.endswith(":log")} == {"delivered"}
    assert {d.state for k, d in rows.items() if k.endswith(":in_app")} == {"sent"}
    with transaction(ww.engine) as s:
        s.execute(
            update(WarningDelivery).where(WarningDelivery.id == rows["H2:in_app"].id).values(state="acknowledged")
        )
        assert channels.opened(s, ww.households["H1"], T0, warning_id=wid) == 1
        assert channels.opened(s, ww.households["H2"], T0) == 0
    rows = by_household(ww, wid)
    assert (rows["H1:in_app"].state, rows["H2:in_app"].state, rows["H3:in_app"].state) == (
        "delivered",
        "acknowledged",
        "sent",
    )


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def test_email_goes_to_the_addresses_of_the_household_accounts(ww, monkeypatch):
    box = Mailbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = get_settings()
        monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
        monkeypatch.setattr(settings, "smtp_port", port)
        with transaction(ww.engine) as s:  # 王小明 of H1 wants e-mail
            s.add(NotificationContact(user_id=ww.uid("resident1"), channel="email", address="wxm@example.org"))
        wid = send(ww, channels_=("email",))
        counts = dispatch.dispatch(ww.engine, now=T0)
    finally:
        controller.stop()
    assert (counts.sent, counts.failed, counts.given_up) == (1, 5, 5)
    [(rcpt, raw)] = box.messages
    mail = message_from_bytes(raw)
    assert rcpt == ["wxm@example.org"]
    assert str(make_header(decode_header(mail["Subject"]))) == "【橙色预警】暴雨橙色预警"
    assert "/w/" in mail.get_payload(decode=True).decode()
    rows = by_household(ww, wid)
    assert rows["H1:email"].state == DeliveryState.sent and rows["H3:email"].last_error == "no_email"
