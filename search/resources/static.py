"""The search page and the embeddable parts: ``GET /``, ``/widget.js``, ``/widget.css`` (the
search box), ``/similar.js``, ``/similar.css`` (the "Articles similaires" block) and the page's own
``/search-page.js`` and ``/page.css``, from ``search/static/``.

A fixed table maps each route to one file: no path is ever built from the request. Files are read
once, when the app is created (they are small and change only with a deploy), and answered with an
ETag so a revalidation costs a 304. The page carries a Content-Security-Policy that allows no
inline script and no HTML sink (Trusted Types), so an injection that slipped past the API's escaping
would still run nothing.

Caching: the page is revalidated on every visit (``no-cache``), so a deploy shows at once; the
widget's files are fetched by every page of the news site, under a fixed URL the site cannot
fingerprint, so they are cached for a few minutes and then revalidated.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import falcon

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"

# The page loads its scripts and styles from here, talks only to the API beside it (the site's
# origins in PRESSE_CORS_ORIGINS call the API from *their* pages, not from this one), builds its
# DOM without innerHTML (hence Trusted Types with no policy), and is never framed.
PAGE_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)


@dataclass(frozen=True)
class Asset:
    """One served file: its name under ``search/static/``, its type and its headers."""

    name: str
    content_type: str
    cache_control: str
    csp: str | None = None


ASSETS: dict[str, Asset] = {
    "/": Asset("index.html", "text/html; charset=utf-8", PAGE_CACHE, PAGE_CSP),
    "/widget.js": Asset("widget.js", "text/javascript; charset=utf-8", ASSET_CACHE),
    "/widget.css": Asset("widget.css", "text/css; charset=utf-8", ASSET_CACHE),
    "/search-page.js": Asset("search-page.js", "text/javascript; charset=utf-8", ASSET_CACHE),
    "/page.css": Asset("page.css", "text/css; charset=utf-8", ASSET_CACHE),
    # The "Articles similaires" block for article pages (one tag; its css is read by the block).
    "/similar.js": Asset("similar.js", "text/javascript; charset=utf-8", ASSET_CACHE),
    "/similar.css": Asset("similar.css", "text/css; charset=utf-8", ASSET_CACHE),
}


class StaticFile:
    """One file of ``ASSETS``, held in memory. ``cache_control`` is read by the app's headers
    middleware, which otherwise gives non-API answers ``no-store``."""

    cacheable: ClassVar[bool] = False

    def __init__(self, asset: Asset, directory: Path = STATIC_DIR) -> None:
        self.asset = asset
        self.cache_control = asset.cache_control
        self.body = (directory / asset.name).read_bytes()
        self.etag = hashlib.sha256(self.body).hexdigest()[:20]

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.etag = self.etag
        if req.if_none_match and any(tag in ("*", self.etag) for tag in req.if_none_match):
            resp.status = falcon.HTTP_304  # no body, hence no Content-Type either
            return
        self._headers(resp)
        resp.data = self.body

    def on_head(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.etag = self.etag
        self._headers(resp)
        resp.content_length = len(self.body)

    def _headers(self, resp: falcon.Response) -> None:
        resp.content_type = self.asset.content_type
        if self.asset.csp:
            resp.set_header("Content-Security-Policy", self.asset.csp)


def add_static_routes(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    """Route every file of ``ASSETS``."""
    for route, asset in ASSETS.items():
        app.add_route(route, StaticFile(asset))
