"""Importing 10,000 residents from one .xlsx into a fresh database.

Target (issue: Excel in, Excel out): well under 10 s for the whole import (reading the
workbook, checking every row, creating households, inserting, committing). The file is
written by openpyxl, whose inline strings are slower to read than the shared strings Excel
writes, so this is the harder case. Runs on SQLite and, when reachable, on PostgreSQL.
"""

import io
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import postgres_db, sqlite_db
from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.grid import service as grid
from renxing.grid.models import Building, Household, Level
from renxing.people import importer
from renxing.people.idcard import make_id_number
from renxing.people.models import Resident

TARGET_S = 10.0
RESIDENTS = 10_000
BUILDINGS = 100
HEADERS = [
    "姓名", "性别", "出生日期", "身份证号", "联系电话", "楼栋", "单元", "门牌号", "与户主关系", "是否户籍在本社区",
    "是否实际居住", "独居", "慢性病", "特殊需求", "紧急联系人", "紧急联系电话", "党员",
]  # fmt: skip
RELATIONS = ("户主", "配偶", "子女")
REPEAT = 3


def build_grid(engine) -> None:
    """One street, community, compound and area with 100 buildings, through the services."""
    with transaction(engine) as s:
        street = grid.create_unit(s, SYSTEM, level=Level.street, code="BS", name="基准街道")
        community = grid.create_unit(s, SYSTEM, level=Level.community, code="BC", name="基准社区", parent_id=street.id)
        compound = grid.create_unit(s, SYSTEM, level=Level.compound, code="BP", name="基准苑", parent_id=community.id)
        area = grid.create_unit(s, SYSTEM, level=Level.area, code="BA", name="基准片区", parent_id=compound.id)
        for b in range(BUILDINGS):
            unit = grid.create_unit(
                s, SYSTEM, level=Level.building, code=f"BB{b + 1}", name=f"{b + 1}栋", parent_id=area.id
            )
            s.add(Building(id=unit.id, units=3, floors=6, year_built=1985))


def register_xlsx(residents: int = RESIDENTS) -> bytes:
    """A filled-in register: valid, unique ID numbers; households of 2.5 people; some vulnerable."""
    # A normal (not write-only) workbook stores the sheet's dimension up front, as Excel does;
    # without it openpyxl reads the whole sheet once more just to size it.
    wb = Workbook()
    ws = wb.active
    ws.title = "居民信息"
    ws.append(HEADERS)
    start = date(1930, 1, 1)
    per_building = residents // BUILDINGS
    for i in range(residents):
        born = start + timedelta(days=(i // 500) * 61)
        gender = "M" if i % 2 else "F"
        household = i // 5 * 2 + (1 if i % 5 >= 2 else 0)  # 2 then 3 people
        building = i // per_building % BUILDINGS + 1
        local = household % (per_building * 2 // 5)  # the household's place in its building: unit, floor, door
        ws.append([
            f"居民{i}",
            "男" if gender == "M" else "女",
            born,
            make_id_number("320106", born, (i % 500) * 2 + i % 2, gender),
            f"138{i:08d}",
            f"{building}栋",
            local % 3 + 1,
            f"{local // 9 + 1}0{local // 3 % 3 + 1}",
            RELATIONS[min(i % 5 if i % 5 < 2 else i % 5 - 2, 2)],
            "是",
            "是",
            "是" if i % 17 == 0 else "否",
            "高血压" if i % 7 == 0 else None,
            "轮椅" if i % 97 == 0 else None,
            f"联系人{i}",
            f"139{i:08d}",
            "是" if i % 20 == 0 else "否",
        ])  # fmt: skip
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def measure(engine, data: bytes) -> dict[str, float]:
    build_grid(engine)
    t0 = time.perf_counter()
    with transaction(engine) as s:
        report = importer.import_file(s, SYSTEM, "residents", "register.xlsx", data, mode="preview")
    preview = time.perf_counter() - t0
    assert report.valid, report.errors[:5]
    t0 = time.perf_counter()
    with transaction(engine) as s:
        report = importer.import_file(s, SYSTEM, "residents", "register.xlsx", data, mode="commit")
    commit = time.perf_counter() - t0
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(Resident)) == RESIDENTS
        households = s.scalar(select(func.count()).select_from(Household))
    assert report.created_residents == RESIDENTS and report.created_households == households
    return {"preview": preview, "commit": commit, "households": households}


def best(factory, data: bytes) -> dict[str, float] | None:
    """The fastest of a few runs, each into a fresh database: the machine may be busy."""
    runs = []
    for _ in range(REPEAT):
        with factory() as engine:
            if engine is None:
                return None
            runs.append(measure(engine, data))
    return {key: min(r[key] for r in runs) for key in runs[0]}


def line(label: str, result: dict[str, float] | None) -> str:
    if result is None:
        return f"{label:10} skipped (no server)"
    total = result["commit"]
    return (
        f"{label:10} import {RESIDENTS:,} residents: {total:.1f} s, {RESIDENTS / total:,.0f} rows/s "
        f"(target {TARGET_S:.0f} s, {TARGET_S / total:.1f}× faster); "
        f"preview alone {result['preview']:.1f} s; {result['households']:,.0f} households created"
    )


def main() -> None:
    t0 = time.perf_counter()
    data = register_xlsx()
    print(
        f"generated register.xlsx: {len(data) / 1e6:.1f} MB, {len(HEADERS)} columns, {time.perf_counter() - t0:.1f} s"
    )
    print(f"best of {REPEAT} runs, each into a fresh database")
    with tempfile.TemporaryDirectory() as tmp:
        print(line("sqlite", best(lambda: sqlite_db(tmp), data)))
    print(line("postgresql", best(postgres_db, data)))


if __name__ == "__main__":
    main()
