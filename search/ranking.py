"""Relevance: BM25F over title, summary and body, plus exact forms, coordination, proximity and
recency — pure numpy over posting arrays, no Whoosh.

Scoring is done in two passes so that the expensive features never touch the whole match set:

1. every matching document gets, in a few vectorised operations over dense arrays of the size of
   the index: true BM25F (term frequencies of the fields, each weighted and length-normalised, are
   added *before* saturation — Whoosh's own BM25F adds per-field scores, which ranked worse, see
   WHOOSH-NOTES), a BM25 score of the unstemmed folded forms (so ``économiques`` asked ranks the
   exact form above mere stem matches), a coordination factor (the share of the query's terms
   matched: the default operator is OR with a bonus for more), and a recency factor (news);
2. the ``rerank_depth`` best then get a proximity bonus for each pair of query words that stand
   within ``proximity_window`` positions of each other (positions are read for those only).

``RankingConfig`` holds every lever; its defaults are the values chosen on ``../shared/eval/piaf``
and a news-query workload (figures in ``docs/benchmarks.md``, ``scripts/bench relevance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Postings = tuple[np.ndarray, np.ndarray]  # (document numbers int32, term frequencies float32)


@dataclass(frozen=True, kw_only=True)
class RankingConfig:
    """Every relevance lever; see the module docstring."""

    k1: float = 0.9
    b: float = 0.6
    title_weight: float = 2.0
    summary_weight: float = 1.2
    body_weight: float = 1.0
    exact_weight: float = 0.6
    coord_weight: float = 0.3
    proximity_weight: float = 0.2
    proximity_window: int = 2
    rerank_depth: int = 200
    max_proximity_pairs: int = 8  # word pairs checked for proximity (cost grows with each)
    # News recency (the service's PRESSE_RECENCY_* settings set these).
    recency_weight: float = 0.1
    recency_half_life_days: float = 180.0
    # Similar articles, after Lucene's MoreLikeThis guards.
    similar_key_terms: int = 12
    similar_min_doc_freq: int = 2
    similar_max_doc_share: float = 0.02
    similar_max_doc_freq_floor: int = 50
    similar_min_match_share: float = 0.3
    similar_title_boost: float = 2.0
    # Suggestions: "did you mean" below this many hits; completions checked per typed prefix.
    suggest_below: int = 3
    suggest_candidates: int = 40

    @property
    def field_weights(self) -> dict[str, float]:
        return {
            "title": self.title_weight,
            "summary": self.summary_weight,
            "body": self.body_weight,
        }


def length_norms(lengths: np.ndarray, live: np.ndarray, b: float) -> np.ndarray:
    """BM25's per-document length normalisation, ``1 - b + b * len / avg_len``."""
    average = float(lengths[live].mean()) if live.any() else 0.0
    if average <= 0:
        return np.ones_like(lengths, dtype=np.float32)
    return (1.0 - b + b * lengths / average).astype(np.float32)


def idf(doc_freq: int, n_docs: int) -> float:
    """BM25's inverse document frequency (never negative)."""
    return float(np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5)))


class Scorer:
    """Accumulates per-document scores of one query over dense arrays."""

    def __init__(self, n_docs: int, config: RankingConfig) -> None:
        self.n_docs = n_docs
        self.config = config
        self.scores = np.zeros(n_docs, dtype=np.float32)
        self.matched = np.zeros(n_docs, dtype=np.float32)  # idf of the query terms matched
        self.count = np.zeros(n_docs, dtype=np.int16)  # how many of the query terms matched
        self.query_idf = 0.0  # idf of all the query terms
        self.term_idf: dict[str, float] = {}
        self._tf = np.zeros(n_docs, dtype=np.float32)

    def add_term(
        self,
        term: str,
        fields: Sequence[tuple[Postings, float, np.ndarray]],
        weight: float = 1.0,
        count_match: bool = True,
    ) -> np.ndarray:
        """Add one term's BM25F score; ``fields`` holds (postings, field weight, length norms).

        Returns the documents that hold the term.
        """
        tf = self._tf  # all zeros between two calls
        holding = []
        for (ids, freqs), field_weight, norms in fields:
            if len(ids) and field_weight > 0:  # a field weighted 0 adds nothing
                tf[ids] += field_weight * freqs / norms[ids]
                holding.append(ids)
        # The documents holding the term, from the posting lists rather than from a pass over
        # ``tf`` (73 µs a term on the shared corpus, 27 for this).
        docs = union(holding)
        if not len(docs):
            return docs
        k1 = self.config.k1
        term_idf = idf(len(docs), self.n_docs)
        self.term_idf[term] = term_idf
        found = tf[docs]
        tf[docs] = 0.0
        saturated = found * (k1 + 1.0) / (found + k1)
        self.scores[docs] += weight * term_idf * saturated
        if count_match:
            self.matched[docs] += term_idf
            self.count[docs] += 1
            self.query_idf += term_idf
        return docs

    def finish(self, recency: np.ndarray | None, docs: np.ndarray | None = None) -> np.ndarray:
        """Apply coordination and recency; returns the scores (0 for non-matching documents).

        Coordination counts the query's terms by their idf, so that a document missing a word
        found everywhere (``est``) loses little and one missing the rare word loses much.
        With ``docs`` (the candidates), only their scores are finished, the others are left as
        accumulated: the same figures for them, without passes over the whole index.
        """
        scores = self.scores
        where = slice(None) if docs is None else docs
        part = scores[where]
        if self.query_idf > 0 and self.config.coord_weight > 0:
            share = np.minimum(self.matched[where] / self.query_idf, 1.0)
            part *= (1.0 - self.config.coord_weight) + self.config.coord_weight * share
        if recency is not None:
            part *= recency[where]
        scores[where] = part
        return scores


def union(sorted_ids: Sequence[np.ndarray]) -> np.ndarray:
    """The union of sorted arrays of distinct document numbers, sorted.

    A stable sort of sorted runs end to end is a merge (timsort); the duplicates are then
    neighbours.
    """
    parts = [ids for ids in sorted_ids if len(ids)]
    if len(parts) <= 1:
        return parts[0] if parts else np.zeros(0, dtype=np.int64)
    merged = np.sort(np.concatenate(parts), kind="stable")
    keep = np.ones(len(merged), dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=keep[1:])
    return merged[keep]


def recency_factor(
    published_days: np.ndarray, weight: float, half_life_days: float, reference_day: float
) -> np.ndarray | None:
    """``1 + weight * 0.5 ** (age / half_life)``; age counted from ``reference_day`` (the newest
    article, so an archive is not all 'old'); undated articles get no boost."""
    if weight <= 0 or not len(published_days):
        return None
    age = np.clip(reference_day - published_days, 0.0, None)
    boost = weight * np.power(0.5, age / half_life_days)
    return (1.0 + np.nan_to_num(boost, nan=0.0)).astype(np.float32)


def top_documents(
    scores: np.ndarray, candidates: np.ndarray, k: int, tiebreak: np.ndarray | None = None
) -> np.ndarray:
    """The ``k`` best of ``candidates`` by score, best first; ties go to the larger ``tiebreak``
    (the publication day: recent first)."""
    if not len(candidates):
        return candidates
    if len(candidates) > k:
        # Keep every candidate scoring at least the k-th score, so that the tiebreak (not
        # argpartition's arbitrary pick) decides among the documents tied at the cut.
        values = scores[candidates]
        kth = np.partition(values, len(values) - k)[len(values) - k]
        candidates = candidates[values >= kth]
    if tiebreak is None:
        order = np.argsort(-scores[candidates], kind="stable")
    else:
        order = np.lexsort((-np.nan_to_num(tiebreak[candidates], nan=-1e9), -scores[candidates]))
    return candidates[order][:k]
