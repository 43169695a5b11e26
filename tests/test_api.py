"""The HTTP API through falcon.testing, on real indexes built in temporary folders.

Every endpoint, parameter and error of issue 3: answers and their shapes, the one error shape
across 400/404/405/500/503, the headers (caching, nosniff, CORS), readiness before and after an
index exists, and a new generation picked up by a running app. Ranking is asserted as order,
never as scores; the hand-written ``MINI`` corpus below makes the orders unambiguous.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import falcon
import pytest
from broken_app import EveryMethodBroken
from conftest import SITE_ORIGIN, BuildIndex, MakeClient
from falcon.testing import Result, TestClient

from index.analysis import fold
from index.build import apply_update
from index.config import ConfigError
from index.generations import IndexRoot
from search.app import create_app, get_app, process_engine
from search.config import Settings
from search.engine import Engine
from search.errors import SearchTimeout
from search.results import SearchRequest, SearchResult

NOON = "T12:00:00+01:00"
MINI: list[dict[str, Any]] = [
    {
        "id": "zellige-titre",
        "title": "Le zellige de Fès séduit les architectes",
        "body": "Les artisans de la médina façonnent la terre cuite émaillée selon des gestes "
        "transmis depuis des siècles. Les commandes arrivent d’Europe et du Golfe.",
        "section": "Culture",
        "tags": ["artisanat"],
        "published": "2024-05-10" + NOON,
    },
    {
        "id": "zellige-corps",
        "title": "Les artisans de la médina face à la relève",
        "body": "Les maîtres artisans peinent à trouver des apprentis. Le zellige, la dinanderie "
        "et le cuir attirent pourtant des clients du monde entier.",
        "section": "Culture",
        "tags": ["artisanat"],
        "published": "2024-05-10" + NOON,
    },
    {
        "id": "roses-2024",
        "title": "Kelaat M’Gouna célèbre le festival des roses",
        "body": "La vallée du Dadès accueille des milliers de visiteurs venus pour la cueillette "
        "et le défilé des chars fleuris.",
        "section": "Régions",
        "published": "2024-05-12" + NOON,
    },
    {
        "id": "roses-2019",
        "title": "Kelaat M’Gouna célèbre le festival des roses",
        "body": "La vallée du Dadès accueille des milliers de visiteurs venus pour la cueillette "
        "et le défilé des chars fleuris.",
        "section": "Régions",
        "published": "2019-05-12" + NOON,
    },
    {
        "id": "port-2021",
        "title": "Le port de Casablanca modernise ses terminaux",
        "body": "L’autorité portuaire investit dans de nouveaux portiques pour accélérer le "
        "traitement des conteneurs.",
        "section": "Économie",
        "tags": ["logistique", "ports"],
        "published": "2021-03-01" + NOON,
    },
    {
        "id": "port-2023",
        "title": "Le port de Dakhla Atlantique sort de terre",
        "body": "Le chantier du futur port avance ; la pêche et les exportations agricoles de la "
        "région en profiteront.",
        "section": "Économie",
        "tags": ["pêche", "ports"],
        "published": "2023-07-01" + NOON,
    },
    {
        "id": "port-sport",
        "title": "Le club du port de Safi remonte en première division",
        "body": "Les supporters ont fêté la montée du club jusque tard dans la nuit.",
        "section": "Sport",
        "tags": ["football"],
        "published": "2022-01-15" + NOON,
    },
    {
        "id": "dev-eco",
        "title": "Le développement économique des provinces du Sud",
        "body": "De grands chantiers portent le développement économique de la région. Les "
        "indicateurs économiques annoncent une croissance soutenue.",
        "section": "Économie",
        "tags": ["régions"],
        "published": "2023-02-01" + NOON,
    },
    {
        "id": "dev-rural",
        "title": "Souss-Massa : un plan pour le développement économique rural",
        "body": "La région mise sur l’agriculture et le tourisme pour son développement "
        "économique.",
        "section": "Régions",
        "published": "2022-09-20" + NOON,
    },
]

SEARCH_KEYS = {"query", "corrected_query", "total", "page", "per_page", "took_ms", "hits", "facets",
               "suggestion", "stopwords_only", "section_labels", "expansions", "query_id"}
HIT_KEYS = {"id", "title", "url", "section", "published", "author", "score", "title_html"}


# --- helpers -------------------------------------------------------------------------------


def ids(resp: Result) -> list[str]:
    return [hit["id"] for hit in resp.json["hits"]]


def assert_error(resp: Result, status: int, code: str, parameter: str | None = None) -> None:
    """The one error shape: ``{"error": {"code", "message", "parameter"?}}``, never cached."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["cache-control"] == "no-store"
    assert set(resp.json) == {"error"}
    error = resp.json["error"]
    assert set(error) <= {"code", "message", "parameter"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"].strip()
    assert error.get("parameter") == parameter


def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> float:
    """Seconds until ``check()`` held (polling every 50 ms); fails past ``timeout_s``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, "condition not met in time"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def mini_index(build_index: BuildIndex) -> Path:
    return build_index(MINI)


@pytest.fixture
def mini(mini_index: Path, make_client: MakeClient) -> TestClient:
    return make_client(Settings(index_dir=mini_index))


# --- /search ---------------------------------------------------------------------------------


def test_search_answers_the_documented_shape(client: TestClient) -> None:
    resp = client.simulate_get("/search", params={"q": "Maroc"})
    assert resp.status_code == 200
    body = resp.json
    assert set(body) == SEARCH_KEYS
    assert (body["query"], body["page"], body["per_page"]) == ("Maroc", 1, 10)
    assert body["total"] > 10 and len(body["hits"]) == 10
    assert isinstance(body["took_ms"], int | float)
    for hit in body["hits"]:
        assert set(hit) == HIT_KEYS | {"snippet_html"}
        assert isinstance(hit["section"], list)
    facets = body["facets"]["section"]
    assert facets and all(set(f) == {"value", "count", "label"} and f["count"] > 0
                          for f in facets)
    assert all(f["label"] == f["value"] for f in facets)  # no labels file: the slugs
    assert body["suggestion"] is None and body["corrected_query"] is None
    assert body["stopwords_only"] is False
    named = {f["value"] for f in facets} | {s for hit in body["hits"] for s in hit["section"]}
    assert body["section_labels"] == {slug: slug for slug in named}


@pytest.mark.parametrize(("query", "flag"), [("les", True), ("comment pourquoi", True),
                                             ("les -maroc", False), ("***", False)])
def test_a_query_of_stop_words_only_says_so(client: TestClient, query: str, flag: bool) -> None:
    body = client.simulate_get("/search", params={"q": query}).json
    assert (body["total"], body["stopwords_only"], body["suggestion"]) == (0, flag, None)


def test_pages_follow_each_other(client: TestClient) -> None:
    first = client.simulate_get("/search", params={"q": "Maroc", "per_page": 3})
    second = client.simulate_get("/search", params={"q": "Maroc", "per_page": 3, "page": 2})
    assert (len(ids(first)), len(ids(second))) == (3, 3)
    assert not set(ids(first)) & set(ids(second))
    assert first.json["total"] == second.json["total"]
    both = client.simulate_get("/search", params={"q": "Maroc", "per_page": 6})
    assert ids(both) == ids(first) + ids(second)


def test_title_hit_ranks_before_body_only_hit(mini: TestClient) -> None:
    assert ids(mini.simulate_get("/search", params={"q": "zellige"})) == [
        "zellige-titre",
        "zellige-corps",
    ]


def test_recent_article_ranks_first_when_relevance_ties(mini: TestClient) -> None:
    assert ids(mini.simulate_get("/search", params={"q": "roses"})) == ["roses-2024", "roses-2019"]


def test_sort_by_date_puts_newest_first(mini: TestClient) -> None:
    resp = mini.simulate_get("/search", params={"q": "port", "sort": "date"})
    assert ids(resp)[:3] == ["port-2023", "port-sport", "port-2021"]


def test_section_filter_keeps_the_facets_of_other_sections(mini: TestClient) -> None:
    everything = mini.simulate_get("/search", params={"q": "port"}).json
    filtered = mini.simulate_get("/search", params={"q": "port", "section": "Économie"}).json
    assert {"port-2021", "port-2023", "port-sport"} <= {h["id"] for h in everything["hits"]}
    assert {"port-2021", "port-2023"} <= {h["id"] for h in filtered["hits"]}
    assert all("Économie" in hit["section"] for hit in filtered["hits"])
    assert filtered["total"] == len(filtered["hits"]) < everything["total"]
    counts = {f["value"]: f["count"] for f in filtered["facets"]["section"]}
    assert counts == {f["value"]: f["count"] for f in everything["facets"]["section"]}
    assert counts["Sport"] == 1


def test_repeated_section_keeps_any_of_them(mini: TestClient) -> None:
    resp = mini.simulate_get("/search", params={"q": "port", "section": ["Sport", "Culture"]})
    assert ids(resp) == ["port-sport"]
    both = mini.simulate_get("/search", params={"q": "port", "section": ["Sport", "Économie"]})
    assert set(ids(both)) >= {"port-sport", "port-2021", "port-2023"}


def test_tag_filter(mini: TestClient) -> None:
    assert ids(mini.simulate_get("/search", params={"q": "port", "tag": "logistique"})) == [
        "port-2021"
    ]
    resp = mini.simulate_get("/search", params={"q": "port", "tag": ["logistique", "pêche"]})
    assert sorted(ids(resp)) == ["port-2021", "port-2023"]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ({"from": "2022-06-01"}, {"port-2023"}),
        ({"to": "2021-12-31"}, {"port-2021"}),
        ({"from": "2022-01-01", "to": "2022-12-31"}, {"port-sport"}),
        ({"from": "2025-01-01"}, set()),
    ],
)
def test_date_filters(mini: TestClient, dates: dict[str, str], expected: set[str]) -> None:
    resp = mini.simulate_get("/search", params={"q": "port", **dates})
    assert resp.status_code == 200
    assert set(ids(resp)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"zellige de Fès"', ["zellige-titre"]),
        ("zellige -architectes", ["zellige-corps"]),
        ("zellige OR roses", ["roses-2019", "roses-2024", "zellige-corps", "zellige-titre"]),
    ],
)
def test_query_language(mini: TestClient, query: str, expected: list[str]) -> None:
    assert sorted(ids(mini.simulate_get("/search", params={"q": query}))) == expected


def test_a_query_of_stop_words_finds_nothing(client: TestClient) -> None:
    resp = client.simulate_get("/search", params={"q": "le la les de du des"})
    assert resp.status_code == 200
    assert (resp.json["total"], resp.json["hits"]) == (0, [])


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced quote',
        "((",
        "-",
        "- -maroc",
        "OR",
        "AND OR NOT",
        "*",
        "?",
        "\\",
        "title:maroc",
        "maroc~2",
        "ma*",
        "[2020 TO 2024]",
        "l’",
        "🇲🇦 Maroc",
        "\x00",
        "x" * 500,
        " maroc ",
    ],
)
def test_any_query_is_accepted(client: TestClient, query: str) -> None:
    resp = client.simulate_get("/search", params={"q": query})
    assert resp.status_code == 200, resp.text
    assert set(resp.json) == SEARCH_KEYS


def test_did_you_mean_offers_real_words(mini: TestClient) -> None:
    params = {"q": "developement economik", "correct": "false"}
    body = mini.simulate_get("/search", params=params).json
    assert body["total"] < 3
    assert body["suggestion"] == "développement économique"
    assert body["corrected_query"] is None


def test_marks_match_across_accents_and_inflections(mini: TestClient) -> None:
    resp = mini.simulate_get("/search", params={"q": "economie"})
    hit = next(h for h in resp.json["hits"] if h["id"] == "dev-eco")
    assert "<mark>économiques</mark>" in hit["snippet_html"]
    assert "<mark>économique</mark>" in hit["title_html"]


def test_article_text_is_escaped_in_html_fields(
    client: TestClient, sample_articles: list[dict[str, Any]]
) -> None:
    article = next(a for a in sample_articles if "<script>" in a["title"])
    resp = client.simulate_get("/search", params={"q": "sécurité en ligne"})
    hit = next(h for h in resp.json["hits"] if h["id"] == article["id"])
    assert "<script>" in hit["title"]  # plain text stays plain
    assert "<script>" not in hit["title_html"] and "&lt;script&gt;" in hit["title_html"]
    assert "<script>" not in hit["snippet_html"]


def test_unknown_parameters_are_ignored(client: TestClient) -> None:
    plain = client.simulate_get("/search", params={"q": "Maroc"})
    extra = client.simulate_get("/search", params={"q": "Maroc", "utm_source": "x", "lang": "fr"})
    assert extra.status_code == 200 and ids(extra) == ids(plain)


def test_blank_optional_parameters_count_as_absent(client: TestClient) -> None:
    # What an HTML form sends for its empty fields.
    plain = client.simulate_get("/search", params={"q": "Maroc"})
    blank = client.simulate_get(
        "/search", query_string="q=Maroc&page=&per_page=&section=&tag=&from=&to=&sort="
    )
    assert blank.status_code == 200 and ids(blank) == ids(plain)


def test_deep_paging_is_capped(client: TestClient) -> None:
    assert (
        client.simulate_get(
            "/search", params={"q": "Maroc", "page": 10, "per_page": 100}
        ).status_code
        == 200
    )
    resp = client.simulate_get("/search", params={"q": "Maroc", "page": 11, "per_page": 100})
    assert_error(resp, 400, "bad_request", "page")
    assert "1000" in resp.json["error"]["message"]


def test_query_length_limit(client: TestClient) -> None:
    assert client.simulate_get("/search", params={"q": "é" * 500}).status_code == 200
    assert_error(client.simulate_get("/search", params={"q": "é" * 501}), 400, "bad_request", "q")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "maroc", "page": "0"}, "page"),
        ({"q": "maroc", "page": "-1"}, "page"),
        ({"q": "maroc", "page": "deux"}, "page"),
        ({"q": "maroc", "page": "1.5"}, "page"),
        ({"q": "maroc", "per_page": "0"}, "per_page"),
        ({"q": "maroc", "per_page": "101"}, "per_page"),
        ({"q": "maroc", "per_page": "1e2"}, "per_page"),
        ({"q": "maroc", "sort": "popularity"}, "sort"),
        ({"q": "maroc", "from": "2024-13-01"}, "from"),
        ({"q": "maroc", "from": "hier"}, "from"),
        ({"q": "maroc", "to": "2024-02-30"}, "to"),
        ({"q": "maroc", "to": "15/01/2024"}, "to"),
        ({"q": "maroc", "from": "2024-03-01", "to": "2024-01-01"}, "from"),
    ],
)
def test_bad_search_parameters(client: TestClient, params: dict[str, str], parameter: str) -> None:
    assert_error(client.simulate_get("/search", params=params), 400, "bad_request", parameter)


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/search", {"q": ["maroc", "rabat"]}, "q"),
        ("/search", {"q": "maroc", "page": ["1", "2"]}, "page"),
        ("/search", {"q": "maroc", "per_page": ["5", "5"]}, "per_page"),
        ("/search", {"q": "maroc", "sort": ["date", "relevance"]}, "sort"),
        ("/search", {"q": "maroc", "from": ["2020-01-01", "2021-01-01"]}, "from"),
        ("/search", {"q": "maroc", "to": ["2020-01-01", "2021-01-01"]}, "to"),
        ("/suggest", {"q": ["ma", "ra"]}, "q"),
        ("/suggest", {"q": "ma", "limit": ["1", "2"]}, "limit"),
        ("/articles/{id}/similar", {"limit": ["1", "2"]}, "limit"),
        ("/articles/{id}/similar", {"section": ["same", "same"]}, "section"),
    ],
)
def test_single_valued_parameters_given_twice_are_refused(
    client: TestClient,
    sample_articles: list[dict[str, Any]],
    path: str,
    params: dict[str, list[str]],
    parameter: str,
) -> None:
    path = path.format(id=sample_articles[0]["id"])
    assert_error(client.simulate_get(path, params=params), 400, "bad_request", parameter)


# --- /articles/{id}/similar ----------------------------------------------------------------


def test_similar_answers_the_documented_shape(
    client: TestClient, sample_articles: list[dict[str, Any]]
) -> None:
    article_id = sample_articles[0]["id"]
    resp = client.simulate_get(f"/articles/{article_id}/similar")
    assert resp.status_code == 200
    assert set(resp.json) == {"id", "hits"} and resp.json["id"] == article_id
    assert 1 <= len(resp.json["hits"]) <= 5
    for hit in resp.json["hits"]:
        assert set(hit) == HIT_KEYS | {"summary"}  # the lead, for the teasers


def test_similar_works_for_every_indexed_article(
    client: TestClient, sample_articles: list[dict[str, Any]]
) -> None:
    empty = []
    for article in sample_articles:
        resp = client.simulate_get(f"/articles/{article['id']}/similar")
        assert resp.status_code == 200, (article["id"], resp.text)
        assert article["id"] not in ids(resp)
        if not resp.json["hits"]:
            empty.append(article["id"])
    assert not empty, f"no similar articles for {empty}"


def test_similar_skips_the_same_story(
    mini: TestClient, client: TestClient, sample_articles: list[dict[str, Any]]
) -> None:
    assert "roses-2019" not in ids(mini.simulate_get("/articles/roses-2024/similar"))
    by_title: dict[str, list[str]] = {}
    for article in sample_articles:
        by_title.setdefault(article["title"], []).append(article["id"])
    twins = [group for group in by_title.values() if len(group) > 1]
    for first, *others in twins:
        assert not set(others) & set(ids(client.simulate_get(f"/articles/{first}/similar")))


def test_similar_limit(client: TestClient, sample_articles: list[dict[str, Any]]) -> None:
    path = f"/articles/{sample_articles[0]['id']}/similar"
    assert len(client.simulate_get(path, params={"limit": 1}).json["hits"]) == 1
    assert len(client.simulate_get(path, params={"limit": 20}).json["hits"]) <= 20


def test_similar_in_the_same_section(
    client: TestClient, sample_articles: list[dict[str, Any]]
) -> None:
    for article in sample_articles[:10]:
        sections = article.get("sections") or article["section"]
        sections = [sections] if isinstance(sections, str) else sections
        resp = client.simulate_get(
            f"/articles/{article['id']}/similar", params={"section": "same", "limit": 20}
        )
        assert resp.status_code == 200
        for hit in resp.json["hits"]:
            assert set(hit["section"]) & set(sections), (article["id"], hit["id"])


@pytest.mark.parametrize("article_id", ["nope", "art-999", "..", "a%2Fb", "%C3%A9t%C3%A9"])
def test_similar_of_an_unknown_article_is_404(client: TestClient, article_id: str) -> None:
    assert_error(client.simulate_get(f"/articles/{article_id}/similar"), 404, "not_found")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "21"}, "limit"),
        ({"limit": "cinq"}, "limit"),
        ({"section": "other"}, "section"),
        ({"section": "Sport"}, "section"),
    ],
)
def test_bad_similar_parameters(
    client: TestClient,
    sample_articles: list[dict[str, Any]],
    params: dict[str, str],
    parameter: str,
) -> None:
    resp = client.simulate_get(f"/articles/{sample_articles[0]['id']}/similar", params=params)
    assert_error(resp, 400, "bad_request", parameter)


# --- /suggest --------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["econ", "écon", "Écon", "ECON", "éco"])
def test_suggestions_are_accent_insensitive(client: TestClient, prefix: str) -> None:
    resp = client.simulate_get("/suggest", params={"q": prefix})
    assert resp.status_code == 200
    assert resp.json["query"] == prefix
    assert "économie" in resp.json["suggestions"]


@pytest.mark.parametrize("prefix", ["econ", "dévelop", "vaccin", "mar", "tech", "sécher"])
def test_suggestions_are_real_words_not_stems(
    client: TestClient, prefix: str, sample_articles: list[dict[str, Any]]
) -> None:
    text = " ".join(
        f"{a['title']} {a.get('summary', '')} {a['body']}" for a in sample_articles
    ).lower()
    suggestions = client.simulate_get("/suggest", params={"q": prefix}).json["suggestions"]
    assert suggestions
    for suggestion in suggestions:
        assert fold(suggestion).startswith(fold(prefix))
        assert re.search(rf"(?<!\w){re.escape(suggestion.lower())}", text), suggestion


def test_suggest_limit(client: TestClient) -> None:
    assert (
        len(client.simulate_get("/suggest", params={"q": "ma", "limit": 1}).json["suggestions"])
        == 1
    )
    assert len(client.simulate_get("/suggest", params={"q": "ma"}).json["suggestions"]) <= 8
    assert (
        len(client.simulate_get("/suggest", params={"q": "ma", "limit": 20}).json["suggestions"])
        <= 20
    )


def test_json_is_utf8_not_escaped(client: TestClient) -> None:
    resp = client.simulate_get("/suggest", params={"q": "écon"})
    assert '"économie"' in resp.text and "\\u00e9" not in resp.text


def test_suggest_prefix_length(client: TestClient) -> None:
    assert client.simulate_get("/suggest", params={"q": "a" * 100}).status_code == 200
    assert_error(client.simulate_get("/suggest", params={"q": "a" * 101}), 400, "bad_request", "q")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": " "}, "q"),
        ({"q": "ma", "limit": "0"}, "limit"),
        ({"q": "ma", "limit": "21"}, "limit"),
        ({"q": "ma", "limit": "huit"}, "limit"),
    ],
)
def test_bad_suggest_parameters(client: TestClient, params: dict[str, str], parameter: str) -> None:
    assert_error(client.simulate_get("/suggest", params=params), 400, "bad_request", parameter)


# --- /health and /ready ----------------------------------------------------------------------


def test_health_does_not_need_an_index(tmp_path: Path, make_client: MakeClient) -> None:
    client = make_client(Settings(index_dir=tmp_path / "nothing"))
    resp = client.simulate_get("/health")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}
    assert resp.headers["cache-control"] == "no-store"
    assert not (tmp_path / "nothing").exists()


def test_ready_reports_the_open_generation(
    client: TestClient, sample_index: Path, sample_articles: list[dict[str, Any]]
) -> None:
    resp = client.simulate_get("/ready")
    assert resp.status_code == 200
    assert resp.json["generation"] == IndexRoot(sample_index).current_id()
    assert resp.json["documents"] == len(sample_articles)
    assert isinstance(resp.json["built_at"], str)
    assert resp.headers["cache-control"] == "no-store"


def test_ready_is_503_until_an_index_is_built(
    tmp_path: Path, make_client: MakeClient, build_index: BuildIndex
) -> None:
    root = tmp_path / "index"
    client = make_client(Settings(index_dir=root, refresh_interval_s=0.1))
    assert_error(client.simulate_get("/ready"), 503, "index_unavailable")
    assert_error(client.simulate_get("/search", params={"q": "port"}), 503, "index_unavailable")
    assert_error(client.simulate_get("/suggest", params={"q": "po"}), 503, "index_unavailable")
    assert_error(client.simulate_get("/articles/port-2021/similar"), 503, "index_unavailable")
    assert client.simulate_get("/health").status_code == 200

    build_index(MINI, root=root)
    eventually(lambda: client.simulate_get("/ready").status_code == 200)
    assert client.simulate_get("/ready").json["documents"] == len(MINI)
    assert ids(client.simulate_get("/search", params={"q": "zellige"}))[0] == "zellige-titre"


def test_a_new_generation_is_picked_up_without_restart(
    tmp_path: Path, make_client: MakeClient, build_index: BuildIndex
) -> None:
    root = build_index(MINI[:4], root=tmp_path / "index")
    first = IndexRoot(root).current_id()
    client = make_client(Settings(index_dir=root, refresh_interval_s=0.2))
    assert client.simulate_get("/search", params={"q": "tajine"}).json["total"] == 0

    newcomer = {
        "id": "tajine",
        "title": "Le tajine aux pruneaux, plat des fêtes",
        "body": "Chaque famille garde sa recette de tajine.",
        "section": "Culture",
        "published": "2024-06-01" + NOON,
    }
    build_index([*MINI[:4], newcomer], root=root)
    second = IndexRoot(root).current_id()
    assert second != first

    def found() -> bool:
        resp = client.simulate_get("/search", params={"q": "tajine"})
        assert resp.status_code == 200  # no request fails during the switch
        return ids(resp) == ["tajine"]

    assert eventually(found) < 3.0
    assert client.simulate_get("/ready").json["generation"] == second
    assert client.simulate_get("/ready").json["documents"] == 5


def write_jsonl(path: Path, articles: list[dict[str, Any]]) -> Path:
    lines = (json.dumps(article, ensure_ascii=False) + "\n" for article in articles)
    path.write_text("".join(lines), encoding="utf-8")
    return path


MSEMEN = {
    "id": "msemen",
    "title": "Le msemen, crêpe feuilletée des petits-déjeuners",
    "body": "Plié et replié, le msemen se mange au miel.",
    "section": "Culture",
    "published": "2024-06-02" + NOON,
}


def test_an_incremental_update_is_picked_up_without_restart(
    tmp_path: Path, make_client: MakeClient, build_index: BuildIndex
) -> None:
    root = build_index(MINI[:4], root=tmp_path / "index")
    client = make_client(Settings(index_dir=root, refresh_interval_s=0.2))
    assert client.simulate_get("/search", params={"q": "msemen"}).json["total"] == 0
    apply_update(IndexRoot(root), write_jsonl(tmp_path / "update.jsonl", [MSEMEN]), max_errors=0)

    def updated() -> bool:
        resp = client.simulate_get("/search", params={"q": "msemen"})
        assert resp.status_code == 200
        return ids(resp) == ["msemen"]

    assert eventually(updated) < 3.0


def test_an_incremental_deletion_is_picked_up_without_restart(
    tmp_path: Path, make_client: MakeClient, build_index: BuildIndex
) -> None:
    root = build_index(MINI[:4], root=tmp_path / "index")
    client = make_client(Settings(index_dir=root, refresh_interval_s=0.2))
    assert len(ids(client.simulate_get("/search", params={"q": "zellige"}))) == 2
    apply_update(IndexRoot(root), None, delete_ids=["zellige-corps"], max_errors=0)

    def deleted() -> bool:
        resp = client.simulate_get("/search", params={"q": "zellige"})
        assert resp.status_code == 200
        return ids(resp) == ["zellige-titre"]

    eventually(deleted, timeout_s=3.0)


def test_an_article_without_a_date_is_served(
    tmp_path: Path, make_client: MakeClient, build_index: BuildIndex
) -> None:
    undated = {key: value for key, value in MSEMEN.items() if key != "published"}
    client = make_client(Settings(index_dir=build_index([*MINI[:4], undated])))
    assert client.simulate_get("/ready").status_code == 200
    hit = client.simulate_get("/search", params={"q": "msemen"}).json["hits"][0]
    assert (hit["id"], hit["published"]) == ("msemen", None)


# --- errors ------------------------------------------------------------------------------------


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    for path in ("/nope", "/search/", "/articles/x", "/articles//similar", "/nope.js"):
        assert_error(client.simulate_get(path), 404, "not_found")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize(
    "path", ["/search", "/suggest", "/articles/x/similar", "/health", "/ready", "/openapi.json"]
)
def test_other_methods_are_a_json_405(client: TestClient, method: str, path: str) -> None:
    resp = client.simulate_request(method, path)
    assert_error(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["allow"]


@pytest.mark.parametrize("path", ["/search?q=maroc", "/articles/x/similar", "/suggest?q=ma"])
def test_an_internal_error_is_a_500_that_tells_nothing(
    settings: Settings, make_client: MakeClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    client = make_client(settings, EveryMethodBroken(settings))
    route, _, query = path.partition("?")
    resp = client.simulate_get(route, query_string=query)
    assert_error(resp, 500, "internal_error")
    for leak in ("secret", "/srv", "CURRENT", "RuntimeError", "Traceback", "engine.py"):
        assert leak not in resp.text
    assert resp.headers["x-content-type-options"] == "nosniff"
    # ... while the log has all of it.
    assert "/srv/presse/var/index" in caplog.text and "Traceback" in caplog.text


class SlowEngine(Engine):
    def search(self, request: SearchRequest) -> SearchResult:
        raise SearchTimeout("the search took longer than its time budget; try fewer words")


def test_a_search_past_its_budget_is_a_503(settings: Settings, make_client: MakeClient) -> None:
    client = make_client(settings, SlowEngine(settings))
    assert_error(client.simulate_get("/search", params={"q": "maroc"}), 503, "timeout")


class Probe:
    """A route that reads a parameter with Falcon's own validation."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"n": req.get_param_as_int("n", required=True, min_value=1)}


@pytest.mark.parametrize("query", ["", "n=0", "n=x"])
def test_falcon_parameter_errors_have_the_same_shape(settings: Settings, query: str) -> None:
    app = create_app(settings)
    app.add_route("/probe", Probe())
    resp = TestClient(app).simulate_get("/probe", query_string=query)
    assert_error(resp, 400, "bad_request", "n")


# --- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=maroc",
        "/suggest?q=ma",
        "/openapi.json",
        "/articles/{id}/similar",
    ],
)
def test_successful_answers_may_be_cached(
    sample_index: Path,
    sample_articles: list[dict[str, Any]],
    make_client: MakeClient,
    path: str,
) -> None:
    client = make_client(Settings(index_dir=sample_index, cache_max_age_s=42))
    route, _, query = path.format(id=sample_articles[0]["id"]).partition("?")
    resp = client.simulate_get(route, query_string=query)
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "public, max-age=42"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/search?q=maroc", 200),
        ("GET", "/search", 400),
        ("GET", "/health", 200),
        ("GET", "/ready", 200),
        ("GET", "/nope", 404),
        ("POST", "/search", 405),
        ("GET", "/articles/nope/similar", 404),
        ("OPTIONS", "/search", 200),
    ],
)
def test_every_answer_is_json_and_nosniff(
    client: TestClient, method: str, path: str, status: int
) -> None:
    route, _, query = path.partition("?")
    resp = client.simulate_request(method, route, query_string=query)
    assert resp.status_code == status
    assert resp.headers["x-content-type-options"] == "nosniff"
    if method != "OPTIONS":
        assert resp.headers["content-type"] == "application/json"
        assert resp.headers["cache-control"] == (
            "public, max-age=60" if path.startswith("/search?") else "no-store"
        )


def test_cors_allows_the_site_origin(client: TestClient) -> None:
    resp = client.simulate_get("/search", params={"q": "maroc"}, headers={"Origin": SITE_ORIGIN})
    assert resp.headers["access-control-allow-origin"] == SITE_ORIGIN
    assert "Origin" in resp.headers["vary"]
    error = client.simulate_get("/search", headers={"Origin": SITE_ORIGIN})
    assert error.headers["access-control-allow-origin"] == SITE_ORIGIN  # the page reads errors too


def test_cors_ignores_other_origins(client: TestClient) -> None:
    resp = client.simulate_get(
        "/search", params={"q": "maroc"}, headers={"Origin": "https://evil.example"}
    )
    assert resp.status_code == 200
    assert "access-control-allow-origin" not in resp.headers
    # The answer still varies by Origin, so a shared cache never serves it to the site.
    assert "Origin" in resp.headers["vary"]
    plain = client.simulate_get("/search", params={"q": "maroc"})
    assert "access-control-allow-origin" not in plain.headers


@pytest.mark.parametrize("path", ["/search", "/suggest", "/articles/x/similar"])
def test_cors_preflight(client: TestClient, path: str) -> None:
    request = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "accept"}
    resp = client.simulate_options(path, headers={"Origin": SITE_ORIGIN, **request})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == SITE_ORIGIN
    assert "GET" in resp.headers["access-control-allow-methods"]
    assert resp.headers["cache-control"] == "no-store"
    other = client.simulate_options(path, headers={"Origin": "https://evil.example", **request})
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-methods" not in other.headers


def test_no_cors_without_configured_origins(sample_index: Path, make_client: MakeClient) -> None:
    client = make_client(Settings(index_dir=sample_index))
    resp = client.simulate_get("/search", params={"q": "maroc"}, headers={"Origin": SITE_ORIGIN})
    assert "access-control-allow-origin" not in resp.headers
    assert "vary" not in resp.headers


def test_cors_wildcard(sample_index: Path, make_client: MakeClient) -> None:
    client = make_client(Settings(index_dir=sample_index, cors_origins=("*",)))
    resp = client.simulate_get("/health", headers={"Origin": "https://any.example"})
    assert resp.headers["access-control-allow-origin"] == "*"


# --- the app factory and the gunicorn entry point ----------------------------------------------


def test_create_app_opens_nothing(tmp_path: Path) -> None:
    root = tmp_path / "index"
    client = TestClient(create_app(Settings(index_dir=root)))
    assert not root.exists()
    assert client.simulate_get("/health").status_code == 200


def test_get_app_reads_the_environment(sample_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSE_INDEX_DIR", str(sample_index))
    monkeypatch.setenv("PRESSE_CORS_ORIGINS", SITE_ORIGIN)
    monkeypatch.setenv("PRESSE_CACHE_MAX_AGE", "7")
    try:
        client = TestClient(get_app())
        resp = client.simulate_get(
            "/suggest", params={"q": "econ"}, headers={"Origin": SITE_ORIGIN}
        )
        assert resp.status_code == 200
        assert resp.headers["cache-control"] == "public, max-age=7"
        assert resp.headers["access-control-allow-origin"] == SITE_ORIGIN
        assert process_engine(Settings.from_env()) is process_engine(Settings.from_env())
    finally:
        process_engine(Settings.from_env()).close()
        process_engine.cache_clear()


def test_get_app_refuses_a_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSE_CACHE_MAX_AGE", "une minute")
    with pytest.raises(ConfigError, match="PRESSE_CACHE_MAX_AGE"):
        get_app()
