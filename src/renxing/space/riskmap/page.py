"""The page around the map: north arrow and scale bar in the frame, the title band, the footer
with the emergency numbers, and the map frame's axes themselves."""

from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.patches import Polygon as MplPolygon

from renxing.space.riskmap.sheet import Sheet
from renxing.space.riskmap.style import (
    FOOTER_H,
    GREEN_DARK,
    INK,
    MAP_BG,
    MARGIN,
    PAGE_MM,
    RED,
    fmt_m,
    frame_mm,
    mm_box,
    nice_length,
)


def map_axes(m: Sheet) -> None:
    """The map frame's axes, spanning the extent in metres, without ticks."""
    ax = m.fig.add_axes(mm_box(m.fig, *frame_mm()))
    m.ax = ax
    x0, x1, y0, y1 = m.extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("auto")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor(MAP_BG)
    for spine in ax.spines.values():
        spine.set_linewidth(1.2)
        spine.set_color(INK)


def north_arrow(m: Sheet) -> None:
    fx, fy, fw, fh = frame_mm()
    size = 17.0
    a = m.fig.add_axes(mm_box(m.fig, fx + fw - size - 4, fy + fh - size - 6, size, size + 3))
    a.set_xlim(-1, 1)
    a.set_ylim(-1.05, 1.35)
    a.axis("off")
    a.add_patch(MplPolygon([(0, 0.85), (-0.42, -0.75), (0, -0.38)], closed=True, facecolor=INK, edgecolor=INK, lw=0.8))
    a.add_patch(
        MplPolygon([(0, 0.85), (0.42, -0.75), (0, -0.38)], closed=True, facecolor="#ffffff", edgecolor=INK, lw=0.8)
    )
    a.text(0, 1.0, "北", ha="center", va="bottom", fontsize=12, fontweight="bold", color=INK)
    a.set_zorder(20)
    m.labels.block(a.get_window_extent(m.renderer).expanded(1.2, 1.1))


def scale_bar(m: Sheet) -> float:
    """A bar of a round length about a fifth of the frame, with the 1:N scale; its length in metres."""
    x0, x1, y0, _ = m.extent
    mpm = m.m_per_mm
    length = nice_length((x1 - x0) * 0.2)
    parts = 4 if str(int(length))[0] in "124" else 5
    seg = length / parts
    left = x0 + 8 * mpm
    base = y0 + 9 * mpm
    h = 1.6 * mpm
    bg = FancyBboxPatch(
        (left - 4 * mpm, base - 6.5 * mpm),
        length + 8 * mpm + 16 * mpm,
        14.5 * mpm,
        boxstyle=f"round,pad=0,rounding_size={1.5 * mpm}",
        facecolor="#ffffff",
        edgecolor="#bdbdbd",
        linewidth=0.6,
        alpha=0.92,
        zorder=19,
    )
    m.ax.add_patch(bg)
    for i in range(parts):
        colour = INK if i % 2 == 0 else "#ffffff"
        m.ax.add_patch(
            Rectangle((left + i * seg, base), seg, h, facecolor=colour, edgecolor=INK, linewidth=0.7, zorder=20)
        )
    for i in (0, parts // 2, parts) if parts == 4 else (0, parts):
        v = seg * i
        m.ax.text(left + v, base + h + 0.8 * mpm, fmt_m(v), ha="center", va="bottom", fontsize=7.5, zorder=21)
    m.ax.text(left + length + 2.5 * mpm, base + h / 2, "米", ha="left", va="center", fontsize=8, zorder=21)
    scale = int(round(mpm * 1000, -1))
    m.ax.text(
        left,
        base - 1.2 * mpm,
        f"比例尺 1:{scale:,}（A3 打印）",
        ha="left",
        va="top",
        fontsize=7,
        color="#555555",
        zorder=21,
    )
    m.labels.block(bg.get_window_extent(m.renderer))
    return length


def title(m: Sheet) -> None:
    fig, d = m.fig, m.data
    top = PAGE_MM[1] - MARGIN
    fig.add_artist(
        Rectangle(
            (MARGIN / PAGE_MM[0], (top - 2.2) / PAGE_MM[1]),
            60 / PAGE_MM[0],
            2.2 / PAGE_MM[1],
            color=RED,
            transform=fig.transFigure,
        )
    )
    fig.text(
        MARGIN / PAGE_MM[0],
        (top - 5) / PAGE_MM[1],
        f"{d.community}风险示意图",
        fontsize=27,
        fontweight="bold",
        color=INK,
        va="top",
    )
    sub = [
        s for s in (d.street, f"制图日期 {d.date.year}年{d.date.month}月{d.date.day}日", f"数据版本 {d.version}") if s
    ]
    fig.text(MARGIN / PAGE_MM[0], (top - 20) / PAGE_MM[1], "　|　".join(sub), fontsize=10.5, color="#555555", va="top")
    right = (PAGE_MM[0] - MARGIN) / PAGE_MM[0]
    fig.text(right, (top - 6) / PAGE_MM[1], "COMMUNITY RISK MAP", fontsize=10, color="#8a8a8a", ha="right", va="top")
    fig.text(
        right,
        (top - 12.5) / PAGE_MM[1],
        "让 · 防 · 避　知风险、早预防、会避险",
        fontsize=11,
        color=GREEN_DARK,
        fontweight="bold",
        ha="right",
        va="top",
    )


def footer(m: Sheet) -> None:
    fig, d = m.fig, m.data
    y, h = MARGIN, FOOTER_H
    fig.add_artist(
        FancyBboxPatch(
            (MARGIN / PAGE_MM[0], y / PAGE_MM[1]),
            (PAGE_MM[0] - 2 * MARGIN) / PAGE_MM[0],
            h / PAGE_MM[1],
            boxstyle="square,pad=0",
            facecolor="#b71c1c",
            edgecolor="none",
            transform=fig.transFigure,
        )
    )
    cy = (y + h / 2) / PAGE_MM[1]
    fig.text((MARGIN + 5) / PAGE_MM[0], cy, "应急电话", fontsize=12, color="#ffe8a3", fontweight="bold", va="center")
    x = MARGIN + 29
    for num, what in (("119", "火警"), ("120", "急救"), ("110", "报警")):
        fig.text(x / PAGE_MM[0], cy, what, fontsize=10, color="#ffffff", va="center")
        fig.text((x + 10) / PAGE_MM[0], cy, num, fontsize=20, color="#ffffff", fontweight="bold", va="center")
        x += 31
    fig.text(
        (x + 4) / PAGE_MM[0],
        cy,
        "如遇险情请按箭头方向前往最近的避难场所",
        fontsize=14,
        color="#ffffff",
        fontweight="bold",
        va="center",
    )
    lines = [f"数据来源：{d.source}　坐标系 WGS-84", f"制图日期 {d.date.isoformat()}　版本 {d.version}"]
    if d.routes_note:
        lines.append(f"疏散路线：{d.routes_note}")
    fig.text(
        (PAGE_MM[0] - MARGIN - 4) / PAGE_MM[0],
        cy,
        "\n".join(lines),
        fontsize=6.8,
        color="#ffe9e9",
        ha="right",
        va="center",
        linespacing=1.35,
    )
