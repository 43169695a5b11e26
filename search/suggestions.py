"""Word completions and "did you mean" for one generation, from its real words (never stems).

The vocabulary (``search.spelling.Vocabulary``) reads each segment's lexicon, written with the
segment and memory-mapped: no per-worker dictionary of the archive's words.
"""

from __future__ import annotations

import numpy as np

from index.analysis import fold
from index.image import TEXT_FIELDS
from search.correction import corrected_query
from search.query import parse_query
from search.ranking import RankingConfig
from search.segments import GenerationReader
from search.spelling import Vocabulary


class Suggestions:
    """Completions and corrections over one opened generation."""

    def __init__(
        self, reader: GenerationReader, analyzers: tuple[object, object], config: RankingConfig
    ) -> None:
        self.reader = reader
        self.analyzers = analyzers
        self.config = config
        self.vocabulary = Vocabulary(reader.lexicons)

    def complete(self, prefix: str, limit: int) -> list[str]:
        """Completions of what the reader is typing: real words, never stems.

        With several words, the last one is completed by words found in articles that also hold
        the words before it, the most such articles first, so that ``banque cen`` offers
        ``banque centrale`` and not every word in ``cen…``.
        """
        head, _, last = prefix.strip().rpartition(" ")
        head = head.strip()
        if not head:
            return self.vocabulary.complete(last, limit)
        typed = {fold(word) for word in head.split()}
        candidates = [
            word
            for word in self.vocabulary.complete(last, self.config.suggest_candidates)
            if fold(word) not in typed
        ]
        context = self.docs_with_all(parse_query(head, self.analyzers).stems)
        if context is None:  # only stop words before the last word: keep them as typed
            return [f"{head} {word}" for word in candidates[:limit]]
        ranked = []
        for rank, word in enumerate(candidates):  # candidates come most frequent first
            together = int(np.count_nonzero(context[self.reader.surface_postings(fold(word))[0]]))
            if together:
                ranked.append((-together, rank, word))
        ranked.sort()
        return [f"{head} {word}" for _, _, word in ranked[:limit]]

    def docs_with_all(self, stems: tuple[str, ...]) -> np.ndarray | None:
        """Documents holding every one of ``stems`` in some text field (None if no stems)."""
        if not stems:
            return None
        together = self.reader.live.copy()
        for stem in stems:
            found = np.zeros(self.reader.n_docs, dtype=bool)
            for field in TEXT_FIELDS:
                found[self.reader.postings(field, stem)[0]] = True
            together &= found
        return together

    def did_you_mean(self, query: str) -> str | None:
        return corrected_query(self.vocabulary, query)
