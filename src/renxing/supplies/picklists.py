"""Pick lists per storage point, as an A4 PDF to print and as an .xlsx. Pure: values in, bytes out.

Each storage point starts on a new page; its lines are cut into pages of a fixed number of rows
(:func:`paginate`), so the table never runs under the signature line. Every page carries the
heading of its point, the signature line and its page number, so a loose page still says what to
pick, where, and who signed for it. Text is drawn in a CJK font (``FontMissing`` names the package
when none is installed).
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from renxing.exporting import display_width, to_xlsx
from renxing.i18n import _
from renxing.space.riskmap.fonts import DRAWING, cjk_font, font_settings

T = TypeVar("T")

A4 = (8.27, 11.69)  # inches, portrait
MARGIN = 0.55
HEAD_H = 1.6  # title, run, and the storage point's address, hours and contact
FOOT_H = 1.05  # signature line and page number
ROW_H = 0.27
TABLE_TOP = A4[1] - MARGIN - HEAD_H  # inches from the bottom of the page
FOOTER_TOP = MARGIN + FOOT_H
# The header row, then as many line rows as fit above the footer.
ROWS_PER_PAGE = int((TABLE_TOP - FOOTER_TOP) // ROW_H) - 1
# Columns: width in inches; the numbers right-aligned. They fill the width between the margins.
COLUMNS = (("no", 0.42), ("item", 2.05), ("unit", 0.55), ("lot", 1.05), ("expiry", 0.92), ("qty", 0.72))
DEST_W = A4[0] - 2 * MARGIN - sum(w for _k, w in COLUMNS)
RIGHT_ALIGNED = {0, 5}  # the line number and the quantity
# Display width (a CJK character counts 2) that fits one inch at the table's type size.
TABLE_PT, SMALL_PT = 8.5, 7.0
UNITS_PER_INCH = 16.0
INK, MUTED, RULE, HEAD_FILL, STRIPE = "#1a1a1a", "#555555", "#9aa5b1", "#dde7f1", "#f3f6f9"


@dataclass(frozen=True)
class PickLine:
    item: str
    unit: str
    lot: str | None
    expiry: date | None
    quantity: int
    destination: str


@dataclass(frozen=True)
class PickList:
    point: str
    address: str | None
    access_hours: str | None
    contact: str | None
    lines: list[PickLine]


@dataclass(frozen=True)
class PickSheet:
    title: str  # e.g. "应急物资调拨拣货单 — 桂花园社区 — 暴雨内涝"
    run_label: str  # e.g. "调拨方案 #12"
    generated: str  # local time as printed
    lists: list[PickList]


@dataclass(frozen=True)
class Page:
    """One printed page: a storage point's part ``part`` of ``parts``, its lines from number ``first``."""

    pick: PickList | None  # None: the sheet has no storage point at all
    lines: list[PickLine]
    first: int
    part: int
    parts: int


def paginate(lines: Sequence[T], per_page: int) -> list[list[T]]:
    """The lines in pages of at most ``per_page``, in order; no line makes one empty page."""
    if per_page < 1:
        raise ValueError("per_page must be ≥ 1")
    return [list(lines[i : i + per_page]) for i in range(0, len(lines), per_page)] or [[]]


def pages(sheet: PickSheet, per_page: int = ROWS_PER_PAGE) -> list[Page]:
    """Every page of the PDF in print order: each storage point on pages of its own."""
    out: list[Page] = []
    for pick in sheet.lists:
        parts = paginate(pick.lines, per_page)
        out.extend(Page(pick, chunk, 1 + k * per_page, k + 1, len(parts)) for k, chunk in enumerate(parts))
    return out or [Page(None, [], 1, 1, 1)]


def fit(text: str, width: float) -> tuple[str, float]:
    """``text`` and the font size that fit ``width`` inches: smaller type first, then cut with an ellipsis."""
    for pt in (TABLE_PT, SMALL_PT):
        budget = int(width * UNITS_PER_INCH * TABLE_PT / pt) - 1  # a little air on either side
        if display_width(text) <= budget:
            return text, pt
    kept, used = [], 2  # the ellipsis is as wide as a CJK character
    for ch in text:
        used += display_width(ch)
        if used > budget:
            break
        kept.append(ch)
    return "".join(kept).rstrip() + "…", SMALL_PT


def row_bottom(row: int) -> float:
    """Bottom of table row ``row`` (0 is the header), in inches from the bottom of the page."""
    return TABLE_TOP - (row + 1) * ROW_H


def _headers() -> list[str]:
    return [_("序号"), _("物资"), _("单位"), _("批号"), _("有效期"), _("数量"), _("送往")]


def _cells(number: int, line: PickLine) -> list[str]:
    expiry = line.expiry.isoformat() if line.expiry else "—"
    return [str(number), line.item, line.unit, line.lot or "—", expiry, f"{line.quantity:,}", line.destination]


def _heading(fig: Figure, sheet: PickSheet, page: Page) -> None:
    w, h = A4
    top = (h - MARGIN) / h
    fig.text(0.5, top, sheet.title, ha="center", va="top", fontsize=15, color=INK)
    run = _("{run} · 生成于 {generated}").format(run=sheet.run_label, generated=sheet.generated)
    fig.text(0.5, top - 0.36 / h, run, ha="center", va="top", fontsize=9, color=MUTED)
    if page.pick is None:
        fig.text(0.5, top - 1.2 / h, _("本方案没有需要拣货的存储点"), ha="center", va="top", fontsize=11)
        return
    pick = page.pick
    name = pick.point if page.part == 1 else _("{point}（续）").format(point=pick.point)
    x = MARGIN / w
    fig.text(x, top - 0.78 / h, _("存储点：{point}").format(point=name), va="top", fontsize=12, color=INK)
    part = _("第 {part}/{parts} 页 · 共 {count} 行").format(part=page.part, parts=page.parts, count=len(pick.lines))
    fig.text(1 - x, top - 0.8 / h, part, ha="right", va="top", fontsize=9, color=MUTED)
    details = [
        _("地址：{value}").format(value=pick.address or "—"),
        _("开放时间：{value}").format(value=pick.access_hours or "—"),
        _("联系人：{value}").format(value=pick.contact or "—"),
    ]
    text, pt = fit("    ".join(details), w - 2 * MARGIN)
    fig.text(x, top - 1.12 / h, text, va="top", fontsize=pt, color=INK)


def _table(fig: Figure, page: Page) -> None:
    rows = [_headers()] + [_cells(page.first + k, line) for k, line in enumerate(page.lines)]
    if page.pick is not None and not page.lines:
        rows.append(["", _("（无物资）"), "", "", "", "", ""])
    for r, cells in enumerate(rows):
        y = row_bottom(r)
        fill = HEAD_FILL if r == 0 else STRIPE if r % 2 == 0 else None
        if fill:
            fig.add_artist(_band(y, fill))
        _row(fig, y, cells)
        fig.add_artist(_rule(y, RULE if r else INK))
    fig.add_artist(_rule(TABLE_TOP, INK))


def _row(fig: Figure, y: float, cells: list[str]) -> None:
    w, h = A4
    x = MARGIN
    widths = [cw for _k, cw in COLUMNS] + [DEST_W]
    for c, (cell, cw) in enumerate(zip(cells, widths, strict=True)):
        right = c in RIGHT_ALIGNED
        text, pt = fit(cell, cw)
        tx = (x + cw - 0.06) if right else (x + 0.06)
        fig.text(tx / w, (y + ROW_H / 2) / h, text, ha="right" if right else "left", va="center", fontsize=pt)
        x += cw


def _band(y: float, color: str) -> Rectangle:
    w, h = A4
    return Rectangle((MARGIN / w, y / h), (w - 2 * MARGIN) / w, ROW_H / h, color=color, lw=0)


def _rule(y: float, color: str) -> Line2D:
    w, h = A4
    return Line2D([MARGIN / w, 1 - MARGIN / w], [y / h, y / h], color=color, lw=0.6)


def _footer(fig: Figure, number: int, total: int) -> None:
    w, h = A4
    x = MARGIN / w
    blank = "＿" * 7
    signatures = "    ".join(
        [
            _("拣货人：{blank}").format(blank=blank),
            _("复核人：{blank}").format(blank=blank),
            _("接收人：{blank}").format(blank=blank),
            _("日期：{blank}").format(blank="＿" * 5),
        ]
    )
    fig.text(x, (FOOTER_TOP - 0.45) / h, signatures, va="bottom", fontsize=9.5, color=INK)
    fig.text(
        0.5,
        (MARGIN + 0.05) / h,
        _("第 {number} 页，共 {total} 页").format(number=number, total=total),
        ha="center",
        va="bottom",
        fontsize=8,
        color=MUTED,
    )
    brand = f"{_('韧性社区治理平台')} · Renxing"
    fig.text(1 - x, (MARGIN + 0.05) / h, brand, ha="right", va="bottom", fontsize=7, color=MUTED)


def pick_lists_pdf(sheet: PickSheet) -> bytes:
    """A4 pages, each storage point on pages of its own, every row on a page and none under the footer."""
    plan = pages(sheet)
    buf = io.BytesIO()
    family = cjk_font()
    with DRAWING, font_settings(family), PdfPages(buf, metadata={"Title": sheet.title, "Creator": "Renxing"}) as pdf:
        for number, page in enumerate(plan, start=1):
            fig = Figure(figsize=A4)
            _heading(fig, sheet, page)
            _table(fig, page)
            _footer(fig, number, len(plan))
            pdf.savefig(fig)
    return buf.getvalue()


def pick_lists_xlsx(sheet: PickSheet) -> bytes:
    """One sheet, one row per line with its storage point first; dates stay dates."""
    headers = [_("存储点"), _("物资"), _("单位"), _("批号"), _("有效期"), _("数量"), _("送往")]
    rows = [
        [pick.point, line.item, line.unit, line.lot, line.expiry, line.quantity, line.destination]
        for pick in sheet.lists
        for line in pick.lines
    ]
    return to_xlsx(headers, rows, sheet=_("拣货单"))
