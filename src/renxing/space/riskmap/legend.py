"""The right-hand panel: the legend of what this map shows, the list of shelters with their
capacities, and safety advice when there is room. Drawn in millimetres inside the panel."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.patches import Polygon as MplPolygon

from renxing.space.riskmap.sheet import Sheet
from renxing.space.riskmap.style import (
    BUILDING_EDGE,
    BUILDING_FILL,
    GAP,
    GREEN,
    GREEN_DARK,
    HAZARD_KINDS,
    INK,
    LEVEL_LABELS,
    PANEL_W,
    RISK_GLYPHS,
    ROAD_CLASSES,
    ROAD_ORDER,
    frame_mm,
    hazard_colour,
    hazard_hatch,
    mm_box,
    road_class,
)
from renxing.space.riskmap.symbols import icon

Sample = Callable[[float, float], None]  # draws a legend sample at (x, y) in panel millimetres

TIPS = (
    "听到预警或通知后，听从网格员、楼栋长指挥有序撤离",
    "先帮老人、儿童、残障和卧床的邻居，不乘电梯",
    "不涉深水，远离电线杆、变压器和井盖",
    "到达避难场所后向工作人员报到，不擅自返回",
)


def draw_panel(m: Sheet) -> None:
    fx, fy, fw, fh = frame_mm()
    pax = m.fig.add_axes(mm_box(m.fig, fx + fw + GAP, fy, PANEL_W, fh))
    pax.set_xlim(0, PANEL_W)
    pax.set_ylim(0, fh)
    pax.set_xticks([])
    pax.set_yticks([])
    for spine in pax.spines.values():
        spine.set_linewidth(1.2)
        spine.set_color(INK)
    panel = Legend(pax, fh, m)
    panel.draw()
    m.legend = panel.entries


class Legend:
    """Rows written top down; ``entries`` lists every label written, for tests and the CLI."""

    ROW = 6.0

    def __init__(self, ax: Any, height: float, sheet: Sheet):
        self.ax = ax
        self.y = height - 7.0
        self.sheet = sheet
        self.entries: list[str] = []

    # -- rows --

    def heading(self, text: str) -> None:
        self.ax.text(5, self.y, text, fontsize=10.5, fontweight="bold", color=INK, va="center")
        self.ax.plot([5, PANEL_W - 5], [self.y - 3.2, self.y - 3.2], color="#cccccc", lw=0.6)
        self.y -= 7.5

    def caption(self, text: str) -> None:
        self.ax.text(5, self.y, text, fontsize=8.2, color="#555555", va="center")
        self.row_done()

    def entry(self, draw: Sample, label: str, x: float = 5.0) -> None:
        draw(x, self.y)
        self.ax.text(x + 12, self.y, label, fontsize=8.2, color=INK, va="center")
        self.entries.append(label)

    def row_done(self) -> None:
        self.y -= self.ROW

    def pairs(self, items: list[tuple[Sample, str]]) -> None:
        """Two legend entries per row."""
        for i in range(0, len(items), 2):
            for j, (draw, label) in enumerate(items[i : i + 2]):
                self.entry(draw, label, 5.0 + j * 47.0)
            self.row_done()

    # -- samples --

    def swatch(self, fill: str, edge: str, hatch: str | None = None, ls: Any = "solid", alpha: float = 1.0) -> Sample:
        def draw(x: float, y: float) -> None:
            self.ax.add_patch(
                Rectangle((x, y - 2), 9, 4, facecolor=fill, edgecolor=edge, lw=0.9, hatch=hatch, ls=ls, alpha=alpha)
            )

        return draw

    def line(
        self, colour: str, width: float, casing: str | None = None, casing_w: float = 0.0, dashed: bool = False
    ) -> Sample:
        def draw(x: float, y: float) -> None:
            if casing:
                self.ax.plot([x, x + 9], [y, y], color=casing, lw=casing_w, solid_capstyle="butt")
            self.ax.plot(
                [x, x + 9], [y, y], color=colour, lw=width, solid_capstyle="butt", ls=(0, (3, 2)) if dashed else "-"
            )

        return draw

    def icon(self, kind: str, glyph: str, size: float) -> Sample:
        def draw(x: float, y: float) -> None:
            icon(self.ax, x + 4.5, y, kind, glyph, size)

        return draw

    def _route_sample(self, x: float, y: float) -> None:
        self.ax.plot([x, x + 7], [y, y], color="#ffffff", lw=5, solid_capstyle="round")
        self.ax.plot([x, x + 7], [y, y], color=GREEN, lw=3, solid_capstyle="round")
        self.ax.add_patch(
            MplPolygon(
                [(x + 6.2, y + 1.9), (x + 9.6, y), (x + 6.2, y - 1.9)],
                facecolor=GREEN_DARK,
                edgecolor="#ffffff",
                lw=0.5,
            )
        )

    def _boundary_sample(self, x: float, y: float) -> None:
        self.ax.plot([x, x + 9], [y, y], color="#7b2d8e", lw=1.6, dashes=(5, 1.5, 1, 1.5))

    # -- sections --

    def draw(self) -> None:
        self.heading("图　例")
        self._hazards()
        self._risk_points()
        self._evacuation()
        self._resources()
        self._base()
        self._shelter_table()
        self._tips()

    def _hazards(self) -> None:
        """Hazard zones present, by kind and level (the four levels of a kind on one line)."""
        present: dict[str, set[int]] = defaultdict(set)
        for z, g in self.sheet.zones:
            if g is not None:
                present[z.kind].add(min(max(int(z.level), 1), 4))
        if not present:
            return
        self.caption("风险区（颜色越深风险越高）")
        for kind in HAZARD_KINDS:
            if kind in present:
                self._hazard_row(kind, present[kind])
        self.y -= 1.5

    def _hazard_row(self, kind: str, levels: set[int]) -> None:
        label = HAZARD_KINDS[kind][0]
        self.ax.text(5, self.y, label, fontsize=8.2, color=INK, va="center")
        self.entries.append(label)
        x = 33.0
        for level in (1, 2, 3, 4):
            if level not in levels:
                continue
            self.ax.add_patch(
                Rectangle(
                    (x, self.y - 2),
                    8,
                    4,
                    facecolor=hazard_colour(kind, level),
                    edgecolor=hazard_colour(kind, 4),
                    lw=0.8,
                    hatch=hazard_hatch(kind, level),
                    alpha=0.8,
                )
            )
            self.ax.text(x + 9.2, self.y, LEVEL_LABELS[level], fontsize=7.5, color=INK, va="center")
            self.entries.append(f"{label}·{LEVEL_LABELS[level]}")
            x += 16.0
        self.row_done()

    def _risk_points(self) -> None:
        d = self.sheet.data
        kinds = sorted(
            {p.kind if p.kind in RISK_GLYPHS else "other" for p in d.risk_points}, key=list(RISK_GLYPHS).index
        )
        if not kinds:
            return
        self.caption("危险源")
        self.pairs([(self.icon("risk", RISK_GLYPHS[k][0], 14), RISK_GLYPHS[k][1]) for k in kinds])
        self.y -= 1.5

    def _evacuation(self) -> None:
        statuses = {s.status for s in self.sheet.data.shelters}
        self.caption("避险与疏散")
        items: list[tuple[Sample, str]] = [(self.icon("shelter", "避", 14), "避难场所（容纳人数）")]
        items.append((self.swatch("#7fd08f", GREEN, alpha=0.85), "避难场所范围"))
        if "candidate" in statuses:
            items.append((self.swatch("#cdeccf", GREEN, ls=(0, (4, 2))), "备用场所（可转换）"))
        if "closed" in statuses:
            items.append((self.swatch("#d6d6d6", "#7a7a7a", ls=(0, (2, 2))), "暂停使用的场所"))
        items.append((self._route_sample, "疏散路线及方向"))
        self.pairs(items)
        self.y -= 1.5

    def _resources(self) -> None:
        d = self.sheet.data
        res: list[tuple[Sample, str]] = []
        if d.clinics:
            res.append((self.icon("clinic", "", 13), "医疗点/卫生站"))
        if d.fire_stations:
            res.append((self.icon("fire", "消", 13), "消防站/微型消防站"))
        if d.supply_points:
            res.append((self.icon("supply", "物", 13), "应急物资点"))
        if res:
            self.caption("应急资源")
            self.pairs(res)
            self.y -= 1.5

    def _base(self) -> None:
        m = self.sheet
        self.caption("基础要素")
        base: list[tuple[Sample, str]] = [(self.swatch(BUILDING_FILL, BUILDING_EDGE), "建筑")]
        if m.boundary is not None:
            base.append((self._boundary_sample, "社区边界"))
        classes = sorted({road_class(r.kind) for r, g in m.roads if g is not None}, key=lambda c: -ROAD_ORDER.index(c))
        for c in classes:
            label, casing, width, colour, dashed = ROAD_CLASSES[c]
            base.append((self.line(colour, width * 0.8, "#8c8577" if casing else None, casing * 0.8, dashed), label))
        self.pairs(base)

    def _shelter_table(self) -> None:
        d = self.sheet.data
        if not d.shelters:
            return
        self.y -= 2.0
        self.heading("避难场所一览")
        rows = sorted(d.shelters, key=lambda s: ({"open": 0, "candidate": 1}.get(s.status, 2), -s.capacity))
        room = int((self.y - 8) // 5.2)
        shown = rows[: max(room, 0)]
        self.ax.text(5, self.y, "名称", fontsize=7.5, color="#777777", va="center")
        self.ax.text(PANEL_W - 5, self.y, "容纳人数", fontsize=7.5, color="#777777", va="center", ha="right")
        self.y -= 5.2
        for s in shown:
            state = {"closed": "（暂停）", "candidate": "（备用）"}.get(s.status, "")
            if s.warning and s.status != "closed":
                state += " ※"
            colour = "#777777" if s.status == "closed" else INK
            name = s.name if len(s.name) <= 16 else s.name[:15] + "…"
            self.ax.text(5, self.y, f"{name}{state}", fontsize=8, color=colour, va="center")
            self.ax.text(PANEL_W - 5, self.y, f"{s.capacity:,}", fontsize=8, color=colour, va="center", ha="right")
            self.y -= 5.2
        if len(shown) < len(rows):
            self.ax.text(
                5, self.y, f"另有 {len(rows) - len(shown)} 处，见平台", fontsize=7.5, color="#777777", va="center"
            )
            self.y -= 5.2
        self._shelter_total(sum(s.capacity for s in d.shelters if s.status == "open"))
        for w in sorted({s.warning for s in d.shelters if s.warning and s.status != "closed"}):
            self.y -= 5.6
            self.ax.text(5, self.y, f"※ {w}", fontsize=7.5, color="#8a4b00", va="center")
            self.entries.append(f"※ {w}")

    def _shelter_total(self, total: int) -> None:
        self.ax.plot([5, PANEL_W - 5], [self.y + 2.4, self.y + 2.4], color="#cccccc", lw=0.6)
        self.ax.text(5, self.y - 0.6, "开放场所合计", fontsize=8, fontweight="bold", color=GREEN_DARK, va="center")
        self.ax.text(
            PANEL_W - 5,
            self.y - 0.6,
            f"{total:,} 人",
            fontsize=8,
            fontweight="bold",
            color=GREEN_DARK,
            va="center",
            ha="right",
        )

    def _tips(self) -> None:
        """Safety advice at the foot of the panel, if there is room left."""
        need = 9.0 + 5.0 * len(TIPS)
        if self.y - 6 < need:
            return
        top = need + 2.0
        self.ax.add_patch(
            FancyBboxPatch(
                (4, 3),
                PANEL_W - 8,
                top - 3,
                boxstyle="round,pad=0,rounding_size=1.5",
                facecolor="#fff7e0",
                edgecolor="#e0b84a",
                lw=0.8,
            )
        )
        self.ax.text(7, top - 4.2, "避险须知", fontsize=9.5, fontweight="bold", color="#8a5a00", va="center")
        self.entries.append("避险须知")
        y = top - 10.0
        for i, tip in enumerate(TIPS, 1):
            self.ax.text(7, y, f"{i}. {tip}", fontsize=7.6, color=INK, va="center")
            y -= 5.0
