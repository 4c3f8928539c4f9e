"""One escalation sweep over 100,000 overdue open reports across the demo street.

Target (issue: the closed loop for risks): one sweep under 1 s. The demo street (scale 0.1:
five communities, 13 compounds, 27 areas, ~40 buildings with their five-level chain and
accounts) is built first, then 100,000 open reports are bulk-inserted on its buildings and
households, in every open state and severity, most not yet escalated and some already a few
levels up, all with ``next_due_at`` in the past. The time is of ``sweep.sweep`` in its own
transaction, commit included: every report climbs one rung (a timeline step each, digests to
the people reached and the handlers) or, at the top, stops being looked at. Then the usual
case: of the same 100,000 open reports only a tick's worth falls due (none, 1,000, 10,000).
Runs on SQLite and, when reachable, on PostgreSQL.
"""

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import postgres_db, sqlite_db
from renxing.db import transaction
from renxing.demo.build import build_demo
from renxing.events import deadlines, sweep
from renxing.events.models import Report, ReportEvent
from renxing.events.policy import OPEN_STATES
from renxing.grid.models import GridUnit, Household, Level
from renxing.notify.models import Notification

TARGET_S = 1.0
REPORTS = 100_000
CHUNK = 10_000
TICKS = (0, 1_000, 10_000)  # reports falling due between two sweeps (a minute apart)
MINUTES = {"urgent": (15, 30, 240), "high": (30, 120, 1440), "normal": (120, 1440, 4320), "low": (480, 4320, 10080)}


def fill(engine, n: int, now: datetime) -> None:
    build_demo(engine, scale=0.1, until=now)
    with transaction(engine) as s:
        template = s.scalars(select(Report).order_by(Report.id)).first()
        assert template is not None
        base = {c.key: getattr(template, c.key) for c in Report.__table__.columns if c.key != "id"}
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
    with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(Report.__table__), rows[start : start + CHUNK])
        conn.execute(text("ANALYZE"))


def timed_sweep(engine, now: datetime) -> tuple[float, sweep.SweepResult]:
    t0 = time.perf_counter()
    with transaction(engine) as s:
        result = sweep.sweep(s, now)
    return time.perf_counter() - t0, result


def due_again(engine, now: datetime, n: int) -> None:
    """Push every open report's next look into the future but for ``n`` of them (a tick's worth)."""
    ours = Report.token.like("bench%")
    with engine.begin() as conn:
        conn.execute(update(Report).where(ours).values(next_due_at=now + timedelta(hours=2)))
        ids = select(Report.id).where(ours).order_by(Report.id).limit(n).scalar_subquery()
        conn.execute(update(Report).where(Report.id.in_(ids)).values(next_due_at=now - timedelta(minutes=1)))
    if engine.dialect.name == "postgresql":  # the updates above left dead rows behind
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE reports"))


def measure(engine) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    fill(engine, REPORTS, now)
    setup = time.perf_counter() - t0
    with transaction(engine) as s:
        events_before = s.scalar(select(func.count()).select_from(ReportEvent))
        notes_before = s.scalar(select(func.count()).select_from(Notification))
    seconds, result = timed_sweep(engine, now)
    with transaction(engine) as s:
        events = s.scalar(select(func.count()).select_from(ReportEvent)) - events_before
        notes = s.scalar(select(func.count()).select_from(Notification)) - notes_before
    assert result.escalated + result.stopped >= REPORTS
    ticks = {}
    for n in TICKS:
        due_again(engine, now, n)
        ticks[n], r = timed_sweep(engine, now)
        assert r.escalated + r.stopped == n, (n, r)
    return {
        "seconds": seconds,
        "inside": result.seconds,
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
        f"{label:10} all {REPORTS:,} due: {r['seconds']:.3f} s with commit ({r['inside']:.3f} s inside), "
        f"vs 1 s target: ×{TARGET_S / r['seconds']:.2f} | escalated {r['escalated']:,}, at the top {r['stopped']:,}, "
        f"{r['events']:,} timeline steps, {r['notifications']} digests | setup {r['setup']:.1f} s"
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
