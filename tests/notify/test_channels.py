"""Notifications: the in-app inbox, and e-mail and webhook delivered after commit, on local servers."""

import json
import socket
import threading
import time
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from renxing.config import get_settings
from renxing.db import transaction
from renxing.errors import Invalid
from renxing.notify import channels
from renxing.notify import service as notify
from renxing.notify.models import NotificationDelivery
from tests.kit.client import login


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch):
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", port)
    monkeypatch.setattr(settings, "smtp_from", "renxing@example.org")
    monkeypatch.setattr(settings, "notify_channels", "log,email")
    yield box
    controller.stop()


@pytest.fixture
def hook(monkeypatch):
    received: list[tuple[dict, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((json.loads(body), self.headers.get("X-Renxing-Signature", "")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings = get_settings()
    monkeypatch.setattr(settings, "notify_channels", "log,webhook")
    monkeypatch.setattr(settings, "webhook_url", f"http://127.0.0.1:{server.server_port}/hook")
    monkeypatch.setattr(settings, "webhook_secret", "s3cret")
    yield received
    server.shutdown()
    server.server_close()


def deliveries(ev) -> list[NotificationDelivery]:
    with transaction(ev.engine) as s:
        return list(s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))


def test_email_reaches_the_handler_after_commit(ev, smtp, client):
    r = client.put(
        "/api/v1/notifications/contacts",
        json={"channel": "email", "address": "sun@example.org"},
        headers=login(client, "gridworker1"),
    )
    assert r.status_code == 200
    rid = ev.submit("resident1")
    notify.dispatcher.join()
    assert len(smtp.messages) == 1
    sender, rcpt, raw = smtp.messages[0]
    mail = message_from_bytes(raw)
    assert (sender, rcpt) == ("renxing@example.org", ["sun@example.org"])
    assert "新事件待受理" in str(make_header(decode_header(mail["Subject"])))
    assert f"/reports/{rid}" in mail.get_payload(decode=True).decode()
    assert [(d.channel, d.status, d.attempts) for d in deliveries(ev)] == [("email", "sent", 1)]


def test_nothing_is_sent_when_the_transaction_rolls_back(ev, smtp):
    with transaction(ev.engine) as s:
        notify.set_contact(s, ev.principal("gridworker1"), "email", "sun@example.org")
    with pytest.raises(Invalid):
        ev.submit("resident1", category="no_such_category")
    with pytest.raises(RuntimeError), transaction(ev.engine) as s:
        notify.push(s, [ev.uid("gridworker1")], title="never")
        raise RuntimeError
    notify.dispatcher.join()
    assert smtp.messages == [] and deliveries(ev) == []


def test_webhook_gets_signed_json(ev, hook):
    rid = ev.submit("resident1")
    notify.dispatcher.join()
    assert len(hook) == 1
    payload, signature = hook[0]
    assert payload["report_id"] == rid and payload["user_id"] == ev.uid("gridworker1")
    assert payload["url"].endswith(f"/reports/{rid}") and payload["topic"] == "report.assign"
    body = json.dumps(payload, ensure_ascii=False).encode()
    assert signature == channels.sign("s3cret", body)
    assert [d.status for d in deliveries(ev)] == ["sent"]


def test_a_failing_channel_is_recorded_and_never_breaks_the_report(ev, monkeypatch):
    monkeypatch.setattr(get_settings(), "notify_channels", "webhook")
    monkeypatch.setattr(get_settings(), "webhook_url", f"http://127.0.0.1:{free_port()}/nobody-listens")
    rid = ev.submit("resident1")
    notify.dispatcher.join()
    assert ev.report(rid).state == "assigned"
    (d,) = deliveries(ev)
    assert (d.status, d.attempts) == ("failed", 1) and "Error" in d.error
    sent, failed = notify.deliver_pending(ev.engine)  # the sweep retries what is left
    assert (sent, failed) == (0, 1) and deliveries(ev)[0].attempts == 2


def test_the_in_app_inbox(ev, client):
    rid = ev.submit("resident1")
    ev.act("gridworker1", rid, "accept")
    h = login(client, "resident1")
    box = client.get("/api/v1/notifications", headers=h).json()
    assert box["unread"] == 1 and box["items"][0]["link"] == f"/reports/{rid}"
    nid = box["items"][0]["id"]
    assert client.post(f"/api/v1/notifications/{nid}/read", headers=login(client, "gridworker1")).status_code == 404
    assert client.post(f"/api/v1/notifications/{nid}/read", headers=h).json() == {"marked": 1}
    assert client.get("/api/v1/notifications?unread=true", headers=h).json()["total"] == 0
    worker = login(client, "gridworker1")
    assert client.get("/api/v1/notifications", headers=worker).json()["unread"] == 1
    assert client.post("/api/v1/notifications/read-all", headers=worker).json() == {"marked": 1}
    bad = client.put("/api/v1/notifications/contacts", json={"channel": "email", "address": "nope"}, headers=worker)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "address"


def test_the_log_channel_writes_a_line(ev, caplog):
    caplog.set_level("INFO", logger="renxing.notify")
    ev.submit("resident1")
    deadline = time.monotonic() + 2
    while "notify user=" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "新事件待受理" in caplog.text
