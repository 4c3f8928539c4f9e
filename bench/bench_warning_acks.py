"""Acknowledgements over HTTP: households tapping their links while a warning goes out.

Target (issue 13): at least 1,000 acknowledgements per second over HTTP with 16 concurrent
clients, on SQLite and on PostgreSQL.

Set-up: a synthetic street (``common.synthetic_register``, 50,000 households), one orange warning
to all of it sent through ``reach.start`` (a target per household, deliveries on two channels),
and every household's token. The real app (``create_app``) is served by uvicorn on 127.0.0.1 in a
subprocess, one worker. The load is ``POST /api/v1/warning/ack/{token}``, each request a distinct
household, from 16 connections: Debian's ``wrk`` (2 threads, a Lua script handing out the tokens)
when installed, else 16 ``httpx.AsyncClient`` tasks in a process of their own.

While ``app.py`` includes the household's router after the others, a second server with that
router moved first is measured too (the order the app is asked to take): FastAPI tries routes in
order, and a tap matched after every other route spends much of its time in that search.

The client must not be the bottleneck: the same client, with the same 16 connections, is first
pointed at a bare FastAPI app answering an empty POST (the client's ceiling on this machine), and
its CPU time is reported. After each round the database is checked: every 200 is one target
acknowledged, no answer other than 200, and the warning's counter equals the targets acknowledged.

    python bench/bench_warning_acks.py                 # both databases
    python bench/bench_warning_acks.py --serve URL PORT real|bare   # (the server subprocess)
"""

import asyncio
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import postgres_db, sqlite_db, synthetic_register
from renxing.app import create_app
from renxing.config import get_settings
from renxing.db import make_engine, transaction
from renxing.grid.models import GridUnit
from renxing.warning import ack_pages, reach, tokens
from renxing.warning.models import WarningMessage, WarningTarget

CLIENTS = 16
RESIDENTS = 125_000  # 50,000 households of 2.5
ROUNDS = 3
SECONDS = 3  # per round; each round uses fresh households
TARGET = 1000.0
WRK = shutil.which("wrk")

LUA = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  per = math.floor(#tokens / %(threads)d)
  first = id * per
  statuses = {}
end
function request()
  counter = counter + 1
  local token = tokens[first + ((counter - 1) %% per) + 1]
  return wrk.format("POST", "/api/v1/warning/ack/" .. token)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do io.write(string.format("status %%d %%d\\n", code, n)) end
  end
  io.write(string.format("latency_p50_ms %%.2f\\n", latency:percentile(50) / 1000))
  io.write(string.format("latency_p99_ms %%.2f\\n", latency:percentile(99) / 1000))
end
"""


# ---- servers ------------------------------------------------------------------------------


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/v1/warning/ack/{token}")
    async def ack(token: str) -> dict:
        return {"ok": True}

    return app


def ack_router_first(app: FastAPI) -> bool:
    """Whether the household's routes are the first the app matches a request against."""
    included = [getattr(r, "original_router", None) for r in app.router.routes]
    return ack_pages.router in included and included.index(ack_pages.router) == min(
        i for i, r in enumerate(included) if r is not None
    )


def move_ack_router_first(app: FastAPI) -> None:
    """The order ``app.py`` is asked to include routers in: the household's routes before the
    others (FastAPI tries the routes in order, and a tap matched after every other route
    spends most of its time in that search)."""
    routes = app.router.routes
    at = next(i for i, r in enumerate(routes) if getattr(r, "original_router", None) is ack_pages.router)
    routes.insert(0, routes.pop(at))


def serve(url: str, port: int, which: str) -> None:
    if which == "bare":
        app = bare_app()
    else:
        app = create_app(make_engine(url), upgrade=False)
        if which == "first":
            move_ack_router_first(app)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, which: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port), which], env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{base}/nothing-here", timeout=1)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the server did not start")


# ---- the warning ----------------------------------------------------------------------------


def prepare(engine: Engine) -> tuple[int, list[str]]:
    """A sent orange warning to the whole synthetic street, and each household's token."""
    units = synthetic_register(engine, RESIDENTS)
    now = datetime.now(UTC)
    with transaction(engine) as s:
        street = s.get(GridUnit, units["street"])
        warning = WarningMessage(
            identifier=f"RX-BENCH-{int(time.time())}",
            status="sent",
            level="orange",
            event="暴雨内涝",
            headline="暴雨橙色预警（基准测试）",
            description="基准测试",
            instruction="请远离低洼地带。",
            unit_id=street.id,
            path=street.path,
            area_desc=street.name,
            channels=["in_app", "sms"],
            sent_at=now,
            effective=now,
        )
        s.add(warning)
        s.flush()
        started = time.perf_counter()
        households = reach.start(s, warning, now).households
        print(f"  reach.start: {households} households, {time.perf_counter() - started:.2f} s")
        ids = list(s.scalars(select(WarningTarget.id).where(WarningTarget.warning_id == warning.id)))
        warning_id = warning.id
    secret = get_settings().secret_key
    return warning_id, [tokens.make(secret, warning_id, t) for t in ids]


def acknowledged(engine: Engine, warning_id: int) -> tuple[int, int]:
    """(the warning's counter, targets acknowledged): must be equal."""
    with transaction(engine) as s:
        counter = s.scalar(select(WarningMessage.acknowledged).where(WarningMessage.id == warning_id))
        real = s.scalar(
            select(func.count())
            .select_from(WarningTarget)
            .where(WarningTarget.warning_id == warning_id, WarningTarget.acknowledged_at.is_not(None))
        )
    return counter or 0, real or 0


# ---- load ---------------------------------------------------------------------------------


def with_wrk(base: str, batch: list[str], seconds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tokens.txt"
        path.write_text("\n".join(batch) + "\n")
        script = Path(tmp) / "acks.lua"
        script.write_text(LUA % {"tokens": path, "threads": 2})
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            [WRK, "-t2", f"-c{CLIENTS}", f"-d{seconds}s", "--latency", "-s", str(script), base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    statuses: dict[int, int] = {}
    for code, n in re.findall(r"^status (\d+) (\d+)$", out, re.M):
        statuses[int(code)] = statuses.get(int(code), 0) + int(n)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = float(re.search(r"latency_p50_ms ([\d.]+)", out).group(1))
    p99 = float(re.search(r"latency_p99_ms ([\d.]+)", out).group(1))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"rps": rps, "p50": p50, "p99": p99, "statuses": statuses, "client_cpu": cpu / seconds}


async def _hammer(base: str, batch: list[str], seconds: int) -> dict:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    queue = list(reversed(batch))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while queue and time.perf_counter() < deadline:
                token = queue.pop()
                t0 = time.perf_counter()
                r = await client.post(f"/api/v1/warning/ack/{token}")
                latencies.append(time.perf_counter() - t0)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        wall = time.perf_counter() - started
    xs = sorted(latencies)
    return {
        "rps": len(xs) / wall,
        "p50": statistics.median(xs) * 1000,
        "p99": xs[round(0.99 * (len(xs) - 1))] * 1000,
        "statuses": statuses,
        "client_cpu": time.process_time() / wall,
    }


def load(base: str, batch: list[str], seconds: int) -> dict:
    if WRK:
        return with_wrk(base, batch, seconds)
    return asyncio.run(_hammer(base, batch, seconds))


def measure(url: str, which: str, batch: list[str], answered: list[int]) -> list[dict]:
    """Warm-up, then ROUNDS rounds on fresh households; every 200 is added to ``answered``."""
    proc, base = start_server(url, which)
    try:
        warm = load(base, batch[:200], 1)
        per = (len(batch) - 200) // ROUNDS
        rounds = [load(base, batch[200 + k * per : 200 + (k + 1) * per], SECONDS) for k in range(ROUNDS)]
        answered += [r["statuses"].get(200, 0) for r in (warm, *rounds)]
        return rounds
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(label: str, factory, ceiling: dict) -> list[str]:
    with factory() as engine:
        if engine is None:
            return [f"{label}: skipped (no server)"]
        print(f"{label}:")
        warning_id, all_tokens = prepare(engine)
        url = engine.url.render_as_string(hide_password=False)
        half = len(all_tokens) // 2
        answered: list[int] = []
        lines = [line(f"{label}, app", measure(url, "real", all_tokens[:half], answered), ceiling)]
        if not ack_router_first(create_app(engine, upgrade=False)):
            lines.append(line(f"{label}, ack first", measure(url, "first", all_tokens[half:], answered), ceiling))
        counter, real = acknowledged(engine, warning_id)
        ok = sum(answered)
        # wrk stops listening at the end of a round: the requests then in flight (at most one per
        # connection) are acknowledged without their 200 being counted.
        assert counter == real and 0 <= real - ok <= CLIENTS * 2 * (ROUNDS + 1), (counter, real, ok)
        return [*lines, f"{'':18} counter {counter} = targets acknowledged {real}; answers 200 counted {ok}"]


def line(label: str, rounds: list[dict], ceiling: dict) -> str:
    ok = sum(r["statuses"].get(200, 0) for r in rounds)
    other = {c: n for r in rounds for c, n in r["statuses"].items() if c != 200}
    rps = statistics.median(r["rps"] for r in rounds)
    verdict = "meets" if rps >= TARGET else "misses"
    p50 = statistics.median(r["p50"] for r in rounds)
    p99 = statistics.median(r["p99"] for r in rounds)
    cpu = statistics.median(r["client_cpu"] for r in rounds)
    rounds_text = ", ".join(f"{r['rps']:.0f}" for r in rounds)
    return (
        f"{label:18} {rps:5.0f} acks/s (rounds {rounds_text}) p50 {p50:5.1f} ms p99 {p99:6.1f} ms | "
        f"ratio to {TARGET:.0f}/s {rps / TARGET:4.2f} ({verdict}) | {rps / ceiling['rps']:.0%} of the client's "
        f"ceiling, client CPU {cpu:.2f} core | 200: {ok}, other: {other or 'none'}"
    )


def main() -> None:
    client = "wrk (2 threads)" if WRK else "httpx.AsyncClient (16 tasks)"
    proc, base = start_server("sqlite://", "bare")
    try:
        load(base, ["1.x"] * 200, 1)
        ceiling = load(base, [f"{i}.x" for i in range(200_000)], SECONDS)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"client ceiling ({client}, {CLIENTS} connections, a bare FastAPI app): {ceiling['rps']:.0f} req/s")
    with tempfile.TemporaryDirectory() as tmp:
        lines = run("sqlite", lambda: sqlite_db(tmp), ceiling) + run("postgresql", postgres_db, ceiling)
    print(
        f"acknowledgements over HTTP, {CLIENTS} concurrent clients ({client}), uvicorn with one worker, "
        f"{ROUNDS} rounds of {SECONDS} s, distinct households; the figure is the rounds' median"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
