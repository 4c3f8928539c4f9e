"""A warning over 50,000 households: its targets computed and every delivery queued.

Target (issue 13): under 2 s on SQLite and on PostgreSQL. The street comes from
``common.synthetic_register`` (125,000 residents in households of 2.5 → 50,000 households, 125
residents a building → 1,000 buildings in 10 communities, births spread from 1930, so 23,217
households hold someone aged 80 or over or living alone: door-to-door); every building gets a point on
a grid over 2 × 2 km and a party group leader with an account, and 200 residents a care plan with a
carer. Timed: one transaction that loads the warning, runs ``reach.start`` — a drawn polygon
around the whole street, channels in-app and SMS, so 50,000 targets and 100,000 queued deliveries —
and commits; median of 5, each on a new warning (the previous one's targets deleted, untimed),
with the CPU time of this process and of its PostgreSQL backend beside it (read from /proc when
the server runs on this machine), since on a shared machine the wall time includes the wait for a
core.
Then an Update of it (the same households, read from its targets), once.

    .venv/bin/python bench/bench_warning_targets.py                 # SQLite, then PostgreSQL
    .venv/bin/python bench/bench_warning_targets.py --only sqlite
    .venv/bin/python bench/bench_warning_targets.py --households 10000
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import bindparam, delete, func, insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median, postgres_db, sqlite_db, synthetic_register
from renxing.auth.models import User
from renxing.care.models import CareAssignment, CarePlan
from renxing.db import transaction
from renxing.grid.models import GridUnit, Responsibility
from renxing.people.models import Resident
from renxing.warning import reach
from renxing.warning.models import WarningDelivery, WarningMessage, WarningTarget

TARGET_S = 2.0
REPEAT = 5
NOW = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
LON0, LAT0, STEP = 118.70, 32.00, 0.0006  # about 60 m between buildings


def build(engine, households: int) -> int:
    """The street, with building points, leaders and carers; the street's unit id."""
    ids = synthetic_register(engine, households * 5 // 2, per_building=125)
    with transaction(engine) as s:
        buildings = s.scalars(select(GridUnit.id).where(GridUnit.level == "building").order_by(GridUnit.id)).all()
        side = max(1, int(len(buildings) ** 0.5))
        s.connection().execute(
            update(GridUnit)
            .where(GridUnit.id == bindparam("b_id"))
            .values(lon=bindparam("b_lon"), lat=bindparam("b_lat")),
            [
                {"b_id": b, "b_lon": LON0 + STEP * (i % side), "b_lat": LAT0 + STEP * (i // side)}
                for i, b in enumerate(buildings)
            ],
        )
        s.execute(
            insert(User),
            [
                {"username": f"leader{b}", "password_hash": "-", "display_name": f"组长{b}", "role": "building_leader"}
                for b in buildings
            ],
        )
        users = dict(s.execute(select(User.username, User.id)).all())
        s.execute(
            insert(Responsibility),
            [
                {
                    "duty": "party_group_leader",
                    "unit_id": b,
                    "person_name": f"组长{b}",
                    "user_id": users[f"leader{b}"],
                    "start_date": date(2024, 1, 1),
                }
                for b in buildings
            ],
        )
        cared = s.execute(select(Resident.id, Resident.path).order_by(Resident.id).limit(200)).all()
        s.execute(insert(CarePlan), [{"resident_id": r, "path": p, "status": "active"} for r, p in cared])
        plans = s.scalars(select(CarePlan.id)).all()
        s.execute(
            insert(CareAssignment),
            [
                {
                    "plan_id": p,
                    "carer_kind": "grid_worker",
                    "user_id": users[f"leader{buildings[0]}"],
                    "since": date(2024, 1, 1),
                }
                for p in plans
            ],
        )
        s.execute(text("ANALYZE"))
    return ids["street"]


def new_warning(engine, street: int, polygon: str | None, *, references: int | None = None) -> int:
    with transaction(engine) as s:
        unit = s.get(GridUnit, street)
        w = WarningMessage(
            identifier=f"RX-BENCH-{uuid.uuid4().hex[:12]}",
            msg_type="Update" if references else "Alert",
            references_id=references,
            status="sent",
            level="red",
            event="暴雨内涝",
            headline="暴雨红色预警",
            description="特大暴雨",
            instruction="请立即转移",
            unit_id=street,
            path=unit.path,
            polygon=polygon,
            area_desc=unit.name,
            channels=["in_app", "sms"],
            sent_at=NOW,
        )
        s.add(w)
        s.flush()
        return w.id


def _server_cpu(pid: int | None) -> float:
    """Seconds of CPU a PostgreSQL backend on this machine has used (0 when it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(engine, warning_id: int) -> tuple[float, float, reach.Reach]:
    """Seconds of the sending transaction's reach (load, start, commit), and the CPU seconds it
    took in this process and in its PostgreSQL backend: on a busy machine the wall time counts the
    wait for a core, the CPU time does not."""
    with transaction(engine) as s:
        pid = s.scalar(text("SELECT pg_backend_pid()")) if engine.dialect.name == "postgresql" else None
    server0, cpu0, t0 = _server_cpu(pid), time.process_time(), time.perf_counter()
    with transaction(engine) as s:
        result = reach.start(s, s.get(WarningMessage, warning_id), NOW)
    took, cpu = time.perf_counter() - t0, time.process_time() - cpu0 + _server_cpu(pid) - server0
    return took, cpu, result


def forget(engine, warning_id: int) -> None:
    with transaction(engine) as s:
        s.execute(delete(WarningDelivery).where(WarningDelivery.warning_id == warning_id))
        s.execute(delete(WarningTarget).where(WarningTarget.warning_id == warning_id))


def measure(engine, households: int) -> list[str]:
    t0 = time.perf_counter()
    street = build(engine, households)
    lines = [f"  street built in {time.perf_counter() - t0:.1f} s"]
    with transaction(engine) as s:
        lon1, lat1 = s.execute(
            select(func.max(GridUnit.lon), func.max(GridUnit.lat)).where(GridUnit.level == "building")
        ).one()
    ring = [[LON0 - 0.001, LAT0 - 0.001], [lon1 + 0.001, LAT0 - 0.001], [lon1 + 0.001, lat1 + 0.001]]
    ring += [[LON0 - 0.001, lat1 + 0.001], [LON0 - 0.001, LAT0 - 0.001]]
    polygon = json.dumps({"type": "Polygon", "coordinates": [ring]})
    seconds: list[float] = []
    cpu: list[float] = []
    last = 0
    for _ in range(REPEAT):
        if last:
            forget(engine, last)
        last = new_warning(engine, street, polygon)
        took, used, result = start(engine, last)
        seconds.append(took)
        cpu.append(used)
    with transaction(engine) as s:
        targets = s.scalar(select(func.count()).where(WarningTarget.warning_id == last))
        queued = s.scalar(select(func.count()).where(WarningDelivery.warning_id == last))
        door = s.scalar(
            select(func.count()).where(WarningTarget.warning_id == last, WarningTarget.door_to_door.is_(True))
        )
    m = median(seconds)
    lines.append(
        f"  reach.start, drawn polygon: {targets:,} households ({door:,} door-to-door), {queued:,} deliveries "
        f"queued, {len(result.door_to_door):,} leaders and carers to tell"
    )
    lines.append(
        f"    median {m * 1000:.0f} ms of {REPEAT} (min {min(seconds) * 1000:.0f}, max {max(seconds) * 1000:.0f}); "
        f"target {TARGET_S:.0f} s → ratio {m / TARGET_S:.2f} of the target; CPU {median(cpu) * 1000:.0f} ms "
        f"(client and database server), ratio {median(cpu) / TARGET_S:.2f}"
    )
    took, used, result = start(engine, new_warning(engine, street, None, references=last))
    lines.append(
        f"  reach.start of an Update (same households): {result.households:,} households in {took * 1000:.0f} ms, "
        f"ratio {took / TARGET_S:.2f}; CPU {used * 1000:.0f} ms"
    )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--households", type=int, default=50_000)
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("sqlite", "postgresql"):
            if args.only and backend != args.only:
                continue
            db = sqlite_db(tmp) if backend == "sqlite" else postgres_db()
            with db as engine:
                if engine is None:
                    print("postgresql: skipped (no server)")
                    continue
                print(f"{engine.dialect.name}: a warning over {args.households:,} households")
                print("\n".join(measure(engine, args.households)), flush=True)


if __name__ == "__main__":
    main()
