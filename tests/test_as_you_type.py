"""Results as the reader types, on the search page and in the widget, and what the page shows of
the API's newer answer fields (fixtures: ``tests/browser_env.py``).

- Typing ``inflation`` letter by letter shows its results without Enter; no answer older than
  the last keystroke is ever rendered, even when an early answer arrives late and ignores being
  aborted (the page's ``fetch`` is wrapped to do exactly that).
- History: one entry per typing spell, so back returns to the previous search; a filter or the
  sort clicked right after typing keeps the typed words.
- The suggestion list: completions with the completed part in bold, up to 3 article titles.
- ``corrected_query``, ``stopwords_only``, ``section_labels`` and the 1,000-result cap. Where the
  sample index cannot produce the field (the back end adds it separately), the real answer is
  fetched and the field added to it on its way to the page, through a Playwright route.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from browser_env import Servers, results_page, type_query  # noqa: E402
from conftest import REPO  # noqa: E402
from playwright.sync_api import Page, Route, expect  # noqa: E402

if TYPE_CHECKING:
    from browser_env import NewPage, Opened

pytestmark = pytest.mark.browser

TARGETS = {  # where the box is: (path on its server, box selector, results count selector)
    "page": ("app", "/", "#q", "#results-heading"),
    "widget": ("site", "/hosts/flex.html", "#site-search", "presse-search .ps-count"),
}

# Records every rendering of results with what the box held at that moment.
RECORD_RENDERS = """(box) => {
  window.__renders = [];
  document.addEventListener("presse-search:rendered", (event) => {
    const input = document.querySelector(box);
    window.__renders.push({ ...event.detail, box: input ? input.value.trim() : null });
  });
}"""

# Answers to /search for anything but `final` come 700 ms late and ignore being aborted: only the
# page's own bookkeeping can keep them off the screen.
DELAY_EARLY_ANSWERS = """(final) => {
  window.__requested = [];
  const realFetch = window.fetch;
  window.fetch = (url, options = {}) => {
    const target = new URL(String(url), window.location.href);
    if (!target.pathname.endsWith("/search")) return realFetch(url, options);
    const q = target.searchParams.get("q");
    window.__requested.push(q);
    const answer = realFetch(url, { ...options, signal: undefined });
    const delay = q === final ? 0 : 700;
    return new Promise((resolve, reject) => setTimeout(() => answer.then(resolve, reject), delay));
  };
}"""


def open_target(servers: Servers, new_page: NewPage, target: str) -> tuple[Page, str, str]:
    server, path, box, count = TARGETS[target]
    page, _ = new_page()
    page.add_init_script(f"({RECORD_RENDERS})({json.dumps(box)})")
    return page, box, count


def renders(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.__renders")


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_typing_shows_results_without_enter(
    servers: Servers, new_page: NewPage, target: str
) -> None:
    page, box, count = open_target(servers, new_page, target)
    server, path, _, _ = TARGETS[target]
    page.goto(getattr(servers, server) + path)
    type_query(page, "inflation", box, delay=100)
    expect(page.locator(count)).to_have_text(re.compile("résultats? pour «\u00a0inflation\u00a0»"))
    shown = renders(page)
    assert shown[-1]["query"] == "inflation"
    assert all(r["query"] == r["box"] for r in shown), shown
    if target == "page":
        expect(page).to_have_url(re.compile(r"/\?q=inflation$"))


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_no_answer_older_than_the_last_keystroke(
    servers: Servers, new_page: NewPage, target: str
) -> None:
    page, box, count = open_target(servers, new_page, target)
    server, path, _, _ = TARGETS[target]
    page.add_init_script(f"({DELAY_EARLY_ANSWERS})('inflation')")
    page.goto(getattr(servers, server) + path)
    type_query(page, "infl", box, delay=100)
    page.wait_for_timeout(300)  # a pause: the request for "infl" leaves (its answer will be late)
    page.keyboard.type("ation", delay=100)
    expect(page.locator(count)).to_have_text(re.compile("pour «\u00a0inflation\u00a0»"))
    page.wait_for_timeout(900)  # the late answer for "infl" has arrived by now
    assert "infl" in page.evaluate("window.__requested")  # the stale path was taken
    shown = renders(page)
    assert [r["query"] for r in shown] == ["inflation"], shown
    expect(page.locator(count)).to_have_text(re.compile("pour «\u00a0inflation\u00a0»"))


def test_keystroke_to_rendered_is_measured(servers: Servers, new_page: NewPage) -> None:
    page, box, _ = open_target(servers, new_page, "page")
    page.goto(servers.app + "/")
    type_query(page, "maroc", box, delay=100)
    expect(results_page(page).first).to_be_visible()
    since = renders(page)[-1]["sinceKeystroke"]
    assert 150 <= since < 5000  # at least the debounce, and a number, for scripts/bench typing


def test_one_history_entry_per_typing_spell(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/?q=s%C3%A9cheresse")
    expect(results_page(page).first).to_be_visible()
    entries = page.evaluate("history.length")
    page.locator("#q").fill("")
    type_query(page, "infl", delay=60)
    page.wait_for_timeout(400)  # a pause: the URL follows (?q=infl)
    expect(page).to_have_url(re.compile(r"\?q=infl$"))
    page.keyboard.type("ation", delay=60)
    expect(page).to_have_url(re.compile(r"\?q=inflation$"))
    page.keyboard.press("Enter")  # the search the reader meant: no second entry
    expect(page.locator("#results-heading")).to_have_text(re.compile("«\u00a0inflation\u00a0»"))
    assert page.evaluate("history.length") == entries + 1
    page.go_back()
    expect(page.locator("#q")).to_have_value("sécheresse")
    expect(page.locator("#results-heading")).to_have_text(re.compile("«\u00a0sécheresse\u00a0»"))
    page.go_forward()
    expect(page.locator("#q")).to_have_value("inflation")


def test_a_filter_keeps_the_typed_words(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/?q=Maroc")
    expect(results_page(page).first).to_be_visible()
    page.locator("#q").fill("Maroc économie")
    page.locator("label[for=sort-date]").click()  # at once, before the typing pause is over
    expect(page).to_have_url(re.compile(r"\?q=Maroc\+%C3%A9conomie&sort=date$"))
    expect(page.locator("#q")).to_have_value("Maroc économie")
    expect(page.locator("#results-heading")).to_have_text(re.compile("«\u00a0Maroc économie"))
    page.locator("#q").fill("Maroc")
    page.locator(".facet label", has_text="Sport").click()
    expect(page).to_have_url(re.compile(r"\?q=Maroc&section=Sport&sort=date$"))
    expect(page.locator("#q")).to_have_value("Maroc")


def fulfil_json(route: Route, data: dict[str, Any]) -> None:
    route.fulfill(
        status=200,
        content_type="application/json",
        body=json.dumps(data, ensure_ascii=False),
    )


def amend(page: Page, path: str, change: Any) -> None:
    """Passes the real answers to ``path`` through ``change(answer, url)`` on their way."""

    def handle(route: Route) -> None:
        answer = route.fetch().json()
        fulfil_json(route, change(answer, route.request.url))

    page.route(f"**/{path}?*", handle)


SUGGEST_ANSWER = {
    "query": "coupe du mo",
    "suggestions": ["coupe du monde", "coupe du monde des clubs"],
    "completions": [
        {"text": "coupe du monde", "typed": "coupe du mo"},
        {"text": "coupe du monde des clubs", "typed": 11},
    ],
    "articles": [
        {
            "id": f"sport-{n}",
            "title": f"Coupe du monde : article {n}",
            "url": f"https://www.presse.example.ma/sport/{n}",
            "section": ["sport/football"],
        }
        for n in range(1, 5)
    ],
    "section_labels": {"sport/football": "Football"},
}


def test_suggestions_complete_phrases_and_offer_articles(
    servers: Servers, search_page: Opened
) -> None:
    page, _ = search_page
    page.route("**/suggest?*", lambda route: fulfil_json(route, SUGGEST_ANSWER))
    page.route(
        "https://www.presse.example.ma/**",
        lambda route: route.fulfill(content_type="text/html", body="<title>Article</title>"),
    )
    page.goto(servers.app + "/")
    type_query(page, "coupe du mo")
    listbox = page.get_by_role("listbox")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(5)  # 2 completions and 3 of the 4 articles
    expect(options.nth(0)).to_have_text("coupe du monde")
    expect(options.nth(0).locator("b")).to_have_text("nde")  # the completed part, in bold
    expect(options.nth(1).locator("b")).to_have_text("nde des clubs")
    articles = listbox.get_by_role("group", name="Articles").get_by_role("option")
    expect(articles).to_have_count(3)
    expect(articles.first).to_contain_text("Coupe du monde : article 1")
    expect(articles.first).to_contain_text("Football")  # the site's label, not the slug
    # The keyboard reaches the articles; choosing one opens it.
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(articles.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    page.wait_for_url("https://www.presse.example.ma/sport/1")


def test_plain_suggestions_get_their_bold_from_the_prefix(
    servers: Servers, search_page: Opened
) -> None:
    page, _ = search_page
    page.goto(servers.app + "/")
    type_query(page, "econ")
    option = page.get_by_role("listbox").get_by_role("option", name="économie")
    expect(option.locator("b")).to_have_text("omie")


def test_a_corrected_query_offers_the_original(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page

    def corrected(answer: dict[str, Any], url: str) -> dict[str, Any]:
        if "correct=false" in url:
            return answer  # the reader's own words, as typed
        return {**answer, "query": "inflasion", "corrected_query": "inflation"}

    def correct_inflasion(route: Route) -> None:
        url = route.request.url
        real = url if "correct=false" in url else url.replace("inflasion", "inflation")
        fulfil_json(route, corrected(route.fetch(url=real).json(), url))

    page.route("**/search?*", correct_inflasion)
    page.goto(servers.app + "/?q=inflasion")
    line = page.locator(".ps-correction")
    expect(line).to_have_text("Résultats pour inflation — rechercher plutôt inflasion")
    expect(page.locator("#results-heading")).to_have_text(re.compile("pour «\u00a0inflation"))
    expect(results_page(page).first).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="au lieu de")).to_have_count(1)
    link = line.get_by_role("link", name="inflasion")
    expect(link).to_have_attribute("href", "?q=inflasion&correct=false")
    link.click()
    expect(page).to_have_url(re.compile(r"\?q=inflasion&correct=false$"))
    expect(page.locator(".ps-message")).to_contain_text("Aucun résultat pour «\u00a0inflasion")
    expect(page.locator(".ps-correction")).to_have_count(0)


def test_stop_words_only_get_their_own_message(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    amend(page, "search", lambda answer, url: {**answer, "stopwords_only": True})
    page.goto(servers.app + "/?q=comment+pourquoi")
    message = page.locator(".ps-message--stopwords")
    expect(message).to_contain_text("ne contient que des mots trop courants")
    expect(page.locator("#results-body")).not_to_contain_text("orthographe")


def test_the_pager_says_where_it_stops(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    amend(page, "search", lambda answer, url: {**answer, "total": 7722})
    page.goto(servers.app + "/?q=Maroc")
    pager = page.get_by_role("navigation", name="Pages de résultats")
    expect(pager.get_by_role("link", name="Page 100")).to_be_visible()
    expect(pager.get_by_role("link", name="Page 101")).to_have_count(0)
    expect(page.locator(".ps-cap")).to_have_text(
        re.compile(
            "^Seuls les 1\u202f000 premiers des 7\u202f722 résultats .*précisez la recherche"
        )
    )


def test_section_labels_name_the_sections(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    labels = {"Économie": "Économie & finances"}

    def labelled(answer: dict[str, Any], url: str) -> dict[str, Any]:
        # As the API does with PRESSE_SECTION_LABELS: a label beside each facet, and the map.
        for facet in answer["facets"]["section"]:
            facet["label"] = labels.get(facet["value"], facet["value"])
        return {**answer, "section_labels": labels}

    amend(page, "search", labelled)
    page.goto(servers.app + "/?q=inflation")
    facet = page.locator(".facet", has_text="Économie & finances")
    expect(facet).to_have_count(1)
    expect(facet.locator("input")).to_have_value("Économie")  # filters still use the slug
    kicker = results_page(page).locator(".ps-hit__section").filter(has_text="finances").first
    expect(kicker).to_have_text("Économie & finances")


def test_the_first_screen(servers: Servers, search_page: Opened) -> None:
    page, _ = search_page
    page.goto(servers.app + "/")
    expect(page.locator("#q")).to_be_focused()
    examples = page.locator(".page__examples a")
    expect(examples.first).to_be_visible()
    examples.first.click()
    expect(results_page(page).first).to_be_visible()


def test_bench_typing_against_a_running_server(servers: Servers, tmp_path: Path) -> None:
    # In a process of its own: Playwright's sync API runs one instance per thread, and the
    # tests' browser already holds this one.
    queries = tmp_path / "queries.txt"
    queries.write_text("maroc\ninflation\nx\n", encoding="utf-8")
    out = tmp_path / "typing.json"
    command = [sys.executable, "-m", "bench", "typing", "--url", servers.app]
    command += ["--queries", str(queries), "--delay", "40", "--out", str(out)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ms from the last keystroke to the results on screen" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["params"]["count"] == 2  # "x" is too short to be searched as it is typed
    assert set(report["results"]["per_query_ms"]) == {"maroc", "inflation"}
    assert 150 <= report["results"]["ms"]["p50"]["median"] < 5000
