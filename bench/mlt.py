"""Lucene's ``MoreLikeThis`` at its defaults, over our index: the baseline of ``bench similar``.

What Elasticsearch's ``more_like_this`` query does with a document id and its defaults, read from
Lucene 8.7 (``MoreLikeThis.createQueue``/``createQuery``) and Elasticsearch's
``MoreLikeThisQueryBuilder``:

- the source's text of each field is analysed (here: our French chain, the index's own analyzer);
  term frequencies are counted *per field*, and a (field, term) is a candidate when its frequency
  is at least 2 (``min_term_freq``) and its document frequency in that field at least 5
  (``min_doc_freq``), with no ceiling (``max_doc_freq``);
- candidates are scored tf × idf with ``ClassicSimilarity``'s idf, ``1 + ln((N + 1)/(df + 1))``,
  and the best 25 (``max_query_terms``) become SHOULD term clauses, unboosted;
- at least 30% of the clauses must match (``minimum_should_match: "30%"``, rounded down);
- the query is scored by BM25 (k1 1.2, b 0.75), each field separately, clause scores added;
  the source itself is left out (``include: false``); ties go to the lower document number.

Field length norms are recovered from the engine's (``1 - b + b * len / avg``, the engine's b),
so no second copy of the lengths is read. Lucene's one-byte length encoding is not reproduced.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.analysis import analyze
from search.ranking import idf, top_documents
from search.similar import SimilarIndex

MIN_TERM_FREQ = 2
MIN_DOC_FREQ = 5
MAX_QUERY_TERMS = 25
MIN_SHOULD_MATCH = 0.30
K1 = 1.2
B = 0.75


@dataclass
class MoreLikeThis:
    """The baseline over ``index``; ``fields`` are the text fields it reads and queries."""

    index: SimilarIndex
    fields: Sequence[str]
    engine_b: float

    def __post_init__(self) -> None:
        # len / avg_len from the engine's norms, then Lucene's normalisation with its own b.
        self.norms = {
            name: (1.0 - B + B * (self.index.norms[name] - (1.0 - self.engine_b)) / self.engine_b)
            for name in self.fields
        }

    def query_terms(self, stored: dict[str, str]) -> list[tuple[str, str]]:
        """The (field, term) clauses of the source's query, best tf·idf first."""
        n_docs = self.index.documents
        scored = []
        for name in self.fields:
            counts = Counter(analyze(self.index.analyzers[0], stored.get(name) or ""))
            for term, tf in counts.items():
                if tf < MIN_TERM_FREQ:
                    continue
                doc_freq = self.index.doc_frequency(name, term)
                if doc_freq < MIN_DOC_FREQ:
                    continue
                classic_idf = 1.0 + math.log((n_docs + 1) / (doc_freq + 1))
                scored.append((tf * classic_idf, name, term))
        scored.sort(key=lambda item: -item[0])
        return [(name, term) for _, name, term in scored[:MAX_QUERY_TERMS]]

    def similar(self, docnum: int, limit: int) -> list[int]:
        """The ``limit`` best documents for the source ``docnum``, best first."""
        clauses = self.query_terms(self.index.stored(docnum))
        if not clauses:
            return []
        scores = np.zeros(self.index.n_docs, dtype=np.float32)
        matched = np.zeros(self.index.n_docs, dtype=np.int16)
        for name, term in clauses:
            ids, tfs = self.index.postings(name, term)
            if not len(ids):
                continue
            norms = self.norms[name][ids]
            scores[ids] += idf(len(ids), self.index.documents) * tfs / (tfs + K1 * norms)
            matched[ids] += 1
        needed = max(1, math.floor(MIN_SHOULD_MATCH * len(clauses)))
        candidates = np.flatnonzero((matched >= needed) & self.index.live)
        candidates = candidates[candidates != docnum]
        return [int(d) for d in top_documents(scores, candidates, limit)]
