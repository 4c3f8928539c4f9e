"""Reading spreadsheets as community workers save them: .xlsx and .csv, cell by cell. Pure.

Every parser takes a raw cell (what openpyxl or the csv module gives: str, int, float,
datetime, bool or None) and returns a clean value, or raises :class:`CellError` with a
short reason in Chinese and English. Blank cells become None.
"""

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from openpyxl import load_workbook

from renxing.i18n import _, _l

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
#
# A file is checked for what it would cost before it is parsed: an .xlsx is a zip, so its
# members' unpacked sizes, their compression ratios, the longest text in them and the number
# of rows of each sheet are known by streaming through it once, which takes a fraction of a
# second where openpyxl would take minutes or gigabytes. Rows are then read one at a time
# (openpyxl read-only, the csv module over a text stream); blank rows count against the
# row limit like any other, since reading them costs the same.

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_COLUMNS = 500
MAX_MEMBERS = 1_000
MAX_RATIO = 200  # an .xlsx member packed tighter than this (beyond 1 MB) is a bomb, not a register
TEXT_RUN = 128 * 1024  # bytes without a "<" in a row: a text longer than any allowed cell
MAX_LINE = 4 * MAX_CELL_CHARS  # characters of one CSV line
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_SHARED_TAG = re.compile(rb"<(?:\w+:)?si[\s>/]")


def _limits_message(what: str) -> str:
    return _("{what}，请检查文件或拆分后再导入").format(what=what)


def _too_many_rows(max_rows: int) -> SheetError:
    return SheetError(_("行数超过上限 {max_rows}（空行也计入，请删除表末的空行）").format(max_rows=max_rows))


def _too_long(row: int | None = None, column: int | None = None) -> SheetError:
    where = _("第 {row} 行第 {column} 列").format(row=row, column=column) if row else _("某个单元格")
    return SheetError(_("{where}超过 {max_cell_chars} 个字").format(where=where, max_cell_chars=MAX_CELL_CHARS))


def read_table(
    data: bytes,
    file_name: str,
    *,
    max_rows: int = 200_000,
    progress: Progress | None = None,
    max_unpacked: int | None = None,
) -> Table:
    """The first sheet of an .xlsx, or a .csv, as a header and the non-blank rows after it.

    ``max_unpacked`` bounds what an .xlsx may unpack to (default ``Settings.max_import_uncompressed_bytes``).
    """
    if not data:
        raise SheetError(_("文件是空的"))
    if data.startswith(XLS_MAGIC) or file_name.lower().endswith(".xls"):
        raise SheetError(_("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx"))
    if data.startswith(XLSX_MAGIC):
        if max_unpacked is None:
            from renxing.config import get_settings

            max_unpacked = get_settings().max_import_uncompressed_bytes
        return _read_xlsx(data, max_rows, progress, max_unpacked)
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise SheetError(_("文件不是有效的 .xlsx"))
    return _read_csv(data, max_rows)


def read_upload(stream: BinaryIO, max_bytes: int | None = None) -> bytes:
    """An uploaded file, read no further than one byte past ``max_bytes`` (default
    ``Settings.max_import_bytes``): a bigger file is refused without being held whole."""
    if max_bytes is None:
        from renxing.config import get_settings

        max_bytes = get_settings().max_import_bytes
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SheetError(file_too_large(max_bytes))
    return data


def file_too_large(max_bytes: int) -> str:
    mb = f"{max_bytes / (1024 * 1024):.3g}"
    return _("文件超过 {mb} MB，请拆分后分批导入").format(mb=mb)


_UNREADABLE = _l("无法读取该 .xlsx 文件，请用 Excel 打开后重新保存")


def _inspect_xlsx(data: bytes, max_rows: int, max_unpacked: int) -> dict[str, int]:
    """Refuses a workbook that would cost too much to read; returns the row elements of each sheet."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise SheetError(_limits_message(_("文件内部件过多")))
            unpacked = sum(i.file_size for i in infos)
            if unpacked > max_unpacked:
                mb = max_unpacked // (1024 * 1024)
                raise SheetError(_limits_message(_("文件解压后超过 {mb} MB").format(mb=mb)))
            for i in infos:
                if i.file_size > 1024 * 1024 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                    raise SheetError(_limits_message(_("文件压缩比异常（{part}）").format(part=i.filename)))
            rows: dict[str, int] = {}
            for i in infos:
                if i.filename.endswith((".xml", ".rels")):
                    rows[i.filename] = _scan_part(zf, i)
            return rows
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise SheetError(_UNREADABLE) from exc


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """One XML part streamed through once: refuses a text longer than a cell may be (a long run
    without markup, or one shared string spanning too much); returns its number of <row> tags."""
    shared = info.filename.lower().endswith("sharedstrings.xml")
    rows, offset, last_si, carry = 0, 0, 0, b""
    with zf.open(info) as part:
        while True:
            block = part.read(1024 * 1024)
            if not block:
                break
            chunk = carry + block
            # Fixed windows: a run of 2 × TEXT_RUN bytes without "<" fills one whole window.
            for start in range(0, len(block) - TEXT_RUN + 1, TEXT_RUN):
                if b"<" not in block[start : start + TEXT_RUN]:
                    raise _too_long()
            cut = chunk.rfind(b">") + 1  # whole tags only; the rest waits for the next block
            body, carry = chunk[:cut], chunk[cut:]
            if len(carry) > 2 * TEXT_RUN:
                raise _too_long()
            rows += len(_ROW_TAG.findall(body))
            if shared:
                for m in _SHARED_TAG.finditer(body):
                    if offset + m.start() - last_si > 4 * MAX_CELL_CHARS + 4096:
                        raise _too_long()
                    last_si = offset + m.start()
                if offset + len(body) - last_si > 4 * MAX_CELL_CHARS + 4096 and last_si:
                    raise _too_long()
            offset += len(body)
    return rows


def _read_xlsx(data: bytes, max_rows: int, progress: Progress | None, max_unpacked: int) -> Table:
    row_tags = _inspect_xlsx(data, max_rows, max_unpacked)
    # Header + rows, counted before parsing any. Every sheet: opening a workbook, openpyxl reads
    # each sheet whose size is not stored in it through to the end.
    if max(row_tags.values(), default=0) > max_rows + 1:
        raise _too_many_rows(max_rows)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign file fails in many ways inside the reader
        raise SheetError(_UNREADABLE) from exc
    try:
        return _xlsx_rows(wb.worksheets[0], max_rows, progress)
    except SheetError:
        raise
    except Exception as exc:
        raise SheetError(_UNREADABLE) from exc
    finally:
        wb.close()


def _header(cells: Any) -> list[str]:
    headers = [_header_text(c) for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise SheetError(_("列数超过上限 {max_columns}").format(max_columns=MAX_COLUMNS))
    return headers


def _data_row(cells: Any, width: int, number: int) -> list[Any] | None:
    """The row's cells under a header (others are ignored), or None when it is blank."""
    row = list(cells[:width])
    for column, value in enumerate(row, start=1):
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise _too_long(number, column)
    return None if _blank(row) else row


def _xlsx_rows(ws: Any, max_rows: int, progress: Progress | None) -> Table:
    # The stored dimension only estimates the size for the progress bar: some writers
    # store a wrong one, so the sheet is read to its real end.
    estimate = max((ws.max_row or 1) - 1, 0)
    ws.reset_dimensions()
    table: Table | None = None
    for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
        if table is None:
            table = Table(headers=_header(cells))
            continue
        if number > max_rows + 1:  # blank or not: a row number past the limit (gaps count too)
            raise _too_many_rows(max_rows)
        row = _data_row(cells, len(table.headers), number)
        if row is None:
            continue
        table.rows.append((number, row))
        if progress is not None and number % 500 == 0:
            progress(number - 1, max(estimate, number - 1))
    if table is None:
        raise SheetError(_("第一个工作表是空的"))
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
    raise SheetError(_("无法识别文件编码，请另存为 UTF-8 CSV"))


def _read_csv(data: bytes, max_rows: int) -> Table:
    """The same encodings as :func:`decode_text`, decoded while the rows are read: strict UTF-8
    first, and from the start again as GB18030 when that fails."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _csv_rows(data[3:], "utf-8", "replace", max_rows)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" (tab-separated UTF-16)
        return _csv_rows(data, "utf-16", "replace", max_rows)
    for encoding in ("utf-8", "gb18030"):
        try:
            return _csv_rows(data, encoding, "strict", max_rows)
        except UnicodeDecodeError:
            continue
    raise SheetError(_("无法识别文件编码，请另存为 UTF-8 CSV"))


def _csv_lines(stream: io.TextIOBase) -> Iterator[str]:
    while True:
        line = stream.readline(MAX_LINE)
        if not line:
            return
        if len(line) >= MAX_LINE and not line.endswith(("\n", "\r")):
            raise SheetError(_("某一行超过 {max_line} 个字符").format(max_line=MAX_LINE))
        yield line


def _csv_rows(data: bytes, encoding: str, errors: str, max_rows: int) -> Table:
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors, newline="")
    first = stream.readline(MAX_LINE)
    stream.seek(0)
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(_csv_lines(stream), delimiter=delimiter)
    table: Table | None = None
    try:
        for number, cells in enumerate(reader, start=1):
            if table is None:
                table = Table(headers=_header(cells))
                continue
            if number > max_rows + 1:
                raise _too_many_rows(max_rows)
            row = _data_row(cells, len(table.headers), number)
            if row is not None:
                table.rows.append((number, row))
    except csv.Error as exc:
        raise SheetError(_("CSV 格式错误：{error}").format(error=exc)) from exc
    if table is None or not any(table.headers):
        raise SheetError(_("文件没有表头"))
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
        raise CellError(_("超过 {max_length} 个字").format(max_length=max_length))
    return out


def code_text(value: Any, max_length: int | None = None) -> str | None:
    """Digits-and-letters text such as a phone number or a room: numbers are fine, full width is folded."""
    if isinstance(value, float) and not value.is_integer():
        raise CellError(_("应为整数或文本"))
    raw = text(value)
    return text(_nfkc(raw), max_length) if raw is not None else None


_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?e\+?\d+$", re.IGNORECASE)
ID_AS_NUMBER = _l("身份证号被存成了数字（末几位可能已丢失），请将该列设置为“文本”格式后重新录入")


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
        raise CellError(_("不是日期"))
    if isinstance(value, int | float):
        # A number is only read as yyyymmdd; a bare Excel serial number could be anything.
        if float(value).is_integer() and 10_000_000 <= value <= 99_999_999:
            value = str(int(value))
        else:
            raise CellError(_("不是日期，请填写如 1950-01-09"))
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
                raise CellError(_("日期不存在")) from exc
    raise CellError(_("日期格式错误，请填写如 1950-01-09"))


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
        raise CellError(_("应为整数"))
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("应为整数"))
        number: int | None = int(value)
    elif isinstance(value, int):
        number = value
    else:
        number = _int_text(_nfkc(value), suffixes)
    if number is None:
        return None
    if (low is not None and number < low) or (high is not None and number > high):
        raise CellError(_("应在 {low}–{high} 之间").format(low=low, high=high))
    return number


def _int_text(raw: str, suffixes: tuple[str, ...]) -> int | None:
    """A whole number written as text, its unit word (单元, 级 …) dropped; None when blank."""
    if not raw:
        return None
    for suffix in suffixes:
        if raw.endswith(suffix) and len(raw) > len(suffix):
            raw = raw[: -len(suffix)].strip()
            break
    if raw in _CN_DIGITS:
        return _CN_DIGITS[raw]
    try:
        dec = Decimal(raw)
    except InvalidOperation as exc:
        raise CellError(_("应为整数")) from exc
    if not dec.is_finite() or dec != dec.to_integral_value():  # "inf" is no number of floors
        raise CellError(_("应为整数"))
    return int(dec)


def parse_float(value: Any, *, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError(_("应为数字"))
    if isinstance(value, int | float):
        number = float(value)
    else:
        raw = _nfkc(value)
        if not raw:
            return None
        try:
            number = float(raw)
        except ValueError as exc:
            raise CellError(_("应为数字")) from exc
    if not low <= number <= high:
        raise CellError(_("应在 {low}–{high} 之间").format(low=low, high=high))
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
    raise CellError(_("无效的值，可填：{allowed}").format(allowed=allowed))


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
        raise CellError(_("无效的值“{values}”，可填：{allowed}").format(values="、".join(bad), allowed=allowed))
    return out
