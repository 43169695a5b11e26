"""Marked titles and snippets (``search.highlight``): which words match, what is escaped, where a
passage is cut. The query side is ``parse_query`` and the text side the build's own analysis pass
(``index.tokens``), as in the engine: a token matches when its stem is one of the query's.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from index.tokens import TextAnalyser
from search import highlight
from search.highlight import SNIPPET_CHARS, Spans
from search.query import parse_query

MARK = re.compile(r"</?mark>")

FILLER = (
    "Le gouvernement a présenté au Parlement un rapport détaillé sur la conjoncture et sur "
    "les perspectives du pays pour les prochaines années. "
)
ENDING = "L’inflation a atteint 3,5 % en mars, selon les chiffres publiés par la banque centrale."
LONG_TEXT = FILLER * 3 + ENDING


ANALYSER = TextAnalyser()


def matcher(query: str) -> str:
    return query


def spans(text: str, query: str) -> Spans:
    """The spans of ``text`` as a segment image holds them, matched against ``query``."""
    tokens = ANALYSER.analyse(text)
    numbers = {term: n for n, term in enumerate(dict.fromkeys(tokens.terms))}
    terms = np.array([numbers[t] for t in tokens.terms], dtype=np.int32)
    return Spans.match(np.array(tokens.starts, dtype=np.int32),
                       np.array(tokens.ends, dtype=np.int32), terms,
                       [numbers.get(stem, -1) for stem in parse_query(query).stems])


def mark(text: str, query: str) -> str:
    return highlight.mark(text, spans(text, query))


def snippet(text: str, query: str) -> str:
    return highlight.snippet(text, spans(text, query))


def marked(fragment: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", fragment)


def plain(fragment: str) -> str:
    return html.unescape(MARK.sub("", fragment))


@pytest.mark.parametrize(
    ("query", "word", "matches"),
    [
        ("economie", "économiques", True),  # accents and inflections
        ("economie", "ÉCONOMIE", True),
        ("Économie", "economique", True),
        ("économie", "écologie", False),
        ("chevaux", "cheval", True),
        ("nationales", "National", True),
        ("oeuvre", "œuvres", True),
        ("aujourd’hui", "aujourd'hui", True),
        ("covid", "COVID-19", True),
        ("france", "Maroc-France", True),
        ("3,5", "3,5", True),
        ("les élections", "les", False),  # a stop word is not marked
        ("maroc -rabat", "Rabat", False),  # an excluded word is not marked
    ],
)
def test_which_words_match(query: str, word: str, matches: bool) -> None:
    assert bool((spans(word, query).keys >= 0).any()) is matches


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("economie", "L’économie marocaine résiste", "L’<mark>économie</mark> marocaine résiste"),
        ("economie", "l'économie", "l&#x27;<mark>économie</mark>"),
        (
            "développement économique",
            "Le développement économique de l’Oriental",
            "Le <mark>développement</mark> <mark>économique</mark> de l’Oriental",
        ),
        ("ONU", "L’ONU et l’UE saluent l’accord", "L’<mark>ONU</mark> et l’UE saluent l’accord"),
        ("jusqu’Oujda", "Le TGV jusqu’Oujda", "Le TGV jusqu’<mark>Oujda</mark>"),
        ("aujourd’hui", "Aujourd’hui, le vote", "<mark>Aujourd’hui</mark>, le vote"),
        ("france", "Le match Maroc-France", "Le match Maroc-<mark>France</mark>"),  # the part
        ("script", "La balise <script> piège", "La balise &lt;<mark>script</mark>&gt; piège"),
        ("rabat", "Rabat & Salé", "<mark>Rabat</mark> &amp; Salé"),
        ("rabat", "Casablanca   et\n\nFès", "Casablanca et Fès"),
    ],
)
def test_mark(query: str, text: str, expected: str) -> None:
    assert mark(text, matcher(query)) == expected


HOSTILE = [
    "<script>alert('x')</script> à Rabat",
    'Rabat <img src=x onerror=alert(1)> & "Salé"',
    "</mark><mark>Rabat</mark>",
    "Rabat --><!-- <b>gras</b> &lt;déjà échappé&gt;",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_only_marks_are_markup(text: str) -> None:
    for fragment in (mark(text, matcher("rabat")), snippet(text, matcher("rabat"))):
        assert "<" not in MARK.sub("", fragment) and ">" not in MARK.sub("", fragment)
        assert marked(fragment) == ["Rabat"] * text.count("Rabat")
        assert plain(fragment).replace("… ", "") == " ".join(text.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "« L’économie va mieux », assure le ministre.",
            "« L’<mark>économie</mark> va mieux », assure le ministre.",
        ),
        ("Croissance de l’économie : 3,5 %", "Croissance de l’<mark>économie</mark> : 3,5 %"),
        ("— Économie ? 70 % !…", "— <mark>Économie</mark> ? 70 % !…"),
    ],
)
def test_a_short_text_is_the_snippet_whole(text: str, expected: str) -> None:
    """No "…" where nothing is left out, at either end."""
    assert snippet(text, matcher("economie")) == expected


def test_the_snippet_is_the_passage_with_the_query_words() -> None:
    result = snippet(LONG_TEXT, matcher("inflation mars"))
    assert marked(result) == ["inflation", "mars"]
    assert result.startswith("… ")
    assert not result.endswith("…")  # the end of the text is in the passage
    assert len(plain(result)) <= SNIPPET_CHARS + len("… ")


def test_the_passage_with_most_distinct_words_wins() -> None:
    text = (
        FILLER
        + "Le port de Tanger a battu un record. "
        + FILLER * 2
        + "Le port de Dakhla et le port de Nador avancent. "
        + FILLER
        + "À Tanger, le port et la zone franche recrutent. "
        + FILLER
    )
    assert set(marked(snippet(text, matcher("port tanger")))) == {"Tanger", "port"}


def test_among_passages_with_as_many_distinct_words_more_matches_then_the_first_win() -> None:
    text = (
        FILLER
        + "Tanger et son port. "
        + FILLER * 2
        + "Le port de Tanger, premier port du Nord. "
        + FILLER * 2
        + "Le port de Tanger, premier port du Sud. "
        + FILLER
    )
    result = snippet(text, matcher("port tanger"))
    assert marked(result) == ["port", "Tanger", "port"]
    assert "Nord" in result and "Sud" not in result


def test_the_snippet_is_cut_at_word_boundaries() -> None:
    text = FILLER * 4
    words = set(text.replace(".", "").split())
    for query in ("conjoncture", "rapport", "prochaines", "absent"):
        result = plain(snippet(text, matcher(query)))
        body = result.removeprefix("… ").removesuffix(" …")
        assert set(body.replace(".", "").split()) <= words, query
        assert 150 <= len(body) <= SNIPPET_CHARS + 1, query


def test_without_a_match_the_snippet_is_the_start_of_the_text() -> None:
    result = snippet(LONG_TEXT, matcher("Dakhla"))
    assert result.startswith("Le gouvernement a présenté") and result.endswith(" …")
    assert marked(result) == []


def test_an_elided_article_stays_outside_the_mark_and_inside_the_passage() -> None:
    result = snippet(LONG_TEXT, matcher("inflation"))
    assert "L’<mark>inflation</mark>" in result
    text = FILLER * 3 + "Selon l’économie d’aujourd’hui."
    assert "l’<mark>économie</mark>" in snippet(text, matcher("économies"))


def test_a_passage_never_opens_inside_an_elision() -> None:
    # The best passage starts with an elided word: its article comes with it.
    text = "Avant " + "x" * 60 + " L’inflation ralentit en mars."
    result = snippet(text, matcher("inflation"))
    assert "L’<mark>inflation</mark>" in result


def test_a_giant_token_still_gives_a_snippet() -> None:
    result = snippet("a" * 500, matcher("rabat"))
    assert result.startswith("a" * 100) and result.endswith(" …")
    assert snippet("", matcher("rabat")) == ""


def test_a_long_article_costs_what_its_passage_costs() -> None:
    """The passage is found from the spans; only its own tokens are rendered."""
    text = FILLER * 2000 + ENDING  # ~330,000 characters
    result = snippet(text, "inflation")
    assert "L’<mark>inflation</mark>" in result and result.startswith("… ")
    assert len(highlight.best_snippet([(text, spans(text, "inflation"))])) < 300
