"""Any list as an .xlsx people can open, filter and print. Pure: values in, bytes out."""

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from itertools import islice
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from renxing.config import get_settings

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
# Widths are measured on the first rows only: enough to size the columns, cheap for big lists.
WIDTH_SAMPLE = 500
MIN_WIDTH, MAX_WIDTH = 6, 50


def display_width(value: Any) -> int:
    """Characters a value takes on screen; CJK characters count twice."""
    if value is None:
        return 0
    s = value.strftime("%Y-%m-%d") if isinstance(value, date) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _local(value: datetime) -> datetime:
    # Excel has no time zones: aware times are shown as wall-clock time where the platform runs.
    if value.tzinfo is None:
        return value
    return value.astimezone(ZoneInfo(get_settings().timezone)).replace(tzinfo=None)


def to_xlsx(headers: list[str], rows: Iterable[Sequence[Any]], sheet: str = "数据") -> bytes:
    """A one-sheet workbook: bold frozen header, columns sized to their content, dates as dates."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title(sheet))
    it = iter(rows)
    head = [list(r) for r in islice(it, WIDTH_SAMPLE)]
    for i, header in enumerate(headers):
        widest = max([display_width(header), *(display_width(r[i]) for r in head if i < len(r))])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(MAX_WIDTH, max(MIN_WIDTH, widest + 2))
    ws.freeze_panes = "A2"
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, h)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        header_cells.append(cell)
    ws.append(header_cells)
    for row in head:
        ws.append(_row(ws, row))
    for row in it:
        ws.append(_row(ws, row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(ws: Any, row: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for value in row:
        if isinstance(value, datetime):
            cell = WriteOnlyCell(ws, _local(value))
            cell.number_format = "yyyy-mm-dd hh:mm"
            out.append(cell)
        elif isinstance(value, date):
            cell = WriteOnlyCell(ws, value)
            cell.number_format = "yyyy-mm-dd"
            out.append(cell)
        elif isinstance(value, str) and value.startswith("="):
            # Text from the register must never run as a formula in someone's Excel.
            cell = WriteOnlyCell(ws, value)
            cell.data_type = "s"
            out.append(cell)
        else:
            out.append(value)
    return out


def sheet_title(name: str) -> str:
    """Excel forbids []:*?/\\ in sheet names and allows 31 characters."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'")[:31]
    return cleaned or "数据"


def content_disposition(file_name: str, fallback: str) -> str:
    """An attachment header that keeps a Chinese file name (RFC 6266) with an ASCII fallback."""
    quoted = quote(file_name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"
