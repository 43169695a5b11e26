"""The ranking metrics of ``bench.metrics``, checked against values computed by hand.

The example: three judged queries and one without any relevant document.

- A: relevant {d1: 1}; ranking d3, d1, d2 — the one relevant document at rank 2.
  DCG = (2^1 - 1) / log2(3) = 1/log2(3); ideal DCG = 1/log2(2) = 1 -> nDCG@10 = 1/log2(3)
  RR = 1/2; Recall = 1/1 = 1; AP = (precision at rank 2 = 1/2) / 1 relevant = 1/2.
- B: relevant {d1: 2, d2: 1}; ranking d2, d4, d1.
  DCG = (2^1 - 1)/log2(2) + 0 + (2^2 - 1)/log2(4) = 1 + 3/2 = 5/2
  ideal = (2^2 - 1)/log2(2) + (2^1 - 1)/log2(3) = 3 + 1/log2(3) -> nDCG@10 = (5/2) / (3 + 1/log2 3)
  RR = 1/1 = 1; Recall = 2/2 = 1; AP = (1/1 + 2/3) / 2 = 5/6.
- C: relevant {d5: 1, d6: 1}; ranking d7, d8 — nothing relevant: every metric 0.
- D: judged {d9: 0} only: no relevant document, skipped.

Means over A, B, C: nDCG@10 = (1/log2 3 + (5/2)/(3 + 1/log2 3) + 0) / 3, MRR@10 = (1/2 + 1 + 0)/3
= 1/2, Recall@100 = (1 + 1 + 0)/3 = 2/3, MAP@100 = (1/2 + 5/6 + 0)/3 = 4/9.
"""

from __future__ import annotations

import math

import pytest

from bench.metrics import METRICS, ap_at_k, evaluate, mrr_at_k, ndcg_at_k, recall_at_k

QRELS = {
    "A": {"d1": 1},
    "B": {"d1": 2, "d2": 1},
    "C": {"d5": 1, "d6": 1},
    "D": {"d9": 0},
}
RUN = {
    "A": ["d3", "d1", "d2"],
    "B": ["d2", "d4", "d1"],
    "C": ["d7", "d8"],
    "D": ["d9"],
}
INV_LOG2_3 = 1 / math.log2(3)
EXPECTED = {
    "A": {"ndcg@10": INV_LOG2_3, "mrr@10": 1 / 2, "recall@100": 1.0, "map@100": 1 / 2},
    "B": {
        "ndcg@10": (5 / 2) / (3 + INV_LOG2_3),
        "mrr@10": 1.0,
        "recall@100": 1.0,
        "map@100": 5 / 6,
    },
    "C": {"ndcg@10": 0.0, "mrr@10": 0.0, "recall@100": 0.0, "map@100": 0.0},
}


@pytest.mark.parametrize("query_id", ["A", "B", "C"])
def test_each_query_matches_the_hand_computed_values(query_id: str) -> None:
    ranking, judged = RUN[query_id], QRELS[query_id]
    expected = EXPECTED[query_id]
    assert ndcg_at_k(ranking, judged, 10) == pytest.approx(expected["ndcg@10"])
    assert mrr_at_k(ranking, judged, 10) == pytest.approx(expected["mrr@10"])
    assert recall_at_k(ranking, judged, 100) == pytest.approx(expected["recall@100"])
    assert ap_at_k(ranking, judged, 100) == pytest.approx(expected["map@100"])


def test_means_skip_the_query_without_relevant_documents() -> None:
    evaluation = evaluate(RUN, QRELS)
    assert evaluation.evaluated == 3
    assert evaluation.skipped == 1
    assert set(evaluation.per_query) == {"A", "B", "C"}
    assert evaluation.means["ndcg@10"] == pytest.approx(
        (INV_LOG2_3 + (5 / 2) / (3 + INV_LOG2_3)) / 3
    )
    assert evaluation.means["mrr@10"] == pytest.approx(1 / 2)
    assert evaluation.means["recall@100"] == pytest.approx(2 / 3)
    assert evaluation.means["map@100"] == pytest.approx(4 / 9)
    assert set(evaluation.means) == set(METRICS)


def test_cut_offs_count_only_the_first_k_ranks() -> None:
    # The relevant document at rank 11: outside nDCG@10 and MRR@10, inside Recall@100.
    ranking = [f"x{i}" for i in range(10)] + ["d1"]
    judged = {"d1": 1}
    assert ndcg_at_k(ranking, judged, 10) == 0.0
    assert mrr_at_k(ranking, judged, 10) == 0.0
    assert recall_at_k(ranking, judged, 100) == 1.0
    assert ap_at_k(ranking, judged, 100) == pytest.approx(1 / 11)


def test_a_repeated_document_counts_once_at_its_first_rank() -> None:
    # d1, d1, d2: without deduplication d1 would add gain twice and push nDCG above 1.
    judged = {"d1": 1, "d2": 1}
    assert ndcg_at_k(["d1", "d1", "d2"], judged, 10) == pytest.approx(1.0)
    assert ap_at_k(["d1", "d1", "d2"], judged, 100) == pytest.approx(1.0)


def test_undefined_without_relevant_documents() -> None:
    with pytest.raises(ValueError):
        ndcg_at_k(["d9"], {"d9": 0}, 10)
    with pytest.raises(ValueError):
        recall_at_k(["d9"], {}, 100)
