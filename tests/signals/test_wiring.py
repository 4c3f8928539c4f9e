"""The application's graph at work: a care visit's problem becomes a report in the visit's
transaction and is linked back to it; report steps reach the inbox with the step."""

from sqlalchemy import func, select, update

from renxing.auth.models import AuditEntry
from renxing.care.models import CareVisit
from renxing.config import get_settings
from renxing.db import transaction
from renxing.events.models import EventCategory, Report
from renxing.notify.models import Notification
from renxing.signals.bus import bus
from renxing.signals.catalog import ReportSubmitted
from renxing.signals.models import OutboxRow
from tests.kit.care_world import care_world, plan_of
from tests.kit.client import login


def _visit_with_problem(client, engine, world, status):
    cw = care_world(engine, world)
    pairs = [{"resident_id": world.residents["wang"], "carer": f"m{cw.nurse}"}]
    r = client.post("/api/v1/care/assignments", json={"pairs": pairs}, headers=login(client, "secretary"))
    assert r.status_code == 201, r.text
    plan = plan_of(engine, world.residents["wang"])
    r = client.post(
        f"/api/v1/care/plans/{plan}/visits",
        json={"found": "problem", "problem_category": "health", "note": "氧气瓶快用完了", "raise_report": True},
        headers=login(client, "volunteer1"),
    )
    assert r.status_code == status, r.text
    return r.json()


def test_a_flagged_visit_gets_its_report_linked_and_audited(client, engine, world):
    visit = _visit_with_problem(client, engine, world, 201)
    with transaction(engine) as s:
        report = s.get(Report, visit["report_id"])
        assert report.external_ref == f"care-visit-{visit['id']}" and report.channel == "internal"
        assert s.get(CareVisit, visit["id"]).report_id == report.id
        audited = s.scalars(select(AuditEntry.summary).where(AuditEntry.entity == "care_visit")).all()
        assert f"raised report {report.id}" in audited
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0  # all of it inline


def test_a_visit_whose_report_cannot_be_raised_is_not_recorded(client, engine, world):
    """Inline: the visit and the report it asks for commit together or not at all."""
    with transaction(engine) as s:
        s.execute(update(EventCategory).where(EventCategory.code == "needs_help").values(active=False))
    body = _visit_with_problem(client, engine, world, 422)
    assert any(e["field"] == "category" for e in body["errors"])
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(CareVisit)) == 0
        assert s.scalar(select(func.count()).select_from(Report)) == 0


def test_report_steps_are_told_inline_and_leave_no_outbox_rows(ev):
    rid = ev.submit("resident1")
    with transaction(ev.engine) as s:
        told = s.scalars(select(Notification).where(Notification.report_id == rid)).all()
        assert [(n.user_id, n.topic) for n in told] == [(ev.uid("gridworker1"), "report.assign")]
        assert s.scalars(select(OutboxRow)).all() == []


def test_intake_may_pipeline_while_only_the_log_channel_is_on(monkeypatch):
    assert bus.writes_only(ReportSubmitted)
    monkeypatch.setattr(get_settings(), "notify_channels", "log,email")
    assert not bus.writes_only(ReportSubmitted)  # the inbox insert then reads its ids back
