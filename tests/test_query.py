"""The reader's query language (``search.query.parse_query``), as tables of what readers type.

Each clause is written ``(stems, phrase, negated)``: the stemmed terms the engine scores, whether
it was quoted, whether it was excluded with ``-``. The engine-level effect of the same syntax
(a phrase required, a word excluded) is in ``test_engine.py``.
"""

from __future__ import annotations

import pytest

from index.analysis import french_analyzer, surface_analyzer
from search.query import QUESTION_WORDS, is_stop_words_only, parse_query

WORD, PHRASE = False, True
KEPT, EXCLUDED = False, True

CLAUSES = [
    # Words, analysed as the index is: elision, accents, stems.
    ("économie marocaine", [(("econom",), WORD, KEPT), (("marocain",), WORD, KEPT)]),
    ("L’économie", [(("econom",), WORD, KEPT)]),
    ("ECONOMIE", [(("econom",), WORD, KEPT)]),
    ("aujourd’hui", [(("aujourd'hui",), WORD, KEPT)]),
    ("3,5 %", [(("3,5",), WORD, KEPT)]),
    # Hyphenated words: one clause holding the terms of each part.
    ("Maroc-France", [(("maroc", "franc"), WORD, KEPT)]),
    ("COVID-19", [(("covid", "19"), WORD, KEPT)]),
    # Phrases, closed or not: an unbalanced quote runs to the end of the query.
    ('"coupe du monde"', [(("coup", "mond"), PHRASE, KEPT)]),
    ('"coupe du monde', [(("coup", "mond"), PHRASE, KEPT)]),
    (
        'Mondial "coupe du monde" 2030',
        [(("mondial",), WORD, KEPT), (("coup", "mond"), PHRASE, KEPT), (("2030",), WORD, KEPT)],
    ),
    # Exclusions, of a word or of a phrase.
    ("football -féminin", [(("football",), WORD, KEPT), (("feminin",), WORD, EXCLUDED)]),
    (
        'football -"coupe du monde"',
        [(("football",), WORD, KEPT), (("coup", "mond"), PHRASE, EXCLUDED)],
    ),
    ("-Maroc-France", [(("maroc", "franc"), WORD, EXCLUDED)]),
    # OR changes nothing (the default operator already is OR with a bonus for more words).
    ("Rabat OR Salé", [(("rabat",), WORD, KEPT), (("sal",), WORD, KEPT)]),
    ("Rabat || Salé", [(("rabat",), WORD, KEPT), (("sal",), WORD, KEPT)]),
    # "or" in lower case is a French word (gold), not an operator.
    ("prix de l’or", [(("prix",), WORD, KEPT), (("or",), WORD, KEPT)]),
    # Interrogatives are dropped, with their punctuation and in any case, but kept in phrases.
    ("Pourquoi l’inflation augmente ?", [(("inflat",), WORD, KEPT), (("augment",), WORD, KEPT)]),
    ("COMMENT voter", [(("vot",), WORD, KEPT)]),
    ("Combien? d’élèves", [(("elev",), WORD, KEPT)]),
    ('"quand la ville dort"', [(("quand", "vill", "dort"), PHRASE, KEPT)]),
    # What the parser cannot make sense of is plain words.
    ("title:maroc", [(("titl", "maroc"), WORD, KEPT)]),
    ("maroc -", [(("maroc",), WORD, KEPT)]),
    ("port*", [(("port",), WORD, KEPT)]),
]


@pytest.mark.parametrize(("text", "expected"), CLAUSES, ids=[t for t, _ in CLAUSES])
def test_clauses(text: str, expected: list[tuple[tuple[str, ...], bool, bool]]) -> None:
    parsed = parse_query(text)
    assert [(c.stems, c.phrase, c.negated) for c in parsed.clauses] == expected
    assert parsed.text == text


@pytest.mark.parametrize(
    "text",
    [
        "les",
        "le la les de du des",
        "L’",
        "OR",
        "OR || OR",
        "-",
        "--",
        '""',
        '-""',
        "-sport",
        '-"coupe du monde"',
        "pourquoi ?",
        "Comment?",
        "quand",
        "¿Pourquoi?",
        "?!;",
        "",
        "   ",
        "🇲🇦",
    ],
)
def test_nothing_to_search_for(text: str) -> None:
    """Stop words, operators, punctuation and exclusions alone leave nothing: no hits, no error."""
    parsed = parse_query(text)
    assert parsed.is_empty
    assert parsed.positive == () and parsed.stems == ()


@pytest.mark.parametrize(
    "text",
    [
        '"unbalanced',
        '""""',
        "((",
        "[2020 TO 2024]",
        "\\",
        "\x00",
        "maroc~2",
        "a" * 500,
        '-"',
        "-\"'",
        "l’’’",
        "‐‑–—",
        "x\u0301",
        "\ud7ff",
    ],
)
def test_any_input_parses(text: str) -> None:
    parse_query(text)


def test_required_phrases_are_quoted_clauses_of_several_terms() -> None:
    parsed = parse_query('"coupe du monde" "Rabat" -"Maroc France" stade')
    assert [c.stems for c in parsed.required_phrases] == [("coup", "mond")]
    assert [c.stems for c in parsed.negative] == [("maroc", "franc")]


def test_stems_and_surfaces_are_the_positive_terms_once_each_in_order() -> None:
    parsed = parse_query("Économies économie marocaines -Rabat Maroc-France France")
    assert parsed.stems == ("econom", "marocain", "maroc", "franc")
    # Surface forms are folded (exact-form ranking and highlighting ignore accents).
    assert parsed.surfaces == ("economies", "economie", "marocaines", "maroc", "france")


def test_every_question_word_is_dropped() -> None:
    assert all(parse_query(f"{word} Maroc").stems == ("maroc",) for word in QUESTION_WORDS)


def test_the_index_analyzers_are_used() -> None:
    """A query is analysed by the analyzers of the index searched, not by today's default."""
    light = (french_analyzer("light"), surface_analyzer())
    assert parse_query("développement").stems == ("developp",)
    assert parse_query("développement", light).stems == ("develop",)


@pytest.mark.parametrize(
    ("query", "only_stop_words"),
    [
        ("les", True),
        ("Les", True),
        ("comment pourquoi", True),
        ("le la les OR des", True),
        ('"les"', True),
        ("l'", True),
        ("les maroc", False),
        ("-maroc", False),  # an exclusion is a word, not a stop word
        ("les -maroc", False),
        ("***", False),  # punctuation: nothing was typed to call a stop word
        ("OR", False),
        ("2", False),
    ],
)
def test_stop_words_only(query: str, only_stop_words: bool) -> None:
    assert is_stop_words_only(parse_query(query)) is only_stop_words
