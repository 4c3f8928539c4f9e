"""Greedy label placement: a label goes where its box hits nothing placed before."""

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from renxing.space.riskmap.style import INK

RING = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
# Three rings around a point, the outer ones drawn with a leader line back to it.
RINGS = (*RING, *((dx * 2.4, dy * 2.4) for dx, dy in RING), *((dx * 4.0, dy * 4.0) for dx, dy in RING))


class Labels:
    """Boxes taken so far on the map, and the labels placed and dropped."""

    def __init__(self, fig: Figure, ax: Any, renderer: Any):
        self.fig, self.ax, self.renderer = fig, ax, renderer
        self.taken: list[Bbox] = []
        self.frame = ax.get_window_extent(renderer)
        self.placed: list[str] = []
        self.dropped: list[str] = []

    def block(self, bbox: Bbox) -> None:
        self.taken.append(bbox)

    def block_point(self, x: float, y: float, radius_pt: float) -> None:
        px, py = self.ax.transData.transform((x, y))
        r = radius_pt * self.fig.dpi / 72.0
        self.taken.append(Bbox.from_extents(px - r, py - r, px + r, py + r))

    def _overlap(self, bb: Bbox) -> float:
        total = 0.0
        for t in self.taken:
            w = min(bb.x1, t.x1) - max(bb.x0, t.x0)
            h = min(bb.y1, t.y1) - max(bb.y0, t.y0)
            if w > 0 and h > 0:
                total += w * h
        return total

    def _inside(self, bb: Bbox) -> bool:
        f = self.frame
        return bb.x0 >= f.x0 + 2 and bb.x1 <= f.x1 - 2 and bb.y0 >= f.y0 + 2 and bb.y1 <= f.y1 - 2

    def _try(
        self, text: str, x: float, y: float, d: tuple[float, float], offset_pt: float, kw: dict
    ) -> tuple[Any, Bbox]:
        """The label drawn at one candidate position, and the box it takes (padding included)."""
        dx, dy = d
        ha = "left" if dx > 0 else "right" if dx < 0 else "center"
        va = "bottom" if dy > 0 else "top" if dy < 0 else "center"
        far = max(abs(dx), abs(dy)) > 1.5  # a label pushed away keeps a thin leader to its point
        leader = {"arrowstyle": "-", "color": kw.get("color", INK), "lw": 0.7, "shrinkA": 0, "shrinkB": 4}
        t = self.ax.annotate(
            text,
            (x, y),
            xytext=(dx * offset_pt, dy * offset_pt),
            textcoords="offset points",
            ha=ha,
            va=va,
            annotation_clip=False,
            arrowprops=leader if far else None,
            **kw,
        )
        bb = t.get_window_extent(self.renderer)
        # The box drawn round a label is laid out only at draw time: grow the text's extent by its pad.
        pad = (0.35 if kw.get("bbox") else 0.12) * float(kw.get("fontsize", 9)) * self.fig.dpi / 72.0
        return t, Bbox.from_extents(bb.x0 - pad, bb.y0 - pad, bb.x1 + pad, bb.y1 + pad)

    def place(
        self,
        text: str,
        x: float,
        y: float,
        *,
        offset_pt: float,
        must: bool = False,
        candidates: Sequence[tuple[float, float]] | None = None,
        **kw: Any,
    ) -> bool:
        """Try positions around (x, y); keep the first free one (or the least bad one if ``must``)."""
        best: tuple[float, Any, Bbox] | None = None
        for d in candidates or RING:
            t, bb = self._try(text, x, y, d, offset_pt, kw)
            score = self._overlap(bb) + (0 if self._inside(bb) else 1e9)
            if score == 0:
                self.taken.append(bb)
                self.placed.append(text)
                if best is not None:
                    best[1].remove()
                return True
            if must and (best is None or score < best[0]):
                if best is not None:
                    best[1].remove()
                best = (score, t, bb)
            else:
                t.remove()
        if must and best is not None:
            self.taken.append(best[2])
            self.placed.append(text)
            return True
        self.dropped.append(text)
        return False
