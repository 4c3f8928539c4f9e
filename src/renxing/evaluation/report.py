"""The public satisfaction report as .xlsx and as an A4 PDF. Pure: figures in, bytes out.

The PDF is drawn with matplotlib (a bare Figure, no pyplot state) in a CJK font found through font_manager, so that it
renders on a server without a display and with Chinese text.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from matplotlib import font_manager
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from renxing.exporting import to_xlsx
from renxing.i18n import _

A4 = (8.27, 11.69)  # inches
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "SimHei")
COLORS = ("#3b7dd8", "#52a36b", "#e0a030")


@dataclass
class ReportRow:
    name: str
    kind_label: str
    count: int
    variety: float | None
    quality: float | None
    responsiveness: float | None

    @property
    def overall(self) -> float | None:
        values = [v for v in (self.variety, self.quality, self.responsiveness) if v is not None]
        return round(sum(values) / len(values), 2) if values else None


@dataclass
class SatisfactionReport:
    community: str
    period: str
    generated: str  # local time, as printed
    rows: list[ReportRow] = field(default_factory=list)
    total_count: int = 0
    raters: int = 0
    share_satisfied: float | None = None  # ratings with a mean of 4 or more


HEADERS = [
    "组织 Organization",
    "类别 Kind",
    "评价数 Ratings",
    "多样性 Variety",
    "质量 Quality",
    "响应速度 Responsiveness",
    "综合 Overall",
]


def to_rows(report: SatisfactionReport) -> list[list[object]]:
    return [[r.name, r.kind_label, r.count, r.variety, r.quality, r.responsiveness, r.overall] for r in report.rows]


def report_xlsx(report: SatisfactionReport) -> bytes:
    rows = to_rows(report)
    rows.append(["合计 Total", "", report.total_count, None, None, None, None])
    return to_xlsx(HEADERS, rows, sheet=f"满意度 {report.period}")


@lru_cache
def cjk_font() -> font_manager.FontProperties | None:
    """The first installed CJK font; None when there is none (text then falls back to boxes)."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return font_manager.FontProperties(family=family)
    for f in font_manager.fontManager.ttflist:
        if "CJK" in f.name or "Hei" in f.name:
            return font_manager.FontProperties(fname=f.fname)
    return None


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _draw(fig: Figure, report: SatisfactionReport) -> None:
    font = cjk_font()
    # Keyword arguments of every text call: the CJK font when there is one.
    fp: dict[str, Any] = {"fontproperties": font} if font is not None else {}
    _heading(fig, report, fp)
    _bars(fig, report, font, fp)
    _table(fig, report, font, fp)


def _heading(fig: Figure, report: SatisfactionReport, fp: dict[str, Any]) -> None:
    fig.text(0.5, 0.955, f"{report.community} 公众满意度报告", ha="center", va="top", fontsize=18, weight="bold", **fp)
    fig.text(
        0.5,
        0.925,
        f"Public satisfaction report · {report.period} · 生成于 generated {report.generated}",
        ha="center",
        va="top",
        fontsize=9,
        color="#555",
        **fp,
    )
    satisfied = "—" if report.share_satisfied is None else f"{report.share_satisfied * 100:.0f}%"
    summary = (
        f"评价 {report.total_count} 条，来自 {report.raters} 位接受过服务的居民；满意（均分≥4）占 {satisfied}。"
        f"\n{report.total_count} ratings from {report.raters} residents who received the service; "
        f"{satisfied} satisfied (mean ≥ 4). Scores 1–5; no names are shown."
    )
    fig.text(0.08, 0.895, summary, ha="left", va="top", fontsize=9, **fp)


def _bars(
    fig: Figure, report: SatisfactionReport, font: font_manager.FontProperties | None, fp: dict[str, Any]
) -> None:
    """The three dimensions per organization (at most 12, the most rated first)."""
    shown = sorted(report.rows, key=lambda r: -r.count)[:12]
    ax = fig.add_axes((0.1, 0.53, 0.85, 0.3))
    if shown:
        width = 0.26
        xs = range(len(shown))
        for k, (attr, label) in enumerate(
            (("variety", "多样性 variety"), ("quality", "质量 quality"), ("responsiveness", "响应 responsiveness"))
        ):
            values = [getattr(r, attr) or 0 for r in shown]
            ax.bar([x + (k - 1) * width for x in xs], values, width, label=label, color=COLORS[k])
        ax.set_xticks(list(xs))
        ax.set_xticklabels([_short(r.name) for r in shown], rotation=30, ha="right", fontsize=7, **fp)
        ax.set_ylim(0, 5)
        ax.set_ylabel("均分 mean score", fontsize=8, **fp)
        legend: dict[str, Any] = {
            "fontsize": 7,
            "loc": "lower center",
            "bbox_to_anchor": (0.5, 1.0),
            "ncols": 3,
            "frameon": False,
        }
        ax.legend(prop=font, **legend) if font is not None else ax.legend(**legend)
        ax.grid(axis="y", color="#ddd", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, _("本期暂无评价"), ha="center", va="center", **fp)


def _table(
    fig: Figure, report: SatisfactionReport, font: font_manager.FontProperties | None, fp: dict[str, Any]
) -> None:
    """Every organization (the first 24; the rest are in the workbook)."""
    tab = fig.add_axes((0.06, 0.05, 0.88, 0.38))
    tab.axis("off")
    fig.text(0.5, 0.02, "韧性社区治理平台 · Renxing", ha="center", fontsize=7, color="#888", **fp)
    cells = [
        [
            _short(r.name, 16),
            r.kind_label,
            str(r.count),
            _fmt(r.variety),
            _fmt(r.quality),
            _fmt(r.responsiveness),
            _fmt(r.overall),
        ]
        for r in report.rows[:24]
    ]
    if cells:
        head = ["组织", "类别", "评价数", "多样性", "质量", "响应速度", "综合"]
        widths = [0.26, 0.14, 0.1, 0.1, 0.1, 0.12, 0.1]
        table = tab.table(cellText=cells, colLabels=head, colWidths=widths, loc="upper center", cellLoc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.35)
        for (row, _col), cell in table.get_celld().items():
            if font is not None:
                cell.get_text().set_fontproperties(font)
                cell.get_text().set_fontsize(8)
            cell.set_edgecolor("#c8d0da")
            if row == 0:
                cell.set_facecolor("#ddebf7")
                cell.get_text().set_fontweight("bold")
        if len(report.rows) > 24:
            tab.text(
                0, -0.02, _("另有 {value} 个组织见 Excel 版").format(value=len(report.rows) - 24), fontsize=7, **fp
            )


def _short(name: str, limit: int = 10) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def report_pdf(report: SatisfactionReport) -> bytes:
    fig = Figure(figsize=A4)
    _draw(fig, report)
    buf = io.BytesIO()
    with PdfPages(
        buf, metadata={"Title": f"{report.community} {report.period} satisfaction", "Creator": "Renxing"}
    ) as pdf:
        pdf.savefig(fig)
    return buf.getvalue()


def report_png(report: SatisfactionReport, dpi: int = 80) -> bytes:
    """The same page as a PNG, for previews."""
    fig = Figure(figsize=A4)
    _draw(fig, report)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def mean(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None
