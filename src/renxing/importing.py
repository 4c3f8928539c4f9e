"""Reading spreadsheets as community workers save them: .xlsx and .csv, cell by cell. Pure.

Every parser takes a raw cell (what openpyxl or the csv module gives: str, int, float,
datetime, bool or None) and returns a clean value, or raises :class:`CellError` with a
short reason in Chinese and English. Blank cells become None.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import load_workbook

Progress = Callable[[int, int], None]


class SheetError(ValueError):
    """The file as a whole cannot be read."""


class CellError(ValueError):
    """One cell holds a value that cannot be used."""


@dataclass
class Table:
    headers: list[str]  # as written in row 1, stripped; "" where blank
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (spreadsheet row number, cells)


# ---- files ------------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


def read_table(data: bytes, file_name: str, *, max_rows: int = 200_000, progress: Progress | None = None) -> Table:
    """The first sheet of an .xlsx, or a .csv, as a header and the non-blank rows after it."""
    if not data:
        raise SheetError("文件是空的 / the file is empty")
    if data.startswith(XLS_MAGIC) or file_name.lower().endswith(".xls"):
        raise SheetError(
            "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx / old .xls files are not supported; save as .xlsx"
        )
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data, max_rows, progress)
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise SheetError("文件不是有效的 .xlsx / the file is not a valid .xlsx workbook")
    return _read_csv(decode_text(data), max_rows)


def _read_xlsx(data: bytes, max_rows: int, progress: Progress | None) -> Table:
    unreadable = "无法读取该 .xlsx 文件，请用 Excel 打开后重新保存 / the .xlsx file cannot be read; re-save it in Excel"
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign file fails in many ways inside the reader
        raise SheetError(unreadable) from exc
    try:
        return _xlsx_rows(wb.worksheets[0], max_rows, progress)
    except SheetError:
        raise
    except Exception as exc:
        raise SheetError(unreadable) from exc
    finally:
        wb.close()


def _xlsx_rows(ws: Any, max_rows: int, progress: Progress | None) -> Table:
    # The stored dimension only estimates the size for the progress bar: some writers
    # store a wrong one, so the sheet is read to its real end.
    estimate = max((ws.max_row or 1) - 1, 0)
    ws.reset_dimensions()
    table: Table | None = None
    for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
        if table is None:
            table = Table(headers=[_header_text(c) for c in cells])
            continue
        if _blank(cells):
            continue
        if len(table.rows) >= max_rows:
            raise SheetError(f"行数超过上限 {max_rows} / more than {max_rows} rows; split the file")
        table.rows.append((number, list(cells)))
        if progress is not None and number % 500 == 0:
            progress(number - 1, max(estimate, number - 1))
    if table is None:
        raise SheetError("第一个工作表是空的 / the first sheet is empty")
    return table


def decode_text(data: bytes) -> str:
    """UTF-8 with or without BOM, UTF-16 with BOM; otherwise GB18030 (a superset of the GBK that
    Excel in China saves CSV in)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" (tab-separated UTF-16)
        return data.decode("utf-16", errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("无法识别文件编码，请另存为 UTF-8 CSV / unknown text encoding; save as UTF-8 CSV")


def _read_csv(text: str, max_rows: int) -> Table:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table: Table | None = None
    try:
        for number, cells in enumerate(reader, start=1):
            if table is None:
                table = Table(headers=[_header_text(c) for c in cells])
                continue
            if _blank(cells):
                continue
            if len(table.rows) >= max_rows:
                raise SheetError(f"行数超过上限 {max_rows} / more than {max_rows} rows; split the file")
            table.rows.append((number, list(cells)))
    except csv.Error as exc:
        raise SheetError(f"CSV 格式错误 / malformed CSV: {exc}") from exc
    if table is None or not any(table.headers):
        raise SheetError("文件没有表头 / the file has no header row")
    return table


def _header_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _blank(cells: Any) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# ---- headers ----------------------------------------------------------------------------

_BRACKETED = re.compile(r"\(.*?\)|\[.*?\]|【.*?】")
_IGNORED = re.compile(r"[\s*_\-.:/\\#]")


def normalise_header(text: str) -> str:
    """ "出生日期（年-月-日）", "Birth Date", "birth_date*" → "出生日期", "birthdate", "birthdate"."""
    s = unicodedata.normalize("NFKC", text).lower()
    s = _BRACKETED.sub("", s)
    return _IGNORED.sub("", s)


# ---- cells ------------------------------------------------------------------------------


def _nfkc(value: Any) -> str:
    # Full-width digits and letters (１２３, ＡＢＣ) typed with a Chinese input method become ASCII.
    return unicodedata.normalize("NFKC", str(value)).replace("\u00a0", " ").strip()


def text(value: Any, max_length: int | None = None) -> str | None:
    """Free text; a number typed into a text column comes back without a trailing ".0"."""
    if value is None:
        return None
    if isinstance(value, bool):
        out = "是" if value else "否"
    elif isinstance(value, float) and value.is_integer():
        out = str(int(value))
    elif isinstance(value, datetime | date):
        out = value.strftime("%Y-%m-%d")
    else:
        out = str(value).replace("\u00a0", " ").strip()
    if not out:
        return None
    if max_length is not None and len(out) > max_length:
        raise CellError(f"超过 {max_length} 个字 / longer than {max_length} characters")
    return out


def code_text(value: Any, max_length: int | None = None) -> str | None:
    """Digits-and-letters text such as a phone number or a room: numbers are fine, full width is folded."""
    if isinstance(value, float) and not value.is_integer():
        raise CellError("应为整数或文本 / expected digits, not a decimal number")
    raw = text(value)
    return text(_nfkc(raw), max_length) if raw is not None else None


_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?e\+?\d+$", re.IGNORECASE)
ID_AS_NUMBER = (
    "身份证号被存成了数字（末几位可能已丢失），请将该列设置为“文本”格式后重新录入 / "
    "the ID number was stored as a number and digits may be lost: format the column as text and re-enter it"
)


def id_number_text(value: Any) -> str | None:
    """An ID number must arrive as text: Excel keeps only 15 significant digits of a number."""
    if value is None:
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        raise CellError(ID_AS_NUMBER)
    raw = _nfkc(value).replace(" ", "").upper()
    if not raw:
        return None
    if _SCIENTIFIC.match(raw) or (raw.endswith(".0") and raw[:-2].isdigit()):
        raise CellError(ID_AS_NUMBER)
    return raw


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any) -> date | None:
    """A date cell, or text "1950-01-09", "1950/1/9", "1950.1.9", "1950年1月9日", "19500109"."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError("不是日期 / not a date")
    if isinstance(value, int | float):
        # A number is only read as yyyymmdd; a bare Excel serial number could be anything.
        if float(value).is_integer() and 10_000_000 <= value <= 99_999_999:
            value = str(int(value))
        else:
            raise CellError("不是日期，请填写如 1950-01-09 / not a date; write it like 1950-01-09")
    raw = _nfkc(value)
    if not raw:
        return None
    raw = raw.split(" ")[0]  # "1950-01-09 00:00:00" from a text export
    for pattern in _DATE_PATTERNS:
        m = pattern.match(raw)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError as exc:
                raise CellError("日期不存在 / no such date") from exc
    raise CellError("日期格式错误，请填写如 1950-01-09 / bad date; write it like 1950-01-09")


_TRUE = frozenset({"是", "有", "y", "yes", "true", "t", "1", "√", "✓", "✔", "对"})
_FALSE = frozenset({"否", "无", "没有", "n", "no", "false", "f", "0", "×", "✗", "不是"})


def parse_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raw = _nfkc(value).lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise CellError("应填“是”或“否” / expected 是 (yes) or 否 (no)")


_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def parse_int(
    value: Any, *, low: int | None = None, high: int | None = None, suffixes: tuple[str, ...] = ()
) -> int | None:
    """Whole numbers, also "3单元", "二级" when the suffix is allowed and small Chinese numerals."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError("应为整数 / expected a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError("应为整数 / expected a whole number")
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        raw = _nfkc(value)
        if not raw:
            return None
        for suffix in suffixes:
            if raw.endswith(suffix) and len(raw) > len(suffix):
                raw = raw[: -len(suffix)].strip()
                break
        if raw in _CN_DIGITS:
            number = _CN_DIGITS[raw]
        else:
            try:
                dec = Decimal(raw)
            except InvalidOperation as exc:
                raise CellError("应为整数 / expected a whole number") from exc
            if dec != dec.to_integral_value():
                raise CellError("应为整数 / expected a whole number")
            number = int(dec)
    if (low is not None and number < low) or (high is not None and number > high):
        raise CellError(f"应在 {low}–{high} 之间 / must be between {low} and {high}")
    return number


def parse_float(value: Any, *, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError("应为数字 / expected a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        raw = _nfkc(value)
        if not raw:
            return None
        try:
            number = float(raw)
        except ValueError as exc:
            raise CellError("应为数字 / expected a number") from exc
    if not low <= number <= high:
        raise CellError(f"应在 {low}–{high} 之间 / must be between {low} and {high}")
    return number


def parse_choice(value: Any, choices: dict[str, str], allowed: str) -> str | None:
    """One of a fixed set, matched case- and width-insensitively; ``choices`` maps spellings to codes."""
    if value is None:
        return None
    raw = _nfkc(value).lower().replace(" ", "")
    if not raw:
        return None
    if raw in choices:
        return choices[raw]
    raise CellError(f"无效的值，可填：{allowed} / not an allowed value")


def parse_choices(value: Any, choices: dict[str, str], allowed: str) -> list[str] | None:
    """Several of a fixed set, separated by commas, 、 or semicolons."""
    if value is None:
        return None
    parts = [p for p in re.split(r"[,，、;；/\s]+", _nfkc(value)) if p]
    if not parts:
        return None
    out: list[str] = []
    bad: list[str] = []
    for part in parts:
        code = choices.get(part.lower())
        if code is None:
            bad.append(part)
        elif code not in out:
            out.append(code)
    if bad:
        raise CellError(f"无效的值“{'、'.join(bad)}”，可填：{allowed} / not allowed: {', '.join(bad)}")
    return out
