"""The Jinja2 environment every page renders with: layout, i18n, time zone, masking."""

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from renxing import i18n
from renxing.config import get_settings
from renxing.errors import FieldError
from renxing.web.i18n import LANG_COOKIE

ROOT = Path(__file__).resolve().parent.parent
# Each domain keeps its templates in its own folder; one loader searches them all.
_dirs = [ROOT / "web" / "templates", *sorted(p for p in ROOT.glob("*/templates") if p.parent.name != "web")]
templates = Jinja2Templates(directory=str(ROOT / "web" / "templates"))
templates.env.loader = ChoiceLoader([FileSystemLoader(str(d)) for d in _dirs])
# {{ _("中文") }} in the request's language; newstyle: "%" in a message is written "%%".
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
)
# Lazy labels (``_l``) inside data a page hands to its scripts as JSON.
templates.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": str}
templates.env.globals["localized"] = i18n.localized  # rows named in both languages (categories, states)
templates.env.filters["stored"] = i18n.stored  # text stored for readers of either language


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)


templates.env.filters["local"] = local_time


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200):
    lang = i18n.current_lang()
    ctx = {
        "request": request,
        "lang": lang,
        "principal": getattr(request.state, "principal", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in i18n.LANGS:  # the page's switch: remembered for the next pages
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def render_error(request: Request, status: int, message: str, errors: list[FieldError]):
    return render(request, "error.html", {"status": status, "message": message, "errors": errors}, status)
