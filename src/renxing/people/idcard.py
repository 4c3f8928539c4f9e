"""Chinese resident identity numbers (GB 11643-1999): checksum, birth date, gender. Pure."""

from dataclasses import dataclass
from datetime import date

from renxing.i18n import _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class IdNumberError(ValueError):
    """Raised with a short reason in Chinese and English."""


@dataclass(frozen=True)
class IdInfo:
    number: str
    region: str
    birth_date: date
    gender: str  # "M" or "F"


def check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_id_number(raw: str) -> IdInfo:
    number = raw.strip().upper()
    if len(number) != 18:
        raise IdNumberError(_("身份证号应为18位"))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError(_("身份证号含非法字符"))
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise IdNumberError(_("身份证号中的出生日期无效")) from exc
    if born.year < 1880 or born > date.today():
        raise IdNumberError(_("身份证号中的出生日期不合理"))
    if check_digit(number[:17]) != number[17]:
        raise IdNumberError(_("身份证号校验位错误"))
    gender = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, region=number[:6], birth_date=born, gender=gender)


def make_id_number(region: str, born: date, sequence: int, gender: str) -> str:
    """Build a valid number: used by the demo generator and tests."""
    seq = sequence % 1000
    if (seq % 2 == 1) != (gender == "M"):
        seq = (seq + 1) % 1000
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)
