"""The workbook to fill in for an import: the headers in Chinese (required ones in red), one
example row, text-formatted columns for long digit strings, drop-downs for choices, and a
说明 sheet saying what to write in each column."""

import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from renxing.exporting import display_width
from renxing.people.importer import COLUMNS, ImportKind

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
