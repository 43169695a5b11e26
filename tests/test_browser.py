"""The search page (``GET /``) in a real browser: results, suggestions, filters, history,
keyboard, French formats, hostile text, error states (fixtures: ``tests/browser_env.py``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from browser_env import (  # noqa: E402
    IMG_TITLE,
    PHONE,
    SCRIPT_TITLE,
    Servers,
    results_page,
    shot,
    type_query,
)
from playwright.sync_api import Page, expect  # noqa: E402

if TYPE_CHECKING:
    from browser_env import NewPage, Opened

pytestmark = pytest.mark.browser


# --- the search page ---------------------------------------------------------------------------


def test_the_page_is_served_with_a_strict_csp(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    response = page.goto(servers.app + "/")
    assert response is not None and response.ok
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "require-trusted-types-for 'script'" in csp
    expect(page.locator("#q")).to_be_visible()
    expect(page).to_have_title("Recherche — Presse")


def test_typing_shows_suggestions(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/")
    suggests: list[str] = []
    page.on("request", lambda request: suggests.append(request.url))
    type_query(page, "marocai", delay=15)
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(page.locator("#q")).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("option").first).to_have_text(re.compile("^marocain"))
    # Debounced: far fewer requests than keystrokes while typing steadily.
    suggests = [url for url in suggests if "/suggest?" in url]
    assert 1 <= len(suggests) <= 3, suggests
    # Accent-insensitive, and the mouse chooses too.
    page.locator("#q").fill("")
    type_query(page, "econ")
    option = listbox.get_by_role("option", name="économie")
    option.hover()
    expect(option).to_have_attribute("aria-selected", "true")
    option.click()
    expect(listbox).to_be_hidden()
    expect(page).to_have_url(re.compile(r"\?q=%C3%A9conomie$"))
    expect(results_page(page).first).to_be_visible()


def test_a_late_suggestion_answer_is_dropped(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/")
    # The answer for "mar" arrives 700 ms late, and even ignores being aborted: the page must still
    # show the suggestions of what was typed last.
    page.evaluate(
        """() => {
          const realFetch = window.fetch;
          window.fetch = (url, options) => {
            if (!String(url).includes("q=mar&")) return realFetch(url, options);
            const late = realFetch(url, { ...options, signal: undefined });
            return new Promise((resolve) => setTimeout(() => resolve(late), 700));
          };
        }"""
    )
    type_query(page, "mar")
    page.wait_for_timeout(300)  # the debounce has fired: the "mar" request is on its way
    page.keyboard.type("rak", delay=40)
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options.first).to_have_text(re.compile("^marrakech$", re.IGNORECASE))
    shown = options.all_inner_texts()
    page.wait_for_timeout(900)  # the late answer has arrived by now
    assert options.all_inner_texts() == shown
    # Completions of "marrak", and articles whose titles hold them: never "mar…" ones.
    assert all("marrak" in text.lower() for text in shown), shown


def test_enter_shows_results_with_marks(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/")
    type_query(page, "inflation")
    page.keyboard.press("Enter")
    hits = results_page(page)
    expect(hits.first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/\?q=inflation$"))
    expect(page.locator("#results-heading")).to_have_text(
        re.compile(r"^\d+ résultats? pour «\u00a0inflation\u00a0»$")
    )
    expect(hits.first.locator(".ps-hit__snippet mark").first).to_have_text(
        re.compile("inflation", re.IGNORECASE)
    )
    first = hits.first.locator(".ps-hit__title a")
    expect(first).to_have_attribute("href", re.compile(r"^https://www\.presse\.example\.ma/"))
    # Dates in French, in full: "27 septembre 2022".
    expect(hits.first.locator("time")).to_have_text(re.compile(r"^\d{1,2}(er)? [a-zéû]+ \d{4}$"))
    shot(page, "results-desktop.png")


def test_french_formats(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/?q=premier+du+mois")
    expect(page.get_by_text("1er mars 2020")).to_be_visible()
    formats = page.evaluate(
        "() => [PresseSearch.countLabel(1234), PresseSearch.countLabel(1), "
        "PresseSearch.formatDate('2020-03-12T10:00:00Z'), "
        "PresseSearch.formatDate('2019-12-31T23:30:00Z')]"
    )
    # A narrow no-break space groups thousands; 23:30 UTC is already the 1st in Casablanca.
    assert formats == ["1\u202f234 résultats", "1 résultat", "12 mars 2020", "1er janvier 2020"]


def test_a_facet_filters_and_updates_the_url(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/?q=Maroc")
    heading = page.locator("#results-heading")
    expect(heading).to_have_text(re.compile("^16 résultats"))
    facet = page.locator(".facet", has_text="Économie")
    count = facet.locator(".facet__count").inner_text()
    facet.locator("label").click()
    expect(page).to_have_url(re.compile(r"section=%C3%89conomie"))
    expect(heading).to_have_text(re.compile(f"^{count} résultats? pour «\u00a0Maroc\u00a0»$"))
    expect(page.locator("#facet-list input:checked")).to_have_count(1)
    for section in results_page(page).locator(".ps-hit__section").all_inner_texts():
        assert "ÉCONOMIE" in section.upper()
    # The other sections stay offered, with their counts.
    expect(page.locator(".facet", has_text="Sport")).to_be_visible()


def test_a_shared_url_renders_its_results(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/?q=Maroc&section=International&sort=date")
    expect(results_page(page).first).to_be_visible()
    expect(page.locator("#q")).to_have_value("Maroc")
    expect(page.locator("#sort-date")).to_be_checked()
    expect(page.locator(".facet", has_text="International").locator("input")).to_be_checked()
    dates = results_page(page).locator("time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert len(dates) > 1 and dates == sorted(dates, reverse=True)
    expect(page).to_have_title("Maroc — Recherche — Presse")


def test_pagination_and_the_back_button(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/?q=Maroc")
    expect(results_page(page)).to_have_count(10)
    first_page = results_page(page).locator("h3").all_inner_texts()
    pager = page.get_by_role("navigation", name="Pages de résultats")
    pager.get_by_role("link", name="Page 2").click()
    expect(page).to_have_url(re.compile(r"\?q=Maroc&page=2$"))
    expect(results_page(page)).to_have_count(6)
    expect(page.locator("#results-heading")).to_be_focused()
    expect(page.locator("#results-body ol.ps-hits")).to_have_attribute("start", "11")

    type_query(page, "")
    page.locator("#q").fill("sécheresse")
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_have_text(re.compile("«\u00a0sécheresse\u00a0»"))

    page.go_back()
    expect(page.locator("#q")).to_have_value("Maroc")
    expect(results_page(page)).to_have_count(6)
    page.go_back()
    expect(results_page(page)).to_have_count(10)
    assert results_page(page).locator("h3").all_inner_texts() == first_page
    page.go_forward()
    expect(page).to_have_url(re.compile(r"page=2$"))
    expect(results_page(page)).to_have_count(6)


def settled(page: Page) -> None:
    """Wait until the page has rendered the answer to its last request."""
    expect(page.locator("#results")).not_to_have_attribute("aria-busy", "true")


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the focus is on ``selector``: proves it is reachable by keyboard."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached with Tab")


def test_keyboard_only(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/")
    tab_to(page, "#q")
    page.keyboard.type("mar", delay=40)
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options.first).to_be_visible()
    page.keyboard.press("Escape")  # closes the list, keeps the text
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(page.locator("#q")).to_have_value("mar")
    page.keyboard.press("ArrowDown")  # reopens on the first option
    page.keyboard.press("ArrowDown")
    second = options.nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    expect(page.locator("#q")).to_have_attribute(
        "aria-activedescendant", second.get_attribute("id") or ""
    )
    chosen = second.inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("#q")).to_have_value(chosen)
    expect(results_page(page).first).to_be_visible()

    # The sort toggle: arrows move between the two radio buttons.
    tab_to(page, "#sort-relevance")
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile("sort=date"))
    # A section with the space bar, even while the sorted answer is on its way: the focus stays
    # on the box through the re-renders.
    tab_to(page, "#facet-list input")
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile("section="))
    settled(page)
    expect(page.locator("#facet-list input:checked")).to_be_focused()
    # Into the results: the similar articles open with Enter.
    tab_to(page, ".ps-similar__toggle")
    page.keyboard.press("Enter")
    expect(page.locator(".ps-similar__toggle").first).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".ps-similar__list a").first).to_be_visible()
    tab_to(page, ".ps-similar__list a")


def test_keyboard_paging(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/?q=Maroc")
    settled(page)
    tab_to(page, ".pager a[aria-label='Page 2']")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("page=2$"))
    # The focus lands on the new results' heading, not back at the top of the page.
    expect(page.locator("#results-heading")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#results-body .ps-hit a").first).to_be_focused()


def test_hostile_article_text_stays_text(servers: Servers, search_page: Opened) -> None:
    page, watch = search_page
    page.goto(servers.app + "/?q=titre+piégé")
    hit = results_page(page).filter(has_text="onerror")
    expect(hit).to_have_count(1)
    # The literal characters are shown, no element was made of them, and nothing ran.
    expect(hit.locator("h3")).to_have_text(IMG_TITLE)
    expect(hit.locator("img, svg, iframe, b")).to_have_count(0)
    expect(hit.locator(".ps-hit__author")).to_have_text("<svg onload=alert(5)>")
    # Its javascript: URL is not a link.
    expect(hit.locator("h3 a")).to_have_count(0)
    hit.get_by_role("button", name="Articles similaires").click()

    page.goto(servers.app + "/?q=script")
    hit = results_page(page).filter(has_text="alert")
    expect(hit.locator("h3")).to_have_text(SCRIPT_TITLE)
    expect(hit.locator("h3 mark")).to_have_count(2)
    expect(page.locator("#results script")).to_have_count(0)
    page.wait_for_timeout(300)  # give an onerror time to fire, were there one
    assert watch.dialogs == []


def test_did_you_mean_is_a_link(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    # A typo beside a word no article holds: no article holds the corrected words together
    # either, so the correction is offered, not run (a plain typo is run: test_correction.py).
    page.goto(servers.app + "/?q=developement+qzxwv")
    offer = page.locator(".ps-dym")
    expect(offer).to_have_text(re.compile(r"^Vouliez-vous dire\u00a0: développement \S+\u00a0\?$"))
    link = offer.get_by_role("link")
    suggestion = link.inner_text()
    expect(link).to_have_attribute("href", re.compile(r"^\?q=d%C3%A9veloppement"))
    link.click()
    expect(page.locator("#q")).to_have_value(suggestion)
    expect(results_page(page).first).to_be_visible()
    expect(page.locator(".ps-dym")).to_have_count(0)


def test_similar_articles_expand(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/?q=inflation")
    first = results_page(page).first
    toggle = first.get_by_role("button", name="Articles similaires")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    similar = first.locator(".ps-similar__list > li")
    expect(similar.first).to_be_visible()
    assert 3 <= similar.count() <= 5
    expect(similar.first.locator("a")).to_have_attribute("href", re.compile("^https://"))
    toggle.click()
    expect(first.locator(".ps-similar")).to_be_hidden()


def test_empty_state(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/?q=zzzqqq")
    expect(page.locator(".ps-message")).to_have_text(
        re.compile("^Aucun résultat pour «\u00a0zzzqqq\u00a0»")
    )
    expect(results_page(page)).to_have_count(0)


def test_error_state_and_retry(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.route("**/search?*", lambda route: route.abort())
    page.goto(servers.app + "/?q=Maroc")
    message = page.get_by_role("alert")
    expect(message).to_contain_text("Le service de recherche ne répond pas")
    page.unroute("**/search?*")
    message.get_by_role("button", name="Réessayer").click()
    expect(results_page(page)).to_have_count(10)


def test_phone_width(servers: Servers, new_page: NewPage) -> None:
    page, _ = new_page(PHONE)
    page.goto(servers.app + "/?q=Maroc")
    expect(results_page(page).first).to_be_visible()
    results_page(page).first.get_by_role("button", name="Articles similaires").click()
    expect(page.locator(".ps-similar__list").first).to_be_visible()
    shot(page, "results-phone.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#q").fill("")
    type_query(page, "march")
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    box = listbox.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
