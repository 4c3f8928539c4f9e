"""Rolling 12-month drill coverage for a street of 50,000 residents and 5,000 activities.

Target (issue: organization and culture): under 1 s. A synthetic street (five communities, 500
buildings) gets 5,000 activities over the last 15 months (some outside the window, a few
cancelled, a third aimed at an area or a building) and attendance at a realistic scale: about
three in four residents take part, in one to several activities each (~190,000 sign-ins).
Timed: ``drills.reach.coverage_report`` for the whole street as the coverage page calls it
(two grouped queries and the activities' targets, then the roll-up over the grid paths with
numpy), and the first page of residents not yet reached, the vulnerable first. Runs on SQLite
and, when reachable, on PostgreSQL.
"""

import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median, postgres_db, sqlite_db, synthetic_register, timed
from renxing.auth.principal import SYSTEM
from renxing.db import transaction, utcnow
from renxing.drills import invitations, reach
from renxing.drills.models import Activity, ActivityTarget, Attendance
from renxing.grid.models import GridUnit
from renxing.listing import ListQuery
from renxing.people.models import Resident

TARGET_S = 1.0
RESIDENTS = 50_000
ACTIVITIES = 5_000
REPEAT = 5


def populate(engine) -> dict[str, int]:
    ids = synthetic_register(engine, RESIDENTS)
    rng = random.Random(7)
    np_rng = np.random.default_rng(7)
    now = utcnow()
    with transaction(engine) as s:
        communities = list(s.execute(select(GridUnit.id, GridUnit.path).where(GridUnit.level == "community")))
        areas = list(s.execute(select(GridUnit.id, GridUnit.path).where(GridUnit.level == "area")))
        buildings = list(s.execute(select(GridUnit.id, GridUnit.path).where(GridUnit.level == "building")))
        residents = list(s.execute(select(Resident.id, Resident.path)))
    acts, targets = [], []
    for i in range(ACTIVITIES):
        c = communities[i % len(communities)]
        starts = now - timedelta(days=rng.uniform(1, 455))
        acts.append(
            {
                "id": i + 1,
                "unit_id": c.id,
                "path": c.path,
                "kind": rng.choice(["lecture", "fire_drill", "evacuation_drill", "first_aid_training", "tabletop"]),
                "hazard": "fire",
                "title": f"活动{i + 1}",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "status": "cancelled" if rng.random() < 0.03 else "done",
                "created_at": starts,
                "updated_at": starts,
            }
        )
        r = rng.random()
        if r < 0.2:
            b = rng.choice([b for b in buildings if b.path.startswith(c.path)])
            targets.append({"activity_id": i + 1, "unit_id": b.id})
        elif r < 0.33:
            a = rng.choice([a for a in areas if a.path.startswith(c.path)])
            targets.append({"activity_id": i + 1, "unit_id": a.id})
    by_comm: dict[str, list[int]] = {}
    for a in acts:
        by_comm.setdefault(a["path"], []).append(a["id"])
    attendance = []
    for rid, rpath in residents:
        if np_rng.random() > 0.75:
            continue
        pool = by_comm[next(p for p in by_comm if rpath.startswith(p))]
        for aid in rng.sample(pool, 1 + int(np_rng.poisson(4))):
            attendance.append({"activity_id": aid, "resident_id": rid, "signed_at": now, "method": "qr"})
    with engine.begin() as conn:
        conn.execute(Activity.__table__.insert(), acts)
        conn.execute(ActivityTarget.__table__.insert(), targets)
        for start in range(0, len(attendance), 20_000):
            conn.execute(Attendance.__table__.insert(), attendance[start : start + 20_000])
        if engine.dialect.name == "postgresql":
            for table in ("drill_activities", "drill_attendance"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
        conn.execute(text("ANALYZE"))
    return {"street": ids["street"], "community": ids["community"], "attendance": len(attendance)}


def run(engine, label: str) -> None:
    t0 = time.perf_counter()
    ids = populate(engine)
    print(
        f"[{label}] street of {RESIDENTS:,} residents, {ACTIVITIES:,} activities, "
        f"{ids['attendance']:,} sign-ins written in {time.perf_counter() - t0:.1f} s"
    )

    def coverage():
        with transaction(engine) as s:
            return reach.coverage_report(s, SYSTEM, ids["street"])

    def invite():
        with transaction(engine) as s:
            _, page = invitations.not_reached(s, SYSTEM, ids["community"], ListQuery(page=1, size=50))
            return page.total

    rep = coverage()
    times = timed(coverage, REPEAT)
    print(
        f"[{label}] coverage, whole street: median {median(times):.0f} ms (min {min(times):.0f}) over {REPEAT} runs; "
        f"ratio to the {TARGET_S:.0f} s target: {median(times) / (TARGET_S * 1000):.3f}; "
        f"reach {rep['total']['reach']:.1%}, {len(rep['units'])} units, {len(rep['lagging'])} buildings behind"
    )
    times = timed(invite, REPEAT)
    print(f"[{label}] not reached, first page of a community ({invite():,} in all): median {median(times):.0f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sqlite_db(tmp) as engine:
        run(engine, "SQLite")
    with postgres_db() as engine:
        if engine is None:
            print("[PostgreSQL] not reachable, skipped")
        else:
            run(engine, "PostgreSQL")


if __name__ == "__main__":
    main()
