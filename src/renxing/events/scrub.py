"""What of a report may be public, and the scrub every public text goes through. Pure: no I/O.

    may_publish(consent=True, channel="resident_app", category_private=False)  -> True
    scrub("3栋2单元302室的王秀英奶奶，电话138 1234 5678")  -> "3栋[房号]的[姓名]奶奶，电话[电话]"
    scrub(text, names=["王秀英"])                            also every name known to the report

A report is public only when its reporter agreed, its category is not private and it did not
come from another domain (a care visit, a sensor: nobody there could agree). Even then the
public never reads the reporter's words, only a copy staff wrote; :func:`scrub` takes out of
that copy what identifies a person — phone numbers (mobile and landline, with spaces or
dashes), ID numbers, e-mail addresses, room numbers (302室, 3-302, 3栋2单元302) and names
(those known to the report, and any written with a cue such as 王先生, 李阿姨, 居民张三).
It errs on the side of taking out too much: a public copy loses a word, a person does not
lose their privacy. Scrubbing twice gives the same text.
"""

import re
from collections.abc import Iterable

# Channels whose reports nobody could have agreed to publish: other domains raise them.
PRIVATE_CHANNELS = frozenset({"internal"})

PHONE = "[电话]"
ID_NUMBER = "[证件号]"
EMAIL = "[邮箱]"
ROOM = "[房号]"
NAME = "[姓名]"
NUMBER = "[号码]"


def may_publish(*, consent: bool, channel: str, category_private: bool) -> bool:
    """Whether anything of a report may be shown to people who are not logged in."""
    return bool(consent) and channel not in PRIVATE_CHANNELS and not category_private


# ---- numbers -----------------------------------------------------------------------------

_WIDE_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ－", "0123456789Xx-")
_SEP = r"[\s\-.·]?"
_ID = re.compile(r"(?<!\d)\d{6}[\s-]?\d{8}[\s-]?\d{3}[0-9Xx](?!\d)")
_MOBILE = re.compile(rf"(?<!\d)(?:\+?86{_SEP})?1[3-9]\d(?:{_SEP}\d){{8}}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[\s-]?\d{7,8}(?:[-转]\d{1,5})?(?!\d)")
# Local numbers, old 15-digit IDs, account numbers, and any long number written in groups.
_LONG_NUMBER = re.compile(r"(?<!\d)\d{7,}(?!\d)|(?<!\d)\d(?:[\s-]?\d){10,}(?:[\s-]?[Xx])?(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# ---- rooms -------------------------------------------------------------------------------

_CN_NUM = "一二三四五六七八九十"
_ROOM_SUFFIX = r"(?:室|房间|房|号房|号|户)"
# 2单元302(室) / 二单元302: the unit and the flat (the building before it may stay).
_UNIT_ROOM = re.compile(rf"(?:\d{{1,2}}|[{_CN_NUM}]{{1,2}})\s*单元\s*\d{{3,4}}\s*{_ROOM_SUFFIX}?")
# 3栋302 / 3号楼1502室 / B座1203 / 5楼502: the flat right after the building or the floor.
_FLAT = rf"\s*\d{{3,4}}\s*{_ROOM_SUFFIX}?"
_AFTER_BUILDING = re.compile(rf"(?<=栋|幢|座){_FLAT}|(?<=号楼|\d楼){_FLAT}")
# 302室 / 1502房
_ROOM = re.compile(r"(?<!\d)\d{3,4}\s*(?:室|房间|号房|房)")
# 3-302 / 3-2-302 (building-flat, building-unit-flat); not a date (2024-05-01).
_DASHED = re.compile(r"(?<![\d.\-])\d{1,3}-(?:\d{1,2}-)?\d{3,4}(?![\d\-])")

# ---- names -------------------------------------------------------------------------------

# The common family names (about 85% of people), and a few of two characters. Characters that
# are far more often plain words (区, 房, 有, 和 …) are left out on purpose.
_SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严"
    "欧莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲"
)
_SURNAMES_2 = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文")
_SURNAME = "(?:" + "|".join(_SURNAMES_2) + f"|[{_SURNAMES_1}])"
_HAN = r"[\u4e00-\u9fff]"
# Words after a name: 王先生, 李秀英奶奶, 老张家的, 赵师傅.
_AFTER = (
    "先生|女士|小姐|阿姨|大爷|大妈|大娘|大叔|大伯|大哥|大姐|奶奶|爷爷|姥姥|姥爷|外婆|外公|婆婆|老太太|老太|"
    "老人|老伯|师傅|同志|家的|家里|一家|老师|医生|书记|主任"
)
# Words before a name: 居民张三, 独居老人李桂兰, 联系人王芳, 姓王.
_BEFORE = "居民|住户|业主|租户|户主|房东|老人|患者|病人|家属|联系人|来电人|报告人|反映人|老伴|儿子|女儿|丈夫|妻子"
# Words that look like a family name and a given name next to a cue but are not people:
# 高龄老人, 关心老人, 老人安全; and words ending in a family name's character: 保安师傅.
_NOT_NAMES = frozenset(
    {"高龄", "年迈", "年老", "年长", "常年", "常住", "孤寡", "独居", "空巢", "留守", "残疾", "失能", "卧床"}
    | {"生病", "关心", "关爱", "关注", "关照", "方便", "安全", "万一", "常常", "孙子", "孙女", "周末", "周围"}
    | {"白天", "高兴", "成天", "于是", "任何", "许多", "金融", "江边", "文明", "石头", "邻居", "楼上", "楼下"}
    | {"高空", "高层", "高楼", "高温", "高压", "高血", "高烧", "高处", "高速", "马路", "马上", "黄色", "白色"}
)
_WORD_ENDS = frozenset({"保安", "公安", "治安", "平安", "早安", "晚安", "城管", "水管", "物管", "宿管", "主管", "监管"})
_NAME_AFTER = re.compile(rf"{_SURNAME}{_HAN}{{0,2}}?(?=(?:{_AFTER}))")
_NAME_BEFORE = re.compile(rf"(?P<cue>{_BEFORE}){_SURNAME}{_HAN}{{1,2}}|(?P<family>姓){_SURNAME}")


def _not_a_name(text: str, start: int, name: str) -> bool:
    return name in _NOT_NAMES or name[:2] in _NOT_NAMES or (start > 0 and text[start - 1 : start + 1] in _WORD_ENDS)


def _names(text: str) -> str:
    def after(m: re.Match[str]) -> str:
        return m.group(0) if _not_a_name(text, m.start(), m.group(0)) else NAME

    text = _NAME_AFTER.sub(after, text)

    def before(m: re.Match[str]) -> str:
        cue = m.group("cue") or m.group("family")
        name = m.group(0)[len(cue) :]
        return m.group(0) if _not_a_name(text, m.start() + len(cue), name) else cue + NAME

    return _NAME_BEFORE.sub(before, text)


def scrub(text: str | None, names: Iterable[str | None] = ()) -> str:
    """``text`` without phone numbers, ID numbers, e-mail addresses, room numbers and names."""
    if not text:
        return ""
    out = text.translate(_WIDE_DIGITS)
    # The longest known names first, so 王秀英 goes before a 王秀 that may also be known.
    for name in sorted({(n or "").strip() for n in names}, key=len, reverse=True):
        if len(name) >= 2:
            out = out.replace(name, NAME)
    out = _EMAIL.sub(EMAIL, out)
    out = _ID.sub(ID_NUMBER, out)
    out = _MOBILE.sub(PHONE, out)
    out = _LANDLINE.sub(PHONE, out)
    out = _LONG_NUMBER.sub(NUMBER, out)
    out = _UNIT_ROOM.sub(ROOM, out)
    out = _AFTER_BUILDING.sub(ROOM, out)
    out = _ROOM.sub(ROOM, out)
    out = _DASHED.sub(ROOM, out)
    return _names(out)
