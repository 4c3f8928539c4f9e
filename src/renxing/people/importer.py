"""Importing the register from Excel: buildings, and residents with their households.

A file is read whole and every row checked before anything is written; the report names
every bad row (as numbered in the spreadsheet, header = row 1), column and reason at once.
One bad row and nothing is written. Lookups (buildings in scope, households, registered ID
numbers) are loaded in a few queries and residents are inserted in bulk, so ten thousand
rows import in seconds.
"""

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from renxing import importing as cells
from renxing.auth import audit
from renxing.auth.policy import Field, Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, Conflict, FieldError, Invalid
from renxing.exporting import display_width
from renxing.grid import service as grid
from renxing.grid.models import Building, GridUnit, Household, Level
from renxing.i18n import _, bilingual, localized, pgettext
from renxing.people import vulnerability
from renxing.people.idcard import make_id_number
from renxing.people.masking import HIDDEN, mask_id_number, mask_phone
from renxing.people.models import Resident
from renxing.people.service import HEALTH_FIELDS, check_fields

Progress = Callable[[int, int], None]
PREVIEW_ROWS = 20
MAX_ROWS = 100_000
CHUNK = 1000  # rows per IN (...) lookup and per insert batch


class ImportKind(StrEnum):
    residents = "residents"
    buildings = "buildings"


class Mode(StrEnum):
    preview = "preview"  # parse and check, write nothing
    commit = "commit"


REQUIRED_PERM = {ImportKind.residents: Perm.residents_import, ImportKind.buildings: Perm.grid_write}


# ---- columns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    parse: Callable[[Any], Any]
    synonyms: tuple[str, ...] = ()
    required: bool = False
    help: str = ""  # what to write, for the 说明 sheet
    example: Any = None
    as_text: bool = False  # formatted as text in the template (long digit strings)
    choices: tuple[str, ...] = ()  # offered as a drop-down in the template


GENDERS = {"男": "M", "男性": "M", "m": "M", "male": "M", "女": "F", "女性": "F", "f": "F", "female": "F"}
DISABILITY_KINDS = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
_DISABILITY_EN = {
    "visual": "视力",
    "vision": "视力",
    "hearing": "听力",
    "speech": "言语",
    "physical": "肢体",
    "intellectual": "智力",
    "mental": "精神",
    "psychiatric": "精神",
    "multiple": "多重",
}
DISABILITY = {**{k: k for k in DISABILITY_KINDS}, **{k + "残疾": k for k in DISABILITY_KINDS}, **_DISABILITY_EN}
NEED_LABELS = {"wheelchair": "轮椅", "oxygen": "吸氧", "dialysis": "透析"}
NEEDS = {
    **{code: code for code in vulnerability.SPECIAL_NEEDS},
    **{zh: code for code, zh in NEED_LABELS.items()},
    "氧气": "oxygen",
    "制氧机": "oxygen",
    "血透": "dialysis",
    "腹透": "dialysis",
}
MOBILITY_LABELS = {"normal": "正常", "slow": "行动缓慢", "aided": "需搀扶", "wheelchair": "轮椅", "bedridden": "卧床"}
MOBILITY = {
    **{code: code for code in vulnerability.MOBILITY_CLASSES},
    **{zh: code for code, zh in MOBILITY_LABELS.items()},
    "自理": "normal",
    "缓慢": "slow",
    "行动迟缓": "slow",
    "搀扶": "aided",
    "需协助": "aided",
    "坐轮椅": "wheelchair",
}
YES_NO = ("是", "否")


def _choice(choices: dict[str, str], allowed: str) -> Callable[[Any], Any]:
    return lambda v: cells.parse_choice(v, choices, allowed)


def _room(value: Any) -> str | None:
    room = cells.code_text(value, 20)
    if room and room.endswith("室"):  # "101室" is room 101
        room = room[:-1].strip() or None
    return room


def _needs(value: Any) -> str | None:
    parts = cells.parse_choices(value, NEEDS, "轮椅、吸氧、透析 (wheelchair, oxygen, dialysis)")
    return ",".join(parts) if parts else None


BOOL_HELP = "是 / 否（也可填 Y/N、1/0）/ yes or no"
RESIDENT_COLUMNS: tuple[Column, ...] = (
    Column(
        "name",
        "姓名",
        "name",
        lambda v: cells.text(v, 60),
        ("居民姓名", "名字", "fullname"),
        True,
        "居民姓名 / full name",
        "张三",
    ),
    Column(
        "gender",
        "性别",
        "gender",
        _choice(GENDERS, "男、女 (M, F)"),
        ("sex",),
        help="男 / 女（可留空，按身份证号推算）/ M or F; derived from the ID number when blank",
        example="男",
        choices=("男", "女"),
    ),
    Column(
        "birth_date",
        "出生日期",
        "birth_date",
        cells.parse_date,
        ("出生年月日", "生日", "dateofbirth", "dob", "birthday"),
        help="如 1950-01-09、1950/1/9、19500109，可留空（按身份证号推算）/ a date; blank: from the ID number",
        example=date(1950, 1, 9),
    ),
    Column(
        "id_number",
        "身份证号",
        "id_number",
        cells.id_number_text,
        ("公民身份号码", "身份证号码", "身份证", "证件号码", "idcard", "idno", "idcardnumber"),
        help="18 位身份证号，本列须为“文本”格式 / 18-character ID number; keep this column formatted as text",
        example=make_id_number("320102", date(1950, 1, 9), 11, "M"),
        as_text=True,
    ),
    Column(
        "phone",
        "联系电话",
        "phone",
        cells.code_text,
        ("手机号", "手机号码", "手机", "电话", "联系方式", "mobile", "tel", "telephone", "phonenumber"),
        help="手机 11 位或座机如 025-84561234 / mobile or landline",
        example="13812345678",
        as_text=True,
    ),
    Column(
        "building",
        "楼栋",
        "building",
        lambda v: cells.code_text(v, 120),
        ("楼栋号", "楼号", "楼栋名称", "所在楼栋", "楼栋编码", "buildingname", "buildingcode"),
        True,
        "您管辖范围内楼栋的编码或名称，如“3栋” / code or name of a building in your scope",
        "1栋",
    ),
    Column(
        "unit",
        "单元",
        "unit",
        lambda v: cells.parse_int(v, low=1, high=99, suffixes=("单元",)),
        ("单元号", "unitno"),
        help="单元号，留空为 1 / staircase number, 1 when blank",
        example=1,
    ),
    Column(
        "room",
        "门牌号",
        "room",
        _room,
        ("房号", "房间号", "室号", "户号", "roomno", "door"),
        True,
        "如 101 / room number",
        "101",
        as_text=True,
    ),
    Column(
        "relation",
        "与户主关系",
        "relation",
        lambda v: cells.text(v, 20),
        ("关系", "relationship", "relationtohead"),
        help="户主、配偶、子女、父母…… / relation to the head of household",
        example="户主",
    ),
    Column(
        "registered_address",
        "户籍地",
        "registered_address",
        lambda v: cells.text(v, 200),
        ("户籍地址", "户籍所在地", "hukouaddress"),
        help="户籍所在地 / registered (hukou) address",
        example="江苏省南京市秦淮区",
    ),
    Column(
        "hukou_here",
        "是否户籍在本社区",
        "hukou_here",
        cells.parse_bool,
        ("户籍在本社区", "本社区户籍"),
        help=BOOL_HELP + "，留空为“是” / blank = yes",
        example="是",
        choices=YES_NO,
    ),
    Column(
        "lives_here",
        "是否实际居住",
        "lives_here",
        cells.parse_bool,
        ("实际居住", "是否居住", "是否在住"),
        help=BOOL_HELP + "，留空为“是” / blank = yes",
        example="是",
        choices=YES_NO,
    ),
    Column(
        "living_alone",
        "独居",
        "living_alone",
        cells.parse_bool,
        ("是否独居",),
        help=BOOL_HELP + "，留空为“否” / blank = no",
        example="否",
        choices=YES_NO,
    ),
    Column(
        "disability_kind",
        "残疾类别",
        "disability_kind",
        _choice(DISABILITY, "视力、听力、言语、肢体、智力、精神、多重"),
        ("残疾类型", "残疾", "disability"),
        help="视力、听力、言语、肢体、智力、精神、多重，无则留空 / kind of disability, blank if none",
        choices=DISABILITY_KINDS,
    ),
    Column(
        "disability_grade",
        "残疾等级",
        "disability_grade",
        lambda v: cells.parse_int(v, low=1, high=4, suffixes=("级",)),
        help="1–4 级（1 级最重）/ grade 1 (most severe) to 4",
        choices=("1", "2", "3", "4"),
    ),
    Column(
        "bedridden",
        "卧床",
        "bedridden",
        cells.parse_bool,
        ("是否卧床", "长期卧床"),
        help=BOOL_HELP + "，留空为“否” / blank = no",
        example="否",
        choices=YES_NO,
    ),
    Column(
        "chronic_illness",
        "慢性病",
        "chronic_illness",
        lambda v: cells.text(v, 120),
        ("慢性病名称", "chronic"),
        help="如 高血压、糖尿病，无则留空 / chronic illnesses, blank if none",
        example="高血压",
    ),
    Column(
        "pregnant",
        "孕妇",
        "pregnant",
        cells.parse_bool,
        ("是否孕妇", "孕期"),
        help=BOOL_HELP + "，留空为“否” / blank = no",
        example="否",
        choices=YES_NO,
    ),
    Column(
        "special_needs",
        "特殊需求",
        "special_needs",
        _needs,
        ("特殊需要",),
        help="轮椅、吸氧、透析，可填多项用顿号分隔 / wheelchair, oxygen, dialysis; several separated by 、",
        example="吸氧",
    ),
    Column(
        "mobility",
        "行动能力",
        "mobility",
        _choice(MOBILITY, "正常、行动缓慢、需搀扶、轮椅、卧床 (normal, slow, aided, wheelchair, bedridden)"),
        ("行动", "行动状况"),
        help="正常、行动缓慢、需搀扶、轮椅、卧床；留空按年龄和健康推算 / blank: derived from age and health",
        choices=tuple(MOBILITY_LABELS.values()),
    ),
    Column(
        "emergency_contact",
        "紧急联系人",
        "emergency_contact",
        lambda v: cells.text(v, 60),
        help="姓名 / name",
        example="张小三",
    ),
    Column(
        "emergency_phone",
        "紧急联系电话",
        "emergency_phone",
        cells.code_text,
        ("紧急联系人电话",),
        help="手机或座机 / mobile or landline",
        example="13912345678",
        as_text=True,
    ),
    Column(
        "party_member",
        "党员",
        "party_member",
        cells.parse_bool,
        ("是否党员", "中共党员"),
        help=BOOL_HELP + "，留空为“否” / blank = no",
        example="否",
        choices=YES_NO,
    ),
    Column(
        "notes",
        "备注",
        "notes",
        lambda v: cells.text(v, 2000),
        ("note", "remarks", "remark"),
        help="其他情况 / anything else",
        example="",
    ),
)

BUILDING_COLUMNS: tuple[Column, ...] = (
    Column(
        "name",
        "楼栋名称",
        "name",
        lambda v: cells.text(v, 120),
        ("楼栋", "名称", "楼栋名", "楼号", "buildingname"),
        True,
        "如“3栋” / e.g. 3栋",
        "3栋",
    ),
    Column(
        "code",
        "编码",
        "code",
        lambda v: cells.code_text(v, 40),
        ("楼栋编码", "代码", "buildingcode"),
        help="全平台唯一；留空则按“片区编码-楼栋名称”生成 / unique; generated from area code and name when blank",
        example="YG-A1-03",
    ),
    Column(
        "area",
        "所属片区",
        "area",
        lambda v: cells.code_text(v, 120),
        ("片区", "所属网格", "网格", "片区编码", "areaname"),
        True,
        "您管辖范围内片区的编码或名称 / code or name of an area in your scope",
        "一片区",
    ),
    Column(
        "units",
        "单元数",
        "units",
        lambda v: cells.parse_int(v, low=1, high=50, suffixes=("个", "单元")),
        ("单元数量", "单元"),
        help="留空为 1 / 1 when blank",
        example=2,
    ),
    Column(
        "floors",
        "层数",
        "floors",
        lambda v: cells.parse_int(v, low=1, high=200, suffixes=("层",)),
        ("楼层数", "总层数", "楼层"),
        help="地上层数，留空为 1 / floors above ground, 1 when blank",
        example=6,
    ),
    Column(
        "year_built",
        "建成年份",
        "year_built",
        lambda v: cells.parse_int(v, low=1800, high=date.today().year, suffixes=("年",)),
        ("建成年代", "建筑年份", "建造年份", "建成时间"),
        help="如 1985 / e.g. 1985",
        example=1985,
    ),
    Column(
        "structure",
        "结构",
        "structure",
        lambda v: cells.text(v, 40),
        ("建筑结构", "结构类型"),
        help="砖混、框架、剪力墙、钢结构…… / structure type",
        example="砖混",
        choices=("砖混", "砖木", "框架", "剪力墙", "框架剪力墙", "钢结构", "其他"),
    ),
    Column(
        "has_elevator",
        "电梯",
        "has_elevator",
        cells.parse_bool,
        ("有无电梯", "是否有电梯", "elevator"),
        help=BOOL_HELP + "，留空为“否” / blank = no",
        example="否",
        choices=YES_NO,
    ),
    Column(
        "address",
        "地址",
        "address",
        lambda v: cells.text(v, 200),
        ("楼栋地址", "门牌地址"),
        help="街道门牌地址 / street address",
        example="建康路 3 号",
    ),
    Column(
        "lon",
        "经度",
        "lon",
        lambda v: cells.parse_float(v, low=-180, high=180),
        ("lng", "longitude"),
        help="WGS-84 经度，如 118.79 / longitude",
        example=118.79,
    ),
    Column(
        "lat",
        "纬度",
        "lat",
        lambda v: cells.parse_float(v, low=-90, high=90),
        ("latitude",),
        help="WGS-84 纬度，如 32.06 / latitude",
        example=32.06,
    ),
)

COLUMNS = {ImportKind.residents: RESIDENT_COLUMNS, ImportKind.buildings: BUILDING_COLUMNS}
RESIDENT_FIELDS = tuple(c.key for c in RESIDENT_COLUMNS if c.key not in ("building", "unit", "room"))
BOOL_DEFAULTS = {
    "hukou_here": True,
    "lives_here": True,
    "living_alone": False,
    "bedridden": False,
    "pregnant": False,
    "party_member": False,
    "has_elevator": False,
}


# ---- the report ------------------------------------------------------------------------


@dataclass
class ImportReport:
    kind: str
    file_name: str
    mode: str
    rows_read: int = 0
    created_buildings: int = 0
    created_households: int = 0
    created_residents: int = 0
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    resident_ids: tuple[int, int] | None = None  # first and last id created
    committed: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_name": self.file_name,
            "mode": self.mode,
            "valid": self.valid,
            "committed": self.committed,
            "rows_read": self.rows_read,
            "created_buildings": self.created_buildings,
            "created_households": self.created_households,
            "created_residents": self.created_residents,
            "resident_ids": list(self.resident_ids) if self.resident_ids else None,
            "errors": [e.__dict__ for e in self.errors],
            "warnings": [e.__dict__ for e in self.warnings],
            "preview": self.preview,
        }


class _Steps:
    """Turns the phases (read, check, write) into one bar: each phase counts once per row."""

    def __init__(self, progress: Progress | None, phases: int):
        self.progress = progress
        self.phases = phases
        self.rows = 0

    def read(self, done: int, estimate: int) -> None:
        if self.progress is not None:
            self.progress(done, max(estimate, 1) * self.phases)

    def at(self, phase: int, done: int) -> None:
        if self.progress is not None and self.rows:
            self.progress(phase * self.rows + done, self.rows * self.phases)


# ---- entry point ------------------------------------------------------------------------


def import_file(
    session: Session,
    actor: Principal,
    kind: ImportKind | str,
    file_name: str,
    data: bytes,
    *,
    mode: Mode | str = Mode.preview,
    preview_rows: int = PREVIEW_ROWS,
    progress: Progress | None = None,
) -> ImportReport:
    """Check a file and, in ``commit`` mode, write all of it in the caller's transaction.

    ``preview`` returns the report with every error and writes nothing; ``commit`` raises
    :class:`Invalid` with every error when any row is bad, and writes nothing then either.
    """
    kind, mode = ImportKind(kind), Mode(mode)
    actor.require(REQUIRED_PERM[kind])
    report = ImportReport(kind=kind.value, file_name=file_name, mode=mode.value)
    steps = _Steps(progress, 3 if mode is Mode.commit else 2)
    try:
        table = cells.read_table(data, file_name, max_rows=MAX_ROWS, progress=steps.read)
    except cells.SheetError as exc:
        raise Invalid(str(exc), [FieldError("file", str(exc), None, file_name)]) from exc
    report.rows_read = steps.rows = len(table.rows)
    if kind is ImportKind.residents:
        batch = _check_residents(session, actor, table, report, steps, preview_rows)
    else:
        batch = _check_buildings(session, actor, table, report, steps, preview_rows)
    report.errors.sort(key=lambda e: e.row or 0)  # stable: within a row, in the order found
    steps.at(1, report.rows_read)
    if mode is Mode.preview:
        return report
    if report.errors:
        raise Invalid(
            _("文件有 {count} 处错误，未导入任何数据").format(count=len(report.errors)),
            report.errors,
        )
    try:
        if kind is ImportKind.residents:
            _write_residents(session, actor, report, batch, steps)
        else:
            _write_buildings(session, actor, report, batch, steps)
    except IntegrityError as exc:
        # Someone registered the same person, room or code after the check: the caller's
        # transaction rolls back whole, as for any other error.
        raise Conflict(_("导入期间数据已被他人修改，请重新导入")) from exc
    report.committed = True
    steps.at(2, report.rows_read)
    return report


def _map_headers(headers: list[str], columns: Iterable[Column], report: ImportReport) -> dict[str, tuple[int, str]]:
    """Column key → (index, header as written). Unknown headers warn; duplicates and missing required ones err."""
    columns = list(columns)
    lookup: dict[str, str] = {}
    for col in columns:
        for spelling in (col.zh, col.en, col.key, *col.synonyms):
            lookup.setdefault(cells.normalise_header(spelling), col.key)
    found: dict[str, tuple[int, str]] = {}
    for i, header in enumerate(headers):
        if not header:
            continue
        key = lookup.get(cells.normalise_header(header))
        if key is None:
            report.warnings.append(FieldError(header, _("未识别的列，已忽略"), 1))
        elif key in found:
            first = found[key][1]
            report.errors.append(FieldError(header, _("与“{first}”列重复").format(first=first), 1, header))
        else:
            found[key] = (i, header)
    for col in columns:
        if col.required and col.key not in found:
            report.errors.append(
                FieldError(col.zh, _("缺少必填列“{column}”").format(column=localized(col.zh, col.en)), 1)
            )
    return found


@dataclass
class _Parsed:
    row: int
    values: dict[str, Any]
    bad: set[str]  # keys whose cell could not be read (already reported)


def _parse_rows(
    table: cells.Table,
    columns: tuple[Column, ...],
    found: dict[str, tuple[int, str]],
    errors: Collector,
    labels: dict[str, str],
) -> list[_Parsed]:
    parsers = [(key, idx, next(c.parse for c in columns if c.key == key)) for key, (idx, _) in found.items()]
    out: list[_Parsed] = []
    for number, row in table.rows:
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for key, idx, parse in parsers:
            raw = row[idx] if idx < len(row) else None
            try:
                values[key] = parse(raw)
            except cells.CellError as exc:
                errors.add(labels[key], str(exc), number, raw)
                values[key] = None
                bad.add(key)
        for col in columns:
            values.setdefault(col.key, None)
            if col.required and values[col.key] is None and col.key not in bad:
                errors.add(labels[col.key], _("{column}必填").format(column=localized(col.zh, col.en)), number)
                bad.add(col.key)
        out.append(_Parsed(number, values, bad))
    return out


# ---- places: buildings and areas by code or name within scope ----------------------------


@dataclass(frozen=True)
class _Place:
    id: int
    code: str
    name: str
    path: str
    parent: str | None  # name of the unit above, to tell namesakes apart

    def label(self) -> str:
        return f"{self.name}（{self.parent or ''}，编码 {self.code}）"


_NUMBERED = ("栋", "号楼", "幢", "号")


def _name_variants(ref: str) -> list[str]:
    # "3" is how many write 3栋: a bare number also tries the usual suffixes.
    return [ref, *(ref + s for s in _NUMBERED)] if ref.isdigit() else [ref]


def _resolve_places(
    session: Session, actor: Principal, level: Level, refs: set[str], what: str
) -> dict[str, _Place | str]:
    """Each reference → the unit it names inside the actor's scope, or the reason it names none."""
    if not refs:
        return {}
    parent = aliased(GridUnit)
    names = {v for r in refs for v in _name_variants(r)}
    found: list[_Place] = []
    ref_list, name_list = sorted(refs), sorted(names)
    for i in range(0, max(len(ref_list), len(name_list)), CHUNK):
        codes, some_names = ref_list[i : i + CHUNK], name_list[i : i + CHUNK]
        stmt = (
            select(GridUnit.id, GridUnit.code, GridUnit.name, GridUnit.path, parent.name)
            .outerjoin(parent, parent.id == GridUnit.parent_id)
            .where(GridUnit.level == level.value, or_(GridUnit.code.in_(codes), GridUnit.name.in_(some_names)))
        )
        found.extend(_Place(*row) for row in session.execute(stmt))
    found = list({p.id: p for p in found}.values())
    inside = [p for p in found if actor.covers_path(p.path)]
    out: dict[str, _Place | str] = {}
    for ref in refs:
        by_code = [p for p in inside if p.code == ref]
        if by_code:
            out[ref] = by_code[0]
            continue
        by_name: list[_Place] = []
        for variant in _name_variants(ref):
            by_name = [p for p in inside if p.name == variant]
            if by_name:
                break
        if len(by_name) == 1:
            out[ref] = by_name[0]
        elif by_name:
            cands = "；".join(p.label() for p in sorted(by_name, key=lambda p: p.code))
            out[ref] = _("有 {count} 个{what}叫“{ref}”：{cands}，请改填{what}编码").format(
                count=len(by_name), what=what, ref=ref, cands=cands
            )
        elif any(p.code == ref or p.name in _name_variants(ref) for p in found):
            out[ref] = _("{what}“{ref}”不在您的管辖范围内").format(what=what, ref=ref)
        else:
            out[ref] = _("找不到{what}“{ref}”，请填写{what}编码或名称").format(what=what, ref=ref)
    return out


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


# ---- residents ----------------------------------------------------------------------------


@dataclass
class _ResidentBatch:
    households: list[dict[str, Any]] = field(default_factory=list)  # to create
    residents: list[tuple[tuple[int, int, str], dict[str, Any]]] = field(default_factory=list)  # (household key, row)
    existing: dict[tuple[int, int, str], int] = field(default_factory=dict)


def _check_residents(
    session: Session, actor: Principal, table: cells.Table, report: ImportReport, steps: _Steps, preview_rows: int
) -> _ResidentBatch:
    batch = _ResidentBatch()
    found = _map_headers(table.headers, RESIDENT_COLUMNS, report)
    if report.errors:
        return batch
    labels = {c.key: found[c.key][1] if c.key in found else c.zh for c in RESIDENT_COLUMNS}
    errors = Collector(report.errors)
    parsed = _parse_rows(table, RESIDENT_COLUMNS, found, errors, labels)

    places = _resolve_places(
        session,
        actor,
        Level.building,
        {p.values["building"] for p in parsed if p.values["building"]},
        pgettext("noun", "楼栋"),
    )
    building_ids = sorted({p.id for p in places.values() if isinstance(p, _Place)})
    for ids in _chunks(building_ids):
        stmt = select(Household.id, Household.building_id, Household.unit_no, Household.room).where(
            Household.building_id.in_(ids)
        )
        batch.existing.update({(b, u, r): hid for hid, b, u, r in session.execute(stmt)})
    registered = _registered(session, [p.values["id_number"] for p in parsed if p.values["id_number"]])

    today = date.today()
    clear = actor.clear_fields()
    seen: dict[str, int] = {}
    planned_households: dict[tuple[int, int, str], dict[str, Any]] = {}
    for i, p in enumerate(parsed):
        v = p.values
        before = len(errors.errors)
        place = places.get(v["building"]) if v["building"] else None
        if isinstance(place, str):
            errors.add(labels["building"], place, p.row, v["building"])
        if v["unit"] is None and "unit" not in p.bad:
            v["unit"] = 1
        resident = {k: v[k] for k in RESIDENT_FIELDS}
        for key, default in BOOL_DEFAULTS.items():
            if key in resident and resident[key] is None:
                resident[key] = default
        own = Collector()
        check_fields(resident, own, p.row)
        own_fields = {e.field for e in own.errors}
        for e in own.errors:
            if e.field not in p.bad:  # a cell that could not be read is reported once
                e.field = labels.get(e.field, e.field)
                errors.errors.append(e)
        idn = resident["id_number"]
        if idn and "id_number" not in own_fields:
            if idn in seen:
                errors.add(
                    labels["id_number"],
                    _("与第 {value} 行身份证号重复").format(value=seen[idn]),
                    p.row,
                    idn,
                )
            elif idn in registered:
                errors.add(labels["id_number"], _registered_message(actor, registered[idn]), p.row, idn)
            else:
                seen[idn] = p.row
        if resident["disability_grade"] is not None and not resident["disability_kind"]:
            errors.add(labels["disability_grade"], _("填写残疾等级须同时填写残疾类别"), p.row)
        if not resident["mobility"] and "mobility" not in p.bad:
            tag_list = vulnerability.tags(
                birth_date=resident["birth_date"],
                living_alone=resident["living_alone"],
                disability_kind=resident["disability_kind"],
                bedridden=resident["bedridden"],
                chronic_illness=resident["chronic_illness"],
                pregnant=resident["pregnant"],
                special_needs=resident["special_needs"],
                today=today,
            )
            resident["mobility"] = vulnerability.default_mobility(tag_list, resident["special_needs"])
        if i < preview_rows:
            report.preview.append(_preview_row(p.row, v, resident, place, clear))
        if len(errors.errors) == before and not p.bad and isinstance(place, _Place):
            key = (place.id, v["unit"], v["room"])
            if key not in batch.existing and key not in planned_households:
                planned_households[key] = {
                    "building_id": place.id,
                    "path": place.path,
                    "unit_no": key[1],
                    "room": key[2],
                    "address": None,
                }
            resident["path"] = place.path
            batch.residents.append((key, resident))
        if i % 500 == 0:
            steps.at(1, i)
    batch.households = list(planned_households.values())
    report.created_households = len(batch.households)
    report.created_residents = len(batch.residents)
    return batch


@dataclass(frozen=True)
class _Registered:
    id: int
    name: str
    path: str
    deleted: bool


def _registered(session: Session, numbers: list[str]) -> dict[str, _Registered]:
    """ID numbers already in the register (removed records too: the number stays unique)."""
    wanted = sorted({n for n in numbers if isinstance(n, str) and len(n) == 18})
    out: dict[str, _Registered] = {}
    for chunk in _chunks(wanted):
        stmt = select(Resident.id_number, Resident.id, Resident.name, Resident.path, Resident.deleted_at).where(
            Resident.id_number.in_(chunk)
        )
        for number, rid, name, path, deleted_at in session.execute(stmt):
            out[number] = _Registered(rid, name, path, deleted_at is not None)
    return out


def _registered_message(actor: Principal, r: _Registered) -> str:
    # Outside the scope, who holds the number is itself personal data: say only that it is taken.
    if not actor.covers_path(r.path):
        return _("该身份证号已在其他社区登记")
    if r.deleted:
        return (
            f"该身份证号已登记为居民 #{r.id} {r.name}（已删除，可恢复）/ "
            f"already registered as resident #{r.id} (removed; restore it instead)"
        )
    return _("该身份证号已登记为居民 #{id} {name}").format(id=r.id, name=r.name)


def _preview_row(
    row: int, v: dict[str, Any], resident: dict[str, Any], place: _Place | str | None, clear: frozenset[Field]
) -> dict[str, Any]:
    out: dict[str, Any] = {"row": row}
    for col in RESIDENT_COLUMNS:
        value = resident.get(col.key, v.get(col.key))
        out[col.key] = value.isoformat() if isinstance(value, date) else value
    out["building_id"] = place.id if isinstance(place, _Place) else None
    if Field.id_number not in clear:
        out["id_number"] = mask_id_number(out["id_number"])
    if Field.phone not in clear:
        out["phone"] = mask_phone(out["phone"])
        out["emergency_phone"] = mask_phone(out["emergency_phone"])
    if Field.health not in clear:
        for key in HEALTH_FIELDS:
            out[key] = HIDDEN if out[key] else None
    return out


def _write_residents(
    session: Session, actor: Principal, report: ImportReport, batch: _ResidentBatch, steps: _Steps
) -> None:
    # Plain executemany without RETURNING is the fast path on both databases (RETURNING over
    # thousands of rows makes the PostgreSQL driver rewrite huge statements). Every row of
    # this import carries the same creation time, which finds the new ids again in one query.
    now = utcnow()
    households = dict(batch.existing)
    new_household_ids: list[int] = []
    if batch.households:
        session.execute(insert(Household.__table__), [{**h, "created_at": now} for h in batch.households])
        for ids in _chunks(sorted({h["building_id"] for h in batch.households})):
            stmt = select(Household.id, Household.building_id, Household.unit_no, Household.room).where(
                Household.building_id.in_(ids), Household.created_at == now
            )
            for hid, b, u, r in session.execute(stmt):
                households[(b, u, r)] = hid
                new_household_ids.append(hid)
    rows = [
        {**resident, "household_id": households[key], "created_at": now, "updated_at": now}
        for key, resident in batch.residents
    ]
    for start in range(0, len(rows), 2 * CHUNK):
        session.execute(insert(Resident.__table__), rows[start : start + 2 * CHUNK])
        steps.at(2, start)
    first, last, created = session.execute(
        select(func.min(Resident.id), func.max(Resident.id), func.count()).where(Resident.created_at == now)
    ).one()
    if created != len(rows):  # pragma: no cover - would mean two imports at the same microsecond
        raise Conflict(_("导入时发生冲突，请重试"))
    resident_ids = (first, last) if created else None
    report.resident_ids = resident_ids
    audit.record(
        session,
        actor,
        "import",
        "resident",
        None,
        summary=(
            bilingual(
                "导入 {file_name}：居民 {created} 人，新建户 {households} 户",
                file_name=report.file_name,
                created=created,
                households=len(new_household_ids),
            )
        ),
        after={
            "file": report.file_name,
            "rows": report.rows_read,
            "residents": created,
            "resident_ids": list(resident_ids) if resident_ids else None,
            "households": len(new_household_ids),
            "household_ids": [min(new_household_ids), max(new_household_ids)] if new_household_ids else None,
        },
    )


# ---- buildings ----------------------------------------------------------------------------


def _check_buildings(
    session: Session, actor: Principal, table: cells.Table, report: ImportReport, steps: _Steps, preview_rows: int
) -> list[dict[str, Any]]:
    found = _map_headers(table.headers, BUILDING_COLUMNS, report)
    if report.errors:
        return []
    labels = {c.key: found[c.key][1] if c.key in found else c.zh for c in BUILDING_COLUMNS}
    errors = Collector(report.errors)
    parsed = _parse_rows(table, BUILDING_COLUMNS, found, errors, labels)
    areas = _resolve_places(
        session, actor, Level.area, {p.values["area"] for p in parsed if p.values["area"]}, pgettext("noun", "片区")
    )
    for p in parsed:
        area = areas.get(p.values["area"]) if p.values["area"] else None
        if isinstance(area, _Place) and not p.values["code"] and p.values["name"]:
            p.values["code"] = f"{area.code}-{p.values['name']}"[:40]
    codes = sorted({p.values["code"] for p in parsed if p.values["code"]})
    taken: set[str] = set()
    for chunk in _chunks(codes):
        taken.update(session.scalars(select(GridUnit.code).where(GridUnit.code.in_(chunk))))
    area_ids = sorted({a.id for a in areas.values() if isinstance(a, _Place)})
    names_taken: set[tuple[int, str]] = set()
    for chunk in _chunks(area_ids):
        stmt = select(GridUnit.parent_id, GridUnit.name).where(
            GridUnit.level == Level.building.value, GridUnit.parent_id.in_(chunk)
        )
        names_taken.update((pid, name) for pid, name in session.execute(stmt))

    seen_codes: dict[str, int] = {}
    seen_names: dict[tuple[int, str], int] = {}
    plans: list[dict[str, Any]] = []
    for i, p in enumerate(parsed):
        v = p.values
        before = len(errors.errors)
        area = areas.get(v["area"]) if v["area"] else None
        if isinstance(area, str):
            errors.add(labels["area"], area, p.row, v["area"])
        code = v["code"]
        if code:
            if code in seen_codes:
                errors.add(
                    labels["code"],
                    _("与第 {value} 行编码重复").format(value=seen_codes[code]),
                    p.row,
                    code,
                )
            elif code in taken:
                errors.add(labels["code"], _("编码“{code}”已被使用").format(code=code), p.row, code)
            else:
                seen_codes[code] = p.row
        if isinstance(area, _Place) and v["name"]:
            key = (area.id, v["name"])
            if key in seen_names:
                errors.add(
                    labels["name"],
                    _("与第 {value} 行同一片区同名").format(value=seen_names[key]),
                    p.row,
                    v["name"],
                )
            elif key in names_taken:
                errors.add(
                    labels["name"],
                    _("{area}已有楼栋“{name}”").format(area=area.name, name=v["name"]),
                    p.row,
                    v["name"],
                )
            else:
                seen_names[key] = p.row
        if (v["lon"] is None) != (v["lat"] is None) and not {"lon", "lat"} & p.bad:
            errors.add(
                labels["lat" if v["lat"] is None else "lon"],
                _("经度和纬度须同时填写"),
                p.row,
            )
        for key, default in BOOL_DEFAULTS.items():
            if key in v and v[key] is None:
                v[key] = default
        if i < preview_rows:
            report.preview.append({"row": p.row, **v, "area_id": area.id if isinstance(area, _Place) else None})
        if len(errors.errors) == before and not p.bad and isinstance(area, _Place):
            plans.append({**v, "area_id": area.id, "units": v["units"] or 1, "floors": v["floors"] or 1})
        if i % 500 == 0:
            steps.at(1, i)
    report.created_buildings = len(plans)
    return plans


def _write_buildings(
    session: Session, actor: Principal, report: ImportReport, plans: list[dict[str, Any]], steps: _Steps
) -> None:
    created: list[int] = []
    for i, plan in enumerate(plans):
        unit = grid.create_unit(
            session,
            actor,
            level=Level.building,
            code=plan["code"],
            name=plan["name"],
            parent_id=plan["area_id"],
            lon=plan["lon"],
            lat=plan["lat"],
        )
        b = Building(
            id=unit.id,
            address=plan["address"],
            units=plan["units"],
            floors=plan["floors"],
            year_built=plan["year_built"],
            structure=plan["structure"],
            has_elevator=plan["has_elevator"],
        )
        session.add(b)
        audit.record(session, actor, "create", "building", unit.id, after=audit.snapshot(b))
        created.append(unit.id)
        if i % 100 == 0:
            steps.at(2, i)
    session.flush()
    audit.record(
        session,
        actor,
        "import",
        "building",
        None,
        summary=bilingual("导入 {file_name}：楼栋 {count} 栋", file_name=report.file_name, count=len(created)),
        after={"file": report.file_name, "rows": report.rows_read, "buildings": created},
    )


# ---- templates ----------------------------------------------------------------------------

SHEET_TITLES = {ImportKind.residents: ("居民信息", "residents"), ImportKind.buildings: ("楼栋信息", "buildings")}
REQUIRED_FONT = Font(bold=True, color="C00000")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TEMPLATE_ROWS = 2000  # rows prepared with text format and drop-downs


def template_workbook(kind: ImportKind | str) -> bytes:
    """An .xlsx to fill in: Chinese headers (required ones in red), one example row, and a 说明 sheet."""
    kind = ImportKind(kind)
    columns = COLUMNS[kind]
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLES[kind][0]
    ws.freeze_panes = "A2"
    for i, col in enumerate(columns, start=1):
        letter = get_column_letter(i)
        head = ws.cell(row=1, column=i, value=col.zh)
        head.font = REQUIRED_FONT if col.required else Font(bold=True)
        head.fill = HEADER_FILL
        example = ws.cell(row=2, column=i, value=col.example if col.example != "" else None)
        if isinstance(col.example, date):
            example.number_format = "yyyy-mm-dd"
        if col.as_text:
            # Typed into a text column, an 18-digit ID number stays exact.
            ws.column_dimensions[letter].number_format = "@"
            for row in range(2, TEMPLATE_ROWS + 2):
                ws.cell(row=row, column=i).number_format = "@"
        width = max(display_width(col.zh), display_width(col.example)) + 4
        ws.column_dimensions[letter].width = min(40, max(10, width))
        if col.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=True)
            dv.error = "请从下拉列表中选择 / pick a value from the list"
            dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            ws.add_data_validation(dv)
    notes = wb.create_sheet("说明")
    notes.append(["列名", "必填", "填写说明 / what to write", "英文列名 / English header"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for col in columns:
        allowed = col.help + (f"；可选：{'、'.join(col.choices)}" if col.choices and col.key != "structure" else "")
        notes.append([col.zh, "是" if col.required else "", allowed, col.en])
        if col.required:
            notes.cell(row=notes.max_row, column=1).font = REQUIRED_FONT
    notes.append([])
    for line in _GENERAL_NOTES[kind]:
        notes.append([line])
    for letter, width in zip("ABCD", (18, 8, 90, 22), strict=True):
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_GENERAL_NOTES = {
    ImportKind.residents: (
        "第一行是表头，请勿修改列名；第二行是示例，导入前请删除或改为真实数据。红色列为必填。",
        "Row 1 holds the headers; row 2 is an example to delete or overwrite. Red columns are required.",
        "同一楼栋、单元、门牌号的居民归为一户，系统中没有的户会自动新建。",
        "Residents with the same building, unit and room form one household; missing households are created.",
        "整个文件全部校验通过才会导入，任何一行有错都不会写入任何数据。",
        "The file is imported only when every row is valid; one bad row and nothing is written.",
    ),
    ImportKind.buildings: (
        "第一行是表头，请勿修改列名；第二行是示例，导入前请删除或改为真实数据。红色列为必填。",
        "Row 1 holds the headers; row 2 is an example to delete or overwrite. Red columns are required.",
        "楼栋须属于您管辖范围内的片区；同一片区内楼栋名称不能重复。",
        "Each building belongs to an area in your scope; names are unique within an area.",
        "整个文件全部校验通过才会导入，任何一行有错都不会写入任何数据。",
        "The file is imported only when every row is valid; one bad row and nothing is written.",
    ),
}
