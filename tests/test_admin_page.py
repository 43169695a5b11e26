"""The admin page in headless Chromium (Debian's): a hostile query searched by a reader shows as
plain text in the reports, with no element injected, no dialog, no CSP violation; the token lives
in sessionStorage (no cookie, not in the URL); a wrong token sends the editor back to the login
form; a synonym added through the form is listed and audited.

The browser and its page helpers are ``tests/browser_env.py``'s (one Playwright per session).
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import SITE_ORIGIN
from test_serving import free_port, get, running, server_env, wait_ready

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

if TYPE_CHECKING:
    from browser_env import NewPage

pytestmark = pytest.mark.browser

ADMIN_TOKEN = "redaction-token-0123456789abcdef"
HOSTILE_QUERY = "<img src=x onerror=alert(1)><script>alert(2)</script>\x01\x1b[31m" + "é" * 420


@pytest.fixture
def admin_server(browser: object, sample_index: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(
        PRESSE_INDEX_DIR=str(sample_index),
        PRESSE_BIND=f"127.0.0.1:{port}",
        PRESSE_WORKERS="1",
        PRESSE_ANALYTICS_DB=str(tmp_path / "a.sqlite3"),
        PRESSE_ADMIN_TOKEN=f"amina:{ADMIN_TOKEN}",
        PRESSE_CORS_ORIGINS=SITE_ORIGIN,
    )
    log = tmp_path / "gunicorn.log"
    with running([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env, log) as proc:
        wait_ready(proc, base, log)
        yield base


def test_the_admin_page_shows_a_hostile_query_as_text(admin_server: str,
                                                      new_page: NewPage) -> None:
    status, _, _ = get(f"{admin_server}/search?q={urllib.parse.quote(HOSTILE_QUERY)}")
    assert status == 200
    time.sleep(1.0)  # the worker's analytics thread writes within FLUSH_INTERVAL_S
    page, watch = new_page()
    page.goto(f"{admin_server}/admin")
    page.fill("#token", ADMIN_TOKEN)
    page.click("#login button[type=submit]")
    first = page.locator("#top-queries tbody tr td").first
    first.wait_for()
    shown = first.text_content() or ""
    assert shown.startswith("<img src=x onerror=alert(1)><script>alert(2)</script>")
    assert "\x01" not in shown and "\x1b" not in shown
    assert page.locator("#panels img, #panels script").count() == 0
    assert page.evaluate("sessionStorage.getItem('presse-admin-token')") == ADMIN_TOKEN
    assert page.evaluate("document.cookie") == ""
    assert ADMIN_TOKEN not in page.url

    page.fill("#synonym-line", "BAM, <b>Bank</b> Al-Maghrib")
    page.click("#synonym-form button[type=submit]")
    page.locator("#synonyms td", has_text="<b>Bank</b> Al-Maghrib").first.wait_for()
    page.locator("#audit td", has_text="synonym.add").first.wait_for()
    assert page.locator("#panels b").count() == 0

    page.reload()  # the tab keeps the token
    page.locator("#synonyms td", has_text="BAM").first.wait_for()
    assert watch.dialogs == [] and watch.errors == []


def test_a_wrong_token_goes_back_to_the_login_form(admin_server: str,
                                                   new_page: NewPage) -> None:
    page, _ = new_page()
    page.goto(f"{admin_server}/admin")
    page.fill("#token", "not-the-token-0123456789")
    page.click("#login button[type=submit]")
    page.locator("#status", has_text="Jeton refusé").wait_for()
    assert page.locator("#login").is_visible() and not page.locator("#panels").is_visible()
    assert page.evaluate("sessionStorage.getItem('presse-admin-token')") is None
    status, headers, body = get(f"{admin_server}/admin/api/reports")
    assert status == 401 and json.dumps(body).count("unauthorized") == 1
    assert headers["cache-control"] == "no-store"
