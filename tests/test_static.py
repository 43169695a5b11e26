"""The search page and the widget's files as HTTP answers: types, CSP, caching, and nothing served
beyond the fixed list (what they do in a browser is tests/test_browser.py's business)."""

from __future__ import annotations

import re

import pytest
from falcon.testing import TestClient

from search.resources.static import ASSETS, PAGE_CSP, STATIC_DIR

TYPES = {
    "/": "text/html; charset=utf-8",
    "/widget.js": "text/javascript; charset=utf-8",
    "/widget.css": "text/css; charset=utf-8",
    "/search-page.js": "text/javascript; charset=utf-8",
    "/page.css": "text/css; charset=utf-8",
    "/similar.js": "text/javascript; charset=utf-8",
    "/similar.css": "text/css; charset=utf-8",
}


@pytest.mark.parametrize(("path", "content_type"), sorted(TYPES.items()))
def test_each_file_is_served_with_its_type(
    client: TestClient, path: str, content_type: str
) -> None:
    resp = client.simulate_get(path)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == content_type
    assert resp.content == (STATIC_DIR / ASSETS[path].name).read_bytes()
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["etag"].startswith('"')


def test_only_the_page_carries_the_csp(client: TestClient) -> None:
    page = client.simulate_get("/")
    assert page.headers["content-security-policy"] == PAGE_CSP
    directives = dict(d.split(" ", 1) for d in PAGE_CSP.split("; "))
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no other origin
    assert directives["frame-ancestors"] == "'none'"
    assert directives["require-trusted-types-for"] == "'script'"
    # widget.js runs inside the news site's pages, under the site's own policy.
    assert "content-security-policy" not in client.simulate_get("/widget.js").headers


def test_the_page_has_no_inline_script_or_handler() -> None:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script\b[^>]*>", html) == [
        '<script src="widget.js" data-autostart="false" defer>',
        '<script src="search-page.js" defer>',
    ]
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "style=" not in html
    assert "http://" not in html and "https://" not in html  # nothing from the internet


def test_caching(client: TestClient) -> None:
    assert client.simulate_get("/").headers["cache-control"] == "no-cache"
    assert client.simulate_get("/widget.js").headers["cache-control"] == "public, max-age=300"


def test_a_revalidation_costs_a_304(client: TestClient) -> None:
    etag = client.simulate_get("/widget.js").headers["etag"]
    resp = client.simulate_get("/widget.js", headers={"If-None-Match": etag})
    assert resp.status_code == 304
    assert resp.content == b""
    assert resp.headers["cache-control"] == "public, max-age=300"
    changed = client.simulate_get("/widget.js", headers={"If-None-Match": '"older"'})
    assert changed.status_code == 200


def test_head(client: TestClient) -> None:
    resp = client.simulate_head("/")
    assert resp.status_code == 200
    assert int(resp.headers["content-length"]) == len((STATIC_DIR / "index.html").read_bytes())
    assert resp.content == b""


@pytest.mark.parametrize(
    "path",
    ["/index.html", "/static/widget.js", "/widget.js/", "/../search/app.py", "/%2e%2e/app.py"],
)
def test_nothing_else_is_served(client: TestClient, path: str) -> None:
    resp = client.simulate_get(path)
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == "not_found"


def test_the_api_keeps_its_own_caching(client: TestClient) -> None:
    resp = client.simulate_get("/search", params={"q": "Maroc"})
    assert resp.headers["cache-control"].startswith("public, max-age=")
    assert client.simulate_get("/nope").headers["cache-control"] == "no-store"
