"""Report intake (validate, place by point-in-polygon, route, persist, notify) in-process and
over HTTP, each against a bare insert of the same row on the same stack: the floor.

Target (issue: the closed loop for risks): intake at least half the floor's throughput; p50
and p99 latency under 16 concurrent clients.

- In-process: 16 threads, each call one transaction. Intake is
  ``submit_report(session, resident, ReportIn(lat, long, …), channel="resident_app")``;
  the floor adds the report's own ``reports`` row (the wide one, mapped alone, one ORM insert)
  with values precomputed from a real intake and commits. For reference, a second floor
  writes the seven rows an intake writes (report and its schedule row, two timeline steps,
  follower, inbox message, audit entry) without any reading or deciding.
- HTTP: uvicorn on 127.0.0.1 in a subprocess, 16 concurrent ``httpx.AsyncClient`` requests.
  Intake is ``POST /api/v1/reports`` of the real app (bearer token, JSON; the answer is the
  new report as in lists with the actions open to the reporter). The floor is a bare
  FastAPI app built below: same engine, same per-request session dependency
  (:data:`renxing.web.deps.DB`), a route that reads the JSON body and inserts the same row.

Intake and floor alternate in three rounds of 400 requests each (after a warm-up of 64), and
the figure is the median of the rounds' ratios: on a shared machine a floor measured minutes
apart from its intake can differ by tens of percent.

The street is the demo's at scale 0.1 (five communities with outlines, chain and accounts,
and its months of reports); every report has a point inside a building's footprint.
Runs on SQLite and, when reachable, on PostgreSQL.

    python bench/bench_intake.py                    # everything
    python bench/bench_intake.py --serve URL PORT real|bare   # (the server subprocess)
"""

import asyncio
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from shapely.geometry import shape
from sqlalchemy import Engine, select
from sqlalchemy.orm import registry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import postgres_db, sqlite_db
from renxing.app import create_app
from renxing.auth import service as auth_service
from renxing.auth.models import AuditEntry, User
from renxing.db import make_engine, session_factory, transaction
from renxing.demo.build import DEMO_PASSWORD, build_demo
from renxing.events.intake import submit_report
from renxing.events.models import Report, ReportEvent, ReportFollower, reports
from renxing.events.schemas import ReportIn
from renxing.grid.models import GridUnit, Level
from renxing.notify.models import Notification
from renxing.web.deps import DB

CLIENTS = 16
ROUNDS = 3  # intake and floor alternate, back to back, this many times
REQUESTS = 400  # measured per side and round, after a warm-up of 64
WARMUP = 64
TIME_LIMIT_S = 90.0
TARGET_RATIO = 0.5
CATEGORIES = ("sanitation", "damaged_facility", "fire_hazard", "electrical", "security", "public_health", "other")
REPORTER = "resident1"


# ---- the floor: a bare app that only inserts the row -------------------------------------


class BareReport:
    """The wide ``reports`` row alone, mapped on its own: the floor inserts exactly the row it
    inserted before the schedule columns moved to their side table (one ORM insert)."""


registry().map_imperatively(BareReport, reports)


def template_row(engine: Engine) -> dict:
    """Every column of the newest report's own row (one that went through intake), but its id and token."""
    with transaction(engine) as s:
        report = s.scalars(select(Report).order_by(Report.id.desc())).first()
        assert report is not None
        return {c.key: getattr(report, c.key) for c in reports.columns if c.key not in ("id", "token")}


def new_bare(row: dict) -> BareReport:
    bare = BareReport()
    for key, value in row.items():
        setattr(bare, key, value)
    bare.token = secrets.token_urlsafe(9)  # type: ignore[attr-defined]
    return bare


def bare_app(engine: Engine) -> FastAPI:
    app = FastAPI()
    app.state.session_factory = session_factory(engine)
    row = template_row(engine)

    @app.post("/bare/reports", status_code=201)
    async def insert_row(request: Request, session: DB) -> dict:
        await request.json()  # read and parse the body, as intake does

        def work() -> dict:
            report = new_bare(row)
            session.add(report)
            session.flush()
            return {"id": report.id}  # type: ignore[attr-defined]

        return await run_in_threadpool(work)

    return app


def serve(url: str, port: int, which: str) -> None:
    engine = make_engine(url)
    app = create_app(engine, upgrade=False) if which == "real" else bare_app(engine)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---- load ---------------------------------------------------------------------------------


def points(engine: Engine, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """Points well inside buildings' footprints."""
    with transaction(engine) as s:
        outlines = [
            shape(json.loads(g))
            for g in s.scalars(select(GridUnit.geometry).where(GridUnit.level == Level.building.value))
        ]
    out = []
    for _ in range(n):
        ring = rng.choice(outlines).exterior.coords[:4]
        u, v = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ring
        out.append(
            (
                (1 - u) * (1 - v) * x0 + u * (1 - v) * x1 + u * v * x2 + (1 - u) * v * x3,
                (1 - u) * (1 - v) * y0 + u * (1 - v) * y1 + u * v * y2 + (1 - u) * v * y3,
            )
        )
    return out


def bodies(engine: Engine, n: int) -> list[dict]:
    rng = random.Random(11)
    return [
        {
            "category": rng.choice(CATEGORIES),
            "description": f"基准测试上报 {i}：楼道堆放杂物，影响通行。",
            "lat": round(lat, 6),
            "long": round(lon, 6),
        }
        for i, (lon, lat) in enumerate(points(engine, n, rng))
    ]


def summary(latencies: list[float], wall: float) -> dict:
    xs = sorted(latencies)
    p99 = xs[min(len(xs) - 1, round(0.99 * (len(xs) - 1)))]
    return {
        "n": len(xs),
        "rps": len(xs) / wall,
        "p50": statistics.median(xs) * 1000,
        "p99": p99 * 1000,
        "latencies": latencies,
        "wall": wall,
    }


def pooled(results: list[dict]) -> dict:
    return summary([x for r in results for x in r["latencies"]], sum(r["wall"] for r in results))


def alternating(intake: Callable[[list[dict]], dict], floor: Callable[[list[dict]], dict], work: list[dict]):
    """ROUNDS rounds of intake then floor on the same bodies: the machine is shared and its
    speed drifts by tens of percent over minutes, so each ratio is taken between neighbours and
    the median of the rounds is the figure. Returns (intake pooled, floor pooled, ratios)."""
    per = WARMUP + REQUESTS
    mine, bare, ratios = [], [], []
    for k in range(ROUNDS):
        chunk = work[k * per : (k + 1) * per]
        a, b = intake(chunk), floor(chunk)
        mine.append(a)
        bare.append(b)
        ratios.append(a["rps"] / b["rps"])
    return pooled(mine), pooled(bare), ratios


def threaded(fn: Callable[[dict], None], work: list[dict]) -> dict:
    """Run ``fn`` over ``work`` from 16 threads; warm-up first, then the measured part."""
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(fn, work[:WARMUP]))
        latencies: list[float] = []

        def timed(body: dict) -> None:
            t0 = time.perf_counter()
            fn(body)
            latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        list(pool.map(timed, work[WARMUP:]))
        wall = time.perf_counter() - started
    return summary(latencies, wall)


def in_process(engine: Engine, work: list[dict]) -> tuple[dict, dict, list[float], dict]:
    with transaction(engine) as s:
        actor = auth_service.principal_for(s, s.scalar(select(User).where(User.username == REPORTER)))

    def intake(body: dict) -> None:
        with transaction(engine) as s:
            submit_report(s, actor, ReportIn(**body), channel="resident_app")

    intake(work[0])  # the floor's row is copied from an intake's
    row = template_row(engine)

    def floor(body: dict) -> None:
        with transaction(engine) as s:
            s.add(new_bare(row))

    uid = row["reporter_user_id"]
    schedule = {"next_due_at": datetime.now(UTC), "escalation_level": 0}

    def six_rows(body: dict) -> None:
        """The rows an intake writes, without any of its reading and deciding."""
        now = datetime.now(UTC)
        with transaction(engine) as s:
            report = Report(**row, **schedule, token=secrets.token_urlsafe(9))
            s.add(report)
            s.flush()
            s.add_all(
                [
                    ReportEvent(report_id=report.id, at=now, actor_label="居民", action="submit", to_state="submitted"),
                    ReportEvent(report_id=report.id, at=now, actor_label="系统", action="route", to_state="assigned"),
                    ReportFollower(report_id=report.id, user_id=uid, reason="reporter", since=now),
                    Notification(
                        user_id=uid, title="新事件待受理", link="/reports", topic="report.assign", created_at=now
                    ),
                    AuditEntry(at=now, actor_id=uid, actor_name="bench", action="create", entity="report", after={}),
                ]
            )

    mine, bare, ratios = alternating(lambda c: threaded(intake, c), lambda c: threaded(floor, c), work)
    return mine, bare, ratios, threaded(six_rows, work[: WARMUP + REQUESTS])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _hammer(base: str, path: str, headers: dict, work: list[dict]) -> dict:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:

        async def run(items: list[dict], latencies: list[float] | None, deadline: float) -> None:
            queue: asyncio.Queue[dict] = asyncio.Queue()
            for item in items:
                queue.put_nowait(item)

            async def worker() -> None:
                while not queue.empty() and time.perf_counter() < deadline:
                    body = queue.get_nowait()
                    t0 = time.perf_counter()
                    r = await client.post(path, json=body)
                    if r.status_code != 201:
                        raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
                    if latencies is not None:
                        latencies.append(time.perf_counter() - t0)

            await asyncio.gather(*(worker() for _ in range(CLIENTS)))

        await run(work[:WARMUP], None, time.perf_counter() + TIME_LIMIT_S)
        latencies: list[float] = []
        started = time.perf_counter()
        await run(work[WARMUP:], latencies, started + TIME_LIMIT_S)
        return summary(latencies, time.perf_counter() - started)


def over_http(engine: Engine, work: list[dict]) -> tuple[dict, dict, list[float]]:
    """Both servers up side by side (each idle while the other is measured), hammered in turn."""
    url = engine.url.render_as_string(hide_password=False)
    procs, targets = [], {}
    try:
        for which, path in (("real", "/api/v1/reports"), ("bare", "/bare/reports")):
            port = free_port()
            cmd = [sys.executable, __file__, "--serve", url, str(port), which]
            procs.append(subprocess.Popen(cmd, env=os.environ.copy()))
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    httpx.get(f"{base}/docs", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            headers = {}
            if which == "real":
                tok = httpx.post(
                    f"{base}/api/v1/auth/token", data={"username": REPORTER, "password": DEMO_PASSWORD}
                ).json()
                headers = {"Authorization": f"Bearer {tok['access_token']}"}
            targets[which] = (base, path, headers)

        def hammer(which: str) -> Callable[[list[dict]], dict]:
            return lambda chunk: asyncio.run(_hammer(*targets[which], chunk))

        return alternating(hammer("real"), hammer("bare"), work)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def line(label: str, intake: dict, floor: dict, ratios: list[float], six: dict | None = None) -> str:
    ratio = statistics.median(ratios)
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    out = (
        f"{label:24} intake {intake['rps']:6.1f}/s p50 {intake['p50']:6.1f} ms p99 {intake['p99']:7.1f} ms | "
        f"floor {floor['rps']:6.1f}/s p50 {floor['p50']:6.1f} ms p99 {floor['p99']:7.1f} ms | "
        f"ratio {ratio:4.2f} ({verdict} ≥ {TARGET_RATIO}; rounds {rounds}) [n={intake['n']}]"
    )
    if six is not None:
        alone = f"{six['rps']:6.1f}/s p50 {six['p50']:6.1f} ms p99 {six['p99']:7.1f} ms"
        out += f"\n{'':24} (the same 7 rows written alone: {alone}; intake ÷ that {intake['rps'] / six['rps']:4.2f})"
    return out


def run(label: str, factory) -> list[str]:
    with factory() as engine:
        if engine is None:
            return [f"{label}: skipped (no server)"]
        build_demo(engine, scale=0.1, until=datetime.now(UTC))
        work = bodies(engine, ROUNDS * (WARMUP + REQUESTS))
        lines = [line(f"{label} in-process", *in_process(engine, work))]
        lines.append(line(f"{label} HTTP", *over_http(engine, work)))
        with transaction(engine) as s:
            # Every intake was placed in a building by its point and routed to someone.
            bad = s.scalar(
                select(Report.id).where(Report.description.like("基准测试上报%"), Report.place_source != "polygon")
            )
        assert bad is None, bad
        return lines


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lines = run("sqlite", lambda: sqlite_db(tmp)) + run("postgresql", postgres_db)
    print(
        f"report intake vs a bare insert of the same row, {CLIENTS} concurrent clients, "
        f"{ROUNDS} alternating rounds of {REQUESTS} requests each; the ratio is the rounds' median"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
