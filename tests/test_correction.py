"""Typo-tolerant results (``search.correction`` and the engine's use of it), end to end.

The corpus, ``data/searchbox/articles.jsonl``, holds a few articles per subject (inflation, the
legislative elections, economic development, the government) and one article with a rare real
word two typos away from a frequent one (``inflexion`` / ``inflation``). Each typo query must
answer with the results of its correction, the reader's own query kept; ``correct=false`` must
run it as typed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SEARCHBOX_CORPUS, BuildIndex, MakeClient
from falcon.testing import TestClient

from index.build import apply_update
from index.generations import IndexRoot
from search.config import Settings
from search.correction import clearly_more, corrected_query
from search.spelling import Vocabulary


def search(client: TestClient, **params: str) -> dict:
    resp = client.simulate_get("/search", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json


def ids(body: dict) -> list[str]:
    return [hit["id"] for hit in body["hits"]]


@pytest.mark.parametrize(
    ("typed", "corrected", "expected_first", "found_as_typed"),
    [
        ("inflasion", "inflation", {"eco-inflation-avril", "eco-inflation-bam"}, 0),
        ("electoins legislatives", "élections legislatives",
         {"pol-legislatives-campagne", "pol-legislatives-date"}, 3),  # "législatives" alone
        ("developement economik", "développement économique",
         {"eco-dev-regions", "eco-dev-rural"}, 0),
        ("gouvernemnt", "gouvernement",
         {"pol-gouvernement-remaniement", "pol-gouvernement-budget"}, 0),
    ],
)
def test_a_typo_query_answers_with_the_results_of_its_correction(
    searchbox: TestClient, typed: str, corrected: str, expected_first: set[str],
    found_as_typed: int,
) -> None:
    body = search(searchbox, q=typed)
    assert body["query"] == typed  # the reader's own words, for "rechercher plutôt"
    assert body["corrected_query"] == corrected
    assert body["suggestion"] is None
    assert set(ids(body)[:len(expected_first)]) == expected_first
    direct = search(searchbox, q=corrected)
    assert (ids(body), body["total"], body["facets"]) == (ids(direct), direct["total"],
                                                         direct["facets"])
    # As typed, on request: what the query itself finds, and the correction offered instead.
    as_typed = search(searchbox, q=typed, correct="false")
    assert as_typed["corrected_query"] is None
    assert as_typed["total"] == found_as_typed < body["total"]
    assert as_typed["suggestion"] == (corrected if not found_as_typed else None)


def test_a_query_found_by_its_right_word_alone_is_still_corrected(searchbox: TestClient) -> None:
    """``electoins legislatives`` finds the articles on "législatives" as typed (the engine ranks
    articles holding any word), but none holds every word: the correction finds them."""
    as_typed = search(searchbox, q="electoins legislatives", correct="false")
    assert as_typed["total"] > 0 and as_typed["corrected_query"] is None
    corrected = search(searchbox, q="electoins legislatives")
    assert corrected["corrected_query"] == "élections legislatives"
    assert ids(corrected)[0] in {"pol-legislatives-campagne", "pol-legislatives-date"}


@pytest.mark.parametrize("query", ["inflexion", "Inflexion", "inflexion monétaire"])
def test_a_rare_real_word_is_left_alone(searchbox: TestClient, query: str) -> None:
    body = search(searchbox, q=query)
    assert body["corrected_query"] is None and body["suggestion"] is None
    assert ids(body)[0] == "eco-inflexion"


@pytest.mark.parametrize("query", ["inflation", "prik", "xqzw", "2,1 %"])
def test_known_short_or_hopeless_words_are_not_corrected(searchbox: TestClient, query: str) -> None:
    assert search(searchbox, q=query)["corrected_query"] is None


def test_correct_must_be_true_or_false(searchbox: TestClient) -> None:
    resp = searchbox.simulate_get("/search", params={"q": "inflasion", "correct": "non"})
    assert resp.status_code == 400
    assert resp.json["error"]["parameter"] == "correct"


def test_typed_and_corrected_answers_are_cached_apart(searchbox: TestClient) -> None:
    answers = [search(searchbox, q="inflasion", correct=c) for c in ("false", "true", "false")]
    assert [a["corrected_query"] for a in answers] == [None, "inflation", None]
    assert [a["total"] for a in answers] == [0, 3, 0]


VOCABULARY = Vocabulary.from_counts([
    ("élections", 30), ("législatives", 12), ("inflation", 20), ("inflexion", 1),
    ("développement", 9), ("économique", 14),
])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("electoins legislatives", "élections legislatives"),  # known words stay as typed
        ('"electoins legislatives"', '"élections legislatives"'),  # the syntax is kept
        ("-inflasion", "-inflation"),
        ("l'inflasion", "l'inflation"),  # elisions too
        ("inflasion OR developement", "inflation OR développement"),
        ("les inflasion", "les inflation"),  # stop words are never corrected
        ("inflexion", None),  # in one article: a real word
        ("inflation", None),
        ("xqzwv", None),
    ],
)
def test_corrected_query(query: str, expected: str | None) -> None:
    assert corrected_query(VOCABULARY, query) == expected


@pytest.mark.parametrize(
    ("before", "after", "worth_it"),
    [(0, 0, False), (0, 1, True), (3, 5, False), (3, 6, True), (10, 19, False), (10, 200, True)],
)
def test_clearly_more(before: int, after: int, worth_it: bool) -> None:
    assert clearly_more(before, after) is worth_it


def test_a_word_brought_by_an_update_is_never_corrected(
    build_index: BuildIndex, tmp_path: Path, make_client: MakeClient
) -> None:
    """``inflatian`` is one typo from ``inflation``: a typo until an update brings an article
    holding it, then a word of the index (the update rebuilds the lexicon)."""
    root = build_index(SEARCHBOX_CORPUS)
    client = make_client(Settings(index_dir=root, refresh_interval_s=0))
    assert search(client, q="inflatian")["corrected_query"] == "inflation"
    source = tmp_path / "update.jsonl"
    source.write_text(json.dumps({"id": "eco-inflatian", "title": "La marque Inflatian",
                                  "body": "Inflatian, une marque de matelas gonflables."}) + "\n",
                      encoding="utf-8")
    apply_update(IndexRoot(root), source)
    body = search(client, q="inflatian")
    assert body["corrected_query"] is None and ids(body) == ["eco-inflatian"]
