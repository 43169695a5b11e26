"""Ranking metrics: nDCG@k, MRR@k, Recall@k and MAP@k, as pure functions of rankings and qrels.

Definitions (the standard ones, as ``trec_eval`` and BEIR compute them):

- a document is *relevant* when its judged relevance is > 0; unjudged documents count as 0;
- ``DCG@k = sum over ranks i <= k of (2^rel_i - 1) / log2(i + 1)``; ``nDCG@k`` divides it by the
  DCG@k of the ideal ranking (every judged document, best first);
- ``RR@k = 1 / rank`` of the first relevant document within the first k, else 0;
- ``Recall@k`` = relevant documents within the first k / all relevant documents;
- ``AP@k`` = the sum, over the ranks i <= k that hold a relevant document, of the precision at i,
  divided by the number of relevant documents (``trec_eval``'s ``map_cut`` convention).

A document repeated in a ranking counts at its first rank only. Queries with no relevant document
in the qrels are skipped (their scores are undefined); a query that has relevant documents but no
ranking at all scores 0 everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Qrels = Mapping[str, Mapping[str, int]]  # query id -> doc id -> relevance
Run = Mapping[str, Sequence[str]]  # query id -> ranked doc ids, best first

METRICS = ("ndcg@10", "mrr@10", "recall@100", "map@100")


def _unique(ranking: Iterable[str], k: int) -> list[str]:
    seen: set[str] = set()
    top: list[str] = []
    for doc in ranking:
        if doc not in seen:
            seen.add(doc)
            top.append(doc)
            if len(top) == k:
                break
    return top


def dcg(relevances: Iterable[int]) -> float:
    """Discounted cumulative gain of relevance grades in rank order (rank 1 first)."""
    return sum(
        ((2.0**rel - 1) / math.log2(rank + 1) for rank, rel in enumerate(relevances, start=1)), 0.0
    )


def ndcg_at_k(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """nDCG@k of one ranking; ``judged`` maps doc ids to relevance and has a relevant document."""
    gains = [max(judged.get(doc, 0), 0) for doc in _unique(ranking, k)]
    ideal = dcg(sorted((rel for rel in judged.values() if rel > 0), reverse=True)[:k])
    if ideal == 0:
        raise ValueError("nDCG is undefined for a query without relevant documents")
    return dcg(gains) / ideal


def mrr_at_k(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Reciprocal rank of the first relevant document within the first ``k`` (0 if none)."""
    for rank, doc in enumerate(_unique(ranking, k), start=1):
        if judged.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def recall_at_k(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found within the first ``k``."""
    relevant = {doc for doc, rel in judged.items() if rel > 0}
    if not relevant:
        raise ValueError("recall is undefined for a query without relevant documents")
    return len(relevant.intersection(_unique(ranking, k))) / len(relevant)


def ap_at_k(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Average precision cut at ``k``, divided by the number of relevant documents."""
    relevant = sum(1 for rel in judged.values() if rel > 0)
    if not relevant:
        raise ValueError("AP is undefined for a query without relevant documents")
    found = 0
    total = 0.0
    for rank, doc in enumerate(_unique(ranking, k), start=1):
        if judged.get(doc, 0) > 0:
            found += 1
            total += found / rank
    return total / relevant


def query_metrics(ranking: Sequence[str], judged: Mapping[str, int]) -> dict[str, float]:
    """The four reported metrics of one query (see ``METRICS``)."""
    return {
        "ndcg@10": ndcg_at_k(ranking, judged, 10),
        "mrr@10": mrr_at_k(ranking, judged, 10),
        "recall@100": recall_at_k(ranking, judged, 100),
        "map@100": ap_at_k(ranking, judged, 100),
    }


@dataclass(frozen=True)
class Evaluation:
    """Mean metrics over the evaluated queries, and each query's own scores."""

    means: dict[str, float]
    per_query: dict[str, dict[str, float]]
    evaluated: int
    skipped: int  # queries of the run without any relevant document in the qrels


def evaluate(run: Run, qrels: Qrels) -> Evaluation:
    """Score every query of ``run`` that has a relevant document in ``qrels``.

    Judged queries missing from ``run`` are not scored here: the caller runs every query and
    gives an empty ranking to those that found nothing, so they count as 0.
    """
    per_query: dict[str, dict[str, float]] = {}
    skipped = 0
    for query_id, ranking in run.items():
        judged = qrels.get(query_id, {})
        if not any(rel > 0 for rel in judged.values()):
            skipped += 1
            continue
        per_query[query_id] = query_metrics(ranking, judged)
    means = {
        name: (
            sum(scores[name] for scores in per_query.values()) / len(per_query)
            if per_query
            else 0.0
        )
        for name in METRICS
    }
    return Evaluation(means=means, per_query=per_query, evaluated=len(per_query), skipped=skipped)
