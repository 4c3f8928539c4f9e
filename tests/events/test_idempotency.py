"""Retries do not duplicate: an ``Idempotency-Key`` on the JSON API and a key in the report form
give the first answer back and file nothing new; the same key with another request is refused;
two requests racing with one key file one report. (Open311: tests/events/test_open311.py.)"""

import re
import threading
import time

import pytest
from sqlalchemy import func, select

from renxing.db import transaction
from renxing.events import idempotency, intake
from renxing.events.models import IdempotencyKey, Report
from renxing.events.schemas import ReportIn
from tests.kit.client import login, page_login
from tests.kit.events_world import png

FIELD = re.compile(r'name="idempotency_key" value="([^"]+)"')


def reports(ev) -> int:
    with transaction(ev.engine) as s:
        return s.scalar(select(func.count(Report.id))) or 0


def test_the_api_answers_a_retry_with_the_first_report(client, ev):
    headers = login(client, "resident1")
    body = {"category": "fire_hazard", "description": "楼道堆满纸箱", "unit_id": ev.w.units["B1"]}
    before = reports(ev)
    first = client.post("/api/v1/reports", json=body, headers={**headers, "Idempotency-Key": "k-0001"})
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    for _ in range(2):  # two retries whose answers were lost as well
        again = client.post("/api/v1/reports", json=body, headers={**headers, "Idempotency-Key": "k-0001"})
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"] and again.json()["token"] == first.json()["token"]
    assert reports(ev) == before + 1

    # Another request under the same key is refused, naming the header; nothing is filed.
    other = client.post(
        "/api/v1/reports", json={**body, "description": "另一件事"}, headers={**headers, "Idempotency-Key": "k-0001"}
    )
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    bad = client.post("/api/v1/reports", json=body, headers={**headers, "Idempotency-Key": "no spaces allowed"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "Idempotency-Key"
    # A key belongs to its client: another user with the same key files their own report.
    staff = login(client, "secretary")
    theirs = client.post(
        "/api/v1/reports", json={**body, "channel": "patrol"}, headers={**staff, "Idempotency-Key": "k-0001"}
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    # Without a key every post is a new report, as before.
    assert client.post("/api/v1/reports", json=body, headers=headers).json()["id"] != first.json()["id"]
    assert reports(ev) == before + 3
    # Multipart with photos: the photos are part of the request.
    files = [("photos", ("a.png", png(), "image/png"))]
    form = {k: str(v) for k, v in body.items()}
    h = {**headers, "Idempotency-Key": "k-photo"}
    one = client.post("/api/v1/reports", data=form, files=files, headers=h)
    two = client.post("/api/v1/reports", data=form, files=files, headers=h)
    assert one.status_code == two.status_code == 201 and one.json()["id"] == two.json()["id"]
    assert len(two.json()["photos"]) == 1
    changed = client.post(
        "/api/v1/reports", data=form, files=[("photos", ("a.png", png((0, 0, 0)), "image/png"))], headers=h
    )
    assert changed.status_code == 409
    assert reports(ev) == before + 4


def test_the_report_form_sent_twice_files_one_report(client, ev):
    csrf = page_login(client, "resident1")
    page = client.get("/report/new").text
    key = FIELD.search(page).group(1)
    assert FIELD.search(client.get("/report/new").text).group(1) != key  # one key per form shown
    data = {
        "csrf_token": csrf,
        "mode": "resident",
        "category": "fire_hazard",
        "description": "楼道堆满纸箱",
        "place": "building",
        "unit_id": str(ev.w.units["B1"]),
        "idempotency_key": key,
    }
    before = reports(ev)
    first = client.post(
        "/report/new", data=data, files=[("photos", ("a.png", png(), "image/png"))], follow_redirects=False
    )
    again = client.post(
        "/report/new", data=data, files=[("photos", ("a.png", png(), "image/png"))], follow_redirects=False
    )
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] and "?filed=1" in first.headers["location"]
    assert reports(ev) == before + 1

    # A refused form keeps its key and gives it up again: the corrected form files once.
    key = FIELD.search(client.get("/report/new").text).group(1)
    refused = client.post("/report/new", data={**data, "idempotency_key": key, "description": ""})
    assert refused.status_code == 422 and FIELD.search(refused.text).group(1) == key
    fixed = {**data, "idempotency_key": key, "description": "楼道灯坏了"}
    one = client.post("/report/new", data=fixed, follow_redirects=False)
    two = client.post("/report/new", data=fixed, follow_redirects=False)
    assert one.status_code == two.status_code == 303 and one.headers["location"] == two.headers["location"]
    assert reports(ev) == before + 2


def test_two_requests_racing_with_one_key_file_one_report(ev):
    """The second waits for the first's transaction (the unique key), then answers from it."""
    actor = ev.principal("resident1")
    data = ReportIn(category="fire_hazard", description="楼道堆满纸箱", unit_id=ev.w.units["B1"])
    fp = idempotency.fingerprint("api", data.model_dump())
    claimed, results, failures = threading.Event(), {}, []

    def first() -> None:
        try:
            with transaction(ev.engine) as s:
                assert idempotency.begin(s, "user:race", "same-key", fp) is None
                claimed.set()
                threading.Event().wait(0.4)  # the second arrives while this one is still filing
                report = intake.submit_report(s, actor, data, channel="resident_app")
                idempotency.finish(s, "user:race", "same-key", report.id)
                results["first"] = report.id
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
            claimed.set()

    def second() -> None:
        claimed.wait(5)
        try:
            with transaction(ev.engine) as s:
                start = time.monotonic()
                prior = idempotency.begin(s, "user:race", "same-key", fp)
                results["waited"] = time.monotonic() - start
                results["second"] = prior.report_id if prior else None
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    before = reports(ev)
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not failures, failures
    assert results["second"] == results["first"] and results["first"] is not None
    assert results["waited"] > 0.2  # it did wait for the first to commit
    assert reports(ev) == before + 1


def test_a_claim_that_was_rolled_back_leaves_the_key_free(ev):
    actor = ev.principal("resident1")
    data = ReportIn(category="fire_hazard", description="楼道堆满纸箱", unit_id=ev.w.units["B1"])
    fp = idempotency.fingerprint("api", data.model_dump())
    with pytest.raises(RuntimeError), transaction(ev.engine) as s:
        assert idempotency.begin(s, "user:x", "k", fp) is None
        raise RuntimeError("the request failed after the claim")
    with transaction(ev.engine) as s:
        assert s.scalar(select(func.count(IdempotencyKey.id))) == 0
        assert idempotency.begin(s, "user:x", "k", fp) is None
        report = intake.submit_report(s, actor, data, channel="resident_app")
        idempotency.finish(s, "user:x", "k", report.id)
    with transaction(ev.engine) as s:
        assert idempotency.begin(s, "user:x", "k", fp).report_id == report.id
