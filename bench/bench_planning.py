"""Evacuation planning from the database, end to end, on the demo street.

Target (issue 4): the evacuation plan of a demo community under 1 s on this machine. Timed for each
community and saved scenario (earthquake: everybody; rainstorm: the flood bands; fire), with the
cache emptied first: reading the register, shelters, roads and zones, building the walking network,
the exact assignment (``space.evacuation.plan``) and shaping the answer — what the page and
``POST /api/v1/space/plan`` do. Then the same plan again from the cache, the school what-if (two plans
plus coverage), coverage alone, and the siting of 1 and 2 conversion candidates.

The demo street is built at scale 1 first (minutes: it comes with months of reports), unless
``--db URL`` names an existing demo database.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import sqlite_db
from renxing.auth.principal import SYSTEM
from renxing.db import make_engine, transaction
from renxing.demo.build import build_demo
from renxing.grid.models import GridUnit
from renxing.space.models import Shelter, ShelterStatus
from renxing.space.planning import coverage, plan, scenarios, siting, spec, whatif

TARGET_S = 1.0
REPEAT = 5


def ms(fn, repeat: int = REPEAT, cold: bool = True) -> tuple[float, object]:
    """Median milliseconds of ``fn`` (the plan cache emptied before each call when ``cold``)."""
    out, result = [], None
    for _ in range(repeat):
        if cold:
            plan._cache.clear()
        t0 = time.perf_counter()
        result = fn()
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out), result


def run(engine) -> None:
    worst = 0.0
    with transaction(engine) as s:
        names = {c.id: c.name for c in s.scalars(select(GridUnit).where(GridUnit.level == "community"))}
        head = ("community", "scenario", "bldgs", "persons", "unplaced", "cold ms", "cached")
        print("{:<12} {:<10} {:>5} {:>7} {:>8} {:>8} {:>7}".format(*head))
        for sc in scenarios.list_scenarios(s, SYSTEM):
            spec_ = spec.spec_of(sc)
            cold, result = ms(lambda spec_=spec_: plan.plan(s, SYSTEM, spec_))
            warm, _ = ms(lambda spec_=spec_: plan.plan(s, SYSTEM, spec_), cold=False)
            worst = max(worst, cold)
            t = result["totals"]
            print(
                f"{names[sc.unit_id]:<10} {sc.name:<8} {t['buildings']:>5} {t['persons']['total']:>7} "
                f"{t['unplaced']:>8} {cold:>8.0f} {warm:>7.1f}"
            )
        print(f"slowest cold plan: {worst:.0f} ms = {worst / 1000 / TARGET_S:.2f} × the {TARGET_S:.0f} s target")
        for c_id, name in names.items():
            cands = s.scalars(
                select(Shelter.id).where(Shelter.unit_id == c_id, Shelter.status == ShelterStatus.candidate.value)
            ).all()
            if not cands:
                continue
            spec_ = spec.Spec(community_id=c_id, evacuate_all=True)
            t_whatif, w = ms(lambda spec_=spec_, cands=cands: whatif.what_if(s, SYSTEM, spec_, [cands[0]]))
            t_cov, _ = ms(lambda spec_=spec_: coverage.coverage(s, SYSTEM, spec_))
            print(
                f"{name}: what-if (open {len(cands[:1])} candidate, two plans + coverage) {t_whatif:.0f} ms, "
                f"unplaced {w['base']['totals']['unplaced']} → {w['alt']['totals']['unplaced']}, "
                f"{len(w['gains'])} buildings gain; coverage {t_cov:.0f} ms"
            )
            for k in range(1, min(2, len(cands)) + 1):
                t_site, r = ms(lambda spec_=spec_, k=k, c_id=c_id: siting.siting(s, SYSTEM, c_id, k, spec_), repeat=3)
                chosen = ", ".join(c["name"] for c in r["chosen"])
                print(f"{name}: siting k={k} {t_site:.0f} ms ({r['status']}): {chosen}")
        s.rollback()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="an existing demo database URL (default: build one on SQLite)")
    args = ap.parse_args()
    if args.db:
        engine = make_engine(args.db)
        run(engine)
        engine.dispose()
        return
    with tempfile.TemporaryDirectory() as tmp, sqlite_db(tmp) as engine:
        t0 = time.perf_counter()
        build_demo(engine, scale=1.0)
        print(f"demo street built in {time.perf_counter() - t0:.0f} s (SQLite)")
        run(engine)


if __name__ == "__main__":
    main()
