"""The resident export of the demo's flagship community (桂花园, about 9,600 residents).

Target (issue: security hardening, "Also"): one request of
``GET /api/v1/residents/export.xlsx?unit_id=…`` under 3 s, through the whole stack as the
community's secretary (every field in the clear, so the export is also audited), and the
same for the street administrator (masked). Builds the demo street on SQLite first (about
30 s), or uses the database named by ``RENXING_BENCH_DEMO_URL``. Median of 5 requests after
one warm-up; the peak RSS growth of one request is printed too (the file is spooled, then
sent in pieces).
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_attack_files import MB, Sampler, _rss
from renxing import migrate
from renxing.app import create_app
from renxing.db import make_engine, transaction
from renxing.demo.build import DEMO_PASSWORD, build_demo
from renxing.grid.models import GridUnit

TARGET_S = 3.0
REPEAT = 5


def measure(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with transaction(engine) as s:
        community = s.scalars(select(GridUnit).where(GridUnit.level == "community").order_by(GridUnit.id)).first()
        unit_id, name = community.id, community.name
    with TestClient(create_app(engine, upgrade=False)) as client:
        for user in ("secretary", "street"):
            tok = client.post("/api/v1/auth/token", data={"username": user, "password": DEMO_PASSWORD})
            headers = {"Authorization": f"Bearer {tok.json()['access_token']}"}

            def once(headers=headers) -> int:
                r = client.get("/api/v1/residents/export.xlsx", params={"unit_id": unit_id}, headers=headers)
                assert r.status_code == 200, r.text
                return len(r.content)

            size = once()
            times = []
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                once()
                times.append(time.perf_counter() - t0)
            base = _rss()
            with Sampler() as sampler:
                once()
            median = statistics.median(times)
            print(
                f"{name} as {user:9}: {size / 1024:6.0f} KB  median {median:5.2f} s  "
                f"(min {min(times):.2f}, max {max(times):.2f})  RSS peak +{(sampler.peak - base) / MB:5.1f} MB  "
                f"vs {TARGET_S:.0f} s target: {TARGET_S / median:4.1f}× headroom"
            )
    engine.dispose()


def main() -> None:
    url = os.environ.get("RENXING_BENCH_DEMO_URL")
    if url:
        measure(url)
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("RENXING_MEDIA_DIR", f"{tmp}/media")
        url = f"sqlite:///{tmp}/demo.db"
        engine = make_engine(url)
        migrate.upgrade(engine)
        t0 = time.perf_counter()
        build_demo(engine)
        engine.dispose()
        print(f"demo street built in {time.perf_counter() - t0:.0f} s")
        measure(url)


if __name__ == "__main__":
    main()
