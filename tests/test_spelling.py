"""Autocomplete and "did you mean" (``search.spelling``) over a vocabulary written by hand.

A ``Vocabulary`` is built from (surface word, document frequency) pairs, as a build counts them
into a lexicon (``index.lexicon``); the lexicons are also saved and opened mmapped, and split in
segments whose counts add up. ``test_engine.py`` and ``test_correction.py`` check the same on
real indexes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.lexicon import Lexicon, LexiconBuilder
from search.spelling import MIN_DF, Vocabulary, edit_distance, phonetic_key, typo_budget

WORDS = [
    ("élections", 30),
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
    return Vocabulary.from_counts(WORDS)


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
        # Swapping two neighbours is one typo (Meilisearch counts it so too).
        ("electoins", "elections", 2, 1),
        ("ab", "ba", 1, 1),
        ("abcd", "badc", 2, 2),
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
        ("electoins", "élections"),  # a swap: one typo
        # Nothing to correct, or nothing close enough.
        ("raba", None),  # in one article: a word the index holds is never corrected
        ("rabt", None),  # under 5 letters: no typo allowed (Meilisearch's rule)
        ("économie", None),
        ("economie", None),
        ("ECONOMIQUES", None),
        ("eco", None),
        ("xy", None),
        ("2013", None),
        ("zzzzzzzz", None),
        ("ribot", None),  # two edits from "rabat": too many for a short word
        ("casablnca", "casablanca"),  # 9 letters: two typos allowed...
        ("casblnca", None),  # ...8 letters: one
    ],
)
def test_correct(vocabulary: Vocabulary, word: str, expected: str | None) -> None:
    assert vocabulary.correct(word) == expected


@pytest.mark.parametrize(
    ("word", "budget"), [("", 0), ("abcd", 0), ("abcde", 1), ("abcdefgh", 1), ("abcdefghi", 2)]
)
def test_typo_budget_follows_meilisearch(word: str, budget: int) -> None:
    assert typo_budget(word) == budget


def test_only_words_of_several_articles_are_offered() -> None:
    vocabulary = Vocabulary.from_counts([("tanger", MIN_DF), ("tangier", MIN_DF - 1)])
    assert vocabulary.complete("tang") == ["tanger"]
    assert vocabulary.correct("tangr") == "tanger"
    empty = Vocabulary.from_counts([])
    assert empty.complete("a") == [] and empty.correct("maroc") is None


def segment(words: list[tuple[str, int]]) -> Lexicon:
    builder = LexiconBuilder()
    for word, doc_freq in words:
        builder.add_counts(word, doc_freq)
    return builder.build()


def test_a_sound_alike_far_from_the_typed_word_is_no_correction() -> None:
    # "hollnde" sounds like "aulne" (key "oln") but is four edits from it, one from "hollande".
    vocabulary = Vocabulary.from_counts([("hollande", 5), ("aulne", 50)])
    assert vocabulary.correct("hollnde") == "hollande"


def test_the_letter_filter_loses_no_candidate() -> None:
    """The XOR of letter bits only drops words more edits away than the budget: corrections
    are those of a plain scan of every word."""
    import random

    words = [("".join(random.Random(n).choices("abcdeilnorstu", k=4 + n % 7)), 2 + n % 5)
             for n in range(400)]
    vocabulary = Vocabulary.from_counts(words)
    rng = random.Random(1)
    for word, _ in words[:150]:
        typo = list(word)
        typo[rng.randrange(len(typo))] = rng.choice("abcdeilnorstuz")
        typed = "".join(typo)
        limit = typo_budget(typed)
        if not limit or vocabulary.knows(typed):
            continue
        best = min(((edit_distance(typed, w, limit), -vocabulary.doc_freq(w), w)
                    for w, _ in words if w[0] == typed[0]), default=None)
        expected = best[2] if best and best[0] <= limit else None
        if vocabulary._by_sound(typed, limit + 2) is None:  # a sound-alike would win first
            assert vocabulary.correct(typed) == expected, typed


def test_segments_add_up() -> None:
    """A word of one article in each of two segments is a word of two articles."""
    vocabulary = Vocabulary([segment([("tanger", 1), ("rabat", 5)]),
                             segment([("Tanger", 1), ("tanja", 1)])])
    assert vocabulary.doc_freq("tanger") == 2
    assert vocabulary.complete("tan") == ["tanger"]  # tanja: one article in all
    assert vocabulary.correct("tangerr") == "tanger"
    assert vocabulary.correct("rabatt") == "rabat"
    assert vocabulary.correct("tanja") is None  # known


def test_builder_counts_each_document_once() -> None:
    builder = LexiconBuilder()
    builder.add(["économie", "économie", "maroc"])
    builder.add(["economie"])
    lexicon = builder.build()
    assert lexicon.doc_freq("economie") == 2 and lexicon.doc_freq("maroc") == 1
    assert lexicon.surface(lexicon.find("economie")) == "économie"


def test_a_saved_lexicon_opens_mmapped_and_answers_the_same(tmp_path: Path) -> None:
    built = segment(WORDS)
    built.save(tmp_path)
    opened = Lexicon.open(tmp_path)
    assert isinstance(opened.terms, np.memmap)
    for word in ("economik", "casablamca", "marakech", "raba"):
        assert Vocabulary([opened]).correct(word) == Vocabulary([built]).correct(word)
    assert Vocabulary([opened]).complete("éco") == Vocabulary([built]).complete("éco")
    assert len(Lexicon.open(tmp_path / "nothing-here")) == 0


def test_words_too_long_for_the_lexicon_are_never_corrected() -> None:
    long_word = "anticonstitutionnellementissimement" * 2
    vocabulary = Vocabulary.from_counts([(long_word, 5), ("maroc", 3)])
    assert vocabulary.doc_freq(long_word) == 0  # left out of the arrays...
    assert vocabulary.correct(long_word + "x") is None  # ...and so never "corrected"
