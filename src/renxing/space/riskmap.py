"""The printable community risk map (社区风险示意图): plain data in, an A3 PDF or PNG out. Pure.

The page is A3 landscape (420 × 297 mm): a title band, the map frame on the left, the legend and
the list of shelters on the right, and a footer with the emergency numbers. Everything is drawn
with matplotlib's object API (no pyplot, so it is safe inside a web process) on a local metric
plane around the community, so the scale bar and the stated scale are true at its latitude.
Chinese text needs a CJK font found through matplotlib's font manager.
"""

import io
import itertools
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import shapely
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, PathPatch, Rectangle
from matplotlib.patches import Polygon as MplPolygon
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Bbox
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from renxing.geo.metric import LocalPlane

PAGE_MM = (420.0, 297.0)  # A3 landscape
MM_PER_INCH = 25.4
DEFAULT_DPI = 150
FORMATS = ("pdf", "png")

# Families tried in order; the first the font manager knows is used for all text.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Noto Sans SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)
FONT_PACKAGE = "fonts-noto-cjk"


class FontMissing(RuntimeError):
    """No font with Chinese glyphs is installed."""


# ---- the input ---------------------------------------------------------------------------------

Coords = Sequence[Sequence[float]]  # [[lon, lat], ...]


@dataclass
class HazardArea:
    kind: str  # flood, fire, wind_sand, geological, facility_buffer
    level: int  # 1 low … 4 very high
    geometry: dict  # GeoJSON Polygon / MultiPolygon, WGS-84
    name: str = ""
    depth_class: str | None = None


@dataclass
class Site:
    """A point on the map: a risk point, supply point, clinic or fire station."""

    name: str
    lon: float
    lat: float
    kind: str = ""


@dataclass
class ShelterArea:
    name: str
    capacity: int
    lon: float | None = None
    lat: float | None = None
    geometry: dict | None = None  # Polygon / MultiPolygon (or None: a point shelter)
    kind: str = ""
    status: str = "open"  # open, closed, candidate
    warning: str = ""  # e.g. 内涝时不可用: the routes' scenario cannot use it


@dataclass
class Route:
    """A walking route from a building to its shelter (first point at the building)."""

    coords: Coords
    shelter: str = ""
    persons: int = 0


@dataclass
class RoadLine:
    kind: str  # OSM highway value
    geometry: dict  # LineString / MultiLineString
    name: str = ""


@dataclass
class BuildingOutline:
    geometry: dict  # Polygon / MultiPolygon
    name: str = ""


@dataclass
class RiskMapData:
    community: str
    date: date  # the day shown (Asia/Shanghai)
    version: str  # data version: a fingerprint and/or the latest update time
    bounds: tuple[float, float, float, float] | None = None  # lon0, lat0, lon1, lat1; None: fit the data
    buildings: list[BuildingOutline] = field(default_factory=list)
    hazard_zones: list[HazardArea] = field(default_factory=list)
    risk_points: list[Site] = field(default_factory=list)
    shelters: list[ShelterArea] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    supply_points: list[Site] = field(default_factory=list)
    clinics: list[Site] = field(default_factory=list)
    fire_stations: list[Site] = field(default_factory=list)
    roads: list[RoadLine] = field(default_factory=list)
    boundary: dict | None = None  # the community's outline
    street: str = ""  # the street (街道) the community belongs to
    routes_note: str = ""  # where the routes come from (plan name or "nearest shelter")
    source: str = "韧性社区治理平台"


@dataclass
class RenderInfo:
    """What was drawn: for tests and for the CLI's summary."""

    format: str
    dpi: int
    size_mm: tuple[float, float]
    counts: dict[str, int] = field(default_factory=dict)
    legend: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # map labels placed
    dropped: list[str] = field(default_factory=list)  # labels left out because they would collide
    scale: int = 0  # 1:scale on paper
    scale_bar_m: float = 0.0
    font: str = ""


# ---- styles ------------------------------------------------------------------------------------

HAZARD_KINDS: dict[str, tuple[str, tuple[str, str, str, str]]] = {
    # kind: (label, fill colours for levels 1..4)
    "flood": ("洪涝/内涝", ("#c6dbef", "#8fbfe0", "#4a90c8", "#1d5a9e")),
    "fire": ("火灾风险", ("#fde2c8", "#fbb47a", "#f07a3a", "#c7371a")),
    "wind_sand": ("风沙", ("#f1e8cc", "#e0cc92", "#c9a85a", "#9c7a2c")),
    "geological": ("地质灾害", ("#eadacf", "#d2aa92", "#aa7054", "#74412b")),
    "facility_buffer": ("危险源影响区", ("#eee0f3", "#d6b1e3", "#ad72c8", "#74358f")),
}
LEVEL_LABELS = {1: "低", 2: "中", 3: "高", 4: "极高"}
DEPTH_LABELS = {"<0.3": "积水<0.3米", "0.3-0.5": "积水0.3–0.5米", "0.5-1": "积水0.5–1米", ">1": "积水>1米"}

RISK_GLYPHS = {
    "petrol_station": ("油", "加油站"),
    "gas_station": ("气", "燃气站/液化气点"),
    "substation": ("电", "变电站"),
    "chemical_store": ("化", "危化品仓库"),
    "old_wiring": ("线", "老旧电线楼栋"),
    "other": ("!", "其他危险源"),
}

# OSM highway classes → (label, casing width pt, fill width pt, fill colour, dashed)
ROAD_CLASSES: dict[str, tuple[str, float, float, str, bool]] = {
    "major": ("主干道", 8.0, 6.6, "#f7cf8a", False),
    "secondary": ("次干道", 6.6, 5.4, "#fbe5a6", False),
    "minor": ("支路/小区道路", 4.4, 3.4, "#ffffff", False),
    "service": ("内部通道", 2.8, 2.0, "#ffffff", False),
    "path": ("步行道", 0.0, 1.1, "#9b7b55", True),
}
_ROAD_KIND = {
    "motorway": "major",
    "trunk": "major",
    "primary": "major",
    "secondary": "secondary",
    "tertiary": "secondary",
    "residential": "minor",
    "unclassified": "minor",
    "living_street": "minor",
    "road": "minor",
    "service": "service",
    "footway": "path",
    "path": "path",
    "pedestrian": "path",
    "steps": "path",
    "cycleway": "path",
    "track": "path",
}
_ROAD_ORDER = ("path", "service", "minor", "secondary", "major")

INK = "#2b2b2b"
GREEN = "#138a3e"  # shelters and evacuation (the green of safety signs)
GREEN_DARK = "#0b5e2a"
RED = "#d7191c"
BUILDING_FILL = "#e9e3d6"
BUILDING_EDGE = "#a49a88"
PAPER = "#ffffff"
MAP_BG = "#f7f5ef"


def road_class(kind: str) -> str:
    k = (kind or "").lower()
    if k.endswith("_link"):
        k = k[: -len("_link")]
    return _ROAD_KIND.get(k, "minor")


def hazard_colour(kind: str, level: int) -> str:
    ramp = HAZARD_KINDS.get(kind, HAZARD_KINDS["facility_buffer"])[1]
    return ramp[min(max(int(level), 1), 4) - 1]


def _cjk_family_known() -> str | None:
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    for name in sorted(known):  # any other CJK family the system has
        if "CJK" in name and "Mono" not in name:
            return name
    return None


_CJK_FILE = re.compile(r"cjk|wqy|sourcehan", re.IGNORECASE)


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The family name of an installed font with Chinese glyphs, or FontMissing naming the package."""
    family = _cjk_family_known()
    if family is None:
        # Installed after matplotlib cached its font list: add the files it would find now.
        for path in font_manager.findSystemFonts():
            if _CJK_FILE.search(Path(path).name):
                font_manager.fontManager.addfont(path)
        family = _cjk_family_known()
    if family is None:
        raise FontMissing(
            f"未找到中文字体，请安装 {FONT_PACKAGE}（或文泉驿/思源黑体）/ no CJK font found: install the "
            f"'{FONT_PACKAGE}' package (or WenQuanYi / Source Han Sans)"
        )
    return family


# ---- geometry helpers ------------------------------------------------------------------------------


def _geom(raw: dict | None) -> BaseGeometry | None:
    if not raw:
        return None
    try:
        g = shape(raw)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
        return None
    if g.is_empty:
        return None
    if not g.is_valid:
        g = shapely.make_valid(g)
    return g


def _polygons(g: BaseGeometry | None) -> list[shapely.Polygon]:
    if g is None or g.is_empty:
        return []
    if g.geom_type == "Polygon":
        return [g]
    if hasattr(g, "geoms"):
        return [p for part in g.geoms for p in _polygons(part)]
    return []


def _lines(g: BaseGeometry | None) -> list[np.ndarray]:
    if g is None or g.is_empty:
        return []
    if g.geom_type in ("LineString", "LinearRing"):
        return [np.asarray(g.coords)[:, :2]]
    if hasattr(g, "geoms"):
        return [a for part in g.geoms for a in _lines(part)]
    return []


def _poly_path(polys: Iterable[shapely.Polygon]) -> MplPath | None:
    """One compound path (holes included) for polygons already in metres."""
    paths = []
    for p in polys:
        for ring in (p.exterior, *p.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
            codes[0] = MplPath.MOVETO
            codes[-1] = MplPath.CLOSEPOLY
            paths.append(MplPath(xy, codes))
    return MplPath.make_compound_path(*paths) if paths else None


def nice_length(target_m: float) -> float:
    """A round scale-bar length not above ``target_m`` (1, 2, 2.5 or 5 × 10^n metres)."""
    if target_m <= 0:
        return 0.0
    exp = math.floor(math.log10(target_m))
    for mult in (5, 2.5, 2, 1):
        v = mult * 10**exp
        if v <= target_m:
            return float(v)
    return float(10 ** (exp - 1) * 5)


def _fmt_m(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:g} 千米"
    return f"{v:g}"


# ---- the renderer --------------------------------------------------------------------------------


class _Labels:
    """Greedy label placement: a label goes where its box hits nothing placed before."""

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
        cands = candidates or ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
        best: tuple[float, Any, Bbox] | None = None
        for dx, dy in cands:
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
            bb = Bbox.from_extents(bb.x0 - pad, bb.y0 - pad, bb.x1 + pad, bb.y1 + pad)
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


def _mm_box(fig: Figure, x: float, y: float, w: float, h: float) -> list[float]:
    """Figure-fraction rectangle from millimetres measured from the page's bottom-left corner."""
    return [x / PAGE_MM[0], y / PAGE_MM[1], w / PAGE_MM[0], h / PAGE_MM[1]]


# Layout (millimetres from the bottom-left corner)
_MARGIN = 10.0
_FOOTER_H = 17.0
_TITLE_H = 27.0
_PANEL_W = 100.0
_GAP = 6.0


def _frame_mm() -> tuple[float, float, float, float]:
    x0 = _MARGIN
    y0 = _MARGIN + _FOOTER_H + 4.0
    w = PAGE_MM[0] - 2 * _MARGIN - _PANEL_W - _GAP
    h = PAGE_MM[1] - y0 - _MARGIN - _TITLE_H
    return x0, y0, w, h


class _Map:
    def __init__(self, data: RiskMapData, dpi: int):
        self.data = data
        self.dpi = dpi
        self.counts: dict[str, int] = defaultdict(int)
        self.legend: list[str] = []
        self._prepare_geometry()

    # -- geometry to metres --

    def _prepare_geometry(self) -> None:
        d = self.data
        g = lambda raw: _geom(raw)  # noqa: E731
        self.boundary = g(d.boundary)
        self.zones = [(z, g(z.geometry)) for z in d.hazard_zones]
        self.buildings = [(b, g(b.geometry)) for b in d.buildings]
        self.shelters = [(s, g(s.geometry)) for s in d.shelters]
        self.roads = [(r, g(r.geometry)) for r in d.roads]
        if d.bounds is not None:
            lon0, lat0, lon1, lat1 = d.bounds
        else:
            parts: list[BaseGeometry] = []
            parts += [x for x in (self.boundary,) if x is not None]
            parts += [x for _, x in self.buildings if x is not None]
            parts += [x for _, x in self.zones if x is not None]
            parts += [x for _, x in self.shelters if x is not None]
            pts = [(s.lon, s.lat) for s in self._all_sites()]
            pts += [(s.lon, s.lat) for s in d.shelters if s.lon is not None and s.lat is not None]
            pts += [tuple(c[:2]) for r in d.routes for c in r.coords]
            if pts:
                parts.append(shapely.MultiPoint(pts))
            if not parts:
                parts += [x for _, x in self.roads if x is not None]
            if not parts:
                raise ValueError("nothing to draw: no geometry and no bounds")
            lon0, lat0, lon1, lat1 = shapely.GeometryCollection(parts).bounds
        self.plane = LocalPlane((lon0 + lon1) / 2, (lat0 + lat1) / 2)
        kx, ky = self.plane.kx, self.plane.ky
        x0, x1 = (lon0 - self.plane.lon0) * kx, (lon1 - self.plane.lon0) * kx
        y0, y1 = (lat0 - self.plane.lat0) * ky, (lat1 - self.plane.lat0) * ky
        # Pad, then widen the short side so the frame's aspect is kept with equal metres both ways.
        pad = max(x1 - x0, y1 - y0, 50.0) * 0.06
        x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
        _, _, fw, fh = _frame_mm()
        w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        if w / h > fw / fh:
            extra = w * fh / fw - h
            y0, y1 = y0 - extra / 2, y1 + extra / 2
        else:
            extra = h * fw / fh - w
            x0, x1 = x0 - extra / 2, x1 + extra / 2
        self.extent = (x0, x1, y0, y1)
        self.m_per_mm = (x1 - x0) / fw  # ground metres per paper millimetre
        # Symbol widths scale a little with the map scale so a district-sized map is not all roads.
        self.k = float(np.clip(4.5 / self.m_per_mm, 0.55, 1.4))

    def _all_sites(self) -> list[Site]:
        d = self.data
        return [*d.risk_points, *d.supply_points, *d.clinics, *d.fire_stations]

    def inside(self, x: float, y: float) -> bool:
        x0, x1, y0, y1 = self.extent
        return x0 <= x <= x1 and y0 <= y <= y1

    def m(self, g: BaseGeometry) -> BaseGeometry:
        return self.plane.to_m(g)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.plane.lon0) * self.plane.kx, (lat - self.plane.lat0) * self.plane.ky

    # -- drawing --

    def draw(self, out: BinaryIO, fmt: str) -> RenderInfo:
        font = cjk_font()
        fig = Figure(figsize=(PAGE_MM[0] / MM_PER_INCH, PAGE_MM[1] / MM_PER_INCH), dpi=self.dpi, facecolor=PAPER)
        FigureCanvasAgg(fig)
        with _rc(font):
            self.fig = fig
            ax = fig.add_axes(_mm_box(fig, *_frame_mm()))
            self.ax = ax
            x0, x1, y0, y1 = self.extent
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_aspect("auto")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_facecolor(MAP_BG)
            for spine in ax.spines.values():
                spine.set_linewidth(1.2)
                spine.set_color(INK)
            self.renderer = fig.canvas.get_renderer()
            self.labels = _Labels(fig, ax, self.renderer)

            self._draw_outside_veil()
            self._draw_zones()
            self._draw_roads()
            self._draw_buildings()
            self._draw_boundary()
            self._draw_shelters()
            self._draw_routes()
            self._draw_sites()
            self._north_arrow()
            bar = self._scale_bar()
            self._label_everything()
            self._title()
            self._panel()
            self._footer()
            scale = int(round(self.m_per_mm * 1000, -1))
            fig.savefig(
                out,
                format=fmt,
                dpi=self.dpi,
                facecolor=PAPER,
                metadata=_metadata(self.data, fmt),
            )
        return RenderInfo(
            format=fmt,
            dpi=self.dpi,
            size_mm=PAGE_MM,
            counts=dict(self.counts),
            legend=list(self.legend),
            labels=list(self.labels.placed),
            dropped=list(self.labels.dropped),
            scale=scale,
            scale_bar_m=bar,
            font=font,
        )

    def _draw_outside_veil(self) -> None:
        """Fade what lies outside the community so the community reads first."""
        if self.boundary is None:
            return
        x0, x1, y0, y1 = self.extent
        frame = shapely.box(x0 - 10, y0 - 10, x1 + 10, y1 + 10)
        outside = frame.difference(self.m(self.boundary))
        path = _poly_path(_polygons(outside))
        if path is not None:
            self.ax.add_patch(PathPatch(path, facecolor="#ffffff", edgecolor="none", alpha=0.55, zorder=6))

    def _draw_zones(self) -> None:
        ordered = sorted(
            (z for z in self.zones if z[1] is not None), key=lambda zg: (zg[0].level, zg[0].kind != "flood")
        )
        for z, g in ordered:
            path = _poly_path(_polygons(self.m(g)))
            if path is None:
                continue
            fill = hazard_colour(z.kind, z.level)
            edge = hazard_colour(z.kind, 4)
            hatch = "////" if z.kind == "facility_buffer" else ("xx" if z.level >= 4 else None)
            self.ax.add_patch(
                PathPatch(path, facecolor=fill, edgecolor=edge, linewidth=0.9, alpha=0.62, zorder=2, hatch=hatch)
            )
            self.ax.add_patch(PathPatch(path, facecolor="none", edgecolor=edge, linewidth=0.9, zorder=2.1))
            self.counts["hazard_zones"] += 1

    def _draw_roads(self) -> None:
        by_class: dict[str, list[np.ndarray]] = defaultdict(list)
        self.road_lines: list[tuple[RoadLine, list[np.ndarray]]] = []
        for r, g in self.roads:
            if g is None:
                continue
            lines = _lines(self.m(g))
            by_class[road_class(r.kind)].extend(lines)
            self.road_lines.append((r, lines))
            self.counts["roads"] += 1
        k = self.k
        for cls in _ROAD_ORDER:  # casings first, under every fill
            lines = by_class.get(cls)
            _, casing, _, _, _ = ROAD_CLASSES[cls]
            if lines and casing:
                self.ax.add_collection(
                    LineCollection(lines, colors="#8c8577", linewidths=casing * k, capstyle="round", zorder=3)
                )
        for cls in _ROAD_ORDER:
            lines = by_class.get(cls)
            _, _, width, colour, dashed = ROAD_CLASSES[cls]
            if not lines:
                continue
            self.ax.add_collection(
                LineCollection(
                    lines,
                    colors=colour,
                    linewidths=width * k,
                    linestyles=(0, (3, 2)) if dashed else "solid",
                    capstyle="butt" if dashed else "round",
                    zorder=3.2,
                )
            )

    def _draw_buildings(self) -> None:
        polys = []
        for _, g in self.buildings:
            for p in _polygons(self.m(g) if g is not None else None):
                polys.append(np.asarray(p.exterior.coords)[:, :2])
        if polys:
            self.ax.add_collection(
                PolyCollection(polys, facecolors=BUILDING_FILL, edgecolors=BUILDING_EDGE, linewidths=0.5, zorder=4)
            )
        self.counts["buildings"] = len(polys)

    def _draw_boundary(self) -> None:
        if self.boundary is None:
            return
        for p in _polygons(self.m(self.boundary)):
            xy = np.asarray(p.exterior.coords)
            self.ax.plot(xy[:, 0], xy[:, 1], color="#ffffff", linewidth=4.2, zorder=6.5, solid_capstyle="round")
            self.ax.plot(xy[:, 0], xy[:, 1], color="#7b2d8e", linewidth=1.8, dashes=(7, 2, 1.5, 2), zorder=6.6)

    def _draw_shelters(self) -> None:
        styles = {
            "open": (GREEN, "#7fd08f", "solid"),
            "candidate": (GREEN, "#cdeccf", (0, (4, 2))),
            "closed": ("#7a7a7a", "#d6d6d6", (0, (2, 2))),
        }
        self.shelter_marks: list[tuple[ShelterArea, float, float]] = []
        for s, g in self.shelters:
            edge, fill, ls = styles.get(s.status, styles["open"])
            gm = self.m(g) if g is not None else None
            path = _poly_path(_polygons(gm))
            if path is not None:
                self.ax.add_patch(
                    PathPatch(path, facecolor=fill, edgecolor=edge, linewidth=1.6, linestyle=ls, alpha=0.85, zorder=7)
                )
            if s.lon is not None and s.lat is not None:
                x, y = self.xy(s.lon, s.lat)
            elif gm is not None:
                rp = gm.representative_point()
                x, y = rp.x, rp.y
            else:
                continue
            if not self.inside(x, y):  # drawn in part at the edge, but no symbol or label off the map
                continue
            self.shelter_marks.append((s, x, y))
            self.counts["shelters"] += 1

    def _draw_routes(self) -> None:
        """Routes merged by segment: the line widens with the people on it, arrows point to shelters.

        The first leg of a route (door to the nearest road) is drawn thin and without arrows, so the
        many short stubs do not bury the shared roads people actually walk along.
        """
        flow: dict[tuple, float] = defaultdict(float)
        stubs: set[tuple] = set()
        walked: set[tuple] = set()  # segments some route walks beyond its first leg
        ends: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        x0, x1, y0, y1 = self.extent
        for r in self.data.routes:
            pts = np.array([self.xy(c[0], c[1]) for c in r.coords], dtype=float) if len(r.coords) else np.empty((0, 2))
            if len(pts) < 2:
                continue
            keep = np.r_[True, np.hypot(*np.diff(pts, axis=0).T) > 0.5]
            pts = pts[keep]
            if len(pts) < 2:
                continue
            for i, (a, b) in enumerate(itertools.pairwise(pts)):
                key = (round(a[0], 1), round(a[1], 1), round(b[0], 1), round(b[1], 1))
                flow[key] += max(r.persons, 1)
                if i == 0 and len(pts) > 2:
                    stubs.add(key)
                else:
                    walked.add(key)
            end = (round(pts[-1][0]), round(pts[-1][1]))
            if x0 <= pts[-1][0] <= x1 and y0 <= pts[-1][1] <= y1:
                ends[end] = (pts[-2], pts[-1])
            self.counts["routes"] += 1
        stubs -= walked
        if not flow:
            return
        keys = list(flow)
        people = np.array([flow[k] for k in keys])
        top = max(float(people.max()), 1.0)
        widths = (1.1 + 2.6 * np.sqrt(people / top)) * self.k
        widths = np.where([k in stubs for k in keys], 0.9 * self.k, widths)
        segs = [np.array([[k[0], k[1]], [k[2], k[3]]]) for k in keys]
        self.ax.add_collection(
            LineCollection(segs, colors="#ffffff", linewidths=widths + 1.6, capstyle="round", zorder=8)
        )
        self.ax.add_collection(
            LineCollection(segs, colors=GREEN, linewidths=widths, capstyle="round", joinstyle="round", zorder=8.1)
        )
        # Arrowheads: along the shared segments long enough on paper, and at each shelter's entrance.
        size = 2.4 * self.m_per_mm * max(self.k, 0.75)  # about 2.4 mm on paper
        spacing = 55.0 * self.m_per_mm
        heads = []
        for k, w in zip(keys, widths, strict=True):
            if k in stubs:
                continue
            ax_, ay, bx, by = k
            length = math.hypot(bx - ax_, by - ay)
            if length < 12.0 * self.m_per_mm:
                continue
            n = max(1, int(length // spacing))
            for i in range(n):
                t = (i + 0.5) / n
                heads.append(
                    _arrowhead(ax_ + (bx - ax_) * t, ay + (by - ay) * t, bx - ax_, by - ay, size * (0.85 + w / 10))
                )
        for a, b in ends.values():
            d = b - a
            length = float(np.hypot(*d))
            if length > 0:
                # Stop short of the shelter's symbol so the last arrow stays visible beside it.
                back = min(4.0 * self.m_per_mm, 0.45 * length) / length
                heads.append(_arrowhead(b[0] - d[0] * back, b[1] - d[1] * back, d[0], d[1], size * 1.35, tip=True))
        if heads:
            self.ax.add_collection(
                PolyCollection(heads, facecolors=GREEN_DARK, edgecolors="#ffffff", linewidths=0.6, zorder=8.3)
            )

    def _draw_sites(self) -> None:
        ax = self.ax
        d = self.data
        keep = lambda sites: [p for p in sites if self.inside(*self.xy(p.lon, p.lat))]  # noqa: E731
        self.sites = {
            "risk": keep(d.risk_points),
            "clinic": keep(d.clinics),
            "fire": keep(d.fire_stations),
            "supply": keep(d.supply_points),
        }
        for p in self.sites["risk"]:
            glyph = RISK_GLYPHS.get(p.kind, RISK_GLYPHS["other"])[0]
            _icon(ax, *self.xy(p.lon, p.lat), "risk", glyph, 15, zorder=10)
            self.counts["risk_points"] += 1
        for p in self.sites["clinic"]:
            _icon(ax, *self.xy(p.lon, p.lat), "clinic", "", 14, zorder=10)
            self.counts["clinics"] += 1
        for p in self.sites["fire"]:
            _icon(ax, *self.xy(p.lon, p.lat), "fire", "消", 14, zorder=10)
            self.counts["fire_stations"] += 1
        for p in self.sites["supply"]:
            _icon(ax, *self.xy(p.lon, p.lat), "supply", "物", 14, zorder=10)
            self.counts["supply_points"] += 1
        for s, x, y in self.shelter_marks:
            _icon(ax, x, y, "shelter" if s.status != "closed" else "shelter_closed", "避", 16, zorder=10.5)

    def _north_arrow(self) -> None:
        fx, fy, fw, fh = _frame_mm()
        size = 17.0
        a = self.fig.add_axes(_mm_box(self.fig, fx + fw - size - 4, fy + fh - size - 6, size, size + 3))
        a.set_xlim(-1, 1)
        a.set_ylim(-1.05, 1.35)
        a.axis("off")
        a.add_patch(
            MplPolygon([(0, 0.85), (-0.42, -0.75), (0, -0.38)], closed=True, facecolor=INK, edgecolor=INK, lw=0.8)
        )
        a.add_patch(
            MplPolygon([(0, 0.85), (0.42, -0.75), (0, -0.38)], closed=True, facecolor="#ffffff", edgecolor=INK, lw=0.8)
        )
        a.text(0, 1.0, "北", ha="center", va="bottom", fontsize=12, fontweight="bold", color=INK)
        a.set_zorder(20)
        self.labels.block(a.get_window_extent(self.renderer).expanded(1.2, 1.1))

    def _scale_bar(self) -> float:
        x0, x1, y0, _ = self.extent
        length = nice_length((x1 - x0) * 0.2)
        parts = 4 if str(int(length))[0] in "124" else 5
        seg = length / parts
        left = x0 + 8 * self.m_per_mm
        base = y0 + 9 * self.m_per_mm
        h = 1.6 * self.m_per_mm
        bg = FancyBboxPatch(
            (left - 4 * self.m_per_mm, base - 6.5 * self.m_per_mm),
            length + 8 * self.m_per_mm + 16 * self.m_per_mm,
            14.5 * self.m_per_mm,
            boxstyle=f"round,pad=0,rounding_size={1.5 * self.m_per_mm}",
            facecolor="#ffffff",
            edgecolor="#bdbdbd",
            linewidth=0.6,
            alpha=0.92,
            zorder=19,
        )
        self.ax.add_patch(bg)
        for i in range(parts):
            self.ax.add_patch(
                Rectangle(
                    (left + i * seg, base),
                    seg,
                    h,
                    facecolor=INK if i % 2 == 0 else "#ffffff",
                    edgecolor=INK,
                    linewidth=0.7,
                    zorder=20,
                )
            )
        for i in (0, parts // 2, parts) if parts == 4 else (0, parts):
            v = seg * i
            self.ax.text(
                left + v, base + h + 0.8 * self.m_per_mm, _fmt_m(v), ha="center", va="bottom", fontsize=7.5, zorder=21
            )
        self.ax.text(
            left + length + 2.5 * self.m_per_mm, base + h / 2, "米", ha="left", va="center", fontsize=8, zorder=21
        )
        scale = int(round(self.m_per_mm * 1000, -1))
        self.ax.text(
            left,
            base - 1.2 * self.m_per_mm,
            f"比例尺 1:{scale:,}（A3 打印）",
            ha="left",
            va="top",
            fontsize=7,
            color="#555555",
            zorder=21,
        )
        self.labels.block(bg.get_window_extent(self.renderer))
        return length

    # -- labels --

    def _label_everything(self) -> None:
        L = self.labels
        for _s, x, y in self.shelter_marks:
            L.block_point(x, y, 9)
        for group in self.sites.values():
            for p in group:
                L.block_point(*self.xy(p.lon, p.lat), 8)
        # Shelters first: they are what the map is for.
        for s, x, y in sorted(self.shelter_marks, key=lambda t: -t[0].capacity):
            state = {"closed": "（暂停使用）", "candidate": "（备用）"}.get(s.status, "")
            text = f"{s.name}{state}\n容纳 {s.capacity:,} 人"
            if s.warning and s.status != "closed":
                text += f"\n※ {s.warning}"
            colour = "#555555" if s.status == "closed" else "#8a4b00" if s.warning else GREEN_DARK
            L.place(
                text,
                x,
                y,
                offset_pt=11,
                must=True,
                candidates=_RINGS,
                fontsize=9,
                fontweight="bold",
                color=colour,
                linespacing=1.25,
                multialignment="left",
                zorder=22,
                bbox=dict(boxstyle="round,pad=0.3", facecolor="#ffffff", edgecolor=colour, linewidth=0.9, alpha=0.93),
            )
        for group, colour in (
            (self.sites["clinic"], RED),
            (self.sites["fire"], RED),
            (self.sites["supply"], "#1f5fa8"),
            (self.sites["risk"], "#7a4a00"),
        ):
            for p in group:
                if p.name:
                    L.place(
                        p.name,
                        *self.xy(p.lon, p.lat),
                        offset_pt=9,
                        fontsize=7.5,
                        color=colour,
                        zorder=21,
                        path_effects=_halo(),
                    )
        self._road_names()
        self._zone_names()

    def _road_names(self) -> None:
        seen: set[str] = set()
        ranked = []
        for r, lines in self.road_lines:
            if not r.name or not lines:
                continue
            best = max(lines, key=lambda a: float(np.hypot(*np.diff(a, axis=0).T).sum()) if len(a) > 1 else 0.0)
            ranked.append((float(np.hypot(*np.diff(best, axis=0).T).sum()), road_class(r.kind), r.name, best))
        order = {c: i for i, c in enumerate(reversed(_ROAD_ORDER))}
        for length, cls, name, line in sorted(ranked, key=lambda t: (order[t[1]], -t[0])):
            if name in seen or cls == "path" or length < len(name) * 4.5 * self.m_per_mm:
                continue
            x, y, angle = _along(line)
            if x is None:
                continue
            ok = self.labels.place(
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
                path_effects=_halo(2.2),
            )
            if ok:
                seen.add(name)

    def _zone_names(self) -> None:
        for z, g in self.zones:
            if g is None:
                continue
            gm = self.m(g)
            if gm.area < (18 * self.m_per_mm) ** 2:
                continue
            p = gm.representative_point()
            label = z.name or HAZARD_KINDS.get(z.kind, ("风险区",))[0]
            if z.kind == "flood" and z.depth_class in DEPTH_LABELS and z.depth_class not in label:
                label += f"\n{DEPTH_LABELS[z.depth_class]}"
            self.labels.place(
                label,
                p.x,
                p.y,
                offset_pt=0,
                candidates=((0, 0), (0, 1), (0, -1)),
                fontsize=7,
                color=hazard_colour(z.kind, 4),
                zorder=9.5,
                path_effects=_halo(2.0),
            )

    # -- the page around the map --

    def _title(self) -> None:
        fig, d = self.fig, self.data
        top = PAGE_MM[1] - _MARGIN
        fig.add_artist(
            Rectangle(
                (_MARGIN / PAGE_MM[0], (top - 2.2) / PAGE_MM[1]),
                60 / PAGE_MM[0],
                2.2 / PAGE_MM[1],
                color=RED,
                transform=fig.transFigure,
            )
        )
        fig.text(
            _MARGIN / PAGE_MM[0],
            (top - 5) / PAGE_MM[1],
            f"{d.community}风险示意图",
            fontsize=27,
            fontweight="bold",
            color=INK,
            va="top",
        )
        sub = [
            s
            for s in (d.street, f"制图日期 {d.date.year}年{d.date.month}月{d.date.day}日", f"数据版本 {d.version}")
            if s
        ]
        fig.text(
            _MARGIN / PAGE_MM[0], (top - 20) / PAGE_MM[1], "　|　".join(sub), fontsize=10.5, color="#555555", va="top"
        )
        fig.text(
            (PAGE_MM[0] - _MARGIN) / PAGE_MM[0],
            (top - 6) / PAGE_MM[1],
            "COMMUNITY RISK MAP",
            fontsize=10,
            color="#8a8a8a",
            ha="right",
            va="top",
        )
        fig.text(
            (PAGE_MM[0] - _MARGIN) / PAGE_MM[0],
            (top - 12.5) / PAGE_MM[1],
            "让 · 防 · 避　知风险、早预防、会避险",
            fontsize=11,
            color=GREEN_DARK,
            fontweight="bold",
            ha="right",
            va="top",
        )

    def _panel(self) -> None:
        fx, fy, fw, fh = _frame_mm()
        px = fx + fw + _GAP
        pax = self.fig.add_axes(_mm_box(self.fig, px, fy, _PANEL_W, fh))
        pax.set_xlim(0, _PANEL_W)
        pax.set_ylim(0, fh)
        pax.set_xticks([])
        pax.set_yticks([])
        for spine in pax.spines.values():
            spine.set_linewidth(1.2)
            spine.set_color(INK)
        panel = _Panel(pax, fh, self)
        panel.draw()
        self.legend = panel.entries

    def _footer(self) -> None:
        fig, d = self.fig, self.data
        y, h = _MARGIN, _FOOTER_H
        fig.add_artist(
            FancyBboxPatch(
                (_MARGIN / PAGE_MM[0], y / PAGE_MM[1]),
                (PAGE_MM[0] - 2 * _MARGIN) / PAGE_MM[0],
                h / PAGE_MM[1],
                boxstyle="square,pad=0",
                facecolor="#b71c1c",
                edgecolor="none",
                transform=fig.transFigure,
            )
        )
        cy = (y + h / 2) / PAGE_MM[1]
        fig.text(
            (_MARGIN + 5) / PAGE_MM[0], cy, "应急电话", fontsize=12, color="#ffe8a3", fontweight="bold", va="center"
        )
        x = _MARGIN + 29
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
            (PAGE_MM[0] - _MARGIN - 4) / PAGE_MM[0],
            cy,
            "\n".join(lines),
            fontsize=6.8,
            color="#ffe9e9",
            ha="right",
            va="center",
            linespacing=1.35,
        )


class _Panel:
    """The legend and the list of shelters, drawn in millimetres inside the right-hand panel."""

    ROW = 6.0

    def __init__(self, ax: Any, height: float, owner: _Map):
        self.ax = ax
        self.y = height - 7.0
        self.owner = owner
        self.entries: list[str] = []

    def heading(self, text: str) -> None:
        self.ax.text(5, self.y, text, fontsize=10.5, fontweight="bold", color=INK, va="center")
        self.ax.plot([5, _PANEL_W - 5], [self.y - 3.2, self.y - 3.2], color="#cccccc", lw=0.6)
        self.y -= 7.5

    def entry(self, draw: Any, label: str, x: float = 5.0) -> None:
        draw(x, self.y)
        self.ax.text(x + 12, self.y, label, fontsize=8.2, color=INK, va="center")
        self.entries.append(label)

    def row_done(self) -> None:
        self.y -= self.ROW

    def swatch(self, fill: str, edge: str, hatch: str | None = None, ls: Any = "solid", alpha: float = 1.0) -> Any:
        def draw(x: float, y: float) -> None:
            self.ax.add_patch(
                Rectangle((x, y - 2), 9, 4, facecolor=fill, edgecolor=edge, lw=0.9, hatch=hatch, ls=ls, alpha=alpha)
            )

        return draw

    def line(
        self, colour: str, width: float, casing: str | None = None, casing_w: float = 0.0, dashed: bool = False
    ) -> Any:
        def draw(x: float, y: float) -> None:
            if casing:
                self.ax.plot([x, x + 9], [y, y], color=casing, lw=casing_w, solid_capstyle="butt")
            self.ax.plot(
                [x, x + 9], [y, y], color=colour, lw=width, solid_capstyle="butt", ls=(0, (3, 2)) if dashed else "-"
            )

        return draw

    def icon(self, kind: str, glyph: str, size: float) -> Any:
        def draw(x: float, y: float) -> None:
            _icon(self.ax, x + 4.5, y, kind, glyph, size)

        return draw

    def pairs(self, items: list[tuple[Any, str]]) -> None:
        """Two legend entries per row."""
        for i in range(0, len(items), 2):
            for j, (draw, label) in enumerate(items[i : i + 2]):
                self.entry(draw, label, 5.0 + j * 47.0)
            self.row_done()

    def draw(self) -> None:
        m, d = self.owner, self.owner.data
        self.heading("图　例")
        # Hazard zones present, by kind and level (the four levels of a kind on one line).
        present: dict[str, set[int]] = defaultdict(set)
        for z, g in m.zones:
            if g is not None:
                present[z.kind].add(min(max(int(z.level), 1), 4))
        if present:
            self.ax.text(5, self.y, "风险区（颜色越深风险越高）", fontsize=8.2, color="#555555", va="center")
            self.row_done()
            for kind in HAZARD_KINDS:
                if kind not in present:
                    continue
                label = HAZARD_KINDS[kind][0]
                self.ax.text(5, self.y, label, fontsize=8.2, color=INK, va="center")
                self.entries.append(label)
                x = 33.0
                for level in (1, 2, 3, 4):
                    if level not in present[kind]:
                        continue
                    hatch = "////" if kind == "facility_buffer" else ("xx" if level >= 4 else None)
                    self.ax.add_patch(
                        Rectangle(
                            (x, self.y - 2),
                            8,
                            4,
                            facecolor=hazard_colour(kind, level),
                            edgecolor=hazard_colour(kind, 4),
                            lw=0.8,
                            hatch=hatch,
                            alpha=0.8,
                        )
                    )
                    self.ax.text(x + 9.2, self.y, LEVEL_LABELS[level], fontsize=7.5, color=INK, va="center")
                    self.entries.append(f"{label}·{LEVEL_LABELS[level]}")
                    x += 16.0
                self.row_done()
            self.y -= 1.5
        kinds = sorted(
            {p.kind if p.kind in RISK_GLYPHS else "other" for p in d.risk_points}, key=list(RISK_GLYPHS).index
        )
        if kinds:
            self.ax.text(5, self.y, "危险源", fontsize=8.2, color="#555555", va="center")
            self.row_done()
            self.pairs([(self.icon("risk", RISK_GLYPHS[k][0], 14), RISK_GLYPHS[k][1]) for k in kinds])
            self.y -= 1.5
        self.ax.text(5, self.y, "避险与疏散", fontsize=8.2, color="#555555", va="center")
        self.row_done()
        items: list[tuple[Any, str]] = [(self.icon("shelter", "避", 14), "避难场所（容纳人数）")]
        statuses = {s.status for s in d.shelters}
        items.append((self.swatch("#7fd08f", GREEN, alpha=0.85), "避难场所范围"))
        if "candidate" in statuses:
            items.append((self.swatch("#cdeccf", GREEN, ls=(0, (4, 2))), "备用场所（可转换）"))
        if "closed" in statuses:
            items.append((self.swatch("#d6d6d6", "#7a7a7a", ls=(0, (2, 2))), "暂停使用的场所"))
        items.append((self._route_sample, "疏散路线及方向"))
        self.pairs(items)
        self.y -= 1.5
        res: list[tuple[Any, str]] = []
        if d.clinics:
            res.append((self.icon("clinic", "", 13), "医疗点/卫生站"))
        if d.fire_stations:
            res.append((self.icon("fire", "消", 13), "消防站/微型消防站"))
        if d.supply_points:
            res.append((self.icon("supply", "物", 13), "应急物资点"))
        if res:
            self.ax.text(5, self.y, "应急资源", fontsize=8.2, color="#555555", va="center")
            self.row_done()
            self.pairs(res)
            self.y -= 1.5
        self.ax.text(5, self.y, "基础要素", fontsize=8.2, color="#555555", va="center")
        self.row_done()
        base: list[tuple[Any, str]] = [(self.swatch(BUILDING_FILL, BUILDING_EDGE), "建筑")]
        if m.boundary is not None:
            base.append((self._boundary_sample, "社区边界"))
        classes = sorted({road_class(r.kind) for r, g in m.roads if g is not None}, key=lambda c: -_ROAD_ORDER.index(c))
        for c in classes:
            label, casing, width, colour, dashed = ROAD_CLASSES[c]
            base.append((self.line(colour, width * 0.8, "#8c8577" if casing else None, casing * 0.8, dashed), label))
        self.pairs(base)
        self._shelter_table()
        self._tips()

    TIPS = (
        "听到预警或通知后，听从网格员、楼栋长指挥有序撤离",
        "先帮老人、儿童、残障和卧床的邻居，不乘电梯",
        "不涉深水，远离电线杆、变压器和井盖",
        "到达避难场所后向工作人员报到，不擅自返回",
    )

    def _tips(self) -> None:
        """Safety advice at the foot of the panel, if there is room left."""
        need = 9.0 + 5.0 * len(self.TIPS)
        if self.y - 6 < need:
            return
        top = need + 2.0
        self.ax.add_patch(
            FancyBboxPatch((4, 3), _PANEL_W - 8, top - 3, boxstyle="round,pad=0,rounding_size=1.5",
                           facecolor="#fff7e0", edgecolor="#e0b84a", lw=0.8)
        )  # fmt: skip
        self.ax.text(7, top - 4.2, "避险须知", fontsize=9.5, fontweight="bold", color="#8a5a00", va="center")
        self.entries.append("避险须知")
        y = top - 10.0
        for i, tip in enumerate(self.TIPS, 1):
            self.ax.text(7, y, f"{i}. {tip}", fontsize=7.6, color=INK, va="center")
            y -= 5.0

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

    def _shelter_table(self) -> None:
        d = self.owner.data
        if not d.shelters:
            return
        self.y -= 2.0
        self.heading("避难场所一览")
        rows = sorted(d.shelters, key=lambda s: ({"open": 0, "candidate": 1}.get(s.status, 2), -s.capacity))
        room = int((self.y - 8) // 5.2)
        shown = rows[: max(room, 0)]
        self.ax.text(5, self.y, "名称", fontsize=7.5, color="#777777", va="center")
        self.ax.text(_PANEL_W - 5, self.y, "容纳人数", fontsize=7.5, color="#777777", va="center", ha="right")
        self.y -= 5.2
        total = 0
        for s in shown:
            state = {"closed": "（暂停）", "candidate": "（备用）"}.get(s.status, "")
            if s.warning and s.status != "closed":
                state += " ※"
            colour = "#777777" if s.status == "closed" else INK
            name = s.name if len(s.name) <= 16 else s.name[:15] + "…"
            self.ax.text(5, self.y, f"{name}{state}", fontsize=8, color=colour, va="center")
            self.ax.text(_PANEL_W - 5, self.y, f"{s.capacity:,}", fontsize=8, color=colour, va="center", ha="right")
            self.y -= 5.2
        total = sum(s.capacity for s in d.shelters if s.status == "open")
        if len(shown) < len(rows):
            self.ax.text(
                5, self.y, f"另有 {len(rows) - len(shown)} 处，见平台", fontsize=7.5, color="#777777", va="center"
            )
            self.y -= 5.2
        self.ax.plot([5, _PANEL_W - 5], [self.y + 2.4, self.y + 2.4], color="#cccccc", lw=0.6)
        self.ax.text(5, self.y - 0.6, "开放场所合计", fontsize=8, fontweight="bold", color=GREEN_DARK, va="center")
        self.ax.text(
            _PANEL_W - 5,
            self.y - 0.6,
            f"{total:,} 人",
            fontsize=8,
            fontweight="bold",
            color=GREEN_DARK,
            va="center",
            ha="right",
        )
        warned = sorted({s.warning for s in d.shelters if s.warning and s.status != "closed"})
        for w in warned:
            self.y -= 5.6
            self.ax.text(5, self.y, f"※ {w}", fontsize=7.5, color="#8a4b00", va="center")
            self.entries.append(f"※ {w}")


# ---- small drawing helpers -----------------------------------------------------------------------


_RING = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
_RINGS = (*_RING, *((dx * 2.4, dy * 2.4) for dx, dy in _RING), *((dx * 4.0, dy * 4.0) for dx, dy in _RING))


def _halo(width: float = 2.6) -> list:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="#ffffff")]


def _icon(ax: Any, x: float, y: float, kind: str, glyph: str, size: float, zorder: float = 10) -> None:
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


def _arrowhead(x: float, y: float, dx: float, dy: float, size: float, tip: bool = False) -> np.ndarray:
    """A triangle pointing along (dx, dy), centred on (x, y) — or with its tip at (x, y)."""
    n = math.hypot(dx, dy)
    ux, uy = dx / n, dy / n
    px, py = -uy, ux
    back = size if tip else size / 2
    front = 0.0 if tip else size / 2
    tx, ty = x + ux * front, y + uy * front
    bx, by = x - ux * back, y - uy * back
    half = size * 0.55
    return np.array([[tx, ty], [bx + px * half, by + py * half], [bx - px * half, by - py * half]])


def _along(line: np.ndarray) -> tuple[float | None, float | None, float]:
    """Midpoint of a polyline's longest segment and an upright text angle along it."""
    if len(line) < 2:
        return None, None, 0.0
    d = np.diff(line, axis=0)
    i = int(np.argmax(np.hypot(d[:, 0], d[:, 1])))
    (ax_, ay), (bx, by) = line[i], line[i + 1]
    angle = math.degrees(math.atan2(by - ay, bx - ax_))
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    return (ax_ + bx) / 2, (ay + by) / 2, angle


class _rc:
    """Font settings for one drawing, without touching global state after it."""

    def __init__(self, family: str):
        from matplotlib import rc_context

        self._ctx = rc_context(
            {
                "font.family": [family, "DejaVu Sans"],
                "font.size": 9,
                "pdf.fonttype": 42,  # embed TrueType: text stays vector, selectable and searchable
                "hatch.linewidth": 0.6,
                "axes.unicode_minus": False,
            }
        )

    def __enter__(self) -> None:
        self._ctx.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)


def _metadata(d: RiskMapData, fmt: str) -> dict[str, str]:
    title = f"{d.community}风险示意图"
    if fmt == "pdf":
        return {"Title": title, "Subject": f"数据版本 {d.version}", "Creator": "Renxing", "Keywords": "社区风险示意图"}
    return {"Title": title, "Description": f"数据版本 {d.version}", "Software": "Renxing"}


# ---- entry points ------------------------------------------------------------------------------------


# matplotlib's rc settings are process-wide: one drawing at a time keeps another thread's font intact.
_DRAWING = threading.Lock()


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"输出文件应为 .pdf 或 .png / the output must end in .pdf or .png, not '{suffix}'")
    return suffix


def render(data: RiskMapData, out: BinaryIO, fmt: str = "pdf", dpi: int = DEFAULT_DPI) -> RenderInfo:
    """Draw the map into ``out`` as an A3 landscape PDF (vector) or PNG (``dpi``, 150–300 sensible)."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    with _DRAWING:
        return _Map(data, int(dpi)).draw(out, fmt)


def render_bytes(data: RiskMapData, fmt: str = "pdf", dpi: int = DEFAULT_DPI) -> tuple[bytes, RenderInfo]:
    buf = io.BytesIO()
    info = render(data, buf, fmt, dpi)
    return buf.getvalue(), info


def render_file(data: RiskMapData, path: str | Path, dpi: int = DEFAULT_DPI) -> RenderInfo:
    fmt = format_of(path)
    with open(path, "wb") as fh:
        return render(data, fh, fmt, dpi)
