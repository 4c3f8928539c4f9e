"""Excel in and out: imports are checked whole and written all or nothing; templates; exports
masked as lists are; the API and the CLI around them."""

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from renxing import cli, importing
from renxing.auth.models import AuditEntry, User
from renxing.auth.principal import SYSTEM, Principal
from renxing.auth.service import principal_for
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, Invalid
from renxing.exporting import XLSX_MEDIA_TYPE
from renxing.grid import service as grid
from renxing.grid.models import Building, GridUnit, Household, Level
from renxing.people import import_residents, importer
from renxing.people.idcard import make_id_number
from renxing.people.models import Resident
from tests.kit.client import login

HEAD_ZH = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "联系电话",
    "楼栋",
    "单元",
    "门牌号",
    "与户主关系",
    "独居",
    "特殊需求",
]
HEAD_EN = [
    "Name",
    "gender",
    "Birth Date",
    "ID_number",
    "phone",
    "building",
    "unit",
    "room",
    "relation",
    "living alone",
    "special needs",
]
WANG_ID = make_id_number("320102", date(1940, 3, 5), 100, "M")  # 王建国 of the test world


def idn(seq: int, born: date = date(1950, 1, 9), gender: str = "M") -> str:
    return make_id_number("320104", born, seq, gender)


def good_rows() -> list[list]:
    return [
        ["刘一", None, None, idn(1), "13800000001", "1栋", 1, "501", "户主", "否", None],
        ["刘二", None, None, idn(2, gender="F"), "138 0000 0002", "1栋", 1, "501", "配偶", None, None],
        ["孙三", "女", "1962/3/4", None, "025-84561234", "B2", "2单元", "302", "户主", "是", "轮椅、吸氧"],
        ["王四", "男", "19800101", idn(3, date(1980, 1, 1)), None, "1", "1", "101室", "子女", "", ""],
    ]


def xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue().encode(encoding)


def principal(engine, username: str) -> Principal:
    with transaction(engine) as s:
        return principal_for(s, s.scalar(select(User).where(User.username == username)))


def count(engine, model=Resident) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def run(
    engine, who: Principal | str, data: bytes, name: str = "居民.xlsx", kind: str = "residents", mode: str = "commit"
) -> importer.ImportReport:
    actor = principal(engine, who) if isinstance(who, str) else who
    with transaction(engine) as s:
        return importer.import_file(s, actor, kind, name, data, mode=mode)


# ---- good files ---------------------------------------------------------------------------


def _check_imported(engine, world, report: importer.ImportReport) -> None:
    assert report.valid and report.committed
    assert (report.rows_read, report.created_residents, report.created_households) == (4, 4, 2)
    with transaction(engine) as s:
        by_name = {
            r.name: r for r in s.scalars(select(Resident).where(Resident.name.in_(["刘一", "刘二", "孙三", "王四"])))
        }
        liu1, liu2, sun, wang4 = by_name["刘一"], by_name["刘二"], by_name["孙三"], by_name["王四"]
        # birth date and gender come from the ID number
        assert (liu1.birth_date, liu1.gender) == (date(1950, 1, 9), "M")
        assert (liu2.birth_date, liu2.gender, liu2.phone) == (date(1950, 1, 9), "F", "13800000002")
        assert liu1.household_id == liu2.household_id  # same building, unit and room: one household
        assert wang4.household_id == world.households["H1"]  # "1" means 1栋, "101室" the existing room 101
        assert (sun.birth_date, sun.gender, sun.living_alone) == (date(1962, 3, 4), "F", True)
        assert sun.special_needs == "wheelchair,oxygen" and sun.mobility == "wheelchair"
        assert liu1.mobility == "slow"  # derived: over 60
        b1, b2 = s.get(GridUnit, world.units["B1"]), s.get(GridUnit, world.units["B2"])
        assert liu1.path == b1.path and sun.path == b2.path
        hh = s.get(Household, sun.household_id)
        assert (hh.building_id, hh.unit_no, hh.room, hh.path) == (b2.id, 2, "302", b2.path)
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "import")).one()
        assert entry.after["residents"] == 4 and entry.after["households"] == 2
        first, last = entry.after["resident_ids"]
        assert {r.id for r in by_name.values()} == set(range(first, last + 1))


def test_xlsx_with_chinese_headers_imports(engine, world):
    before = count(engine)
    report = run(engine, "secretary", xlsx([HEAD_ZH, *good_rows()]))
    _check_imported(engine, world, report)
    assert count(engine) == before + 4


def test_csv_with_english_headers_and_bom_imports(engine, world):
    report = run(engine, "secretary", csv_bytes([HEAD_EN, *good_rows()]), name="residents.csv")
    _check_imported(engine, world, report)


def test_gbk_csv_as_excel_saves_it_imports(engine, world):
    data = csv_bytes([HEAD_ZH, *good_rows()], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = run(engine, "secretary", data, name="居民.csv")
    _check_imported(engine, world, report)


def test_unknown_header_warns_and_is_ignored(engine, world):
    report = run(engine, "secretary", xlsx([[*HEAD_ZH, "微信号"], [*good_rows()[0], "abc"]]))
    assert report.valid and report.created_residents == 1
    assert [(w.field, w.row) for w in report.warnings] == [("微信号", 1)]


# ---- bad files: every error named, nothing written ----------------------------------------


def _bad_checksum() -> str:
    good = idn(5)
    return good[:-1] + ("1" if good[-1] != "1" else "2")


BAD_ROWS = {
    # case: (the bad row 3, column, part of the reason)
    "bad checksum": (["甲", None, None, _bad_checksum(), None, "1栋", 1, "601"], "身份证号", "校验位"),
    "bad phone": (["甲", None, None, None, "12345", "1栋", 1, "601"], "联系电话", "电话"),
    "unknown building": (["甲", None, None, None, None, "99栋", 1, "601"], "楼栋", "找不到"),
    "duplicate in file": (["甲", None, None, idn(1), None, "1栋", 1, "601"], "身份证号", "第 2 行"),
    "already registered": (["甲", None, None, WANG_ID, None, "1栋", 1, "601"], "身份证号", "已登记为居民"),
    "missing name": (["", None, None, idn(6), None, "1栋", 1, "601"], "姓名", "必填"),
    "bad date": (["甲", None, "1950-13-45", None, None, "1栋", 1, "601"], "出生日期", "日期"),
    "outside scope": (["甲", None, None, None, None, "3栋", 1, "601"], "楼栋", "不在您的管辖范围内"),
    "ID as a number": (["甲", None, None, int(idn(7)), None, "1栋", 1, "601"], "身份证号", "文本"),
    "bad gender": (["甲", "X", None, None, None, "1栋", 1, "601"], "性别", "男、女"),
    "bad unit": (["甲", None, None, None, None, "1栋", "一楼", "601"], "单元", "整数"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_each_bad_input_is_named_and_nothing_is_written(engine, world, case):
    bad_row, column, reason = BAD_ROWS[case]
    data = xlsx([HEAD_ZH[:8], good_rows()[0][:8], bad_row])
    residents, households, audits = count(engine), count(engine, Household), count(engine, AuditEntry)
    with pytest.raises(Invalid) as exc:
        run(engine, "secretary", data)
    hits = [e for e in exc.value.errors if e.row == 3 and e.field == column]
    assert hits, exc.value.errors
    assert reason in hits[0].message
    assert all(e.row == 3 for e in exc.value.errors), exc.value.errors  # the good row is not blamed
    assert (count(engine), count(engine, Household), count(engine, AuditEntry)) == (residents, households, audits)


def test_all_errors_are_reported_at_once_with_row_numbers(engine, world):
    rows = [HEAD_ZH[:8], good_rows()[0][:8], *(BAD_ROWS[c][0] for c in ("bad phone", "missing name", "bad date"))]
    rows.insert(2, [None] * 8)  # a blank row is skipped but still counts in the numbering
    report = run(engine, "secretary", xlsx(rows), mode="preview")
    assert not report.valid and report.rows_read == 4
    assert [(e.row, e.field) for e in report.errors] == [(4, "联系电话"), (5, "姓名"), (6, "出生日期")]
    assert report.created_residents == 1  # only the good row counts as importable


def test_missing_required_column_and_unreadable_file(engine, world):
    report = run(engine, "secretary", xlsx([["姓名", "楼栋"], ["甲", "1栋"]]), mode="preview")
    assert [(e.row, e.field) for e in report.errors] == [(1, "门牌号")]
    with pytest.raises(Invalid) as exc:
        run(engine, "secretary", b"\xd0\xcf\x11\xe0old excel", name="old.xls")
    assert ".xlsx" in exc.value.message
    damaged = xlsx([HEAD_ZH, *good_rows()])
    with pytest.raises(Invalid) as exc:
        run(engine, "secretary", damaged[: len(damaged) // 2], mode="preview")
    assert exc.value.errors[0].field == "file"


def test_excel_unicode_text_is_read():
    # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated
    table = importing.read_table("姓名\t楼栋\n甲\t1栋\n\n乙\t2栋\n".encode("utf-16"), "居民.txt")
    assert table.headers == ["姓名", "楼栋"] and table.rows == [(2, ["甲", "1栋"]), (4, ["乙", "2栋"])]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1950-01-09", date(1950, 1, 9)),
        ("1950/1/9", date(1950, 1, 9)),
        ("19500109", date(1950, 1, 9)),
        (19500109, date(1950, 1, 9)),
        ("1950年1月9日", date(1950, 1, 9)),
        ("１９５０－０１－０９", date(1950, 1, 9)),
        (None, None),
        ("", None),
    ],
)
def test_dates_as_people_write_them(raw, expected):
    assert importing.parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["1950-02-30", "9/1/1950", 18272, "yesterday"])
def test_bad_dates(raw):
    with pytest.raises(importing.CellError):
        importing.parse_date(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("3单元", 3), ("二", 2), (" 12 ", 12), (4.0, 4), ("", None), (None, None)]
)
def test_whole_numbers_as_people_write_them(raw, expected):
    assert importing.parse_int(raw, suffixes=("单元",)) == expected


@pytest.mark.parametrize("raw", ["2.5", "inf", "-Infinity", "NaN", "三层楼", True, 2.5])
def test_what_is_not_a_whole_number_is_a_cell_error(raw):
    with pytest.raises(importing.CellError):
        importing.parse_int(raw, suffixes=("单元",))


def test_headers_are_matched_loosely():
    norm = importing.normalise_header
    assert norm(" Birth_Date ") == norm("birthdate") == norm("BIRTH DATE*")
    assert norm("出生日期（年-月-日）") == norm("出生日期")
    with pytest.raises(importing.CellError):
        importing.id_number_text(3.20102195001e17)
    with pytest.raises(importing.CellError):
        importing.id_number_text("3.20102E+17")  # how a CSV from Excel shows a number column
    assert importing.id_number_text(" 32010219500109001x ") == "32010219500109001X"


def test_a_registration_racing_the_import_is_a_conflict_not_a_500(engine, world, monkeypatch):
    # As if 王建国 had been registered by someone else between the check and the insert.
    monkeypatch.setattr(import_residents, "_registered", lambda session, numbers: {})
    before = count(engine)
    with pytest.raises(Conflict):
        run(engine, "secretary", xlsx([HEAD_ZH[:8], good_rows()[0][:8], BAD_ROWS["already registered"][0]]))
    assert count(engine) == before


def test_preview_writes_nothing(engine, world):
    counts = count(engine), count(engine, Household), count(engine, AuditEntry)
    report = run(engine, "secretary", xlsx([HEAD_ZH, *good_rows()]), mode="preview")
    assert report.valid and not report.committed
    assert (report.created_residents, report.created_households) == (4, 2)
    assert [p["row"] for p in report.preview] == [2, 3, 4, 5]
    assert report.preview[0]["birth_date"] == "1950-01-09" and report.preview[0]["building_id"] == world.units["B1"]
    assert (count(engine), count(engine, Household), count(engine, AuditEntry)) == counts


def test_progress_is_reported(engine, world):
    seen: list[tuple[int, int]] = []
    with transaction(engine) as s:
        importer.import_file(
            s,
            principal(engine, "secretary"),
            "residents",
            "r.xlsx",
            xlsx([HEAD_ZH, *good_rows()]),
            mode="commit",
            progress=lambda done, total: seen.append((done, total)),
        )
    assert seen and seen[-1][0] == seen[-1][1]
    assert all(done <= total for done, total in seen)


@pytest.mark.parametrize("username", ["gridworker1", "volunteer1", "street"])
def test_roles_without_import_permission_are_refused(engine, world, username):
    with pytest.raises(Forbidden):
        run(engine, username, xlsx([HEAD_ZH, *good_rows()]), mode="preview")


def test_ambiguous_building_name_lists_candidates(engine, world):
    with transaction(engine) as s:
        for area, code in (("A1", "B5a"), ("A2", "B5b")):
            grid.create_unit(s, SYSTEM, level=Level.building, code=code, name="5栋", parent_id=world.units[area])
    rows = [HEAD_ZH[:8], ["甲", None, None, None, None, "5栋", 1, "101"]]
    report = run(engine, "secretary", xlsx(rows), mode="preview")
    (error,) = report.errors
    assert error.field == "楼栋" and "B5a" in error.message and "B5b" in error.message
    rows[1][5] = "B5b"  # the code settles it
    assert run(engine, "secretary", xlsx(rows)).created_residents == 1


# ---- buildings ----------------------------------------------------------------------------

BUILDING_HEAD = ["楼栋名称", "编码", "所属片区", "单元数", "层数", "建成年份", "结构", "电梯", "地址", "经度", "纬度"]


def test_buildings_import_then_residents_into_them(engine, world):
    rows = [
        BUILDING_HEAD,
        ["7栋", "YG-7", "一片区", 3, "18层", 2005, "剪力墙", "有", "建康路 7 号", 118.8, 32.05],
        ["8栋", None, "A2", None, 6, "1990年", "砖混", "否", None, None, None],
    ]
    report = run(engine, "secretary", xlsx(rows), kind="buildings")
    assert report.committed and report.created_buildings == 2
    with transaction(engine) as s:
        b7 = s.scalars(select(GridUnit).where(GridUnit.code == "YG-7")).one()
        assert b7.parent_id == world.units["A1"] and b7.level == "building" and (b7.lon, b7.lat) == (118.8, 32.05)
        info = s.get(Building, b7.id)
        assert (info.units, info.floors, info.year_built, info.structure, info.has_elevator) == (
            3,
            18,
            2005,
            "剪力墙",
            True,
        )
        b8 = s.scalars(select(GridUnit).where(GridUnit.code == "A2-8栋")).one()  # generated from the area code
        assert s.get(Building, b8.id).units == 1
    residents = run(engine, "secretary", xlsx([HEAD_ZH[:8], ["甲", None, None, idn(9), None, "7栋", 2, "1801"]]))
    assert residents.created_households == 1


def test_bad_buildings_are_named_and_nothing_is_written(engine, world):
    rows = [
        BUILDING_HEAD,
        ["9栋", "YG-9", "三片区", 2, 6, 1985, None, None, None, None, None],  # another community's area
        ["1栋", None, "一片区", 2, 6, 1985, None, None, None, None, None],  # A1 already has 1栋
        ["10栋", "B1", "一片区", 2, 6, 3000, None, None, None, 118.8, None],  # code taken, year, lat missing
    ]
    units = count(engine, GridUnit)
    with pytest.raises(Invalid) as exc:
        run(engine, "secretary", xlsx(rows), kind="buildings")
    found = {(e.row, e.field) for e in exc.value.errors}
    assert found == {(2, "所属片区"), (3, "楼栋名称"), (4, "编码"), (4, "建成年份"), (4, "纬度")}
    assert count(engine, GridUnit) == units


def test_buildings_import_needs_grid_write(engine, world):
    with pytest.raises(Forbidden):
        run(engine, "gridworker1", xlsx([BUILDING_HEAD]), kind="buildings", mode="preview")


# ---- the API ------------------------------------------------------------------------------


def _upload(client, user: str, data: bytes, mode: str | None = None, kind: str = "residents", name: str = "r.xlsx"):
    params = {"mode": mode} if mode else {}
    return client.post(
        f"/api/v1/import/{kind}",
        params=params,
        files={"file": (name, data, XLSX_MEDIA_TYPE)},
        headers=login(client, user),
    )


def test_api_upload_preview_then_commit(client, world, engine):
    data = xlsx([HEAD_ZH, *good_rows()])
    before = count(engine)
    preview = _upload(client, "secretary", data)
    assert preview.status_code == 200, preview.text
    assert preview.json()["mode"] == "preview" and preview.json()["created_residents"] == 4
    assert count(engine) == before
    r = _upload(client, "secretary", data, "commit")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["committed"] and body["created_residents"] == 4 and body["created_households"] == 2
    assert count(engine) == before + 4


def test_api_invalid_commit_is_422_with_every_error(client, world, engine):
    before = count(engine)
    data = xlsx([HEAD_ZH[:8], good_rows()[0][:8], BAD_ROWS["bad phone"][0], BAD_ROWS["unknown building"][0]])
    r = _upload(client, "secretary", data, "commit")
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "联系电话"), (4, "楼栋")]
    assert "detail" in r.json()
    assert count(engine) == before


@pytest.mark.parametrize("username", ["gridworker1", "volunteer1"])
def test_api_upload_forbidden_for_other_roles(client, world, username):
    assert _upload(client, username, xlsx([HEAD_ZH, *good_rows()]), "commit").status_code == 403


@pytest.mark.parametrize("size", [20 * 1024 * 1024 + 1, 21 * 1024 * 1024])
def test_api_upload_too_large_is_413(client, world, engine, size):
    # Just over the limit is caught after reading; far over, from the declared length alone.
    before = count(engine)
    r = _upload(client, "secretary", b"x" * size, "commit", name="big.csv")
    assert r.status_code == 413
    assert "20 MB" in r.json()["detail"] and r.json()["errors"][0]["field"] == "file"
    assert count(engine) == before


def test_api_upload_without_a_file_is_422(client, world):
    r = client.post("/api/v1/import/residents", files={"x": (None, "1")}, headers=login(client, "secretary"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"


def test_template_downloads_and_reimports_after_filling(client, world, engine):
    h = login(client, "secretary")
    r = client.get("/api/v1/import/residents/template.xlsx", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    assert headers[:8] == ["姓名", "性别", "出生日期", "身份证号", "联系电话", "楼栋", "单元", "门牌号"]
    assert "说明" in wb.sheetnames
    id_col = headers.index("身份证号") + 1
    assert ws.cell(row=2, column=id_col).number_format == "@"
    assert ws.column_dimensions[ws.cell(row=1, column=id_col).column_letter].number_format == "@"
    notes = [row[0] for row in wb["说明"].iter_rows(min_row=2, values_only=True)]
    assert "身份证号" in notes and "特殊需求" in notes
    # The example row as it comes is a valid preview (its building name exists in this world).
    buf = io.BytesIO(r.content)
    assert _upload(client, "secretary", buf.getvalue()).json()["valid"]
    # Fill it in: overwrite the example, add a second person.
    values = {"姓名": "周五", "身份证号": idn(11), "联系电话": "13900000005", "楼栋": "2栋", "单元": 1, "门牌号": "603"}
    for i, header in enumerate(headers, start=1):
        ws.cell(row=2, column=i, value=values.get(header))
        ws.cell(row=3, column=i, value={**values, "姓名": "周六", "身份证号": idn(12, gender="F")}.get(header))
    out = io.BytesIO()
    wb.save(out)
    before = count(engine)
    r = _upload(client, "secretary", out.getvalue(), "commit")
    assert r.status_code == 200, r.text
    assert r.json()["created_residents"] == 2 and count(engine) == before + 2


def test_buildings_template(client, world):
    r = client.get("/api/v1/import/buildings/template.xlsx", headers=login(client, "secretary"))
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert [c.value for c in ws[1]][:3] == ["楼栋名称", "编码", "所属片区"]


def _export(client, user: str, **params) -> tuple[list, list[list]]:
    r = client.get("/api/v1/residents/export.xlsx", params=params, headers=login(client, user))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX_MEDIA_TYPE
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert ws.freeze_panes == "A2"
    return rows[0], rows[1:]


def _export_audits(engine) -> list[AuditEntry]:
    with transaction(engine) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "export")))


def test_export_is_masked_for_street(client, world, engine):
    headers, rows = _export(client, "street")
    assert {"姓名", "身份证号", "联系电话", "楼栋", "出生日期"} <= set(headers)
    col = {h: i for i, h in enumerate(headers)}
    assert len(rows) == 5
    wang = next(r for r in rows if r[col["姓名"]] == "王建国")
    # The last four digits only, and the age instead of the birth date (they rebuilt the ID).
    assert re.fullmatch(r"\*{14}\d{3}[\dX]", wang[col["身份证号"]]) and wang[col["身份证号"]].endswith(WANG_ID[-4:])
    assert wang[col["联系电话"]] == "138****5678" and wang[col["慢性病"]] == "***"
    assert wang[col["出生日期"]] is None and wang[col["年龄"]] >= 84
    assert _export_audits(engine) == []  # a masked export reveals nothing, as a masked list


def test_export_is_clear_and_audited_for_staff(client, world, engine):
    headers, rows = _export(client, "secretary")
    col = {h: i for i, h in enumerate(headers)}
    assert len(rows) == 4  # community C1 only
    wang = next(r for r in rows if r[col["姓名"]] == "王建国")
    assert wang[col["身份证号"]] == WANG_ID and wang[col["慢性病"]] == "高血压"
    assert wang[col["楼栋"]] == "1栋" and wang[col["门牌号"]] == "101" and wang[col["特殊需求"]] == "吸氧"
    (entry,) = _export_audits(engine)
    assert entry.actor_name == "secretary" and entry.after["rows"] == 4


def test_export_filters_and_route_order(client, world):
    _, rows = _export(client, "secretary", unit_id=world.units["B1"])
    assert len(rows) == 3
    _, rows = _export(client, "secretary", tag="aged80")
    assert len(rows) == 1
    headers, _ = _export(client, "secretary", lang="en")
    assert headers[:5] == ["area", "building", "unit", "room", "name"]
    # the resident routes still answer
    h = login(client, "secretary")
    assert client.get(f"/api/v1/residents/{world.residents['wang']}", headers=h).status_code == 200
    assert (
        client.get("/api/v1/residents/export.xlsx", params={"unit_id": world.units["B3"]}, headers=h).status_code == 403
    )


def test_households_export(client, world):
    r = client.get(
        f"/api/v1/grid/buildings/{world.units['B1']}/households/export.xlsx", headers=login(client, "secretary")
    )
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("单元", "门牌号", "地址", "居民人数") and len(rows) == 3


# ---- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_runner(engine, monkeypatch):
    monkeypatch.setattr(cli, "get_engine", lambda: engine)
    monkeypatch.setattr(cli, "console", Console(width=250, force_terminal=False))
    return CliRunner()


def test_cli_import_dry_run_then_commit(cli_runner, world, engine, tmp_path):
    path = tmp_path / "居民.xlsx"
    path.write_bytes(xlsx([HEAD_ZH, *good_rows()]))
    before = count(engine)
    dry = cli_runner.invoke(cli.app, ["import", "residents", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert count(engine) == before
    real = cli_runner.invoke(cli.app, ["import", "residents", str(path)])
    assert real.exit_code == 0, real.output
    assert count(engine) == before + 4


def test_cli_import_invalid_file_prints_errors_and_exits_1(cli_runner, world, engine, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx([HEAD_ZH[:8], good_rows()[0][:8], BAD_ROWS["bad checksum"][0]]))
    before = count(engine)
    for args in (["--dry-run"], []):
        result = cli_runner.invoke(cli.app, ["import", "residents", str(path), *args])
        assert result.exit_code == 1
        assert "身份证号" in result.output and "校验位" in result.output
    assert count(engine) == before


def test_cli_export(cli_runner, world, engine, tmp_path):
    out = tmp_path / "residents.xlsx"
    result = cli_runner.invoke(cli.app, ["export", "residents", str(out), "--unit-id", str(world.units["C1"])])
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(out).worksheets[0].iter_rows(values_only=True))
    assert "姓名" in rows[0] and len(rows) == 5
    assert WANG_ID in rows[1] + rows[2] + rows[3] + rows[4]


def test_grid_children_export(client, world):
    r = client.get(f"/api/v1/grid/units/{world.units['P1']}/children/export.xlsx", headers=login(client, "street"))
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("编码", "名称", "层级", "类型", "居民数")
    assert sorted((*row[1:3], row[4]) for row in rows[1:]) == [("一片区", "片区/网格", 3), ("二片区", "片区/网格", 1)]
    denied = client.get(
        f"/api/v1/grid/units/{world.units['P2']}/children/export.xlsx", headers=login(client, "gridworker1")
    )
    assert denied.status_code == 403
