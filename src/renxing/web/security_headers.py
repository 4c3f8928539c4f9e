"""Security headers on every response: a Content-Security-Policy that allows script only from our own
files, so text that slips into a page as markup cannot run; no MIME sniffing (uploaded photos stay
images); no framing; no paths in the Referer sent to other sites.

Pages therefore carry no inline ``<script>`` with code and no ``on...=`` attributes: code lives in
``web/static/*.js``, data in ``<script type="application/json">`` blocks read by ``rx.data``.
Inline styles stay allowed (Leaflet, ECharts and htmx set them, and a style cannot run script).
"""

import re
from functools import lru_cache
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from renxing.config import get_settings

# The interactive API docs are FastAPI's page: its inline start-up script and the Swagger UI files
# on a CDN. It shows no stored data, so it gets a policy that lets exactly that run.
DOCS_PATHS = ("/api/v1/docs",)
SWAGGER_CDN = "https://cdn.jsdelivr.net"
FASTAPI_FAVICON = "https://fastapi.tiangolo.com"

_HOST = re.compile(r"^[A-Za-z0-9.*-]+(:[0-9]+)?$")


def tile_source(url: str | None) -> str | None:
    """The CSP source of a basemap tile template such as ``https://{s}.tile.example/{z}/{x}/{y}.png``:
    its scheme and host, a ``{s}`` subdomain becoming ``*``; None when our own origin serves it."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.netloc
    if not host:
        return None  # a path on our own site
    if "{" in host:
        first, _, rest = host.partition(".")
        host = f"*.{rest}" if "{" in first and rest and "{" not in rest else ""
    scheme = parts.scheme.lower() if parts.scheme.lower() in ("http", "https") else "https"
    if not host or not _HOST.match(host):
        return f"{scheme}:"  # a placeholder we cannot express as a host: tiles from any host of that scheme
    return f"{scheme}://{host}"


@lru_cache(maxsize=8)
def page_policy(basemap_url: str | None) -> str:
    tiles = tile_source(basemap_url)
    img = "'self' data: blob:" + (f" {tiles}" if tiles else "")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {img}",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {SWAGGER_CDN}",
        f"style-src 'self' 'unsafe-inline' {SWAGGER_CDN}",
        f"img-src 'self' data: {FASTAPI_FAVICON}",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

FIXED = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Tile servers get our origin (some require a Referer); no site gets a path such as /residents/123.
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]


class SecurityHeaders:
    """Pure ASGI middleware (streamed responses pass through untouched); a header a route set itself wins."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        docs = any(path == p or path.startswith(p + "/") for p in DOCS_PATHS)
        csp = DOCS_POLICY if docs else page_policy(get_settings().basemap_url)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                for key, value in [(b"content-security-policy", csp.encode()), *FIXED]:
                    if key not in have:
                        headers.append((key, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
