"""Drawing the sheet: the steps in order, into a PDF (vector, text embedded as TrueType) or a PNG."""

import io
from pathlib import Path
from typing import BinaryIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from renxing.i18n import _
from renxing.space.riskmap import layers, legend, naming, page, routes
from renxing.space.riskmap.fonts import DRAWING, cjk_font, font_settings
from renxing.space.riskmap.inputs import RenderInfo, RiskMapData
from renxing.space.riskmap.labels import Labels
from renxing.space.riskmap.sheet import Sheet
from renxing.space.riskmap.style import MM_PER_INCH, PAGE_MM, PAPER

DEFAULT_DPI = 150
FORMATS = ("pdf", "png")


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(_("输出文件应为 .pdf 或 .png：{suffix}").format(suffix=suffix))
    return suffix


def _metadata(d: RiskMapData, fmt: str) -> dict[str, str]:
    title = f"{d.community}风险示意图"
    if fmt == "pdf":
        return {"Title": title, "Subject": f"数据版本 {d.version}", "Creator": "Renxing", "Keywords": "社区风险示意图"}
    return {"Title": title, "Description": f"数据版本 {d.version}", "Software": "Renxing"}


def _draw(m: Sheet, out: BinaryIO, fmt: str) -> RenderInfo:
    font = cjk_font()
    fig = Figure(figsize=(PAGE_MM[0] / MM_PER_INCH, PAGE_MM[1] / MM_PER_INCH), dpi=m.dpi, facecolor=PAPER)
    canvas = FigureCanvasAgg(fig)
    with font_settings(font):
        m.fig = fig
        page.map_axes(m)
        m.renderer = canvas.get_renderer()
        m.labels = Labels(fig, m.ax, m.renderer)
        layers.draw_outside_veil(m)
        layers.draw_zones(m)
        layers.draw_roads(m)
        layers.draw_buildings(m)
        layers.draw_boundary(m)
        layers.draw_shelters(m)
        routes.draw_routes(m)
        layers.draw_sites(m)
        page.north_arrow(m)
        bar = page.scale_bar(m)
        naming.label_everything(m)
        page.title(m)
        legend.draw_panel(m)
        page.footer(m)
        fig.savefig(out, format=fmt, dpi=m.dpi, facecolor=PAPER, metadata=_metadata(m.data, fmt))
    return RenderInfo(
        format=fmt,
        dpi=m.dpi,
        size_mm=PAGE_MM,
        counts=dict(m.counts),
        legend=list(m.legend),
        labels=list(m.labels.placed),
        dropped=list(m.labels.dropped),
        scale=int(round(m.m_per_mm * 1000, -1)),
        scale_bar_m=bar,
        font=font,
    )


def render(data: RiskMapData, out: BinaryIO, fmt: str = "pdf", dpi: int = DEFAULT_DPI) -> RenderInfo:
    """Draw the map into ``out`` as an A3 landscape PDF (vector) or PNG (``dpi``, 150–300 sensible)."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    with DRAWING:
        return _draw(Sheet(data, int(dpi)), out, fmt)


def render_bytes(data: RiskMapData, fmt: str = "pdf", dpi: int = DEFAULT_DPI) -> tuple[bytes, RenderInfo]:
    buf = io.BytesIO()
    info = render(data, buf, fmt, dpi)
    return buf.getvalue(), info


def render_file(data: RiskMapData, path: str | Path, dpi: int = DEFAULT_DPI) -> RenderInfo:
    fmt = format_of(path)
    with open(path, "wb") as fh:
        return render(data, fh, fmt, dpi)
