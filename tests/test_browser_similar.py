"""The "Articles similaires" block (``similar.js``) on a news site's article page, in Chromium.

The host page (``tests/data/site/article.html``, served from a second loopback port that the
API allows by CORS) has its own strict CSP (no inline style or script, Trusted Types required)
and styles that would spoil the block if they reached into it. The app runs under gunicorn over
the sample corpus plus two articles of our own, one of which carries a hostile title, lead and
URL. Every test also checks that no dialog opened and no script error or CSP violation happened
(the ``new_page`` fixture of ``tests/browser_env.py``).

Screenshots land in ``artifacts/screenshots/``; ``docs/screenshots/similar-block.png`` is a copy
of ``similar-block.png`` (the block at 1366×768).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from browser_env import SCREENSHOTS, shot
from conftest import REPO, BuildIndex
from test_serving import free_port, running, server_env, wait_ready

with contextlib.suppress(ImportError):  # without it, the `browser` fixture skips or fails
    from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

SITE = REPO / "tests" / "data" / "site"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SOURCE = "eco-2023-inflation-bam"  # an article of the sample corpus with related ones
HOSTILE_TITLE = "<img src=x onerror=alert(1)> Vaccins : un titre piégé"
OURS = [
    {
        "id": "piege-source",
        "title": "Vaccins : la campagne de rappel commence à Casablanca",
        "summary": "La campagne de rappel des vaccins commence lundi dans les centres de "
        "Casablanca, annonce le ministère de la Santé.",
        "body": "La campagne de rappel des vaccins contre la grippe commence lundi à Casablanca. "
        "Les centres de vaccination accueilleront les personnes âgées en priorité.",
        "section": "Société",
        "published": "2024-10-01T09:00:00Z",
        "url": "https://www.presse.example.ma/societe/piege-source",
    },
    {
        "id": "piege-cible",
        "title": HOSTILE_TITLE,
        "summary": "<script>alert(2)</script> La campagne de rappel des vaccins contre la grippe "
        "s’étend à Rabat, où les centres de vaccination accueillent les personnes âgées et "
        "les soignants dès cette semaine.",
        "body": "La campagne de rappel des vaccins contre la grippe s’étend à Rabat. Les centres "
        "de vaccination accueillent les personnes âgées <b onmouseover=alert(3)>en priorité</b>.",
        "section": "<svg onload=alert(4)>",
        "published": "2024-10-03T09:00:00Z",
        "url": "javascript:alert(5)",
    },
]


@dataclass(frozen=True)
class Servers:
    app: str  # the search service
    site: str  # the news site, allowed by PRESSE_CORS_ORIGINS
    closed: str  # nothing listens there


def host_page(app: str, article_id: str, attrs: str = "", api: str = "") -> bytes:
    """The article page, its block asking about ``article_id``; ``api`` when not ``app``."""
    text = (SITE / "article.html").read_text(encoding="utf-8")
    script_attrs = f'data-endpoint="{api}"' if api else ""
    for mark, value in (
        ("__APP__", app),
        ("__API__", api or app),
        ("__ID__", article_id),
        ("__ATTRS__", attrs),
        ("__SCRIPT_ATTRS__", script_attrs),
    ):
        text = text.replace(mark, value)
    return text.encode()


def serve(port: int, files: dict[str, tuple[str, bytes]]) -> ThreadingHTTPServer:
    """A static site on a loopback port: path -> (content type, body)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            kind, body = files.get(self.path.split("?")[0], ("text/plain", b""))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def servers(
    browser: Browser,  # no browser, no point in starting servers
    build_index: BuildIndex,
    sample_articles: list[dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Servers]:
    app_port, site_port, closed_port = (free_port() for _ in range(3))
    ports = Servers(*(f"http://127.0.0.1:{p}" for p in (app_port, site_port, closed_port)))
    index = build_index([*sample_articles, *OURS])
    env = server_env(
        PRESSE_INDEX_DIR=str(index),
        PRESSE_BIND=f"127.0.0.1:{app_port}",
        PRESSE_WORKERS="2",
        PRESSE_CORS_ORIGINS=ports.site,
    )
    html = "text/html; charset=utf-8"
    files = {
        "/site.css": ("text/css; charset=utf-8", (SITE / "site.css").read_bytes()),
        "/article.html": (html, host_page(ports.app, SOURCE)),
        "/two.html": (html, host_page(ports.app, SOURCE, 'data-limit="2"')),
        "/unknown.html": (html, host_page(ports.app, "no-such-article")),
        "/down.html": (html, host_page(ports.app, SOURCE, api=ports.closed)),
        "/hostile.html": (html, host_page(ports.app, "piege-source")),
    }
    site = serve(site_port, files)
    log = tmp_path_factory.mktemp("browser-similar") / "gunicorn.log"
    try:
        with running([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env, log) as p:
            wait_ready(p, ports.app, log)
            yield ports
    finally:
        site.shutdown()
        site.server_close()


def similar_requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.on(
        "request", lambda request: seen.append(request.url) if "/similar" in request.url else None
    )
    return seen


LAYOUT_SHIFT = """() => new Promise((resolve) => {
  let total = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) total += entry.value;
  }).observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve(total), 300);
})"""


def test_the_block_loads_near_the_viewport_and_shows_three_teasers(
    servers: Servers,
    new_page: Any,  # noqa: F811
) -> None:
    page, watch = new_page(DESKTOP)
    requests = similar_requests(page)
    page.goto(servers.site + "/article.html")
    page.wait_for_timeout(600)
    assert not [u for u in requests if "similar.js" not in u and "similar.css" not in u]
    page.locator("#after").scroll_into_view_if_needed()
    teasers = page.locator("#similaires .teaser")
    expect(teasers).to_have_count(3)
    expect(page.locator("#similaires h2")).to_have_text("Articles similaires")
    for i in range(3):
        teaser = teasers.nth(i)
        expect(teaser.locator(".section")).not_to_be_empty()
        link = teaser.locator("h3 a")
        assert (link.get_attribute("href") or "").startswith("https://www.presse.example.ma/")
        lead = teaser.locator(".lead").inner_text()
        assert 20 <= len(lead) <= 101, lead
    assert SOURCE not in page.locator("#similaires").inner_html()  # shadow content is not light
    # The site's rules (red monospace h3, green 40px .title) do not reach into the block.
    title = teasers.first.locator("h3")
    assert title.evaluate("e => getComputedStyle(e).color") != "rgb(255, 0, 0)"
    assert "monospace" not in title.evaluate("e => getComputedStyle(e).fontFamily")
    assert teasers.first.locator(".lead").evaluate("e => getComputedStyle(e).fontSize") != "40px"
    heading = page.locator("#similaires h2")
    assert heading.evaluate("e => getComputedStyle(e).textTransform") == "uppercase"
    page.locator("#similaires").scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#similaires").screenshot(path=str(SCREENSHOTS / "similar-block.png"))
    shot(page, "similar-desktop.png")
    assert watch.console == []


def test_phone_width_one_column_no_overflow(servers: Servers, new_page: Any) -> None:  # noqa: F811
    page, watch = new_page(PHONE)
    page.goto(servers.site + "/article.html")
    page.locator("#after").scroll_into_view_if_needed()
    teasers = page.locator("#similaires .teaser")
    expect(teasers).to_have_count(3)
    lefts = {round(teasers.nth(i).bounding_box()["x"]) for i in range(3)}  # type: ignore[index]
    assert len(lefts) == 1  # stacked
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "similar-phone.png")
    assert watch.console == []


def test_data_limit(servers: Servers, new_page: Any) -> None:  # noqa: F811
    page, _ = new_page(DESKTOP)
    page.goto(servers.site + "/two.html")
    page.locator("#after").scroll_into_view_if_needed()
    expect(page.locator("#similaires .teaser")).to_have_count(2)


@pytest.mark.parametrize("path", ["/unknown.html", "/down.html"])
def test_nothing_shows_and_nothing_moves_without_an_answer(
    servers: Servers,
    new_page: Any,  # noqa: F811
    path: str,
) -> None:
    page, watch = new_page(PHONE)
    requests = similar_requests(page)
    page.goto(servers.site + path)
    before = page.locator("#after").bounding_box()
    page.locator("#after").scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    assert any("/articles/" in u for u in requests)  # it did ask
    host = page.locator("#similaires")
    assert host.evaluate("e => e.getBoundingClientRect().height") == 0
    assert host.evaluate("e => !e.shadowRoot || e.shadowRoot.childElementCount === 0")
    page.evaluate("window.scrollTo(0, 0)")
    assert page.locator("#after").bounding_box() == before
    assert page.evaluate(LAYOUT_SHIFT) == 0
    # The only console lines are the browser's own about the failed request (404, refused).
    assert all("Failed to load resource" in m for m in watch.console), watch.console


def test_hostile_text_stays_text(servers: Servers, new_page: Any) -> None:  # noqa: F811
    page, watch = new_page(DESKTOP)
    page.goto(servers.site + "/hostile.html")
    page.locator("#after").scroll_into_view_if_needed()
    teaser = page.locator("#similaires .teaser").filter(has_text="onerror")
    expect(teaser.locator("h3")).to_have_text(HOSTILE_TITLE)
    expect(teaser.locator(".section")).to_have_text("<svg onload=alert(4)>")
    expect(teaser.locator(".lead")).to_contain_text("<script>alert(2)</script>")
    expect(teaser.locator("img, svg, script, b")).to_have_count(0)
    expect(teaser.locator("h3 a")).to_have_count(0)  # a javascript: URL is no link
    page.wait_for_timeout(300)  # give an onerror time to fire, were there one
    assert watch.dialogs == [] and watch.console == []
