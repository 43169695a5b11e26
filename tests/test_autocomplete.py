"""Phrase autocomplete: the phrase index of titles (``index.phrases``), the completion of a
typed prefix (``search.autocomplete``), and ``/suggest`` over a real index.

The index is built from ``data/searchbox/articles.jsonl``, whose titles hold "coupe du monde",
"gilets jaunes", "Notre-Dame de Paris", "covid-19", "l'essence", "Saint-Denis" and "Saint-Malo"
two or three times each, and whose texts put "janvier" beside "gilets" and "mondes"/"Mondelez"
near "coupe du": the nonsense pairs the old word-by-word completion made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from falcon.testing import TestClient

from index.phrases import PhraseIndex, PhraseIndexBuilder, is_stop_word, normalize, title_words
from search.autocomplete import complete_phrases, merge, needs_words, opens_nothing, typed_part

# --- the phrase index ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("Coupe du Mo", "coupe du mo"),
        ("Notre-Da", "notre da"),
        ("saint-", "saint "),  # a finished word asks for what follows it
        ("  gilets   j", "gilets j"),
        ("L’Ess", "l'ess"),
        ("Œuvre", "oeuvre"),
        ("covid-1", "covid 1"),
    ],
)
def test_normalize(text: str, normalized: str) -> None:
    assert normalize(text) == normalized


@pytest.mark.parametrize(
    ("word", "stopped"),
    [("les", True), ("du", True), ("d'une", True), ("l'", True), ("comment", True),
     ("est", True), ("x", True), ("l'essence", False), ("notre-dame", False), ("2030", False),
     ("Maroc", False), ("UE", False)],
)
def test_is_stop_word(word: str, stopped: bool) -> None:
    assert is_stop_word(word) is stopped


def test_titles_are_cut_at_punctuation() -> None:
    assert list(title_words("Coupe du monde 2030 : le Maroc, « coorganisateur »")) == [
        ["Coupe", "du", "monde", "2030"], ["le", "Maroc"], ["coorganisateur"]]
    assert list(title_words("L’essence -- Saint-Denis")) == [["L'essence"], ["Saint-Denis"]]


def build(titles: list[str]) -> PhraseIndex:
    builder = PhraseIndexBuilder()
    for number, title in enumerate(titles):
        builder.add_title(title, number, float(number))  # later titles are newer
    return builder.build()


TITLES = [
    "Coupe du monde : le Maroc qualifié",
    "La coupe du monde de football au Qatar",
    "Les Lions et la Coupe du monde",
    "Macron et les gilets jaunes",
    "Gilets jaunes : Macron répond",
    "Un titre sans rien de commun",
]


def test_phrases_of_two_titles_or_more_never_open_or_close_on_a_stop_word() -> None:
    index = build(TITLES)
    keys = {index.key(row) for row in range(len(index))}
    assert {"coupe du monde", "coupe", "monde", "macron", "gilets jaunes"} <= keys
    assert not {"coupe du", "la coupe", "du monde", "les gilets"} & keys
    assert "titre" not in keys  # one title only
    assert list(index.keys) == sorted(index.keys)  # what np.searchsorted needs


def test_a_phrase_is_shown_as_titles_usually_write_it() -> None:
    index = build(TITLES)
    texts = {index.key(row): index.text(row) for row in range(len(index))}
    # "Coupe" at the start of a title is sentence case; inside, "Coupe du monde" wins 1-1 on
    # "coupe"... and "Macron" is capitalised wherever it is not the first word.
    assert texts["macron"] == "Macron" and texts["gilets jaunes"] == "gilets jaunes"


def test_a_first_word_keeps_its_capital_only_before_another_capitalised_word() -> None:
    index = build(["Bank Al-Maghrib relève son taux", "Bank Al-Maghrib baisse son taux",
                   "Inflation : la BAM agit", "Inflation en hausse", "COVID-19 : le bilan",
                   "COVID-19 recule"])
    texts = {index.key(row): index.text(row) for row in range(len(index))}
    assert texts["bank al maghrib"] == "Bank Al-Maghrib"
    assert texts["inflation"] == "inflation"
    assert texts["covid 19"] == "COVID-19"


def test_each_phrase_keeps_its_newest_articles_and_dropped_titles_go() -> None:
    index = build(TITLES)
    row = index.prefix_range("coupe du monde")[0]
    assert list(index.articles[row]) == [2, 1, 0]
    builder = PhraseIndexBuilder()
    for number, title in enumerate(TITLES):
        builder.add_title(title, number, float(number))
    kept = builder.build(keep=np.array([True, False, False, True, True, True]))
    assert "coupe du monde" not in {kept.key(r) for r in range(len(kept))}


def test_a_saved_phrase_index_opens_mmapped(tmp_path: Path) -> None:
    build(TITLES).save(tmp_path)
    opened = PhraseIndex.open(tmp_path)
    assert isinstance(opened.keys, np.memmap)
    assert [c.text for c in complete_phrases([opened], "gilets j", 5)] == ["gilets jaunes"]
    assert len(PhraseIndex.open(tmp_path / "none")) == 0


def test_segments_add_their_counts() -> None:
    one = build(["Gilets jaunes : acte 1", "Les gilets jaunes", "Le gilet de sauvetage"])
    two = build(["Gilets noirs à Paris", "Des gilets noirs", "Gilets jaunes : acte 3",
                 "Gilets jaunes, encore"])
    found = complete_phrases([one, two], "gilets", 5)
    # The typed word itself first (its articles lead), then the phrases by titles over both.
    assert [(c.text, c.count) for c in found] == [("gilets", 6), ("gilets jaunes", 4),
                                                  ("gilets noirs", 2)]
    # (segment, article), newest first within a segment; the segment holding the phrase in the
    # most titles first, and on a tie the later segment (whose articles came later).
    assert found[1].articles == ((1, 3), (1, 2), (0, 1), (0, 0))


@pytest.mark.parametrize(
    ("text", "prefix", "typed"),
    [
        ("coupe du monde", "coupe du mo", "coupe du mo"),
        ("Notre-Dame de Paris", "notre da", "Notre-Da"),
        ("Saint-Denis", "saint-", "Saint-"),
        ("l'essence", "L’ess", "l'ess"),
        ("Œuvre", "oeu", "Œu"),
        ("gilets jaunes", "gilets jaunes", "gilets jaunes"),
    ],
)
def test_typed_part(text: str, prefix: str, typed: str) -> None:
    assert typed_part(text, prefix) == typed


@pytest.mark.parametrize(
    ("prefix", "nothing"),
    [("les", True), ("pour", True), ("comment", True), ("ma", False), ("le", False),
     ("les ", False), ("les rép", False), ("lesb", False)],
)
def test_only_a_whole_stop_word_opens_nothing(prefix: str, nothing: bool) -> None:
    assert opens_nothing(prefix) is nothing


def test_merge_puts_strong_phrases_then_words_then_weak_phrases() -> None:
    index = build([*TITLES, "Le monde change", "Le mondial de l'auto", "Mondial : la finale"])
    phrases = complete_phrases([index], "mond", 8)
    shown = merge("mond", phrases, ["monde", "mondial", "mondiale"], 8)
    assert [c.text for c in shown] == ["monde", "mondial", "mondiale"]


@pytest.mark.parametrize(
    ("prefix", "words"),
    [("mond", True),  # one word being typed: words of the text too
     ("coupe du m", False),  # a title phrase continues it: no pairs of words
     ("coupe du monde", False),  # typed whole: nothing to pair
     ("coupe du x", True),  # no title phrase: pairs found together in articles
     ("les", False),
     ("les ", False),  # a finished word: nothing to complete but phrases
     ("de la ", False),
     ("coupe du x ", False)],
)
def test_needs_words(prefix: str, words: bool) -> None:
    index = build(TITLES)
    assert needs_words(prefix, complete_phrases([index], prefix, 8)) is words


# --- /suggest ------------------------------------------------------------------------------


def suggest(client: TestClient, prefix: str, **params: Any) -> dict[str, Any]:
    resp = client.simulate_get("/suggest", params={"q": prefix, **params})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json
    assert set(body) == {"query", "suggestions", "completions", "articles", "section_labels"}
    return body


@pytest.mark.parametrize(
    ("prefix", "first", "typed"),
    [
        ("coupe du mo", "coupe du monde", "coupe du mo"),
        ("gilets j", "gilets jaunes", "gilets j"),
        ("notre-da", "Notre-Dame de Paris", "Notre-Da"),  # never "Notre-Dame" alone here
        ("notre da", "Notre-Dame de Paris", "Notre-Da"),
        ("covid-1", "covid-19", "covid-1"),
        ("l'ess", "l'essence", "l'ess"),
        ("l’ess", "l'essence", "l'ess"),
        ("saint-", "Saint-Denis", "Saint-"),
        ("Saint-M", "Saint-Malo", "Saint-M"),
    ],
)
def test_the_whole_prefix_completes_into_a_phrase_of_the_titles(
    searchbox: TestClient, prefix: str, first: str, typed: str
) -> None:
    completions = suggest(searchbox, prefix)["completions"]
    assert completions[0] == {"text": first, "typed": typed}


@pytest.mark.parametrize(("prefix", "nonsense"),
                         [("coupe du mo", "mondes"), ("coupe du mo", "mondelez"),
                          ("gilets j", "janvier")])
def test_no_nonsense_pairs(searchbox: TestClient, prefix: str, nonsense: str) -> None:
    body = suggest(searchbox, prefix)
    texts = [c["text"].lower() for c in body["completions"]]
    assert texts and not any(nonsense in text for text in texts)
    assert body["suggestions"] == [c["text"] for c in body["completions"]]


def test_saint_offers_each_saint_by_title_count(searchbox: TestClient) -> None:
    texts = [c["text"] for c in suggest(searchbox, "saint-")["completions"]]
    assert texts[:2] == ["Saint-Denis", "Saint-Malo"]


@pytest.mark.parametrize("prefix", ["les", "Les", "comment", "pour", "les ", "de la "])
def test_a_stop_word_never_opens_the_list(searchbox: TestClient, prefix: str) -> None:
    # (before, "les" offered "lesbiennes")
    body = suggest(searchbox, prefix)
    assert body["completions"] == [] and body["suggestions"] == [] and body["articles"] == []


@pytest.mark.parametrize(("prefix", "first"), [("la coupe du mo", "la coupe du monde"),
                                               ("Les gilets j", "Les gilets jaunes")])
def test_stop_words_typed_first_are_kept_before_the_phrase(
    searchbox: TestClient, prefix: str, first: str
) -> None:
    completion = suggest(searchbox, prefix)["completions"][0]
    assert completion == {"text": first, "typed": prefix}


def test_articles_hold_the_best_phrase_newest_first(searchbox: TestClient) -> None:
    body = suggest(searchbox, "gilets j")
    articles = body["articles"]
    assert [a["id"] for a in articles] == ["monde-gilets-jaunes-bilan",
                                           "monde-gilets-jaunes-acte",
                                           "monde-gilets-jaunes-macron"]
    for article in articles:
        assert set(article) == {"id", "title", "url", "section"}
        assert "gilets jaunes" in article["title"].lower()
        assert article["url"].endswith(article["id"]) and article["section"] == ["monde"]
    assert body["section_labels"] == {"monde": "monde"}


def test_a_whole_phrase_typed_still_names_its_articles(searchbox: TestClient) -> None:
    body = suggest(searchbox, "coupe du monde")
    assert "coupe du monde" not in [c["text"] for c in body["completions"]]
    assert len(body["articles"]) == 3
    assert all("coupe du monde" in a["title"].lower() for a in body["articles"])


def test_one_word_is_completed_by_words_of_the_text(searchbox: TestClient) -> None:
    completions = suggest(searchbox, "infl")["completions"]
    assert completions[0] == {"text": "inflation", "typed": "infl"}


def test_limit_caps_the_completions(searchbox: TestClient) -> None:
    assert len(suggest(searchbox, "saint-", limit=1)["completions"]) == 1


def test_words_found_together_complete_a_prefix_no_title_continues(client: TestClient) -> None:
    """The sample corpus writes "banque centrale" in its texts, never in a title."""
    body = suggest(client, "banque cen")
    assert body["completions"][0] == {"text": "banque centrale", "typed": "banque cen"}


def test_a_phrase_always_followed_by_the_same_words_is_left_for_the_longer_one() -> None:
    one = build(["Marrakech confirme son statut", "Marrakech confirme son statut de capitale",
                 "Marrakech en fête"])
    texts = [c.text.lower() for c in complete_phrases([one], "marrakech c", 8)]
    assert texts == ["marrakech confirme son statut"]  # not "marrakech confirme (son)"
    # Over segments: "Marrakech confirme" is cut short in the first, not in both together.
    two = build(["Marrakech confirme sa place", "Marrakech confirme sa place forte"])
    texts = [c.text.lower() for c in complete_phrases([one, two], "marrakech c", 8)]
    assert texts[0] == "marrakech confirme"


def test_words_differing_by_their_accents_are_both_offered() -> None:
    index = build(["Influencé par les sondages", "Il se dit influencé par personne"])
    shown = merge("influ", complete_phrases([index], "influ", 8), ["influence", "influencé"], 8)
    assert [c.text for c in shown] == ["influence", "influencé"]
    assert [c.text for c in merge("economie", [], ["économie"], 8)] == ["économie"]


def test_a_word_that_is_also_a_phrase_is_shown_as_titles_write_it() -> None:
    index = build(["Fès et Marrakech", "Marrakech en fête"])
    shown = merge("marr", complete_phrases([index], "marr", 8), ["marrakech"], 8)
    assert [(c.text, c.typed) for c in shown] == [("Marrakech", "Marr")]
    assert shown[0].articles == ((0, 1), (0, 0))
