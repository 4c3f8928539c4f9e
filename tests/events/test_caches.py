"""The intake's per-process caches follow every change, from this process or another; SQLite
writers queue on a lock; the sweep works in bounded batches; the schedule side table."""

import json
import subprocess
import sys
import threading

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError

from renxing import db, migrate
from renxing.auth.models import User
from renxing.db import make_engine, transaction
from renxing.errors import Invalid
from renxing.events import access, catalog, intake, sweep
from renxing.events.models import Report, report_schedule
from renxing.events.schemas import RuleIn, RulePatch
from renxing.geo import outlines
from renxing.grid.models import GridUnit
from tests.kit.client import login
from tests.kit.events_world import T0, box, later

OUTSIDE = {"lat": 32.06, "long": 118.835}  # east of C2 (which ends at 118.82): outside every community


def url_of(ev) -> str:
    return ev.engine.url.render_as_string(hide_password=False)


def handler_of(ev, rid: int) -> int | None:
    return ev.report(rid).handler_user_id


class Statements:
    """Counts the statements an engine runs that mention a table or column."""

    def __init__(self, engine, table: str):
        self.engine, self.table, self.count = engine, table, 0

    def _seen(self, _conn, _cursor, statement, *_args):
        if self.table in statement:
            self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_a_changed_outline_is_seen_by_the_next_intake_also_from_another_process(ev):
    with pytest.raises(Invalid) as exc:
        ev.submit("resident1", **OUTSIDE)
    assert {e.field for e in exc.value.errors} == {"lat", "long"}
    ev.submit("resident1", lat=32.06, long=118.81)  # builds and caches the outline index

    # Another engine (a second process would have its own) widens C2 and its area to 118.84.
    other = make_engine(url_of(ev))
    try:
        with transaction(other) as s:
            for key in ("C2", "P2", "A3"):
                s.get(GridUnit, ev.w.units[key]).geometry = box(118.80, 32.05, 118.84, 32.07)
    finally:
        other.dispose()
    rid = ev.submit("resident1", **OUTSIDE)
    assert ev.report(rid).unit_id == ev.w.units["A3"]

    # A real second process, writing plain SQL behind the ORM's back, narrows it again.
    script = (
        "import sys, json; from sqlalchemy import create_engine, text\n"
        "e = create_engine(sys.argv[1])\n"
        "with e.begin() as c:\n"
        "    c.execute(text('UPDATE grid_units SET geometry = :g WHERE id IN (:a, :b, :c)'),"
        " json.loads(sys.argv[2]))\n"
    )
    ids = [ev.w.units[k] for k in ("C2", "P2", "A3")]
    params = {"g": box(118.80, 32.05, 118.82, 32.07), "a": ids[0], "b": ids[1], "c": ids[2]}
    done = subprocess.run([sys.executable, "-c", script, url_of(ev), json.dumps(params)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    with pytest.raises(Invalid):
        ev.submit("resident1", **OUTSIDE)


def test_the_outline_index_is_not_rebuilt_or_fingerprinted_per_intake(ev, monkeypatch):
    ev.submit("resident1", lat=32.06, long=118.785)
    built = []
    monkeypatch.setattr(
        outlines.GeoIndex, "__init__", lambda *a, real=outlines.GeoIndex.__init__: built.append(1) or real(*a)
    )
    with Statements(ev.engine, "length(grid_units.geometry)") as fingerprints:
        ev.submit("resident1", lat=32.06, long=118.795)
        ev.submit("resident1", lat=32.06, long=118.81)
    assert (fingerprints.count, built) == (0, [])
    with transaction(ev.engine) as s:  # a grid write: the next intake rebuilds
        s.get(GridUnit, ev.w.units["B3"]).lon = 118.8101
    ev.submit("resident1", lat=32.06, long=118.81)
    assert built == [1]


def test_routing_is_decided_once_per_place_until_a_rule_changes(ev):
    first = ev.submit("resident1")  # fire hazard at B1: the area's grid worker
    assert handler_of(ev, first) == ev.uid("gridworker1")
    with Statements(ev.engine, "routing_rules") as seen:
        again = ev.submit("resident1")
    assert seen.count == 0 and handler_of(ev, again) == ev.uid("gridworker1")

    secretary = ev.principal("secretary")
    with transaction(ev.engine) as s:
        rule = catalog.create_rule(
            s,
            secretary,
            RuleIn(
                category_code="fire_hazard",
                unit_id=ev.w.units["C1"],
                handler_kind="user",
                user_id=ev.uid("leader1"),
                priority=1,
            ),
        )
        rule_id = rule.id
    routed = ev.submit("resident1")
    assert handler_of(ev, routed) == ev.uid("leader1")
    assert ev.report(routed).routing_rule_id == rule_id

    with transaction(ev.engine) as s:
        catalog.update_rule(s, secretary, rule_id, RulePatch(active=False))
    assert handler_of(ev, ev.submit("resident1")) == ev.uid("gridworker1")


def test_a_rule_changed_in_another_engine_and_a_disabled_account_route_the_next_report(ev):
    assert handler_of(ev, ev.submit("resident1")) == ev.uid("gridworker1")
    other = make_engine(url_of(ev))
    try:
        with other.begin() as conn:  # plain SQL: no ORM hook could see this, the triggers do
            conn.execute(update(User).where(User.id == ev.uid("gridworker1")).values(is_active=False))
    finally:
        other.dispose()
    moved = ev.submit("resident1")
    assert handler_of(ev, moved) not in (None, ev.uid("gridworker1"))
    with transaction(ev.engine) as s:
        s.get(User, ev.uid("gridworker1")).is_active = True
    assert handler_of(ev, ev.submit("resident1")) == ev.uid("gridworker1")


def test_a_changed_deadline_and_category_apply_to_the_next_report(ev):
    rid = ev.submit("resident1")
    r = ev.report(rid)
    assert r.due_accept == later(30) and r.severity == "high"
    with transaction(ev.engine) as s:
        s.execute(text("UPDATE severity_deadlines SET accept_minutes = 45 WHERE severity = 'high'"))
    assert ev.report(ev.submit("resident1")).due_accept == later(45)
    with transaction(ev.engine) as s:
        s.execute(text("UPDATE event_categories SET active = :f WHERE code = 'fire_hazard'"), {"f": False})
    with pytest.raises(Invalid) as exc:
        ev.submit("resident1")
    assert [e.field for e in exc.value.errors] == ["category"]


def test_a_changed_transition_is_seen_by_the_next_answer_also_from_another_engine(ev):
    rid = ev.submit("resident1")
    worker = ev.principal("gridworker1")

    def actions() -> list[str]:
        with transaction(ev.engine) as s:
            report, kinds = access.load_report(s, worker, rid)
            return access.allowed_actions(s, report, kinds)

    assert "accept" in actions()
    other = make_engine(url_of(ev))
    try:
        with other.begin() as conn:  # plain SQL in another engine: only the trigger can tell
            conn.execute(
                text(
                    "UPDATE report_transitions SET actors = 'reporter'"
                    " WHERE from_state = 'assigned' AND action = 'accept'"
                )
            )
    finally:
        other.dispose()
    assert "accept" not in actions()
    with transaction(ev.engine) as s:
        s.execute(
            text(
                "UPDATE report_transitions SET actors = 'handler,staff'"
                " WHERE from_state = 'assigned' AND action = 'accept'"
            )
        )
    assert "accept" in actions()


def test_sqlite_writers_queue_on_the_process_lock(ev):
    if ev.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    actor = ev.principal("resident1")
    errors: list[BaseException] = []

    def file_some() -> None:
        try:
            for _ in range(4):
                with transaction(ev.engine) as s:
                    intake.submit_report(
                        s,
                        actor,
                        {"category": "fire_hazard", "description": "堆物", "unit_id": ev.w.units["B1"]},
                        channel="resident_app",
                        now=T0,
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=file_some) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ev.count(Report) == 64
    lock = db._write_locks[ev.engine.url.database]
    assert not lock.locked()  # every commit let it go
    with pytest.raises(Invalid), transaction(ev.engine) as s:  # and so does a rollback
        intake.submit_report(
            s, actor, {"category": "nonsense", "description": "x", "unit_id": 1}, channel="resident_app"
        )
    assert not lock.locked()


def test_a_backlog_is_swept_in_bounded_batches_oldest_first(ev):
    rids = [ev.submit("resident1", now=later(i)) for i in range(5)]  # due at T0 + 30 + i minutes
    with transaction(ev.engine) as s:
        result = sweep.sweep(s, later(100), limit=2)
    assert (result.due, result.escalated) == (2, 2)
    assert [ev.report(r).escalation_level for r in rids] == [2, 2, 0, 0, 0]
    total = sweep.run_sweep(ev.engine, later(100), batch=2)
    assert (total.escalated, total.batches) == (3, 2)
    assert [ev.report(r).escalation_level for r in rids] == [2] * 5
    # The wide rows were left alone by the escalation: only the schedule rows moved.
    assert all(ev.report(r).updated_at == later(i) for i, r in enumerate(rids))
    with transaction(ev.engine) as s:
        rows = s.execute(select(report_schedule.c.report_id, report_schedule.c.escalation_level)).all()
    assert sorted(rows) == [(r, 2) for r in rids]


def test_every_report_has_its_schedule_row_and_deleting_a_report_takes_it(ev):
    rid = ev.submit("resident1")
    with transaction(ev.engine) as s:
        assert s.get(Report, rid).next_due_at == later(30)
        s.delete(s.get(Report, rid))
    with transaction(ev.engine) as s:
        assert s.execute(select(report_schedule).where(report_schedule.c.report_id == rid)).first() is None


def test_the_migration_moves_the_schedule_and_back(ev):
    rid = ev.submit("resident1", household_id=ev.w.households["H1"])
    sweep.run_sweep(ev.engine, later(31))
    before = ev.report(rid)
    assert (before.escalation_level, before.escalated_to_user_id) == (1, ev.uid("member1"))
    migrate.downgrade(ev.engine, "0003")
    with ev.engine.connect() as conn:
        old = conn.execute(
            text("SELECT escalation_level, escalated_to_user_id, escalated_to_label FROM reports WHERE id = :id"),
            {"id": rid},
        ).one()
        events = conn.execute(text("SELECT count(*) FROM report_events WHERE report_id = :id"), {"id": rid}).scalar()
    assert tuple(old) == (1, ev.uid("member1"), before.escalated_to_label)
    assert events == len(ev.events(rid))  # rebuilding the table cascaded into nothing
    migrate.upgrade(ev.engine)
    after = ev.report(rid)
    assert (after.escalation_level, after.escalated_to_label, after.next_due_at) == (
        1,
        before.escalated_to_label,
        before.next_due_at,
    )
    assert len(ev.events(rid)) == events


def test_the_api_answers_an_intake_with_what_the_filer_needs(ev, client):
    body = {"category": "fire_hazard", "description": "楼道堆物", "lat": 32.0601, "long": 118.7851}
    mine = client.post("/api/v1/reports", json=body, headers=login(client, "resident1"))
    assert mine.status_code == 201, mine.text
    got = mine.json()
    assert (got["state"], got["handler_user_id"], got["actions"]) == ("assigned", ev.uid("gridworker1"), [])
    assert got["link"] == f"/reports/{got['id']}" and "timeline" not in got
    staff = client.post("/api/v1/reports", json=body, headers=login(client, "gridworker1"))
    assert staff.status_code == 201, staff.text
    assert [c["id"] for c in staff.json()["merge_candidates"]] == [got["id"]]


def test_a_failing_write_in_a_pipelined_block_fails_the_whole_transaction(ev):
    """db.pipelined sends writes without waiting for each answer (PostgreSQL): an error, even
    in the last statement of the block (answered only at its end), reaches the caller as
    SQLAlchemy's own error, and nothing of the transaction stays."""
    rid = ev.submit("resident1")
    before = ev.report(rid).escalation_level
    bad_follower = text("INSERT INTO report_followers (report_id, user_id, reason, since) VALUES (:r, NULL, 'x', NULL)")
    with pytest.raises(IntegrityError), transaction(ev.engine) as s:
        s.execute(update(report_schedule).where(report_schedule.c.report_id == rid).values(escalation_level=3))
        with db.pipelined(s):
            s.execute(update(report_schedule).where(report_schedule.c.report_id == rid).values(escalation_level=4))
            s.execute(bad_follower, {"r": rid})
    assert ev.report(rid).escalation_level == before
