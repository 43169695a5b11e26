"""``bench.mlt``, the Lucene MoreLikeThis baseline of ``bench similar``, keeps Lucene's defaults
(checked on the synthetic index of a few thousand articles, where every rule has work to do)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bench.mlt import MAX_QUERY_TERMS, MIN_DOC_FREQ, MIN_TERM_FREQ, MoreLikeThis
from index.analysis import analyze
from index.generations import IndexRoot
from search.lifecycle import Served, SimilarView
from search.ranking import RankingConfig

FIELDS = ("title", "summary", "body")


@pytest.fixture(scope="module")
def snapshot(synthetic_index: Path) -> Iterator[SimilarView]:
    opened = Served(IndexRoot(synthetic_index).current(), RankingConfig())
    yield opened.similar_view
    opened.close()


def test_query_terms_follow_lucenes_defaults(snapshot: SimilarView) -> None:
    mlt = MoreLikeThis(snapshot, FIELDS, RankingConfig().b)
    sizes = []
    for docnum in range(0, snapshot.n_docs, 97):
        stored = snapshot.stored(docnum)
        clauses = mlt.query_terms(stored)
        sizes.append(len(clauses))
        assert len(clauses) <= MAX_QUERY_TERMS
        if not clauses:  # no word twice in a field: Lucene finds nothing like it
            assert mlt.similar(docnum, 5) == []
        scores = []
        for name, term in clauses:
            tf = Counter(analyze(snapshot.analyzers[0], stored.get(name) or ""))[term]
            df = snapshot.doc_frequency(name, term)
            assert tf >= MIN_TERM_FREQ and df >= MIN_DOC_FREQ, (name, term, tf, df)
            scores.append(tf * (1 + math.log((snapshot.documents + 1) / (df + 1))))
        assert scores == sorted(scores, reverse=True)
    assert max(sizes) > 5 and sum(sizes) / len(sizes) > 2


def test_results_match_30_percent_of_the_clauses_and_leave_out_the_source(
    snapshot: SimilarView,
) -> None:
    mlt = MoreLikeThis(snapshot, FIELDS, RankingConfig().b)
    for docnum in range(0, snapshot.n_docs, 211):
        clauses = mlt.query_terms(snapshot.stored(docnum))
        found = mlt.similar(docnum, 5)
        assert docnum not in found and len(found) <= 5
        needed = max(1, math.floor(0.3 * len(clauses)))
        for other in found:
            matched = sum(
                bool(np.isin(other, snapshot.postings(name, term)[0])) for name, term in clauses
            )
            assert matched >= needed
