"""Every response carries the security headers: a Content-Security-Policy that allows script only from
our own files, nosniff, no framing, a referrer policy. The templates hold no code the policy would
refuse (inline scripts, on...= handlers, javascript: links)."""

import re
from pathlib import Path

import pytest

from renxing.config import get_settings
from renxing.web.security_headers import page_policy, tile_source
from tests.kit.client import login, page_login

SRC = Path(__file__).resolve().parents[2] / "src" / "renxing"


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_secured(r) -> dict[str, list[str]]:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    csp = directives(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    return csp


def test_pages_api_static_and_errors_carry_the_headers(client, world):
    anonymous = [client.get("/login"), client.get("/static/common.js"), client.get("/api/v1/residents")]
    assert [r.status_code for r in anonymous] == [200, 200, 401]
    page_login(client, "secretary")
    pages = [client.get(p) for p in ("/", f"/space/{world.units['C1']}", "/dashboard", "/no-such-page")]
    assert [r.status_code for r in pages] == [200, 200, 200, 404]
    client.cookies.clear()
    api = client.get("/api/v1/residents", headers=login(client, "secretary"))
    assert api.status_code == 200 and api.headers["content-type"].startswith("application/json")
    for r in [*anonymous, *pages, api]:
        csp = assert_secured(r)
        # No inline script and no eval: script only from our own origin.
        assert csp["script-src"] == ["'self'"], r.url
        assert "'unsafe-inline'" not in csp["img-src"]


def test_the_api_docs_page_may_run_swagger_ui_only(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    csp = assert_secured(r)
    assert "https://cdn.jsdelivr.net" in csp["script-src"]
    assert client.get("/api/v1/openapi.json").headers["content-security-policy"] == page_policy(None)


def test_basemap_tiles_are_allowed_as_images(client, world, monkeypatch):
    monkeypatch.setattr(get_settings(), "basemap_url", "https://{s}.tile.example.org/{z}/{x}/{y}.png")
    page_login(client, "secretary")
    csp = directives(client.get(f"/space/{world.units['C1']}").headers["content-security-policy"])
    assert csp["img-src"] == ["'self'", "data:", "blob:", "https://*.tile.example.org"]
    assert csp["script-src"] == ["'self'"]


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (None, None),
        ("", None),
        ("/tiles/{z}/{x}/{y}.png", None),
        ("https://tile.example.org/{z}/{x}/{y}.png", "https://tile.example.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}", "http://*.is.autonavi.com"),
        ("https://tiles.example.org:8443/{z}/{x}/{y}.png", "https://tiles.example.org:8443"),
        ("https://{host}/{z}/{x}/{y}.png", "https:"),
        ("https://bad host;script-src */{z}.png", "https:"),
    ],
)
def test_tile_source(url, source):
    assert tile_source(url) == source


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_templates_hold_no_code_the_policy_refuses():
    found = []
    for path in sorted(SRC.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER, re.compile("javascript:", re.I)):
            found += [f"{path.relative_to(SRC)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not found, found
