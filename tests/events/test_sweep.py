"""Deadlines and escalation: one level per overdue step up the five-level chain, kept by the database."""

import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from renxing import cli
from renxing.app import create_app
from renxing.config import get_settings
from renxing.db import make_engine, transaction
from renxing.events import sweep
from renxing.events.intake import ReportRows, write_reports
from renxing.events.models import Report, ReportEvent
from renxing.grid.models import GridUnit
from renxing.notify.models import Notification
from tests.kit.events_world import later

LADDER = ["member1", "leader1", "committee1", "branchsec1", "secretary"]


def run(ev, now) -> sweep.SweepResult:
    with transaction(ev.engine) as s:
        return sweep.sweep(s, now)


def test_an_overdue_report_climbs_one_level_per_step_up_to_the_secretary(ev):
    rid = ev.submit("resident1", household_id=ev.w.households["H1"])  # fire hazard: 30 min to accept
    assert run(ev, later(29)).escalated == 0
    for step, username in enumerate(LADDER, start=1):
        result = run(ev, later(31 * step))
        assert result.escalated == 1, step
        r = ev.report(rid)
        assert (r.escalation_level, r.escalated_to_user_id) == (step, ev.uid(username))
        assert r.next_due_at == later(31 * step + 30)  # one more step's length
        assert any(n.topic == "report.escalate" for n in ev.inbox(username))
        assert run(ev, later(31 * step + 1)).escalated == 0  # not twice for the same step
    result = run(ev, later(31 * 6))
    assert (result.escalated, result.stopped) == (0, 1)  # never beyond the secretary
    r = ev.report(rid)
    assert (r.escalation_level, r.next_due_at) == (5, None)
    escalations = [e for e in ev.events(rid) if e.action == "escalate"]
    assert [e.escalation_level for e in escalations] == [1, 2, 3, 4, 5]
    assert "冯党员" in escalations[0].note and "超时未受理" in escalations[0].note
    assert "周书记" in escalations[-1].note
    # The handler hears that their report is overdue, once per sweep.
    assert sum(n.topic == "report.overdue" for n in ev.inbox("gridworker1")) == 5


def test_the_next_step_is_watched_after_an_action(ev):
    rid = ev.submit("resident1")  # B1: no household, so the ladder starts at the party group leader
    ev.act("gridworker1", rid, "accept", now=later(10))
    assert ev.report(rid).next_due_at == later(120)  # high: on site within 2 h of submission
    assert run(ev, later(119)).escalated == 0
    assert run(ev, later(121)).escalated == 1
    r = ev.report(rid)
    assert (r.escalation_level, r.escalated_to_user_id) == (2, ev.uid("leader1"))
    assert "超时未到场" in ev.events(rid)[-1].note
    ev.act("gridworker1", rid, "check_in", lat=32.06, long=118.785, now=later(130))
    assert ev.report(rid).next_due_at == later(24 * 60)  # resolve within a day


def test_vacant_levels_are_skipped(ev):
    rid = ev.submit("resident1", unit_id=ev.w.units["B2"])  # B2 / A2: no leader, no committee member
    run(ev, later(31))
    r = ev.report(rid)
    assert (r.escalation_level, r.escalated_to_user_id) == (4, ev.uid("branchsec1"))


def test_a_restart_loses_nothing(ev):
    rid = ev.submit("resident1", household_id=ev.w.households["H1"])
    run(ev, later(31))
    # A new process: a new engine on the same database finds the same work due.
    fresh = make_engine(ev.engine.url.render_as_string(hide_password=False))
    try:
        with transaction(fresh) as s:
            assert sweep.escalation_sweep(s, later(62)) == 1
    finally:
        fresh.dispose()
    assert ev.report(rid).escalation_level == 2


def test_resolved_reports_close_after_seven_days_without_feedback(ev):
    rid = ev.submit("resident1")
    for action, kw in [("accept", {}), ("check_in", {"lat": 32.06, "long": 118.785}), ("resolve", {"note": "ok"})]:
        ev.act("gridworker1", rid, action, now=later(60), **kw)
    assert run(ev, later(60, days=6.9)).closed == 0
    assert run(ev, later(61, days=7)).closed == 1
    r = ev.report(rid)
    assert (r.state, r.close_reason, r.next_due_at, r.feedback_at) == ("closed", "no_feedback", None, None)
    assert ev.events(rid)[-1].action == "auto_close"
    assert any(n.topic == "report.auto_close" and n.report_id == rid for n in ev.inbox("resident1"))


def test_many_reports_in_many_places_in_one_sweep(ev):
    """Set-based: hundreds of reports on three buildings and a household escalate in one go."""
    with transaction(ev.engine) as s:
        template = s.get(Report, ev.submit("resident1", household_id=ev.w.households["H1"]))
        skip = ("id", "token", "report_id")  # report_id: the schedule row's key, set by the writer
        cols = {c.key: getattr(template, c.key) for c in Report.__table__.columns if c.key not in skip}
        rows = []
        for i in range(600):
            unit = ev.w.units[["B1", "B2", "B3"][i % 3]]
            rows.append(
                {
                    **cols,
                    "token": f"t{i}",
                    "unit_id": unit,
                    "household_id": None,
                    "path": s.get(GridUnit, unit).path,
                }
            )
        write_reports(s, [ReportRows(row, []) for row in rows])
    result = run(ev, later(31))
    assert (result.escalated, result.stopped) == (401, 200)
    with transaction(ev.engine) as s:
        levels = dict(
            s.execute(select(Report.unit_id, func.max(Report.escalation_level)).group_by(Report.unit_id)).all()
        )
        events = s.scalar(select(func.count()).select_from(ReportEvent).where(ReportEvent.action == "escalate"))
        digests = s.scalar(
            select(func.count()).select_from(Notification).where(Notification.topic == "report.escalate")
        )
    # H1's report reached its party member, B1's the party group leader, B2's (no leader, no committee
    # member) the branch secretary; C2 has nobody on its chain.
    assert levels == {ev.w.units["B1"]: 2, ev.w.units["B2"]: 4, ev.w.units["B3"]: 0}
    assert events == 401
    assert digests == 3  # member1, leader1, branchsec1: one message each, not one per report


def test_the_command_and_the_scheduler_run_the_sweep(ev, monkeypatch):
    rid = ev.submit("resident1")  # filed in 2025: long overdue now
    url = ev.engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr(get_settings(), "database_url", url)
    result = CliRunner().invoke(cli.app, ["events", "sweep"])
    assert result.exit_code == 0, result.output
    assert "escalated 1" in result.output
    assert ev.report(rid).escalation_level == 2
    # In the web process, every sweep_seconds when the scheduler is on.
    monkeypatch.setattr(get_settings(), "scheduler", True)
    monkeypatch.setattr(get_settings(), "sweep_seconds", 1)
    second = ev.submit("resident1")
    with TestClient(create_app(ev.engine, upgrade=False)):
        deadline = time.monotonic() + 10
        while ev.report(second).escalation_level == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert ev.report(second).escalation_level == 2
