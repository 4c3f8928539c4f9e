"""The columns an import reads: for residents and for buildings, each with its headers in Chinese
and English, the other spellings met in real registers, how a cell is read, and what the
template says about it. Labels of choices (轮椅, 需搀扶 …) are the words people write in cells.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from renxing import importing as cells
from renxing.people import vulnerability
from renxing.people.idcard import make_id_number


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
