"""The map's layers, bottom to top: the veil outside the community, hazard zones, roads,
buildings, the community's boundary, shelters, and the point symbols."""

from collections import defaultdict

import numpy as np
import shapely
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.patches import PathPatch

from renxing.space.riskmap.shapes import lines, poly_path, polygons
from renxing.space.riskmap.sheet import Sheet
from renxing.space.riskmap.style import (
    BUILDING_EDGE,
    BUILDING_FILL,
    GREEN,
    RISK_GLYPHS,
    ROAD_CLASSES,
    ROAD_ORDER,
    hazard_colour,
    hazard_hatch,
    road_class,
)
from renxing.space.riskmap.symbols import icon


def draw_outside_veil(m: Sheet) -> None:
    """Fade what lies outside the community so the community reads first."""
    if m.boundary is None:
        return
    x0, x1, y0, y1 = m.extent
    frame = shapely.box(x0 - 10, y0 - 10, x1 + 10, y1 + 10)
    outside = frame.difference(m.m(m.boundary))
    path = poly_path(polygons(outside))
    if path is not None:
        m.ax.add_patch(PathPatch(path, facecolor="#ffffff", edgecolor="none", alpha=0.55, zorder=6))


def draw_zones(m: Sheet) -> None:
    ordered = sorted((z for z in m.zones if z[1] is not None), key=lambda zg: (zg[0].level, zg[0].kind != "flood"))
    for z, g in ordered:
        path = poly_path(polygons(m.m(g)))
        if path is None:
            continue
        fill = hazard_colour(z.kind, z.level)
        edge = hazard_colour(z.kind, 4)
        hatch = hazard_hatch(z.kind, z.level)
        m.ax.add_patch(
            PathPatch(path, facecolor=fill, edgecolor=edge, linewidth=0.9, alpha=0.62, zorder=2, hatch=hatch)
        )
        m.ax.add_patch(PathPatch(path, facecolor="none", edgecolor=edge, linewidth=0.9, zorder=2.1))
        m.counts["hazard_zones"] += 1


def draw_roads(m: Sheet) -> None:
    by_class: dict[str, list[np.ndarray]] = defaultdict(list)
    m.road_lines = []
    for r, g in m.roads:
        if g is None:
            continue
        parts = lines(m.m(g))
        by_class[road_class(r.kind)].extend(parts)
        m.road_lines.append((r, parts))
        m.counts["roads"] += 1
    k = m.k
    for cls in ROAD_ORDER:  # casings first, under every fill
        parts = by_class.get(cls, [])
        _, casing, _, _, _ = ROAD_CLASSES[cls]
        if parts and casing:
            m.ax.add_collection(
                LineCollection(parts, colors="#8c8577", linewidths=casing * k, capstyle="round", zorder=3)
            )
    for cls in ROAD_ORDER:
        parts = by_class.get(cls, [])
        _, _, width, colour, dashed = ROAD_CLASSES[cls]
        if not parts:
            continue
        m.ax.add_collection(
            LineCollection(
                parts,
                colors=colour,
                linewidths=width * k,
                linestyles=(0, (3, 2)) if dashed else "solid",
                capstyle="butt" if dashed else "round",
                zorder=3.2,
            )
        )


def draw_buildings(m: Sheet) -> None:
    polys = []
    for _, g in m.buildings:
        for p in polygons(m.m(g) if g is not None else None):
            polys.append(np.asarray(p.exterior.coords)[:, :2])
    if polys:
        m.ax.add_collection(
            PolyCollection(polys, facecolors=BUILDING_FILL, edgecolors=BUILDING_EDGE, linewidths=0.5, zorder=4)
        )
    m.counts["buildings"] = len(polys)


def draw_boundary(m: Sheet) -> None:
    if m.boundary is None:
        return
    for p in polygons(m.m(m.boundary)):
        xy = np.asarray(p.exterior.coords)
        m.ax.plot(xy[:, 0], xy[:, 1], color="#ffffff", linewidth=4.2, zorder=6.5, solid_capstyle="round")
        m.ax.plot(xy[:, 0], xy[:, 1], color="#7b2d8e", linewidth=1.8, dashes=(7, 2, 1.5, 2), zorder=6.6)


_SHELTER_STYLES = {
    "open": (GREEN, "#7fd08f", "solid"),
    "candidate": (GREEN, "#cdeccf", (0, (4, 2))),
    "closed": ("#7a7a7a", "#d6d6d6", (0, (2, 2))),
}


def draw_shelters(m: Sheet) -> None:
    """Shelter grounds; the symbol of each inside the frame is kept for ``draw_sites`` and the labels."""
    m.shelter_marks = []
    for s, g in m.shelters:
        edge, fill, ls = _SHELTER_STYLES.get(s.status, _SHELTER_STYLES["open"])
        gm = m.m(g) if g is not None else None
        path = poly_path(polygons(gm))
        if path is not None:
            m.ax.add_patch(
                PathPatch(path, facecolor=fill, edgecolor=edge, linewidth=1.6, linestyle=ls, alpha=0.85, zorder=7)
            )
        if s.lon is not None and s.lat is not None:
            x, y = m.xy(s.lon, s.lat)
        elif gm is not None:
            rp = gm.representative_point()
            x, y = rp.x, rp.y
        else:
            continue
        if not m.inside(x, y):  # drawn in part at the edge, but no symbol or label off the map
            continue
        m.shelter_marks.append((s, x, y))
        m.counts["shelters"] += 1


def draw_sites(m: Sheet) -> None:
    """Risk points, clinics, fire stations and supply points inside the frame; then the shelters' symbols."""
    d = m.data
    m.sites = {
        "risk": [p for p in d.risk_points if m.inside(*m.xy(p.lon, p.lat))],
        "clinic": [p for p in d.clinics if m.inside(*m.xy(p.lon, p.lat))],
        "fire": [p for p in d.fire_stations if m.inside(*m.xy(p.lon, p.lat))],
        "supply": [p for p in d.supply_points if m.inside(*m.xy(p.lon, p.lat))],
    }
    ax = m.ax
    for p in m.sites["risk"]:
        glyph = RISK_GLYPHS.get(p.kind, RISK_GLYPHS["other"])[0]
        icon(ax, *m.xy(p.lon, p.lat), "risk", glyph, 15, zorder=10)
        m.counts["risk_points"] += 1
    for p in m.sites["clinic"]:
        icon(ax, *m.xy(p.lon, p.lat), "clinic", "", 14, zorder=10)
        m.counts["clinics"] += 1
    for p in m.sites["fire"]:
        icon(ax, *m.xy(p.lon, p.lat), "fire", "消", 14, zorder=10)
        m.counts["fire_stations"] += 1
    for p in m.sites["supply"]:
        icon(ax, *m.xy(p.lon, p.lat), "supply", "物", 14, zorder=10)
        m.counts["supply_points"] += 1
    for s, x, y in m.shelter_marks:
        icon(ax, x, y, "shelter" if s.status != "closed" else "shelter_closed", "避", 16, zorder=10.5)
