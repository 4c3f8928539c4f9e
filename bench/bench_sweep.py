"""One escalation sweep over 100,000 overdue open reports across the demo street.

Target (issue: the closed loop for risks): one sweep under 1 s. The demo street (scale 0.1:
five communities, 13 compounds, 27 areas, ~40 buildings with their five-level chain and
accounts) is built first, then 100,000 open reports are bulk-inserted on its buildings and
households, in every open state and severity, most not yet escalated and some already a few
levels up, all with ``next_due_at`` in the past. Timed: ``sweep.run_sweep`` as the scheduler
runs it (transactions of at most ``sweep.BATCH`` reports, oldest first, until none is due),
then, from the same state again, ``sweep.sweep`` over all of them in one transaction, commit
included: every report climbs one rung (a timeline step each, digests to the people reached
and the handlers) or, at the top, stops being looked at. Then the usual case: of the same
100,000 open reports only a tick's worth falls due (none, 1,000, 10,000).
Runs on SQLite and, when reachable, on PostgreSQL.
"""

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, delete, func, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import postgres_db, sqlite_db
from renxing.auth.models import User
from renxing.db import UTCDateTime, transaction
from renxing.demo.build import build_demo
from renxing.events import deadlines, sweep
from renxing.events.intake import ReportRows, write_reports
from renxing.events.models import Report, ReportEvent, report_schedule
from renxing.events.policy import OPEN_STATES
from renxing.grid.models import GridUnit, Household, Level
from renxing.notify.models import Notification

TARGET_S = 1.0
REPORTS = 100_000
CHUNK = 10_000
TICKS = (0, 1_000, 10_000)  # reports falling due between two sweeps (a minute apart)
LABEL = "桂花园小区 网格长 张某某（超时未受理 / not accepted in time）"  # as long as a sweep's note
MINUTES = {"urgent": (15, 30, 240), "high": (30, 120, 1440), "normal": (120, 1440, 4320), "low": (480, 4320, 10080)}


def fill(engine, n: int, now: datetime) -> int:
    build_demo(engine, scale=0.1, until=now)
    with transaction(engine) as s:
        template = s.scalars(select(Report).order_by(Report.id)).first()
        assert template is not None
        base = {c.key: getattr(template, c.key) for c in Report.__table__.columns if c.key not in ("id", "report_id")}
        buildings = s.execute(select(GridUnit.id, GridUnit.path).where(GridUnit.level == Level.building.value)).all()
        households = s.execute(select(Household.id, Household.building_id, Household.path)).all()
    rng = random.Random(7)
    states = sorted(s.value for s in OPEN_STATES)
    rows = []
    for i in range(n):
        severity = rng.choice(list(MINUTES))
        created = now - timedelta(minutes=rng.uniform(60, 5 * 24 * 60))
        m = deadlines.Minutes(*MINUTES[severity])
        due_accept, due_on_site, due_resolve = deadlines.due_times(created, m)
        if rng.random() < 0.3:
            hh, unit_id, path = rng.choice(households)
        else:
            (unit_id, path), hh = rng.choice(buildings), None
        rows.append(
            {
                **base,
                "token": f"bench{i:07d}",
                "unit_id": unit_id,
                "household_id": hh,
                "path": path,
                "lon": None,
                "lat": None,
                "severity": severity,
                "state": rng.choice(states),
                "escalation_level": 0 if rng.random() < 0.7 else rng.randint(1, 4),
                "created_at": created,
                "updated_at": created,
                "due_accept": due_accept,
                "due_on_site": due_on_site,
                "due_resolve": due_resolve,
                "next_due_at": now - timedelta(minutes=rng.uniform(1, 600)),
                "closed_at": None,
                "resolved_at": None,
            }
        )
    with transaction(engine) as s:
        first = write_reports(s, [ReportRows(row, []) for row in rows])[0]
    settle(engine)
    with engine.begin() as conn:
        # A copy of the schedule rows as filled, to start the second measurement from the same state.
        conn.execute(text("DROP TABLE IF EXISTS bench_schedule_copy"))
        conn.execute(
            text(f"CREATE TABLE bench_schedule_copy AS SELECT * FROM report_schedule WHERE report_id >= {first}")
        )
    return first


def settle(engine) -> None:
    """After the bulk insert, what a database that filled over days would have done already:
    statistics, and on SQLite the write-ahead log checkpointed, on PostgreSQL the new rows'
    visibility recorded (else the first sweep pays for a 100,000-row insert's aftermath)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.commit()


def restore(engine, first: int) -> None:
    cols = [c.key for c in report_schedule.columns if c.key != "report_id"]
    sets = ", ".join(f"{c} = c.{c}" for c in cols)
    with engine.begin() as conn:
        same = "c.report_id = report_schedule.report_id"
        conn.execute(text(f"UPDATE report_schedule SET {sets} FROM bench_schedule_copy c WHERE {same}"))
    settle(engine)


def timed_sweep(engine, now: datetime) -> tuple[float, sweep.SweepResult]:
    t0 = time.perf_counter()
    with transaction(engine) as s:
        result = sweep.sweep(s, now)
    return time.perf_counter() - t0, result


def batched_sweep(engine, now: datetime) -> tuple[float, sweep.SweepResult]:
    t0 = time.perf_counter()
    result = sweep.run_sweep(engine, now)
    return time.perf_counter() - t0, result


def due_again(engine, now: datetime, n: int, first: int) -> None:
    """Push every open report's next look into the future but for ``n`` of them (a tick's worth)."""
    s = report_schedule
    ours = s.c.report_id >= first
    with engine.begin() as conn:
        conn.execute(update(s).where(ours).values(next_due_at=now + timedelta(hours=2)))
        conn.execute(update(s).where(ours, s.c.report_id < first + n).values(next_due_at=now - timedelta(minutes=1)))
    settle(engine)


def floor(engine, now: datetime, first: int) -> float:
    """The writes no sweep can avoid, alone: for each of the 100,000 due reports one timeline
    row inserted and its schedule row rewritten (level, whom, label, when, next look), from a
    table of answers computed beforehand (untimed), in one transaction with its commit. No
    reading of the reports, no deciding, no digests. Leaves the database as it found it."""
    with engine.begin() as conn:
        user_id = conn.execute(select(func.min(User.id))).scalar_one()
        conn.execute(text("DROP TABLE IF EXISTS bench_answers"))
        conn.execute(
            text(
                "CREATE TABLE bench_answers AS SELECT report_id, escalation_level + 1 AS level,"
                f" {user_id} AS user_id, '{LABEL}' AS label FROM report_schedule"
                " WHERE next_due_at IS NOT NULL AND report_id >= :first ORDER BY report_id"
            ),
            {"first": first},
        )
    settle(engine)
    events = ReportEvent.__table__
    last_event = _max_event_id(engine)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO report_events (report_id, at, actor_label, action, from_state, to_state, note,"
                " escalation_level) SELECT report_id, :now, '系统', 'escalate', 'assigned', 'assigned', label, level"
                " FROM bench_answers ORDER BY report_id"
            ).bindparams(bindparam("now", now, type_=UTCDateTime())),
        )
        conn.execute(
            text(
                "UPDATE report_schedule SET escalation_level = a.level, escalated_to_user_id = a.user_id,"
                " escalated_to_label = a.label, escalated_at = :now, next_due_at = :next"
                " FROM bench_answers a WHERE a.report_id = report_schedule.report_id"
            ).bindparams(
                bindparam("now", now, type_=UTCDateTime()),
                bindparam("next", now + timedelta(hours=1), type_=UTCDateTime()),
            ),
        )
    seconds = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(delete(events).where(events.c.id > last_event))
        conn.execute(text("DROP TABLE bench_answers"))
    return seconds


def _max_event_id(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.max(ReportEvent.id))).scalar_one() or 0


def measure(engine) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    first = fill(engine, REPORTS, now)
    setup = time.perf_counter() - t0
    with transaction(engine) as s:
        events_before = s.scalar(select(func.count()).select_from(ReportEvent))
        notes_before = s.scalar(select(func.count()).select_from(Notification))
    # As the scheduler and the command run it: transactions of at most sweep.BATCH reports.
    batched, in_batches = batched_sweep(engine, now)
    with transaction(engine) as s:
        events = s.scalar(select(func.count()).select_from(ReportEvent)) - events_before
        notes = s.scalar(select(func.count()).select_from(Notification)) - notes_before
    assert in_batches.escalated + in_batches.stopped >= REPORTS
    # The writes alone, then the same work as one transaction.
    restore(engine, first)
    bare = floor(engine, now, first)
    restore(engine, first)
    seconds, result = timed_sweep(engine, now)
    assert result.escalated + result.stopped >= REPORTS
    ticks = {}
    for n in TICKS:
        due_again(engine, now, n, first)
        ticks[n], r = timed_sweep(engine, now)
        assert r.escalated + r.stopped == n, (n, r)
    return {
        "seconds": seconds,
        "floor": bare,
        "inside": result.seconds,
        "batched": batched,
        "batches": in_batches.batches,
        "escalated": result.escalated,
        "stopped": result.stopped,
        "events": events,
        "notifications": notes,
        "ticks": ticks,
        "setup": setup,
    }


def run(label: str, factory) -> list[str]:
    with factory() as engine:
        if engine is None:
            return [f"{label:10}: skipped (no server)"]
        r = measure(engine)
    lines = [
        f"{label:10} all {REPORTS:,} due, one transaction: {r['seconds']:.3f} s with commit ({r['inside']:.3f} s "
        f"inside), vs 1 s target: ×{TARGET_S / r['seconds']:.2f} | escalated {r['escalated']:,}, at the top "
        f"{r['stopped']:,} | setup {r['setup']:.1f} s",
        f"{label:10} the floor (its {REPORTS:,} timeline rows and schedule rows written alone): {r['floor']:.3f} s; "
        f"sweep ÷ floor {r['seconds'] / r['floor']:.2f}",
        f"{label:10} all {REPORTS:,} due, {r['batches']} transactions of ≤ {sweep.BATCH:,} (run_sweep): "
        f"{r['batched']:.3f} s, vs 1 s target: ×{TARGET_S / r['batched']:.2f} | {r['events']:,} timeline steps, "
        f"{r['notifications']} digests",
    ]
    ticks = ", ".join(f"{n:,} due {t * 1000:.0f} ms (×{TARGET_S / t:.1f})" for n, t in r["ticks"].items())
    lines.append(f"{label:10} {REPORTS:,} open, a tick with {ticks}")
    return lines


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lines = run("sqlite", lambda: sqlite_db(tmp)) + run("postgresql", postgres_db)
    print("one escalation sweep over 100,000 open reports: all past their deadline, then a tick's worth")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
