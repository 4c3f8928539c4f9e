"""The stock ledger at 1,000,000 movements: levels, a 5,000-line count and ``renxing supplies check``.

Targets (issue: supplies): the balance of one point, and a whole community's stock by item, under
50 ms each over a ledger of 1,000,000 movements; posting a 5,000-line stock count under 2 s;
``renxing supplies check`` over the 1,000,000 movements: time reported.

The ledger is not posted entry by entry (that would take hours and measure nothing asked): it is
bulk-inserted straight into ``supply_movements`` with Core (COPY on PostgreSQL), and the balances
are computed from the same rows and inserted beside them, so ledger and balances agree exactly as
if ``ledger.post`` had written them — which the timed ``check`` confirms (0 differences); on
PostgreSQL the tables are then vacuumed, as a database settles after a bulk load. The
street: two communities (``common.synthetic_register``), each with a community store, 10 partner
sites, 5 shelter stores and the household kits of its 100 buildings (232 points); the 14 catalogue
items, 3 lots each of those kept by lot; per point × item × lot a history of receipts, issues,
adjustments and write-offs that never goes below zero; plus one big store holding 5,000 lots, the
one counted. Timed as a community staff member, each read in a fresh session (as a request has),
median of 30 after one warm-up: ``stock.point_levels`` (a community store, and the big store with
its 5,000 lots), ``stock.community_stock`` (by item, every point of the community), the first
ledger page of the community; then ``counts.post_count`` of 5,000 lines each differing from the
book (5,000 adjustments posted, commit included), then ``check.check``.

    .venv/bin/python bench/bench_supplies_ledger.py               # SQLite
    .venv/bin/python bench/bench_supplies_ledger.py --postgres    # PostgreSQL (RENXING_BENCH_POSTGRES_URL)
    .venv/bin/python bench/bench_supplies_ledger.py --movements 100000
"""

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median, postgres_db, sqlite_db, synthetic_register
from renxing.auth import service as auth_service
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM
from renxing.db import session_factory, transaction
from renxing.grid.models import GridUnit
from renxing.listing import ListQuery
from renxing.supplies import check, counts, stock
from renxing.supplies.counts import CountLine
from renxing.supplies.models import Balance, Movement, StoragePoint, SupplyItem

TARGET_READ_MS = 50.0
TARGET_COUNT_S = 2.0
REPEAT = 30
COUNT_LINES = 5_000
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TODAY = date(2026, 1, 1)
COLUMNS = [
    "id",
    "kind",
    "item_id",
    "point_id",
    "path",
    "lot",
    "expiry",
    "quantity",
    "reason",
    "occurred_at",
    "recorded_at",
    "user_id",
    "reverses_id",
    "transfer_id",
    "agreement_id",
    "count_id",
    "run_id",
    "note",
]


def build_points(engine) -> tuple[dict[str, int], list[tuple[int, str]], int]:
    """The street's points: (community unit ids, [(point id, path)], the big store's id)."""
    ids = synthetic_register(engine, 5_000, per_building=25)  # 200 buildings, 2 communities
    rows = []
    with transaction(engine) as s:
        communities = s.execute(select(GridUnit.id, GridUnit.path).where(GridUnit.level == "community")).all()
        buildings = s.execute(select(GridUnit.id, GridUnit.path).where(GridUnit.level == "building")).all()
        for cid, cpath in communities:
            rows.append(("community_store", cid, cpath, "储备点", None))
            rows += [("partner_site", cid, cpath, f"协议单位{n}", None) for n in range(10)]
            rows += [("shelter_store", cid, cpath, f"避难场所{n}", None) for n in range(5)]
            rows += [
                ("household_kits", cid, bpath, f"家庭应急包{bid}", bid)
                for bid, bpath in buildings
                if bpath.startswith(cpath)
            ]
        cid, cpath = communities[0]
        rows.append(("community_store", cid, cpath, "中心库", None))
        s.execute(
            insert(StoragePoint),
            [
                {"unit_id": c, "path": p, "name": n, "kind": k, "building_id": b, "active": True}
                for k, c, p, n, b in rows
            ],
        )
        points = s.execute(
            select(StoragePoint.id, StoragePoint.path, StoragePoint.name).order_by(StoragePoint.id)
        ).all()
    big = next(pid for pid, _path, name in points if name == "中心库")
    return ids, [(pid, path) for pid, path, _name in points if pid != big], big


def history(rng: random.Random, n: int) -> Iterator[tuple[str, int, str | None]]:
    """n movements of one lot that never take it below zero: (kind, signed quantity, reason)."""
    level = 0
    for k in range(n):
        roll = rng.random()
        if k == 0 or level == 0 or roll < 0.35:
            kind, q, reason = "receipt", rng.randint(10, 200), None
        elif roll < 0.9:
            kind, q, reason = "issue", -rng.randint(1, min(level, 40)), None
        elif roll < 0.96:
            q = rng.randint(-min(level, 5), 5) or 1
            kind, reason = "adjustment", "lost" if q < 0 else "found"
        else:
            kind, q, reason = "write_off", -rng.randint(1, min(level, 10)), "damaged"
        level += q
        yield kind, q, reason


def ledger_rows(points, big: int, big_path: str, items, total: int, rng: random.Random):
    """Every movement row and the balances they add up to."""
    keys = []  # (point, path, item, lot, expiry)
    for pid, path in points:
        for item_id, lot_tracked in items:
            lots = [TODAY + timedelta(days=d) for d in (-20, 45, 400)] if lot_tracked else [None]
            keys += [(pid, path, item_id, e.isoformat() if e else "", e) for e in lots]
    water = next(i for i, tracked in items if tracked)
    big_keys = [(big, big_path, water, f"L{n:05d}", TODAY + timedelta(days=30 + n % 700)) for n in range(COUNT_LINES)]
    per_key, extra = divmod(max(len(keys), total - 2 * len(big_keys)), len(keys))
    rows, balances = [], []
    mid = 0
    span = (datetime(2025, 12, 31, tzinfo=UTC) - T0).total_seconds()
    for key, n in [(k, per_key + (i < extra)) for i, k in enumerate(keys)] + [(k, 2) for k in big_keys]:
        pid, path, item_id, lot, expiry = key
        level = 0
        for kind, q, reason in history(rng, n):
            mid += 1
            at = T0 + timedelta(seconds=span * mid / total)
            rows.append(
                (
                    mid,
                    kind,
                    item_id,
                    pid,
                    path,
                    lot,
                    expiry,
                    q,
                    reason,
                    at,
                    at,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                )
            )
            level += q
        balances.append(
            {
                "point_id": pid,
                "item_id": item_id,
                "lot": lot,
                "expiry": expiry,
                "path": path,
                "quantity": level,
                "updated_at": T0,
            }
        )
    return rows, balances


def load(engine, rows, balances) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY supply_movements ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            top = "(SELECT max(id) FROM supply_movements)"
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('supply_movements', 'id'), {top})"))
        else:
            for start in range(0, len(rows), 50_000):
                conn.execute(
                    insert(Movement.__table__),
                    [dict(zip(COLUMNS, r, strict=True)) for r in rows[start : start + 50_000]],
                )
        conn.execute(insert(Balance.__table__), balances)
        conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # As a database settles after a bulk load: visibility map set, so reads skip the heap.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE supply_movements, supply_balances"))


def timed_ms(fn) -> float:
    fn()
    out = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return median(out)


def measure(engine, total: int) -> list[str]:
    rng = random.Random(12)
    t0 = time.perf_counter()
    ids, points, big = build_points(engine)
    with transaction(engine) as s:
        items = s.execute(select(SupplyItem.id, SupplyItem.lot_tracked).order_by(SupplyItem.id)).all()
        big_path = s.get(StoragePoint, big).path
        user = auth_service.create_user(
            s,
            SYSTEM,
            username="bench",
            password="bench-password",
            role=Role.community_staff,
            display_name="bench",
            scope_unit_ids=[ids["community"]],
        )
        actor = auth_service.principal_for(s, user)
    rows, balances = ledger_rows(points, big, big_path, [(i, bool(t)) for i, t in items], total, rng)
    built = time.perf_counter() - t0
    load(engine, rows, balances)
    loaded = time.perf_counter() - t0 - built
    store = next(pid for pid, path in points if path == big_path)
    with transaction(engine) as s:
        movements = s.scalar(select(func.count()).select_from(Movement))
        n_balances = s.scalar(select(func.count()).select_from(Balance))
    out = [
        f"  ledger: {movements:,} movements, {n_balances:,} balances, {len(points) + 1} points "
        f"(generated {built:.1f} s, loaded {loaded:.1f} s)"
    ]
    factory = session_factory(engine)

    def read(fn):
        def once():
            with factory() as s, s.begin():
                fn(s)

        return once

    reads = [
        ("balance of one point (a community store, ~30 lots)", read(lambda s: stock.point_levels(s, actor, store))),
        (
            f"balance of one point (the big store, {COUNT_LINES:,} lots)",
            read(lambda s: stock.point_levels(s, actor, big)),
        ),
        ("a whole community's stock by item", read(lambda s: stock.community_stock(s, actor, ids["community"]))),
        (
            "the community's ledger, first page of 50",
            read(lambda s: stock.ledger_page(s, actor, ListQuery(size=50), unit_id=ids["community"])),
        ),
    ]
    for label, fn in reads:
        ms = timed_ms(fn)
        target = f"  vs {TARGET_READ_MS:.0f} ms: {TARGET_READ_MS / ms:5.1f}× headroom" if "ledger" not in label else ""
        out.append(f"  {label:55} median {ms:7.1f} ms{target}")
    with transaction(engine) as s:
        held = {(b.item_id, b.lot): b.quantity for b in s.scalars(select(Balance).where(Balance.point_id == big))}
    lines = [
        CountLine(item_id, max(0, q - 1) if q else 1, lot, reason="damaged" if q else "found")
        for (item_id, lot), q in held.items()
    ]
    t1 = time.perf_counter()
    with transaction(engine) as s:
        result = counts.post_count(s, actor, big, lines, note="bench")
    posted = time.perf_counter() - t1
    out.append(
        f"  stock count of {len(lines):,} lines ({len(result.movement_ids):,} adjustments posted, commit included): "
        f"{posted:.2f} s  vs {TARGET_COUNT_S:.0f} s: {TARGET_COUNT_S / posted:4.1f}× headroom"
    )
    with transaction(engine) as s:
        result = check.check(s)
    out.append(
        f"  check: {result.movements:,} movements, {result.balances:,} balances, "
        f"{len(result.differences)} differences: {result.seconds:.2f} s"
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--postgres", action="store_true", help="on PostgreSQL (RENXING_BENCH_POSTGRES_URL)")
    ap.add_argument("--movements", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        factory = postgres_db if args.postgres else (lambda: sqlite_db(tmp))
        with factory() as engine:
            if engine is None:
                print("postgresql: skipped (no server)")
                return
            print(f"{engine.dialect.name}: stock ledger of {args.movements:,} movements")
            print("\n".join(measure(engine, args.movements)))


if __name__ == "__main__":
    main()
