"""The embeddable widget on news sites, in a real browser (fixtures: ``tests/browser_env.py``).

The host pages embed it exactly as the README shows. In each layout, at desktop and phone sizes,
the results panel must be on screen and on top (``elementFromPoint`` at its centre lands in it),
the site's header must keep its height and its logo its line, the site's CSS must not reach the
results (snippets of at least 13 px, no capitals), and Escape or a click elsewhere closes it.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from browser_env import (  # noqa: E402
    HOST_LAYOUTS,
    IMG_TITLE,
    Servers,
    Watch,
    shot,
    type_query,
)
from playwright.sync_api import Locator, Page, expect  # noqa: E402

if TYPE_CHECKING:
    from browser_env import NewPage

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
HEADER_HEIGHT = 64  # the host pages' header, in every layout

# Where the panel is, what is on top at its centre, and the computed styles the site could break.
PROBE = """() => {
  const panel = [...document.querySelectorAll("presse-search")]
    .map((host) => host.shadowRoot.querySelector(".ps-panel")).find(Boolean);
  const box = panel.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  let hit = document.elementFromPoint(x, y);
  while (hit && hit.shadowRoot) {
    const inner = hit.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === hit) break;
    hit = inner;
  }
  const style = (selector) => {
    const node = panel.querySelector(selector);
    if (!node) return null;
    const computed = getComputedStyle(node);
    return { fontSize: parseFloat(computed.fontSize), transform: computed.textTransform,
             letterSpacing: computed.letterSpacing };
  };
  return {
    box: { x: box.left, y: box.top, width: box.width, height: box.height },
    onTop: panel.contains(hit),
    snippet: style(".ps-hit__snippet"), title: style(".ps-hit__title"),
    button: style(".ps-similar__toggle"), count: style(".ps-count"),
  };
}"""


def panel(page: Page) -> Locator:
    return page.locator("presse-search .ps-panel")


def console_line(page: Page, watch: Watch, needle: str, timeout_ms: int = 5000) -> str:
    """The console error holding ``needle``, once the page has written it (the widget's
    diagnosis of a failed request runs after the failure is shown)."""
    for _ in range(timeout_ms // 100):
        found = [line for line in watch.console if needle in line]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"no console error with {needle!r}: {watch.console}")


def heights(page: Page) -> dict[str, float]:
    return page.evaluate(
        """() => ({
          header: document.querySelector(".site-header").getBoundingClientRect().height,
          logo: document.querySelector(".logo").getBoundingClientRect().height,
        })"""
    )


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("layout", HOST_LAYOUTS)
def test_widget_in_a_site_header(
    servers: Servers, new_page: NewPage, layout: str, viewport: str
) -> None:
    size = VIEWPORTS[viewport]
    page, watch = new_page(size)
    page.goto(f"{servers.site}/hosts/{layout}.html")
    box = page.locator("#site-search")
    expect(box).to_have_attribute("role", "combobox")  # the widget has started
    before = heights(page)
    assert before["header"] == HEADER_HEIGHT

    # Results as the reader types, without Enter.
    type_query(page, "maroc", "#site-search", delay=60)
    results = panel(page)
    expect(results.locator(".ps-count")).to_have_text(re.compile("résultats pour «\u00a0maroc"))
    expect(results.locator(".ps-hit").first).to_be_visible()
    probe: dict[str, Any] = page.evaluate(PROBE)
    area = probe["box"]
    assert area["x"] >= 0 and area["y"] >= 0, area
    assert area["x"] + area["width"] <= size["width"], area
    assert area["y"] + area["height"] <= size["height"], area
    assert area["width"] >= min(size["width"], 480) - 16 and area["height"] >= 200, area
    assert probe["onTop"], "something of the site covers the panel's centre"
    input_box = box.bounding_box()
    assert input_box is not None
    assert area["y"] >= input_box["y"] + input_box["height"], (area, input_box)  # under the box
    if viewport == "phone":  # a sheet: the whole width, down to the bottom of the screen
        assert area["x"] == 0 and area["width"] == size["width"], area
        assert area["y"] + area["height"] == size["height"], area
    assert heights(page) == before  # the header did not grow, the logo did not wrap
    assert probe["snippet"]["fontSize"] >= 13, probe
    assert probe["count"]["fontSize"] >= 13, probe
    for part in ("snippet", "title", "button"):
        assert probe[part]["transform"] == "none", (part, probe)
    assert probe["snippet"]["letterSpacing"] == "normal", probe
    shot(page, f"widget-{layout}-{viewport}.png", full_page=False)

    # Escape closes the panel and leaves the reader in the box.
    page.keyboard.press("Escape")
    expect(results).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value("maroc")
    # A click on the box brings the results back; a click elsewhere closes them.
    box.click()
    expect(results).to_be_visible()
    logo = page.locator(".logo").bounding_box()
    assert logo is not None
    page.mouse.click(logo["x"] + 4, logo["y"] + logo["height"] / 2)
    expect(results).to_be_hidden()
    assert watch.console == []


def test_widget_enter_and_more_results(servers: Servers, new_page: NewPage) -> None:
    page, watch = new_page()
    page.goto(servers.site + "/hosts/flex.html")
    type_query(page, "mar", "#site-search")
    results = panel(page)
    expect(results.get_by_role("option").first).to_be_visible()  # suggestions, in the panel
    page.locator("#site-search").fill("Maroc")
    page.keyboard.press("Enter")
    expect(results.locator(".ps-count")).to_have_text("16 résultats pour «\u00a0Maroc\u00a0»")
    expect(results.locator(".ps-hit")).to_have_count(10)
    expect(results.locator(".ps-hit mark").first).to_be_visible()
    assert page.url == servers.site + "/hosts/flex.html"  # the site's form did not navigate
    results.get_by_role("button", name="Plus de résultats").click()
    expect(results.locator(".ps-hit")).to_have_count(16)
    expect(results.get_by_role("button", name="Plus de résultats")).to_have_count(0)
    expect(results.locator(".ps-hit").nth(10).locator("a").first).to_be_focused()
    # Escape from inside the results also closes them and returns to the box.
    page.keyboard.press("Escape")
    expect(results).to_be_hidden()
    expect(page.locator("#site-search")).to_be_focused()
    assert watch.console == []


def test_widget_no_results_text_fits_the_widget(servers: Servers, new_page: NewPage) -> None:
    page, _ = new_page()
    page.goto(servers.site + "/hosts/overflow.html")
    type_query(page, "zzzqqq", "#site-search")
    message = panel(page).locator(".ps-message")
    expect(message).to_contain_text("Aucun résultat pour «\u00a0zzzqqq\u00a0»")
    expect(message).not_to_contain_text("filtre")  # the widget has no filters


def test_widget_renders_its_own_box(servers: Servers, new_page: NewPage) -> None:
    page, watch = new_page()
    page.goto(servers.site + "/own-box.html")
    box = page.get_by_role("combobox", name="Rechercher sur le site")
    box.click()
    page.keyboard.type("sécheresse", delay=30)
    page.keyboard.press("Enter")
    results = page.get_by_role("region", name="Résultats de la recherche")
    expect(results.locator(".ps-hit").first).to_be_visible()
    expect(results.locator(".ps-count")).to_have_text(
        re.compile(r"^\d+ résultats? pour «\u00a0sécheresse\u00a0»$")
    )
    results.get_by_role("button", name="Fermer").click()
    expect(results).to_be_hidden()
    expect(box).to_be_focused()
    assert watch.console == []


def test_widget_on_a_site_cors_does_not_allow(servers: Servers, new_page: NewPage) -> None:
    page, watch = new_page()
    page.goto(servers.other_site + "/hosts/overflow.html")
    type_query(page, "maroc", "#site-search")
    # The reader sees a polite message...
    expect(page.get_by_role("alert")).to_contain_text("Le service de recherche ne répond pas")
    # ...the site's developer is told what to change...
    explained = console_line(page, watch, "PRESSE_CORS_ORIGINS")
    assert servers.other_site in explained and servers.app in explained
    # ...and the site's own form still takes the reader to the site's search page.
    page.locator("#site-search").press("Enter")
    page.wait_for_url(re.compile(r"/recherche\?q=maroc$"))


def test_widget_with_the_service_down(servers: Servers, new_page: NewPage) -> None:
    page, watch = new_page()
    page.goto(servers.site + "/closed.html")
    box = page.get_by_role("combobox", name="Rechercher sur le site")
    box.fill("Maroc")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Le service de recherche ne répond pas")
    expect(page.get_by_role("alert").get_by_role("button", name="Réessayer")).to_be_visible()
    console_line(page, watch, "no answer from the search service")


def test_widget_keeps_hostile_text_inert_without_a_csp(servers: Servers, new_page: NewPage) -> None:
    # The news site has no CSP to fall back on: only the widget's own care protects it.
    page, watch = new_page()
    page.goto(servers.site + "/hosts/flex.html")
    page.locator("#site-search").fill("titre piégé")
    page.locator("#site-search").press("Enter")
    hit = panel(page).locator(".ps-hit").filter(has_text="onerror")
    expect(hit.locator("h3")).to_have_text(IMG_TITLE)
    expect(hit.locator("img, svg, iframe, b")).to_have_count(0)
    expect(hit.locator("h3 a")).to_have_count(0)
    page.wait_for_timeout(300)  # give an onerror time to fire, were there one
    assert watch.dialogs == []


def test_widget_by_keyboard(servers: Servers, new_page: NewPage) -> None:
    page, _ = new_page()
    page.goto(servers.site + "/hosts/overflow.html")
    type_query(page, "maroc", "#site-search")
    results = panel(page)
    expect(results.locator(".ps-hit").first).to_be_visible()
    # The panel is last in the page, yet Tab from the box goes into it, Shift+Tab comes back.
    page.keyboard.press("Tab")
    expect(results.get_by_role("button", name="Fermer")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#site-search")).to_be_focused()
    # Words cut below two letters: the panel does not go on showing results for "maroc".
    page.keyboard.press("End")
    for _ in range(4):
        page.keyboard.press("Backspace")
    expect(results).to_be_hidden()
    page.locator("#site-search").click()
    expect(results).to_be_hidden()


def test_widget_shows_a_correction(servers: Servers, new_page: NewPage) -> None:
    page, _ = new_page()
    seen: list[str] = []

    def correct_inflasion(route: Any) -> None:
        url = route.request.url
        seen.append(url)
        if "correct=false" in url or "inflasion" not in url:
            route.continue_()
            return
        answer = route.fetch(url=url.replace("inflasion", "inflation")).json()
        answer = {**answer, "query": "inflasion", "corrected_query": "inflation"}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))

    page.route("**/search?*", correct_inflasion)
    page.goto(servers.site + "/hosts/flex.html")
    type_query(page, "inflasion", "#site-search")
    results = panel(page)
    line = results.locator(".ps-correction")
    expect(line).to_have_text("Résultats pour inflation — rechercher plutôt inflasion")
    expect(results.locator(".ps-count")).to_have_text(re.compile("pour «\u00a0inflation\u00a0»"))
    expect(page.get_by_role("status").filter(has_text="au lieu de")).to_have_count(1)
    line.get_by_role("link").click()
    expect(results.locator(".ps-message")).to_contain_text("Aucun résultat pour «\u00a0inflasion")
    assert "correct=false" in seen[-1]
    expect(page.locator("#site-search")).to_have_value("inflasion")
