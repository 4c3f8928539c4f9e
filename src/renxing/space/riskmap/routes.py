"""Evacuation routes merged by segment: the line widens with the people on it, arrows point to
the shelters.

The first leg of a route (door to the nearest road) is drawn thin and without arrows, so the many
short stubs do not bury the shared roads people actually walk along.
"""

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection

from renxing.space.riskmap.shapes import arrowhead
from renxing.space.riskmap.sheet import Sheet
from renxing.space.riskmap.style import GREEN, GREEN_DARK

Segment = tuple[float, float, float, float]  # x0, y0, x1, y1 in metres, rounded to 10 cm


@dataclass
class _Flows:
    """People per segment, which segments are only first legs, and the last leg into each shelter."""

    people: dict[Segment, float] = field(default_factory=lambda: defaultdict(float))
    stubs: set[Segment] = field(default_factory=set)
    ends: dict[tuple, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def _flows(m: Sheet) -> _Flows:
    out = _Flows()
    walked: set[Segment] = set()  # segments some route walks beyond its first leg
    x0, x1, y0, y1 = m.extent
    for r in m.data.routes:
        pts = np.array([m.xy(c[0], c[1]) for c in r.coords], dtype=float) if len(r.coords) else np.empty((0, 2))
        if len(pts) < 2:
            continue
        pts = pts[np.r_[True, np.hypot(*np.diff(pts, axis=0).T) > 0.5]]
        if len(pts) < 2:
            continue
        for i, (a, b) in enumerate(itertools.pairwise(pts)):
            key = (round(a[0], 1), round(a[1], 1), round(b[0], 1), round(b[1], 1))
            out.people[key] += max(r.persons, 1)
            (out.stubs if i == 0 and len(pts) > 2 else walked).add(key)
        if x0 <= pts[-1][0] <= x1 and y0 <= pts[-1][1] <= y1:
            out.ends[(round(pts[-1][0]), round(pts[-1][1]))] = (pts[-2], pts[-1])
        m.counts["routes"] += 1
    out.stubs -= walked
    return out


def _arrowheads(m: Sheet, flows: _Flows, keys: list[Segment], widths: np.ndarray) -> list[np.ndarray]:
    """Along the shared segments long enough on paper, and at each shelter's entrance."""
    size = 2.4 * m.m_per_mm * max(m.k, 0.75)  # about 2.4 mm on paper
    spacing = 55.0 * m.m_per_mm
    heads = []
    for key, w in zip(keys, widths, strict=True):
        if key in flows.stubs:
            continue
        ax_, ay, bx, by = key
        length = math.hypot(bx - ax_, by - ay)
        if length < 12.0 * m.m_per_mm:
            continue
        n = max(1, int(length // spacing))
        for i in range(n):
            t = (i + 0.5) / n
            heads.append(arrowhead(ax_ + (bx - ax_) * t, ay + (by - ay) * t, bx - ax_, by - ay, size * (0.85 + w / 10)))
    for a, b in flows.ends.values():
        d = b - a
        length = float(np.hypot(*d))
        if length > 0:
            # Stop short of the shelter's symbol so the last arrow stays visible beside it.
            back = min(4.0 * m.m_per_mm, 0.45 * length) / length
            heads.append(arrowhead(b[0] - d[0] * back, b[1] - d[1] * back, d[0], d[1], size * 1.35, tip=True))
    return heads


def draw_routes(m: Sheet) -> None:
    flows = _flows(m)
    if not flows.people:
        return
    keys = list(flows.people)
    people = np.array([flows.people[k] for k in keys])
    top = max(float(people.max()), 1.0)
    widths = (1.1 + 2.6 * np.sqrt(people / top)) * m.k
    widths = np.where([k in flows.stubs for k in keys], 0.9 * m.k, widths)
    segs = [np.array([[k[0], k[1]], [k[2], k[3]]]) for k in keys]
    m.ax.add_collection(LineCollection(segs, colors="#ffffff", linewidths=widths + 1.6, capstyle="round", zorder=8))
    m.ax.add_collection(
        LineCollection(segs, colors=GREEN, linewidths=widths, capstyle="round", joinstyle="round", zorder=8.1)
    )
    heads = _arrowheads(m, flows, keys, widths)
    if heads:
        m.ax.add_collection(
            PolyCollection(heads, facecolors=GREEN_DARK, edgecolors="#ffffff", linewidths=0.6, zorder=8.3)
        )
