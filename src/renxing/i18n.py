"""One way to translate: zh-CN source strings, English from the Babel catalog.

Python code writes ``_("页码无效")``; templates write ``{{ _("页码无效") }}``. The English lives in
``locale/en/LC_MESSAGES/messages.po`` (compiled to ``.mo`` by ``make``). The language is a context
variable: the web sets it per request, other code chooses one with :func:`use_lang`.
Module-level constants use ``_l`` so they are translated each time they are shown.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path

from babel.support import LazyProxy

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# Keywords beyond gettext's defaults that mark a message for extraction.
EXTRA_KEYWORDS = {"_l": None, "_lp": ((1, "c"), 2), "bilingual": None}
# Stored text written for readers of either language: "中文 / English".
STORED_SEPARATOR = " / "

# A label: a lazy message (``_l``) that becomes text in the language of the moment.
Label = LazyProxy

_lang: ContextVar[str] = ContextVar("lang", default=DEFAULT_LANG)


def normalise(lang: str | None) -> str | None:
    """ "en", "en-GB", "zh_CN" → a language we have, or None for anything else."""
    if not lang:
        return None
    base = lang.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGS else None


def current_lang() -> str:
    return _lang.get()


def set_lang(lang: str | None) -> None:
    """For the web layer, once per request; code elsewhere uses :func:`use_lang`."""
    _lang.set(normalise(lang) or DEFAULT_LANG)


@contextmanager
def use_lang(lang: str | None) -> Iterator[str]:
    """Render in one language for a while: a CLI command, an export, a test."""
    chosen = normalise(lang) or DEFAULT_LANG
    token = _lang.set(chosen)
    try:
        yield chosen
    finally:
        _lang.reset(token)


@cache
def _catalog(lang: str) -> NullTranslations:
    """Source strings are Chinese, so zh needs no catalog; a missing .mo is a build step not run."""
    if lang == DEFAULT_LANG:
        return NullTranslations()
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.exists():
        raise RuntimeError(f"message catalog {path.name} for {lang!r} is not compiled: run `make catalogs`")
    with path.open("rb") as fp:
        return GNUTranslations(fp)


def translations(lang: str | None = None) -> NullTranslations:
    return _catalog(normalise(lang) or current_lang())


def gettext(message: str) -> str:
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """The same Chinese meaning two things in English (``居民``: a role, or the register)."""
    return translations().pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations().npgettext(context, singular, plural, n)


def lazy_gettext(message: str) -> LazyProxy:
    """For constants defined at import time: translated when shown, in the language of that moment."""
    return LazyProxy(gettext, message, enable_cache=False)


def N_(message: str) -> str:
    """Marks a message for the catalog where it is translated later (by :func:`bilingual`, say)."""
    return message


def lazy_pgettext(context: str, message: str) -> LazyProxy:
    return LazyProxy(pgettext, context, message, enable_cache=False)


def in_each_lang(message: "str | LazyProxy") -> dict[str, str]:
    """A label in every language, for API fields that carry both (``{"zh": …, "en": …}``)."""
    out = {}
    for lang in LANGS:
        with use_lang(lang):
            out[lang] = str(message) if isinstance(message, LazyProxy) else gettext(message)
    return out


def localized(zh: str, en: str | None) -> str:
    """Data stored in both languages (category names an administrator edits), not code strings."""
    return en if current_lang() == "en" and en else zh


def bilingual(message: "str | LazyProxy | Callable[[], str]", **values: object) -> str:
    """Text stored for readers of either language (an inbox title, a timeline note, an audit summary),
    written once in both from the catalog; :func:`stored` shows the reader's half. ``message`` is a
    catalog message (formatted with ``values``), a lazy label, or a function that words the text."""
    texts = []
    for lang in LANGS:
        with use_lang(lang):
            if callable(message) and not isinstance(message, LazyProxy):
                texts.append(message())
            elif isinstance(message, LazyProxy):
                texts.append(str(message))
            else:
                texts.append(gettext(message).format(**values) if values else gettext(message))
    zh, en = texts
    return zh if en == zh else f"{zh}{STORED_SEPARATOR}{en}"


def stored(text: str | None) -> str:
    """The reader's half of a stored bilingual text; a stored Chinese catalog message (older rows
    name a channel so) in the reader's language; other stored text as it is."""
    if not text:
        return ""
    zh, sep, en = str(text).partition(STORED_SEPARATOR)
    if not sep:
        return gettext(zh)
    return en if current_lang() == "en" else zh


_ = gettext
_l = lazy_gettext
_lp = lazy_pgettext
