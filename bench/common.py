"""Helpers shared by the benchmarks: throwaway databases and a fast synthetic register."""

import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from renxing import migrate
from renxing.db import make_engine
from renxing.grid.models import Building, GridUnit, Household
from renxing.people.idcard import make_id_number
from renxing.people.models import Resident

PG_URL = os.environ.get(
    "RENXING_BENCH_POSTGRES_URL", "postgresql+psycopg://renxing:renxing@127.0.0.1:5432/renxing_test"
)


@contextmanager
def sqlite_db(tmpdir: str) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmpdir}/bench-{uuid.uuid4().hex[:8]}.db")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@contextmanager
def postgres_db() -> Iterator[Engine | None]:
    """A throwaway PostgreSQL database, or None when no server answers."""
    base = make_url(PG_URL)
    name = f"renxing_b_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        yield None
        return
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def synthetic_register(engine: Engine, residents: int, per_building: int = 100, areas_per_community: int = 10):
    """A street of communities → one compound each → areas → buildings → households of 2.5.

    Returns the unit ids {"street", "community", "area"} of the first community/area.
    """
    buildings = max(1, residents // per_building)
    communities = max(1, buildings // (areas_per_community * 10))
    units: list[dict] = []
    bld_rows: list[dict] = []
    next_id = 1

    def add(level: str, parent: dict | None, name: str) -> dict:
        nonlocal next_id
        row = {
            "id": next_id,
            "parent_id": parent["id"] if parent else None,
            "level": level,
            "code": f"{level[:2]}{next_id}",
            "name": name,
            "path": f"{parent['path'] if parent else '/'}{next_id}/",
        }
        next_id += 1
        units.append(row)
        return row

    street = add("street", None, "基准街道")
    building_units: list[dict] = []
    for c in range(communities):
        community = add("community", street, f"社区{c + 1}")
        compound = add("compound", community, f"苑区{c + 1}")
        for a in range(areas_per_community):
            area = add("area", compound, f"片区{c + 1}-{a + 1}")
            for b in range(max(1, buildings // (communities * areas_per_community))):
                building_units.append(add("building", area, f"{b + 1}栋"))
    for b in building_units:
        bld_rows.append({"id": b["id"], "units": 3, "floors": 6, "year_built": 1985})
    households: list[dict] = []
    residents_rows: list[dict] = []
    hh_id = 1
    start_day = date(1930, 1, 1)
    for i in range(residents):
        b = building_units[i // per_building % len(building_units)]
        if i % 5 in (0, 2):  # households of 2.5 people
            households.append(
                {"id": hh_id, "building_id": b["id"], "path": b["path"], "unit_no": 1 + hh_id % 3, "room": str(hh_id)}
            )
            hh_id += 1
        # (birth day, sequence) pairs never repeat, so every ID number is valid and unique
        born = start_day + timedelta(days=(i // 500) * 61)
        gender = "M" if i % 2 else "F"
        residents_rows.append(
            {
                "household_id": hh_id - 1,
                "path": b["path"],
                "name": f"居民{i}",
                "gender": gender,
                "birth_date": born,
                "id_number": make_id_number("320106", born, (i % 500) * 2 + i % 2, gender),
                "phone": f"138{i:08d}",
                "mobility": "normal",
                "living_alone": i % 17 == 0,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(GridUnit), units)
        conn.execute(insert(Building), bld_rows)
        for start in range(0, len(households), 20_000):
            conn.execute(insert(Household), households[start : start + 20_000])
        for start in range(0, len(residents_rows), 20_000):
            conn.execute(insert(Resident), residents_rows[start : start + 20_000])
        if engine.dialect.name == "postgresql":
            for table in ("grid_units", "households", "residents"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    first_community = next(u for u in units if u["level"] == "community")
    first_area = next(u for u in units if u["level"] == "area")
    return {"street": street["id"], "community": first_community["id"], "area": first_area["id"]}


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each call, after one warm-up call."""
    fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)
