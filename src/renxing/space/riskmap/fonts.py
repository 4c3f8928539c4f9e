"""A font with Chinese glyphs, found through matplotlib's font manager, and the font settings of
one drawing."""

import re
import threading
from contextlib import AbstractContextManager
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager, rc_context

from renxing.i18n import _

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
# matplotlib's rc settings are process-wide: every drawing of the platform (risk maps, pick lists)
# holds this lock, so one drawing at a time keeps another thread's font settings intact.
DRAWING = threading.Lock()


class FontMissing(RuntimeError):
    """No font with Chinese glyphs is installed."""


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
            _("未找到中文字体，请安装 {font_package}（或文泉驿/思源黑体）").format(font_package=FONT_PACKAGE)
        )
    return family


def font_settings(family: str) -> AbstractContextManager[None]:
    """Font settings for one drawing, without touching global state after it."""
    return rc_context(
        {
            "font.family": [family, "DejaVu Sans"],
            "font.size": 9,
            "pdf.fonttype": 42,  # embed TrueType: text stays vector, selectable and searchable
            "hatch.linewidth": 0.6,
            "axes.unicode_minus": False,
        }
    )
