"""The sheet's layout in millimetres, its colours, and how each kind of thing is drawn."""

import math

from matplotlib.figure import Figure

PAGE_MM = (420.0, 297.0)  # A3 landscape
MM_PER_INCH = 25.4

# Layout (millimetres from the bottom-left corner)
MARGIN = 10.0
FOOTER_H = 17.0
TITLE_H = 27.0
PANEL_W = 100.0
GAP = 6.0

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
ROAD_ORDER = ("path", "service", "minor", "secondary", "major")

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


def hazard_hatch(kind: str, level: int) -> str | None:
    """Buffers of hazardous facilities are hatched, and so is the highest level of every kind."""
    return "////" if kind == "facility_buffer" else ("xx" if level >= 4 else None)


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


def fmt_m(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:g} 千米"
    return f"{v:g}"


def mm_box(fig: Figure, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    """Figure-fraction rectangle from millimetres measured from the page's bottom-left corner."""
    return (x / PAGE_MM[0], y / PAGE_MM[1], w / PAGE_MM[0], h / PAGE_MM[1])


def frame_mm() -> tuple[float, float, float, float]:
    """The map frame: x, y, width, height in millimetres."""
    x0 = MARGIN
    y0 = MARGIN + FOOTER_H + 4.0
    w = PAGE_MM[0] - 2 * MARGIN - PANEL_W - GAP
    h = PAGE_MM[1] - y0 - MARGIN - TITLE_H
    return x0, y0, w, h
