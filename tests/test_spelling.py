"""Autocomplete and "did you mean" (``search.spelling``) over a vocabulary written by hand.

A ``Vocabulary`` is built from (surface word, document frequency) pairs, as the engine reads them
from the unstemmed ``words`` field; ``test_engine.py`` checks the same on a real index.
"""

from __future__ import annotations

import pytest

from search.spelling import MIN_DF, Vocabulary, edit_distance, phonetic_key

WORDS = [
    ("économie", 40),
    ("economie", 2),  # typed without accents in a few articles: the same folded word
    ("économique", 30),
    ("économiques", 10),
    ("écologie", 5),
    ("développement", 25),
    ("développements", 3),
    ("marrakech", 20),
    ("casablanca", 50),
    ("rabat", 45),
    ("raba", 1),  # a typo in one article: never offered back
    ("été", 12),
    ("œuvre", 8),
    ("aujourd'hui", 15),
    ("2012", 9),
]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary(WORDS)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("economik", "economique"),
        ("economiques", "economique"),
        ("developement", "developpement"),
        ("marakech", "marrakech"),
        ("fotografie", "photographie"),
        ("ministaire", "ministere"),
        ("ekole", "ecole"),
        ("election", "elections"),
        ("kasablanka", "casablanca"),
    ],
)
def test_words_that_sound_alike_share_a_key(first: str, second: str) -> None:
    assert phonetic_key(first) == phonetic_key(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [("economie", "economique"), ("rabat", "sale"), ("cheval", "chameau"), ("port", "sport")],
)
def test_words_that_sound_different_do_not(first: str, second: str) -> None:
    assert phonetic_key(first) != phonetic_key(second)


@pytest.mark.parametrize(
    ("a", "b", "limit", "distance"),
    [
        ("rabat", "rabat", 2, 0),
        ("rabat", "rabbat", 2, 1),  # insertion
        ("rabat", "rbat", 2, 1),  # deletion
        ("casablanca", "casablamca", 2, 1),  # substitution
        ("kitten", "sitting", 3, 3),
        ("", "abc", 3, 3),
        # Past the limit, the answer is limit + 1, however far the words are.
        ("kitten", "sitting", 2, 3),
        ("abc", "xyz", 1, 2),
        ("maroc", "marocaines", 2, 3),
    ],
)
def test_edit_distance(a: str, b: str, limit: int, distance: int) -> None:
    assert edit_distance(a, b, limit) == distance
    assert edit_distance(b, a, limit) == distance


@pytest.mark.parametrize(
    ("prefix", "limit", "expected"),
    [
        ("econ", 8, ["économie", "économique", "économiques"]),
        ("écon", 8, ["économie", "économique", "économiques"]),
        ("ÉCON", 8, ["économie", "économique", "économiques"]),
        (" econ ", 8, ["économie", "économique", "économiques"]),
        ("eco", 2, ["économie", "économique"]),
        ("éco", 8, ["économie", "économique", "économiques", "écologie"]),
        ("oeu", 8, ["œuvre"]),
        ("aujourd’h", 8, ["aujourd'hui"]),
        ("201", 8, ["2012"]),
        ("raba", 8, ["rabat"]),  # "raba" itself is in one article only
        ("rabat", 8, ["rabat"]),
        ("rabats", 8, []),
        ("zzz", 8, []),
        ("", 8, []),
        ("   ", 8, []),
    ],
)
def test_complete(vocabulary: Vocabulary, prefix: str, limit: int, expected: list[str]) -> None:
    """Most frequent first, in their real (accented) spelling, accents ignored in the prefix."""
    assert vocabulary.complete(prefix, limit) == expected


def test_spellings_of_a_word_are_grouped(vocabulary: Vocabulary) -> None:
    assert vocabulary.doc_freq("ECONOMIE") == vocabulary.doc_freq("économie") == 42
    assert vocabulary.surface("economie") == "économie"
    assert vocabulary.doc_freq("inconnu") == 0
    assert len(vocabulary) == len(WORDS) - 1


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("economik", "économique"),  # by sound: the most frequent word of that sound
        ("Economik", "économique"),
        ("developement", "développement"),
        ("marakech", "marrakech"),
        ("rabbat", "rabat"),
        ("casablamca", "casablanca"),  # by spelling: one edit
        ("casablnaca", "casablanca"),  # two edits, allowed for a long word
        ("raba", "rabat"),  # known, but in fewer than MIN_DF articles
        # Nothing to correct, or nothing close enough.
        ("économie", None),
        ("economie", None),
        ("ECONOMIQUES", None),
        ("eco", None),
        ("xy", None),
        ("2013", None),
        ("zzzzzzzz", None),
        ("ribot", None),  # two edits from "rabat": too many for a short word
    ],
)
def test_correct(vocabulary: Vocabulary, word: str, expected: str | None) -> None:
    assert vocabulary.correct(word) == expected


def test_only_words_of_several_articles_are_offered() -> None:
    vocabulary = Vocabulary([("tanger", MIN_DF), ("tangier", MIN_DF - 1)])
    assert vocabulary.complete("tang") == ["tanger"]
    assert vocabulary.correct("tangr") == "tanger"
    assert Vocabulary([]).complete("a") == [] and Vocabulary([]).correct("maroc") is None
