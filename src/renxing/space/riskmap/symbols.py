"""Map symbols (a coloured marker with a white character) and the white halo behind map text."""

from typing import Any

from matplotlib import patheffects

from renxing.space.riskmap.style import GREEN, INK, RED


def halo(width: float = 2.6) -> list:
    return [patheffects.withStroke(linewidth=width, foreground="#ffffff")]


def icon(ax: Any, x: float, y: float, kind: str, glyph: str, size: float, zorder: float = 10) -> None:
    """A map symbol: a coloured marker with a white character, sized in points."""
    if kind == "risk":  # a yellow warning triangle with a black edge, like the road sign
        ax.plot([x], [y], marker="^", ms=size * 1.12, mfc="#ffd21f", mec="#1b1b1b", mew=1.1, zorder=zorder, ls="none")
        ax.annotate(
            glyph, (x, y), xytext=(0, -size * 0.13), textcoords="offset points", ha="center", va="center",
            fontsize=size * 0.42, fontweight="bold", color="#1b1b1b", zorder=zorder + 0.1, annotation_clip=False,
        )  # fmt: skip
        return
    if kind == "clinic":  # a red cross on white
        ax.plot([x], [y], marker="s", ms=size, mfc="#ffffff", mec=RED, mew=1.2, zorder=zorder, ls="none")
        ax.plot([x], [y], marker="P", ms=size * 0.72, mfc=RED, mec=RED, mew=0.2, zorder=zorder + 0.1, ls="none")
        return
    colours = {"fire": "#d7191c", "supply": "#1f5fa8", "shelter": GREEN, "shelter_closed": "#8a8a8a"}
    marker = "o" if kind == "supply" else "s"
    ax.plot(
        [x], [y], marker=marker, ms=size, mfc=colours.get(kind, INK), mec="#ffffff", mew=1.2, zorder=zorder, ls="none"
    )
    ax.annotate(
        glyph, (x, y), xytext=(0, 0), textcoords="offset points", ha="center", va="center_baseline",
        fontsize=size * 0.55, fontweight="bold", color="#ffffff", zorder=zorder + 0.1, annotation_clip=False,
    )  # fmt: skip
