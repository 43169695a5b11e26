"""What the browser tests share: Debian's Chromium driven by Playwright, the real app under
gunicorn, the "news sites" that embed the widget, and a watch on every page.

Playwright drives Debian's Chromium, headless, against the real app (gunicorn, ``gunicorn.conf.py``)
on a loopback port, over an index of the sample corpus plus two booby-trapped articles. A second
and a third loopback port serve news-site pages that embed the widget: the first is one of the
API's CORS origins, the other is not. Every test also checks that no dialog opened and no script
error or CSP violation happened.

The host pages of ``tests/data/hosts/`` are one news-site page (``page.html``) in four layouts: a
64 px flex header with ``overflow: hidden`` (``overflow``), the same without it (``flex``), the
"62.5 %" root font size with capitals on ``h3`` and ``button`` (``root-font``), and the first one
under a strict Content-Security-Policy (``strict-csp``). Each embeds the widget with the README's
own example, read from the README at every run, so the README's snippet is what is tested.

Without Chromium (or Playwright) these tests skip, except when ``CI=true``, where they fail.
Screenshots land in ``artifacts/screenshots/`` on every run (``PRESSE_SCREENSHOTS`` names another
folder: ``PRESSE_SCREENSHOTS=docs/screenshots`` refreshes the README's).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import REPO, BuildIndex
from test_serving import free_port, running, server_env, wait_ready

try:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Dialog,
        Page,
        expect,
        sync_playwright,
    )
except ImportError:  # checked by the `browser` fixture, which skips or fails with a reason
    sync_playwright = None

# Debian's Chromium; PRESSE_CHROMIUM names another Chromium-based browser on a developer's machine.
CHROMIUM = Path(os.environ.get("PRESSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("PRESSE_SCREENSHOTS") or REPO / "artifacts" / "screenshots")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
HOSTS_DIR = Path(__file__).parent / "data" / "hosts"
HOST_LAYOUTS = ("overflow", "flex", "root-font", "strict-csp")

IMG_TITLE = "<img src=x onerror=alert(1)> : un titre piégé dans les archives"
SCRIPT_TITLE = (
    'Sécurité en ligne : quand un simple <script>alert("x")</script> suffit à piéger un site'
)
TRAPS = [
    {
        "id": "trap-img-onerror",
        "title": IMG_TITLE,
        "summary": "Un titre qui contient une balise <img onerror> ne doit rien exécuter.",
        "body": "Ce texte d’essai parle d’un titre piégé. <b onmouseover=alert(2)>gras</b> "
        "et <iframe src=javascript:alert(3)></iframe> doivent rester du texte.",
        "section": "Technologie",
        "published": "2024-12-01T10:00:00Z",
        "url": "javascript:alert(4)",
        "author": "<svg onload=alert(5)>",
    },
    {
        "id": "trap-first-of-month",
        "title": "Le premier du mois : un titre piégé sans balise",
        "body": "Un article daté du premier mars, pour la date en toutes lettres.",
        "section": "Société",
        "published": "2020-03-01T12:00:00Z",
        "url": "https://www.presse.example.ma/societe/premier-du-mois",
    },
]


@dataclass(frozen=True)
class Servers:
    app: str  # the search service: page, widget and API
    site: str  # a news site allowed by PRESSE_CORS_ORIGINS
    other_site: str  # a site that is not
    closed: str  # nothing listens there


# --- fixtures ----------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required when CI=true; .ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        _unavailable("playwright is not installed: pip install -e '.[browser]'")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    expect.set_options(timeout=10_000)  # CI machines can be slow
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass(frozen=True)
class SitePage:
    """One file a test "news site" serves."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def site_page(app: str, *, attrs: str) -> SitePage:
    """A plain news-site page where the widget renders its own box, with these script attributes."""
    return SitePage(
        f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Le Quotidien</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/hosts/site.css">
</head>
<body>
<main><h1>À la une</h1><p>Les titres du jour.</p>
<script src="{app}/widget.js" {attrs} defer></script>
</main></body></html>""".encode()
    )


def readme_embed(app: str) -> str:
    """The README's embedding example, pointed at ``app`` instead of ``https://search.example``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The search box on the news site") :]
    found = re.search(r"````html\n(.*?)````", section, re.S)
    assert found, "README: no ````html block under 'The search box on the news site'"
    return found.group(1).replace("https://search.example", app)


def host_csp(app: str) -> str:
    """What a site with a strict policy allows: itself, and the search service where it must."""
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' {app}",
            f"style-src 'self' {app}",
            f"connect-src {app}",
            "img-src 'self' data:",
            "form-action 'self'",
            "base-uri 'none'",
            "require-trusted-types-for 'script'",
            "trusted-types 'none'",
        )
    )


def host_pages(app: str) -> dict[str, SitePage]:
    """The four host layouts (see the module docstring) and their stylesheets."""
    template = (HOSTS_DIR / "page.html").read_text(encoding="utf-8")
    embed = readme_embed(app)
    pages = {
        f"/hosts/{css.name}": SitePage(css.read_bytes(), "text/css; charset=utf-8")
        for css in HOSTS_DIR.glob("*.css")
    }
    for layout in HOST_LAYOUTS:
        strict = layout == "strict-csp"
        html = template.format(title=layout, layout="overflow" if strict else layout, embed=embed)
        headers = (("Content-Security-Policy", host_csp(app)),) if strict else ()
        pages[f"/hosts/{layout}.html"] = SitePage(html.encode(), headers=headers)
    return pages


def site_pages(app: str, closed: str) -> dict[str, SitePage]:
    return {
        **host_pages(app),
        # No data-endpoint: the API is the server widget.js came from.
        "/own-box.html": site_page(app, attrs=""),
        "/closed.html": site_page(app, attrs=f'data-endpoint="{closed}"'),
        # The site's own search page, where its form goes when the widget cannot help.
        "/recherche": SitePage(b"<!doctype html><title>Recherche du site</title>"),
    }


def serve_pages(port: int, pages: dict[str, SitePage]) -> ThreadingHTTPServer:
    """A static HTTP server for ``pages`` on a loopback port, in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            page = pages.get(self.path.split("?")[0])
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", page.content_type if page else "text/plain")
            for name, value in page.headers if page else ():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(page.body if page else b"not found")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def servers(
    browser: Browser,  # no browser, no point in starting servers
    build_index: BuildIndex,
    sample_articles: list[dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Servers]:
    """The app under gunicorn, two "news sites" (one allowed by CORS) and a closed port."""
    app_port, site_port, other_port, closed_port = (free_port() for _ in range(4))
    ports = Servers(
        *(f"http://127.0.0.1:{port}" for port in (app_port, site_port, other_port, closed_port))
    )
    index = build_index([*sample_articles, *TRAPS])
    env = server_env(
        PRESSE_INDEX_DIR=str(index),
        PRESSE_BIND=f"127.0.0.1:{app_port}",
        PRESSE_WORKERS="2",
        PRESSE_CORS_ORIGINS=ports.site,
    )
    log = tmp_path_factory.mktemp("browser") / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    pages = site_pages(ports.app, ports.closed)
    sites = [serve_pages(site_port, pages), serve_pages(other_port, pages)]
    try:
        with running(command, env, log) as process:
            wait_ready(process, ports.app, log)
            yield ports
    finally:
        for site in sites:
            site.shutdown()
            site.server_close()


@dataclass
class Watch:
    """What a page did that it never should: dialogs, uncaught errors, CSP violations."""

    dialogs: list[str]
    errors: list[str]
    console: list[str]

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Trusted Type" in m]


if TYPE_CHECKING:  # Playwright's names exist only when it is installed
    Opened = tuple[Page, Watch]
    NewPage = Callable[..., Opened]


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """Opens pages in fresh browser contexts; afterwards, checks that none of them opened a dialog,
    threw an uncaught error or broke its CSP."""
    contexts: list[BrowserContext] = []
    watches: list[Watch] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Opened:
        context = browser.new_context(viewport=viewport, locale="fr-FR")
        contexts.append(context)
        context.set_default_timeout(10_000)
        page = context.new_page()
        watch = Watch([], [], [])
        watches.append(watch)

        def on_dialog(dialog: Dialog) -> None:
            watch.dialogs.append(dialog.message)
            dialog.dismiss()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                watch.console.append(message.text)

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: watch.errors.append(str(error)))
        page.on("console", on_console)
        return page, watch

    yield make
    for context in contexts:
        context.close()
    for watch in watches:
        assert watch.dialogs == []
        assert watch.errors == []
        assert watch.csp_violations() == []


@pytest.fixture
def search_page(new_page: NewPage) -> Opened:
    """A desktop browser tab for the search page."""
    return new_page()


def results_page(page: Page) -> Any:
    return page.locator("#results-body .ps-hit")


def type_query(page: Page, text: str, selector: str = "#q", delay: float = 40) -> None:
    """Type like a reader: key by key, ``delay`` ms apart."""
    page.locator(selector).click()
    page.keyboard.type(text, delay=delay)


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)
