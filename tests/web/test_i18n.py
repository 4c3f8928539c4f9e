"""One i18n mechanism: every message in the code and the templates has its English in the catalog,
the compiled catalog is the one committed, and the request's language reaches errors and pages."""

import ast
import re
from gettext import GNUTranslations
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from renxing import i18n
from renxing.web.i18n import from_accept_language
from tests.kit.client import login

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "src" / "renxing"
PO = SOURCES / "locale" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"(?<!\{)\{(\w+)")


def _method_map() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """babel.cfg, read the way `pybabel extract -F babel.cfg` reads it."""
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as fp:
        return parse_mapping_cfg(fp)


def _extracted() -> dict[tuple[str | None, str], list[str]]:
    """Every message of the sources and templates, with where it is used."""
    method_map, options_map = _method_map()
    keywords = {**DEFAULT_KEYWORDS, **i18n.EXTRA_KEYWORDS}
    found: dict[tuple[str | None, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        SOURCES, method_map, options_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((context, msgid), []).append(f"{filename}:{lineno}")
    return found


def _catalog():
    with PO.open("rb") as fp:
        return read_po(fp, locale="en")


def test_every_message_has_its_english_in_the_catalog():
    catalog = _catalog()
    found = _extracted()
    assert len(found) > 500, "the extraction found the messages"
    problems = []
    for (context, msgid), where in sorted(found.items(), key=lambda kv: kv[1][0]):
        entry = catalog.get(msgid, context=context)
        if entry is None:
            problems.append(f"missing: {msgid!r} ({where[0]})")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r} ({where[0]})")
        elif not all(entry.string) if isinstance(entry.string, tuple) else not entry.string:
            problems.append(f"untranslated: {msgid!r} ({where[0]})")
    assert not problems, "\n".join(problems)


def test_the_catalog_has_no_fuzzy_or_untranslated_entries():
    catalog = _catalog()
    assert not catalog.fuzzy, "the header is marked fuzzy, so compiling skips the whole catalog"
    bad = [m.id for m in catalog if m.id and (m.fuzzy or not m.string)]
    assert not bad, bad


def _formatted_messages():
    """``_("…").format(k=…)`` and ``bilingual("…", k=…)`` calls: the message and the names given."""
    for path in SOURCES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or any(k.arg is None for k in node.keywords):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "format" and isinstance(func.value, ast.Call):
                inner = func.value
                if getattr(inner.func, "id", "") == "_" and inner.args and isinstance(inner.args[0], ast.Constant):
                    yield path, node.lineno, inner.args[0].value, {k.arg for k in node.keywords}
            elif getattr(func, "id", "") == "bilingual" and node.args and isinstance(node.args[0], ast.Constant):
                yield path, node.lineno, node.args[0].value, {k.arg for k in node.keywords}


def test_every_placeholder_of_a_message_is_given_in_both_languages():
    """A name the English uses but the call does not pass would fail only for English readers."""
    catalog = _catalog()
    problems = []
    for path, line, msgid, given in _formatted_messages():
        entry = catalog.get(msgid)
        english = entry.string if entry is not None and isinstance(entry.string, str) else ""
        wanted = set(PLACEHOLDER.findall(msgid)) | set(PLACEHOLDER.findall(english))
        if wanted - given:
            problems.append(f"{path.relative_to(SOURCES)}:{line} {msgid!r} lacks {sorted(wanted - given)}")
    assert not problems, "\n".join(problems)


def test_a_message_without_arguments_has_no_placeholder_in_english():
    catalog = _catalog()
    formatted = {msgid for _p, _l, msgid, _g in _formatted_messages()}
    bare = [
        m.id
        for m in catalog
        if isinstance(m.id, str)
        and m.id not in formatted
        and PLACEHOLDER.search(m.string)
        and not PLACEHOLDER.search(m.id)
    ]
    assert not bare, bare


def test_the_compiled_catalog_is_the_committed_one(tmp_path):
    """`make catalogs` has run since the .po last changed."""
    assert MO.exists(), "run `make catalogs`"
    fresh = tmp_path / "messages.mo"
    with fresh.open("wb") as fp:
        write_mo(fp, _catalog())
    with fresh.open("rb") as a, MO.open("rb") as b:
        want, have = GNUTranslations(a), GNUTranslations(b)
    assert have._catalog == want._catalog, "the .mo is older than the .po: run `make catalogs`"  # type: ignore[attr-defined]


def test_a_lazy_label_follows_the_language_of_the_moment():
    label = i18n._l("居民")
    with i18n.use_lang("en"):
        assert str(label) == i18n.gettext("居民") != "居民"
    assert str(label) == "居民"


def test_stored_text_shows_the_readers_half():
    text = i18n.bilingual("分派给 {label}", label="王五")
    assert text == "分派给 王五 / routed to 王五"
    assert i18n.stored(text) == "分派给 王五"
    with i18n.use_lang("en"):
        assert i18n.stored(text) == "routed to 王五"
        assert i18n.stored("居民反馈未解决") == "the reporter says it is not solved"  # older rows: Chinese only


@pytest.mark.parametrize(
    ("header", "lang"),
    [("en-GB,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("fr;q=1,en;q=0.5", "en"), ("de", None), ("", None)],
)
def test_accept_language(header, lang):
    assert from_accept_language(header) == lang


def test_an_api_error_speaks_chinese_by_default_and_english_on_request(client: TestClient, world):
    assert client.get("/api/v1/residents").json()["detail"] == "请先登录"
    r = client.get("/api/v1/residents", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert r.status_code == 401
    assert r.json()["detail"] == "please log in"

    headers = login(client, "secretary")
    r = client.get("/api/v1/residents", params={"sort": "shoe-size"}, headers=headers)
    assert r.status_code == 422 and r.json()["detail"] == "排序字段无效"
    r = client.get("/api/v1/residents", params={"sort": "shoe-size"}, headers={**headers, "Accept-Language": "en"})
    assert r.json()["detail"] == "bad sort"
    r = client.get("/api/v1/residents", params={"sort": "shoe-size", "lang": "en"}, headers=headers)
    assert r.json()["detail"] == "bad sort", "?lang= is the page's switch, and it wins over the header"


def test_field_messages_follow_the_language_too(client: TestClient, world):
    account = {"username": "newcomer", "password": "long-enough-password", "role": "resident", "display_name": "新人"}
    headers = login(client, "admin")

    def field_message(extra: dict[str, str]) -> str:
        r = client.post("/api/v1/users", json=account, headers={**headers, **extra})
        assert r.status_code == 422, r.text
        return {e["field"]: e["message"] for e in r.json()["errors"]}["resident_id"]

    assert field_message({}) == "居民账号须关联居民"
    assert field_message({"Accept-Language": "en"}) == "a resident account must link a resident"


def test_a_page_renders_in_english_with_lang_en_and_remembers_it(client: TestClient, world):
    r = client.get("/login?lang=en")
    assert r.status_code == 200
    assert '<html lang="en">' in r.text and "Log in" in r.text and "登录" not in r.text.split("<body")[1]
    assert client.cookies.get("lang") == "en"
    assert "Log in" in client.get("/login").text, "the cookie carries the choice to the next page"
    client.cookies.clear()
    assert '<html lang="zh-CN">' in client.get("/login").text
