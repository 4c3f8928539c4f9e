"""Pick lists: pages cut without losing a row, the PDF's pages and font, the workbook's rows."""

import io
import re
import zlib
from datetime import date

import pytest
from openpyxl import load_workbook

from renxing.i18n import use_lang
from renxing.supplies import picklists
from renxing.supplies.picklists import (
    PickLine,
    PickList,
    PickSheet,
    fit,
    pages,
    paginate,
    pick_lists_pdf,
    pick_lists_xlsx,
)


def _line(k: int) -> PickLine:
    return PickLine(
        item=f"瓶装饮用水 550ml×24 第{k}种",
        unit="箱",
        lot=f"L{k:04d}" if k % 3 else None,
        expiry=date(2027, 1 + k % 12, 1) if k % 2 else None,
        quantity=10 * k + 1,
        destination=f"桂花园小学避难场所 {k % 4 + 1} 号门",
    )


def _sheet(*sizes: int) -> PickSheet:
    lists, k = [], 0
    for n, size in enumerate(sizes):
        address = "桂花园路 18 号" if n == 0 else None
        lines = [_line(k + i) for i in range(size)]
        lists.append(PickList(f"存储点{n + 1}", address, "08:00–20:00", None, lines))
        k += size
    return PickSheet("应急物资调拨拣货单 — 桂花园社区 — 暴雨内涝", "调拨方案 #12", "2026-12-03 16:40", lists)


def _page_count(pdf: bytes) -> int:
    # Page objects, not the /Pages tree; the tree's /Count must agree.
    count = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert re.search(rb"/Type\s*/Pages\b.*?/Count\s+%d\b" % count, pdf, re.S)
    return count


def _text_drawn(pdf: bytes) -> set[str]:
    """Characters the PDF's fonts map back to Unicode (their ToUnicode maps)."""
    chars: set[str] = set()
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            data = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        if b"begincmap" in data:
            body = data.split(b"endcodespacerange", 1)[1]
            chars.update(chr(int(h, 16)) for h in re.findall(rb"<([0-9a-fA-F]{4})>", body))
    return chars


@pytest.mark.parametrize(
    ("n", "per_page", "sizes"),
    [(0, 5, [0]), (1, 5, [1]), (5, 5, [5]), (6, 5, [5, 1]), (23, 5, [5, 5, 5, 5, 3]), (3, 1, [1, 1, 1])],
)
def test_paginate_keeps_every_line_in_order(n, per_page, sizes):
    lines = list(range(n))
    chunks = paginate(lines, per_page)
    assert [len(c) for c in chunks] == sizes
    assert [x for c in chunks for x in c] == lines


def test_paginate_refuses_an_empty_page_size():
    with pytest.raises(ValueError):
        paginate([1], 0)


def test_pages_start_each_point_anew_and_number_rows_on():
    sheet = _sheet(7, 0, 3)
    plan = pages(sheet, per_page=3)
    assert [(p.pick.point if p.pick else None, p.part, p.parts, p.first, len(p.lines)) for p in plan] == [
        ("存储点1", 1, 3, 1, 3),
        ("存储点1", 2, 3, 4, 3),
        ("存储点1", 3, 3, 7, 1),
        ("存储点2", 1, 1, 1, 0),
        ("存储点3", 1, 1, 1, 3),
    ]
    for pick in sheet.lists:
        printed = [line for p in plan if p.pick is pick for line in p.lines]
        assert printed == pick.lines


def test_no_row_runs_under_the_footer():
    # The last row a page can hold ends above the signature line, and one more would not.
    per_page = picklists.ROWS_PER_PAGE
    assert per_page >= 20
    assert picklists.row_bottom(per_page) >= picklists.FOOTER_TOP
    assert picklists.row_bottom(per_page + 1) < picklists.FOOTER_TOP
    assert max(len(p.lines) for p in pages(_sheet(3 * per_page + 1))) == per_page


def test_fit_shrinks_then_cuts_long_text():
    assert fit("方便面", 1.0) == ("方便面", picklists.TABLE_PT)
    long = "桂花园小学避难场所（体育馆）东门临时接收点"
    text, pt = fit(long, 1.5)
    assert pt == picklists.SMALL_PT
    assert text.endswith("…") and long.startswith(text[:-1]) and len(text) < len(long)
    assert fit(long, 5.0) == (long, picklists.TABLE_PT)


@pytest.fixture(scope="module")
def long_pdf() -> bytes:
    # Two pages for the first point, one for the second (even with no lines), one for the third.
    per_page = picklists.ROWS_PER_PAGE
    return pick_lists_pdf(_sheet(per_page + 5, 0, 2))


def test_pdf_has_a_page_per_part_and_embeds_a_cjk_font(long_pdf):
    assert long_pdf.startswith(b"%PDF")
    assert _page_count(long_pdf) == 4
    assert re.search(rb"/BaseFont /[A-Z]{6}\+\w*(CJK|Han|WenQuanYi|wqy)", long_pdf, re.I)
    # Title, column headers, signature line, an item and a destination were drawn as Chinese text.
    drawn = _text_drawn(long_pdf)
    for text in ("应急物资调拨拣货单", "序号单位批号有效期数量送往", "拣货人复核人接收人", "瓶装饮用水桂花园"):
        assert set(text) <= drawn, text


def test_pdf_of_a_plan_with_nothing_to_pick_is_one_page():
    pdf = pick_lists_pdf(PickSheet("拣货单", "调拨方案 #1", "2026-12-03 16:40", []))
    assert _page_count(pdf) == 1


def test_xlsx_has_one_row_per_line_with_the_point_first():
    sheet = _sheet(4, 0, 2)
    with use_lang("zh"):
        body = pick_lists_xlsx(sheet)
    ws = load_workbook(io.BytesIO(body)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("存储点", "物资", "单位", "批号", "有效期", "数量", "送往")
    assert len(rows) == 1 + 6
    first = sheet.lists[0].lines[1]
    assert rows[2][0] == "存储点1"
    assert rows[2][1:4] == (first.item, first.unit, first.lot)
    assert rows[2][4].date() == first.expiry
    assert rows[2][5:] == (first.quantity, first.destination)
    assert rows[1][4] is None and rows[1][3] is None  # no expiry, no lot: empty cells
    assert [r[0] for r in rows[1:]] == ["存储点1"] * 4 + ["存储点3"] * 2
