"""The scoped resident list, one page of 50, at 10,000 and 100,000 residents.

Target (issue: platform foundation): median server time under 50 ms, and growth from 10k
to 100k well under linear. Measured through the whole ASGI stack (token check, scope,
query, masking, JSON) with the in-process test client, for three scopes.
"""

import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median, postgres_db, sqlite_db, synthetic_register, timed
from renxing.app import create_app
from renxing.auth import service as auth_service
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM
from renxing.db import transaction

TARGET_MS = 50.0
SIZES = (10_000, 100_000)
SCOPES = (
    ("gridworker", Role.grid_worker, "area"),
    ("staff", Role.community_staff, "community"),
    ("street", Role.street_admin, "street"),
)


def measure(engine, residents: int) -> dict[str, float]:
    ids = synthetic_register(engine, residents)
    with transaction(engine) as s:
        for username, role, level in SCOPES:
            auth_service.create_user(
                s,
                SYSTEM,
                username=username,
                password="bench-password",
                role=role,
                display_name=username,
                scope_unit_ids=[ids[level]],
            )
    out: dict[str, float] = {}
    with TestClient(create_app(engine, upgrade=False)) as client:
        for username, _, _ in SCOPES:
            tok = client.post("/api/v1/auth/token", data={"username": username, "password": "bench-password"})
            headers = {"Authorization": f"Bearer {tok.json()['access_token']}"}
            pages = iter(range(1, 10_000))

            def one_page(headers=headers, pages=pages):
                r = client.get("/api/v1/residents", params={"page": next(pages) % 20 + 1, "size": 50}, headers=headers)
                assert r.status_code == 200 and len(r.json()["items"]) == 50

            out[username] = median(timed(one_page, 40))
    return out


def run(label: str, factory) -> list[str]:
    rows = []
    results = {}
    for n in SIZES:
        with factory() as engine:
            if engine is None:
                return [f"{label}: skipped (no server)"]
            results[n] = measure(engine, n)
    for username, _, _ in SCOPES:
        small, big = results[SIZES[0]][username], results[SIZES[1]][username]
        rows.append(
            f"{label:10} {username:10} 10k: {small:6.1f} ms  100k: {big:6.1f} ms  growth ×{big / small:4.2f} "
            f"(data ×10)  vs 50 ms target: {TARGET_MS / big:4.1f}× headroom"
        )
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lines = run("sqlite", lambda: sqlite_db(tmp)) + run("postgresql", postgres_db)
    print("scoped resident list, page of 50, median of 40 requests")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
