"""How personal data is shown to someone whose role does not need it in the clear. Pure.

A masked value must not combine with other shown fields to narrow a person down. An ID number
is region (6 digits) + birth date (8) + sequence (3) + check digit: showing the region prefix
beside the birth date left about nine candidates for the hidden digits. So a masked ID shows
its last four characters only, and roles that may not read the ID see an age, never the birth
date (``auth.policy.sees_birth_date``).
"""

import re
from typing import Any

from renxing.auth.policy import Field, sees_birth_date

HIDDEN = "***"
ID_VISIBLE = 4  # characters of an ID number left readable when masked


def mask_id_number(value: str | None) -> str | None:
    # **************1234: the last four tell household members apart, nothing else is left.
    if not value:
        return value
    if len(value) <= ID_VISIBLE * 2:
        return "*" * len(value)
    return "*" * (len(value) - ID_VISIBLE) + value[-ID_VISIBLE:]


def mask_phone(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "****" + value[-4:] if len(value) >= 11 else value[:2] + "****"


def mask_name(value: str | None) -> str | None:
    """张三丰 → 张*丰, 李四 → 李*; used where even names must not show (public pages)."""
    if not value:
        return value
    if len(value) <= 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


# Identity numbers and phone numbers inside free text (notes, comments, descriptions). Digit
# runs are matched whole, so a longer number is never cut into a false phone. Full-width digits
# (typed on phone keyboards) are found through a same-length ASCII copy of the text.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![\d+])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE_IN_TEXT = re.compile(r"(?<![\d+])0\d{2,3}[- ]?\d{7,8}(?!\d)")
_ASCII = str.maketrans("０１２３４５６７８９－＋Ｘｘ", "0123456789-+Xx")


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit() or ch in "Xx")


def mask_text(text: str | None, *, ids: bool = True, phones: bool = True) -> str | None:
    """Free text with the ID numbers (``ids``) and phone numbers (``phones``) in it masked as
    those fields are."""
    if not text or not (ids or phones):
        return text
    plain = text.translate(_ASCII)  # one character for one, so spans match the original
    spans: list[tuple[int, int, str]] = []
    for m in _ID_IN_TEXT.finditer(plain):
        # An ID is never read as a phone, even for a reader who may see phones.
        shown = (mask_id_number(_digits(m.group())) or "") if ids else text[m.start() : m.end()]
        spans.append((m.start(), m.end(), shown))
    for pattern in (_MOBILE_IN_TEXT, _LANDLINE_IN_TEXT) if phones else ():
        for m in pattern.finditer(plain):
            if any(a < m.end() and m.start() < b for a, b, _ in spans):
                continue
            number = _digits(m.group())
            if number.startswith("86") and len(number) == 13:
                number = number[2:]
            spans.append((m.start(), m.end(), mask_phone(number) or ""))
    for start, end, masked in sorted(spans, reverse=True):
        text = text[:start] + (masked or "") + text[end:]
    return text


# Keys under which records (and audit entries' before/after) hold personal values.
ID_KEYS = frozenset({"id_number"})
BIRTH_KEYS = frozenset({"birth_date"})
PHONE_KEYS = frozenset({"phone", "emergency_phone", "reporter_phone"})
HEALTH_KEYS = frozenset(
    {"disability_kind", "disability_grade", "bedridden", "chronic_illness", "pregnant", "special_needs", "needs"}
)
NAME_KEYS = frozenset({"name", "person_name", "emergency_contact", "reporter_name"})


def mask_value(clear: frozenset[Field], key: str, value: Any, *, names: bool = True) -> Any:
    """One stored value (of a record or an audit entry) as a reader with ``clear`` fields sees
    it: personal fields by their key, phone and ID numbers inside any other text; ``names`` is
    False for readers who may not read people at all (the system administrator)."""
    if value is None:
        return None
    if key in ID_KEYS and Field.id_number not in clear:
        return mask_id_number(str(value))
    if key in BIRTH_KEYS and not sees_birth_date(clear):
        return HIDDEN
    if key in PHONE_KEYS and Field.phone not in clear:
        return mask_phone(str(value))
    if key in HEALTH_KEYS and Field.health not in clear:
        return HIDDEN
    if key in NAME_KEYS and not names and isinstance(value, str):
        return mask_name(value)
    if isinstance(value, str):
        return mask_text(value, ids=Field.id_number not in clear, phones=Field.phone not in clear)
    if isinstance(value, dict):
        return {k: mask_value(clear, k, v, names=names) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(clear, key, v, names=names) for v in value]
    return value
