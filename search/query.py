"""The reader's query language, parsed into clauses that the engine scores.

What a reader may type: words; ``"exact phrases"``; ``-word`` or ``-"a phrase"`` to exclude;
``OR`` between words. Everything else is plain words: an unbalanced quote runs to the end, a lone
``-`` or ``*`` is punctuation, ``title:`` is the word ``title``. Nothing a reader types is an error.

The default operator is OR with a bonus for matching more of the query (the engine's
coordination factor): on question-like queries, requiring every word loses most relevant
articles (see the note on issue 3). So ``OR`` itself changes nothing and is dropped; quoted
phrases are the way to require words together.

Each clause carries its stemmed terms (matched against title/summary/body) and its folded
surface words (matched against the unstemmed ``words`` field, so exact forms rank higher).
A word that analyses to several terms (``Maroc-France``, ``COVID-19``) is scored as its terms
with a bonus when they stand together.

Synonyms (issue 12, ``search.synonyms``) add ``expansions``: clauses the reader did not type,
each with a ``weight`` below 1 and the typed words it was ``expanded_from``. They are kept apart
from ``clauses`` so that every view below (and so the ranking of a query without synonyms)
stays exactly what the reader typed; the engine scores them as optional alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from index.analysis import QUESTION_WORDS, analyze, fold, french_analyzer, surface_analyzer
from index.schema import STEMMER
from search.errors import BadQuery

# A quoted phrase (the closing quote may be missing), or a run of non-space characters.
_CLAUSE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_OPERATORS = frozenset({"OR", "||"})


@dataclass(frozen=True)
class Clause:
    """One word or phrase of the query, analysed."""

    text: str
    stems: tuple[str, ...]
    surfaces: tuple[str, ...]
    phrase: bool = False
    negated: bool = False
    weight: float = 1.0  # below 1 for a synonym the reader did not type
    expanded_from: str | None = None  # the typed words a synonym stands for


@dataclass(frozen=True)
class ParsedQuery:
    """The clauses of a query and the views of them the engine needs."""

    text: str
    clauses: tuple[Clause, ...]
    expansions: tuple[Clause, ...] = ()  # synonyms, scored as optional, lighter alternatives

    @property
    def applied_expansions(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(typed words, synonyms searched too) for each synonym rule that applied."""
        found: dict[str, list[str]] = {}
        for clause in self.expansions:
            found.setdefault(clause.expanded_from or "", []).append(clause.text)
        return tuple((typed, tuple(added)) for typed, added in found.items())

    @property
    def positive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.negated and c.stems)

    @property
    def negative(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.negated and c.stems)

    @property
    def required_phrases(self) -> tuple[Clause, ...]:
        """Quoted phrases of two terms or more: a document must hold them, in order."""
        return tuple(c for c in self.positive if c.phrase and len(c.stems) > 1)

    @property
    def stems(self) -> tuple[str, ...]:
        """The distinct stemmed terms of the positive clauses, in query order."""
        return tuple(dict.fromkeys(t for c in self.positive for t in c.stems))

    @property
    def surfaces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for c in self.positive for t in c.surfaces))

    @property
    def marked_stems(self) -> tuple[str, ...]:
        """The stems to highlight: the typed words', then their synonyms' (issue 12)."""
        return tuple(dict.fromkeys([*self.stems, *(t for c in self.expansions for t in c.stems)]))

    @property
    def is_empty(self) -> bool:
        """True when nothing is left to search for (only stop words, punctuation, exclusions)."""
        return not self.positive


@lru_cache(maxsize=1)
def default_analyzers() -> tuple[Any, Any]:
    """The stemmed and surface analyzers of a new index (the engine passes its index's own)."""
    return french_analyzer(STEMMER), surface_analyzer()


def make_clause(text: str, analyzers: tuple[Any, Any], *, phrase: bool, negated: bool) -> Clause:
    """``text`` analysed into a clause, as the engine's analyzers see it."""
    stemmed, surface = analyzers
    return Clause(
        text=text,
        stems=tuple(analyze(stemmed, text)),
        surfaces=tuple(fold(w) for w in analyze(surface, text)),
        phrase=phrase,
        negated=negated,
    )


def parse_query(text: str, analyzers: tuple[Any, Any] | None = None) -> ParsedQuery:
    """Parse what the reader typed; never raises.

    ``analyzers`` are the (stemmed, surface) analyzers of the index being searched: a query must
    be analysed exactly as the documents were.
    """
    analyzers = analyzers or default_analyzers()
    clauses = []
    for match in _CLAUSE.finditer(text):
        minus, quoted, word = match.groups()
        if word is not None:
            if word in _OPERATORS:
                continue
            negated = word.startswith("-") and len(word) > 1
            if fold(word).strip("?¿!.,;:") in QUESTION_WORDS:
                continue
            clauses.append(
                make_clause(word[1:] if negated else word, analyzers, phrase=False, negated=negated)
            )
        else:
            clauses.append(make_clause(quoted, analyzers, phrase=True, negated=bool(minus)))
    return ParsedQuery(text, tuple(c for c in clauses if c.stems or c.surfaces))


# What one query may ask for. Each phrase and each exclusion is verified on every candidate
# that holds its words; each term is a posting list read in every field. A 500-character query
# of ~45 quoted pairs of the most frequent words ran 5 s in v1. A reader's real query has at
# most a couple of phrases (PIAF's 7,568 questions: no quotes at all). With 6 of each, the
# costliest shapes took ~0.55 s on the shared corpus and 5 clients sending them pushed a normal
# reader's p95 to 583 ms (bench hostile); with 3, see docs/reliability.md.
MAX_PHRASES = 3
MAX_EXCLUSIONS = 3
MAX_TERMS = 80  # a pasted lead paragraph (~70 words) still searches


def check_limits(parsed: ParsedQuery) -> None:
    """Raise ``BadQuery`` (naming ``q`` and the limit) for a query that asks too much."""
    phrases = sum(1 for c in parsed.clauses if c.phrase and len(c.stems) > 1)
    if phrases > MAX_PHRASES:
        raise BadQuery(
            f"q holds {phrases} quoted phrases; at most {MAX_PHRASES} are allowed", parameter="q"
        )
    exclusions = len(parsed.negative)
    if exclusions > MAX_EXCLUSIONS:
        raise BadQuery(
            f"q excludes {exclusions} words or phrases; at most {MAX_EXCLUSIONS} are allowed",
            parameter="q",
        )
    terms = len({t for c in parsed.clauses for t in c.stems})
    if terms > MAX_TERMS:
        raise BadQuery(
            f"q holds {terms} distinct words; at most {MAX_TERMS} are allowed", parameter="q"
        )


def is_stop_words_only(parsed: ParsedQuery) -> bool:
    """True when the reader typed words but every one is a stop word or a question word
    (``les``, ``comment pourquoi``): the page says so, rather than "check the spelling"."""
    return not parsed.clauses and any(
        word not in _OPERATORS and any(ch.isalnum() for ch in word) for word in parsed.text.split()
    )
