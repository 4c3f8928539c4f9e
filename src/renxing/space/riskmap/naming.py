"""What the map labels, in order of importance: shelters first (they are what the map is for,
and never dropped), then resources, risk points, road names and hazard zones."""

import numpy as np

from renxing.space.riskmap.labels import RINGS
from renxing.space.riskmap.shapes import along
from renxing.space.riskmap.sheet import Sheet
from renxing.space.riskmap.style import (
    DEPTH_LABELS,
    GREEN_DARK,
    HAZARD_KINDS,
    RED,
    ROAD_ORDER,
    hazard_colour,
    road_class,
)
from renxing.space.riskmap.symbols import halo


def label_everything(m: Sheet) -> None:
    for _s, x, y in m.shelter_marks:
        m.labels.block_point(x, y, 9)
    for group in m.sites.values():
        for p in group:
            m.labels.block_point(*m.xy(p.lon, p.lat), 8)
    _shelter_names(m)
    _site_names(m)
    _road_names(m)
    _zone_names(m)


def _shelter_names(m: Sheet) -> None:
    for s, x, y in sorted(m.shelter_marks, key=lambda t: -t[0].capacity):
        state = {"closed": "（暂停使用）", "candidate": "（备用）"}.get(s.status, "")
        text = f"{s.name}{state}\n容纳 {s.capacity:,} 人"
        if s.warning and s.status != "closed":
            text += f"\n※ {s.warning}"
        colour = "#555555" if s.status == "closed" else "#8a4b00" if s.warning else GREEN_DARK
        m.labels.place(
            text,
            x,
            y,
            offset_pt=11,
            must=True,
            candidates=RINGS,
            fontsize=9,
            fontweight="bold",
            color=colour,
            linespacing=1.25,
            multialignment="left",
            zorder=22,
            bbox=dict(boxstyle="round,pad=0.3", facecolor="#ffffff", edgecolor=colour, linewidth=0.9, alpha=0.93),
        )


def _site_names(m: Sheet) -> None:
    for group, colour in (
        (m.sites["clinic"], RED),
        (m.sites["fire"], RED),
        (m.sites["supply"], "#1f5fa8"),
        (m.sites["risk"], "#7a4a00"),
    ):
        for p in group:
            if p.name:
                m.labels.place(
                    p.name, *m.xy(p.lon, p.lat), offset_pt=9, fontsize=7.5, color=colour, zorder=21, path_effects=halo()
                )


def _road_names(m: Sheet) -> None:
    """Each road name once, along its longest piece, major roads first; paths are not named."""
    seen: set[str] = set()
    ranked = []
    for r, parts in m.road_lines:
        if not r.name or not parts:
            continue
        best = max(parts, key=lambda a: float(np.hypot(*np.diff(a, axis=0).T).sum()) if len(a) > 1 else 0.0)
        ranked.append((float(np.hypot(*np.diff(best, axis=0).T).sum()), road_class(r.kind), r.name, best))
    order = {c: i for i, c in enumerate(reversed(ROAD_ORDER))}
    for length, cls, name, line in sorted(ranked, key=lambda t: (order[t[1]], -t[0])):
        if name in seen or cls == "path" or length < len(name) * 4.5 * m.m_per_mm:
            continue
        spot = along(line)
        if spot is None:
            continue
        x, y, angle = spot
        ok = m.labels.place(
            name,
            x,
            y,
            offset_pt=0,
            candidates=((0, 0),),
            fontsize=7.5,
            color="#5a4a30",
            rotation=angle,
            rotation_mode="anchor",
            zorder=9,
            path_effects=halo(2.2),
        )
        if ok:
            seen.add(name)


def _zone_names(m: Sheet) -> None:
    """Zones big enough on paper get their name (and a flood's depth) inside."""
    for z, g in m.zones:
        if g is None:
            continue
        gm = m.m(g)
        if gm.area < (18 * m.m_per_mm) ** 2:
            continue
        p = gm.representative_point()
        label = z.name or HAZARD_KINDS.get(z.kind, ("风险区",))[0]
        if z.kind == "flood" and z.depth_class in DEPTH_LABELS and z.depth_class not in label:
            label += f"\n{DEPTH_LABELS[z.depth_class]}"
        m.labels.place(
            label,
            p.x,
            p.y,
            offset_pt=0,
            candidates=((0, 0), (0, 1), (0, -1)),
            fontsize=7,
            color=hazard_colour(z.kind, 4),
            zorder=9.5,
            path_effects=halo(2.0),
        )
