"""Typo-tolerant results: which query to run instead of the one typed, and when.

``corrected_query(vocabulary, query)`` corrects each word of the query on its own
(``search.spelling.Vocabulary.correct``: Meilisearch's length rules, words the index holds left
alone) and keeps everything else as typed — quotes, ``-`` exclusions, ``OR``, elisions,
punctuation — so ``"electoins legislatives"`` becomes ``"élections legislatives"``.

``clearly_more(before, after)`` decides whether the corrected query is worth answering with
instead: both counts are of the articles holding *every* word (the engine's count), because a
query answered by OR finds hundreds of articles through its one right word (``electoins
legislatives``: 643 results, all for "législatives") while finding none that holds the typo.
The corrected query must find at least twice as many such articles, and at least one.
"""

from __future__ import annotations

import re

from index.analysis import QUESTION_WORDS, STOP_WORDS, fold
from search.spelling import Vocabulary

# The words of a query as the analyzer sees them inside elisions and compounds (l'inflasion,
# covid-19): letters and digits only.
_WORD = re.compile(r"\w+")
_OPERATORS = frozenset({"OR"})
CLEARLY_MORE = 2  # the corrected query must find this many times more articles


def corrected_query(vocabulary: Vocabulary, query: str) -> str | None:
    """``query`` with its unknown words corrected, or None when no word changed."""
    changed = False

    def fix(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group()
        folded = fold(word)
        if word in _OPERATORS or folded in STOP_WORDS or folded in QUESTION_WORDS:
            return word
        correction = vocabulary.correct(word)
        if correction is None or fold(correction) == folded:
            return word
        changed = True
        return correction

    corrected = _WORD.sub(fix, query)
    return corrected if changed else None


def clearly_more(before: int, after: int) -> bool:
    """Whether ``after`` articles holding every corrected word clearly beat ``before``."""
    return after >= 1 and after >= CLEARLY_MORE * before
