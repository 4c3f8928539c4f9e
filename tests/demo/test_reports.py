"""The demo's months of reports: every state shows, each timeline is consistent with the rules
of the closed loop, the dashboard numbers are sane, and the same seed gives the same history."""

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func, or_, select

from renxing import migrate
from renxing.auth.models import AuditEntry, User
from renxing.auth.principal import SYSTEM
from renxing.db import make_engine, transaction
from renxing.demo.build import DEMO_PASSWORD, build_demo
from renxing.demo.reports import history_window
from renxing.events import stats, sweep
from renxing.events.models import Report, ReportEvent, ReportFollower
from renxing.events.policy import OPEN_STATES, TERMINAL_STATES, State
from renxing.grid.models import GridUnit
from renxing.notify.models import Notification
from tests.kit.client import login

UNTIL = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 14:00 in Nanjing
SHANGHAI = ZoneInfo("Asia/Shanghai")
SCALE = 0.05


@pytest.fixture
def demo(engine):
    build_demo(engine, scale=SCALE, until=UNTIL)
    return engine


def _reports(engine) -> list[Report]:
    with transaction(engine) as s:
        return list(s.scalars(select(Report).order_by(Report.id)))


def _timelines(engine) -> dict[int, list[ReportEvent]]:
    out: dict[int, list[ReportEvent]] = defaultdict(list)
    with transaction(engine) as s:
        for e in s.scalars(select(ReportEvent).order_by(ReportEvent.id)):
            out[e.report_id].append(e)
    return out


def test_every_state_and_both_ways_of_closing(demo):
    reports = _reports(demo)
    assert 150 <= len(reports) <= 400
    states = Counter(r.state for r in reports)
    assert set(states) == {s.value for s in State}, states
    assert states["closed"] > len(reports) * 0.8  # the past is mostly done
    reasons = Counter(r.close_reason for r in reports if r.state == "closed")
    assert reasons["feedback"] and reasons["no_feedback"] and reasons["staff"]
    assert any(r.escalation_level > 0 and State(r.state) in OPEN_STATES for r in reports)
    assert any(r.escalation_level > 0 and r.state == "closed" for r in reports)
    assert sum(r.reopen_count > 0 for r in reports) >= 1
    assert {r.channel for r in reports} == {"resident_app", "patrol", "phone", "open311", "internal"}
    since = history_window(UNTIL, SHANGHAI)
    assert since == datetime(2026, 6, 1, tzinfo=SHANGHAI)
    assert all(since <= r.created_at <= UNTIL for r in reports)


def test_timelines_follow_the_rules(demo):
    reports = {r.id: r for r in _reports(demo)}
    timelines = _timelines(demo)
    for rid, r in reports.items():
        events = timelines[rid]
        times = [e.at for e in events]
        assert times == sorted(times), rid
        assert events[0].action == "submit" and events[0].at == r.created_at
        assert events[1].action == "route" and events[1].to_state in ("assigned", "submitted")
        assert all(t <= UNTIL for t in times)
        moves = [e for e in events if e.action not in ("escalate", "merged_in")]
        # Each step starts where the previous one ended, and the last one is where the report is.
        for a, b in pairwise(moves):
            assert b.from_state == a.to_state, (rid, a.action, b.action)
        assert moves[-1].to_state == r.state, rid
        milestones = [r.created_at, r.accepted_at, r.on_site_at, r.resolved_at]
        done = [m for m in milestones if m is not None]
        if r.reopen_count == 0:
            assert done == sorted(done), rid
        actions = {e.action for e in events}
        if r.state == "closed":
            assert "resolve" in actions and actions & {"feedback", "auto_close", "close"}, rid
            assert r.closed_at == events[-1].at or events[-1].action in ("escalate", "merged_in")
            assert r.resolved_at <= r.closed_at
            assert (r.close_reason == "feedback") == (r.feedback_solved is True), rid
        if r.state == "rejected":
            assert "reject" in actions and r.reject_reason
        if r.state == "merged":
            target = reports[r.merged_into_id]
            assert target.id < r.id and target.category_code == r.category_code
            assert any(e.action == "merged_in" and e.data["from"] == rid for e in timelines[target.id])
        if State(r.state) in TERMINAL_STATES:
            assert r.next_due_at is None
        else:
            assert r.next_due_at is None or r.next_due_at > UNTIL, rid
        levels = [e.escalation_level for e in events if e.action == "escalate"]
        assert levels == sorted(levels) and (levels[-1] if levels else 0) == r.escalation_level, rid
        if r.feedback_rating is not None:
            assert 1 <= r.feedback_rating <= 5
        for e in events:
            if e.action == "feedback" or (e.action == "reopen" and e.from_state == "resolved"):
                # The reporter rates; staff record a caller's answer; a handler never rates their own work.
                assert e.actor_user_id == r.reporter_user_id or (
                    r.reporter_user_id is None and e.actor_user_id != r.handler_user_id
                ), rid


def test_what_a_sweep_would_do_has_been_done(demo):
    with transaction(demo) as s:
        result = sweep.sweep(s, UNTIL)
    assert (result.escalated, result.closed) == (0, 0)


def test_places_people_and_words_are_real(demo):
    with transaction(demo) as s:
        units = {u.id: u for u in s.scalars(select(GridUnit))}
        users = {u.id: u for u in s.scalars(select(User))}
        reports = list(s.scalars(select(Report)))
        followers = set(s.execute(select(ReportFollower.report_id, ReportFollower.user_id)).all())
        inbox = s.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == _uid(s, "gridworker1"))
        )
    for r in reports:
        unit = units[r.unit_id]
        assert r.path == unit.path
        if r.place_source == "polygon" and unit.level == "building":
            assert shape(json.loads(unit.geometry)).contains(Point(r.lon, r.lat)), r.id
        if r.household_id is not None:
            assert r.place_source == "household" and unit.level == "building"
        if r.channel == "resident_app":
            assert users[r.reporter_user_id].role == "resident" and (r.id, r.reporter_user_id) in followers
        if r.channel == "patrol":
            assert users[r.reporter_user_id].role == "grid_worker"
        if r.channel in ("phone", "open311"):
            assert r.reporter_user_id is None and r.reporter_name and r.reporter_phone
        assert len(r.description) > 8 and "{" not in r.description
    assert len({r.description for r in reports}) > len(reports) * 0.6
    assert inbox > 0
    # The flagship old estate asks for help for its elderly far more than the high-rise does.
    help_by_community = Counter(units[r.unit_id].path.split("/")[2] for r in reports if r.category_code == "needs_help")
    communities = sorted((u for u in units.values() if u.level == "community"), key=lambda u: u.id)
    assert help_by_community[str(communities[0].id)] > help_by_community[str(communities[1].id)]


def _uid(s, username: str) -> int:
    return s.scalar(select(User.id).where(User.username == username))


def test_dashboard_numbers_are_sane(demo):
    with transaction(demo) as s:
        by_month = stats.stats(s, SYSTEM, group_by="month", now=UNTIL)
        by_category = stats.stats(s, SYSTEM, group_by="category", now=UNTIL)
        by_unit = stats.stats(s, SYSTEM, group_by="unit", level="community", now=UNTIL)
        spots = stats.hotspots(s, SYSTEM)
    total = by_month["total"]
    assert 0 < total["closed_loop_rate"] < 1
    assert 0 < total["overdue_rate"] < 0.4
    for key in ("minutes_to_accept", "minutes_to_on_site", "minutes_to_resolve"):
        assert 0 < total[key]["median"] <= total[key]["p90"]
    assert total["minutes_to_accept"]["median"] < total["minutes_to_resolve"]["median"]
    assert 3.5 <= total["satisfaction"] <= 5
    months = [g["key"] for g in by_month["groups"]]
    assert months == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert all(g["count"] > 0 for g in by_month["groups"])
    assert len(by_unit["groups"]) == 5 and len(by_category["groups"]) >= 10
    categories = {g["key"]: g["count"] for g in by_category["groups"]}
    assert categories["sanitation"] + categories["damaged_facility"] > total["count"] * 0.25
    assert spots and spots[0]["count"] > 1


def test_the_plum_rains_bring_waterlogging(demo):
    wet = Counter()
    for r in _reports(demo):
        if r.category_code == "waterlogging":
            wet[r.created_at.astimezone(SHANGHAI).month] += 1
    assert wet[6] + wet[7] > 2 * (wet[10] + wet[11])


def test_demo_accounts_see_their_reports(demo, client):
    mine = client.get("/api/v1/reports", headers=login(client, "resident1", DEMO_PASSWORD)).json()
    assert mine["total"] >= 1
    inbox = client.get("/api/v1/reports?size=100", headers=login(client, "gridworker1", DEMO_PASSWORD)).json()
    assert inbox["total"] > mine["total"]
    stats = client.get("/api/v1/reports/stats", headers=login(client, "secretary", DEMO_PASSWORD)).json()
    assert stats["total"]["count"] > 0
    with transaction(demo) as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "report", AuditEntry.action == "import")).all()
        # The care step raises a few more from its home visits, the sensors' step from their
        # triggers, each under its own audit entry.
        raised_elsewhere = or_(Report.external_ref.startswith("care-visit-"), Report.external_ref.startswith("sensor-"))
        history = select(func.count()).select_from(Report).where(or_(Report.external_ref.is_(None), ~raised_elsewhere))
        assert len(audit) == 1 and audit[0].after["reports"] == s.scalar(history)
        workers = s.scalars(select(User.username).where(User.role == "grid_worker")).all()
    assert "gridworker1" in workers and any(w.startswith("gw-") for w in workers)


def _history(engine) -> list[tuple]:
    with transaction(engine) as s:
        reports = [
            (
                r.token,
                r.category_code,
                r.description,
                r.channel,
                r.reporter_name,
                r.lon,
                r.lat,
                r.unit_id,
                r.state,
                r.handler_label,
                r.escalation_level,
                r.created_at,
                r.accepted_at,
                r.resolved_at,
                r.closed_at,
                r.feedback_rating,
                r.next_due_at,
            )
            for r in s.scalars(select(Report).order_by(Report.id))
        ]
        events = [
            (e.report_id, e.at, e.action, e.actor_label, e.note)
            for e in s.scalars(select(ReportEvent).order_by(ReportEvent.id))
        ]
    return reports + events


def test_same_seed_same_history(tmp_path):
    engines = [make_engine(f"sqlite:///{tmp_path / f'demo{i}.db'}") for i in range(3)]
    try:
        for e, seed in zip(engines, (5, 5, 6), strict=True):
            migrate.upgrade(e)
            build_demo(e, seed=seed, scale=0.02, until=UNTIL)
        first, again, other = (_history(e) for e in engines)
    finally:
        for e in engines:
            e.dispose()
    assert first == again
    assert first != other
    # A later "now" moves the history along the calendar; it still ends there.
    assert max(r[11] for r in first if isinstance(r[0], str)) <= UNTIL
    assert max(r[11] for r in first if isinstance(r[0], str)) > UNTIL - timedelta(days=10)
