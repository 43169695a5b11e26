"""The relevance arithmetic of ``search.ranking``, on small posting arrays written by hand.

``Scorer`` works on numpy arrays of (document numbers, term frequencies), the shape the engine
reads from Whoosh; here they are written out so that each lever can be shown deciding an order.
Assertions are about order, never about the value of a score. The same levers on a real index,
through ``Engine.search``, are in ``test_engine.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from search.ranking import (
    RankingConfig,
    Scorer,
    idf,
    length_norms,
    recency_factor,
    top_documents,
    union,
)
from search.retrieval import has_run

N_DOCS = 100
EVEN = np.ones(N_DOCS, dtype=np.float32)  # length norms of documents of average length


def postings(tfs: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    docs = sorted(tfs)
    return (np.array(docs, dtype=np.int32), np.array([tfs[d] for d in docs], dtype=np.float32))


def ranked(scores: np.ndarray, docs: list[int]) -> list[int]:
    return sorted(docs, key=lambda d: -scores[d])


def filler(first: int, count: int) -> dict[int, float]:
    """``count`` other documents holding a term once: they set its document frequency."""
    return dict.fromkeys(range(first, first + count), 1.0)


# --- idf and length norms ------------------------------------------------------------------


def test_idf_falls_as_a_term_gets_common_and_never_goes_negative() -> None:
    values = [idf(df, N_DOCS) for df in (1, 2, 10, 50, 99, 100)]
    assert values == sorted(values, reverse=True)
    assert len(set(values)) == len(values)
    assert min(values) >= 0


def test_length_norms_favour_short_documents_and_ignore_deleted_ones() -> None:
    lengths = np.array([10, 20, 40, 1000], dtype=np.float32)
    live = np.array([True, True, True, False])
    norms = length_norms(lengths, live, b=0.4)
    assert list(np.argsort(norms[:3])) == [0, 1, 2]
    # The deleted 1000-word document does not count in the average: a live document of the
    # average live length (about 23) is normalised to about 1, so 20 is under, 40 above.
    assert norms[1] < 1 < norms[2]
    assert np.all(length_norms(lengths, live, b=0.0) == 1)
    assert np.all(length_norms(lengths, np.zeros(4, dtype=bool), b=0.4) == 1)


# --- Scorer --------------------------------------------------------------------------------


def test_a_field_weight_puts_a_title_hit_first() -> None:
    config = RankingConfig()
    scorer = Scorer(N_DOCS, config)
    scorer.add_term(
        "zellig",
        [
            (postings({0: 1}), config.title_weight, EVEN),
            (postings({1: 1}), config.body_weight, EVEN),
        ],
    )
    assert ranked(scorer.finish(None), [1, 0]) == [0, 1]


def test_more_occurrences_rank_higher_but_saturate() -> None:
    scorer = Scorer(N_DOCS, RankingConfig())
    scorer.add_term("port", [(postings({0: 1, 1: 3, 2: 30}), 1.0, EVEN)])
    scores = scorer.finish(None)
    assert ranked(scores, [0, 1, 2]) == [2, 1, 0]
    # Saturation: thirty occurrences are worth less than ten times three.
    assert scores[2] < 10 * scores[1]


def test_longer_documents_weigh_an_occurrence_less() -> None:
    norms = EVEN.copy()
    norms[1] = 2.5
    scorer = Scorer(N_DOCS, RankingConfig())
    scorer.add_term("port", [(postings({0: 1, 1: 1}), 1.0, norms)])
    assert ranked(scorer.finish(None), [1, 0]) == [0, 1]


def test_bm25f_saturates_a_term_once_over_all_its_fields() -> None:
    """True BM25F: a word repeated in title, summary and body cannot outweigh two words.

    Summing per-field BM25 scores (Whoosh's BM25F) would rank document 0 first: three saturated
    field scores of one word against two single occurrences.
    """
    config = RankingConfig(coord_weight=0.0)
    scorer = Scorer(N_DOCS, config)
    scorer.add_term(
        "sardin",
        [
            (postings({0: 3, **filler(10, 9)}), config.title_weight, EVEN),
            (postings({0: 3}), config.summary_weight, EVEN),
            (postings({0: 3, 1: 1}), config.body_weight, EVEN),
        ],
    )
    scorer.add_term("safi", [(postings({1: 1, **filler(20, 9)}), config.body_weight, EVEN)])
    assert ranked(scorer.finish(None), [0, 1]) == [1, 0]


def test_a_rare_term_outweighs_a_common_one() -> None:
    scorer = Scorer(N_DOCS, RankingConfig(coord_weight=0.0))
    scorer.add_term("maroc", [(postings({0: 1, **filler(10, 60)}), 1.0, EVEN)])
    scorer.add_term("dakhl", [(postings({1: 1, **filler(80, 3)}), 1.0, EVEN)])
    assert ranked(scorer.finish(None), [0, 1]) == [1, 0]


def _one_strong_term_or_two_weak(coord_weight: float) -> list[int]:
    # Document 0 holds one of the two words, many times; document 1 holds both, once each, in a
    # long text.
    norms = EVEN.copy()
    norms[1] = 2.0
    scorer = Scorer(N_DOCS, RankingConfig(coord_weight=coord_weight))
    scorer.add_term("port", [(postings({0: 20, 1: 1, **filler(10, 9)}), 1.0, norms)])
    scorer.add_term("dakhl", [(postings({1: 1, **filler(30, 9)}), 1.0, norms)])
    return ranked(scorer.finish(None), [0, 1])


def test_coordination_favours_documents_with_more_of_the_query() -> None:
    assert _one_strong_term_or_two_weak(coord_weight=0.0) == [0, 1]
    assert _one_strong_term_or_two_weak(coord_weight=0.9) == [1, 0]


def _common_term_or_rare_term(coord_weight: float) -> list[int]:
    # "est" is in half the archive, "seisme" in a tenth. Document 0 holds "est" as often as can
    # be; document 1 holds "seisme" once, in a long text.
    norms = EVEN.copy()
    norms[1] = 4.0
    scorer = Scorer(N_DOCS, RankingConfig(coord_weight=coord_weight))
    scorer.add_term("est", [(postings({0: 50, **filler(40, 49)}), 1.0, norms)])
    scorer.add_term("seism", [(postings({1: 1, **filler(10, 9)}), 1.0, norms)])
    return ranked(scorer.finish(None), [0, 1])


def test_coordination_counts_query_terms_by_their_idf() -> None:
    """Missing the rare word costs more than missing the common one.

    Both documents hold one word of two, so a coordination that counted words would scale them
    alike and keep document 0 first.
    """
    assert _common_term_or_rare_term(coord_weight=0.0) == [0, 1]
    assert _common_term_or_rare_term(coord_weight=0.9) == [1, 0]


def test_exact_form_terms_add_score_but_do_not_count_as_matches() -> None:
    scorer = Scorer(N_DOCS, RankingConfig())
    scorer.add_term("conserv", [(postings({0: 1, 1: 1}), 1.0, EVEN)])
    scorer.add_term(
        "=conserveries", [(postings({1: 1, 5: 1}), 1.0, EVEN)], weight=0.6, count_match=False
    )
    scores = scorer.finish(None)
    assert ranked(scores, [0, 1]) == [1, 0]
    assert list(scorer.count[[0, 1, 5]]) == [1, 1, 0]


def test_documents_that_match_nothing_score_nothing() -> None:
    scorer = Scorer(N_DOCS, RankingConfig())
    docs = scorer.add_term("port", [(postings({3: 1, 7: 2}), 1.0, EVEN)])
    assert list(docs) == [3, 7]
    assert len(scorer.add_term("absent", [(postings({}), 1.0, EVEN)])) == 0
    scores = scorer.finish(recency_factor(np.full(N_DOCS, 10.0), 0.5, 30.0, 10.0))
    assert set(np.flatnonzero(scores)) == {3, 7}


def test_finishing_the_candidates_only_gives_them_the_scores_of_a_full_finish() -> None:
    recency = recency_factor(np.arange(N_DOCS, dtype=np.float64), 0.5, 30.0, float(N_DOCS))

    def scored() -> Scorer:
        scorer = Scorer(N_DOCS, RankingConfig(coord_weight=0.5))
        scorer.add_term("port", [(postings({3: 1, 7: 2, 9: 1}), 1.0, EVEN)])
        scorer.add_term("tanger", [(postings({7: 1, 9: 3, 40: 1}), 1.0, EVEN)])
        return scorer

    full = scored().finish(recency)
    partial_scorer = scored()
    raw = partial_scorer.scores.copy()
    candidates = np.array([7, 9, 40])
    partial = partial_scorer.finish(recency, candidates)
    assert np.array_equal(partial[candidates], full[candidates])
    assert partial[3] == raw[3] != full[3]  # left as accumulated: not a candidate


@pytest.mark.parametrize(
    "parts",
    [
        [],
        [[]],
        [[4, 9]],
        [[1, 5, 9], [], [2, 5, 10]],
        [[0, 3], [0, 3], [3, 7, 8, 20]],
        [list(range(0, 60, 3)), list(range(0, 60, 2)), [59]],
    ],
)
def test_union_of_posting_lists(parts: list[list[int]]) -> None:
    arrays = [np.array(p, dtype=np.int32) for p in parts]
    expected = sorted({d for p in parts for d in p})
    assert union(arrays).tolist() == expected


def test_a_term_leaves_no_trace_for_the_next() -> None:
    """Each term's frequencies start from zero: two terms score what each scores alone."""
    port = [(postings({1: 3, 2: 1}), 2.0, EVEN), (postings({2: 5, 4: 1}), 1.0, EVEN)]
    tanger = [(postings({1: 1, 2: 1}), 1.0, EVEN)]
    both = Scorer(N_DOCS, RankingConfig())
    both.add_term("port", port)
    both.add_term("tanger", tanger)
    alone = [Scorer(N_DOCS, RankingConfig()) for _ in range(2)]
    alone[0].add_term("port", port)
    alone[1].add_term("tanger", tanger)
    assert np.array_equal(both.scores, alone[0].scores + alone[1].scores)
    assert set(np.flatnonzero(both.scores)) == {1, 2, 4}


# --- recency -------------------------------------------------------------------------------


def test_recency_boosts_recent_articles_and_leaves_undated_ones_neutral() -> None:
    days = np.array([1000.0, 990.0, 700.0, np.nan, 1005.0])
    factor = recency_factor(days, weight=0.2, half_life_days=30.0, reference_day=1000.0)
    assert factor is not None
    assert factor[0] > factor[1] > factor[2] > factor[3]
    assert factor[3] == 1.0  # undated: neither boosted nor punished
    assert factor[4] == factor[0]  # dated after the reference: as new as the newest
    half = recency_factor(days, weight=0.2, half_life_days=10.0, reference_day=1000.0)
    assert half is not None and half[1] < factor[1]  # a shorter half-life decays faster


def test_recency_off() -> None:
    assert recency_factor(np.array([1.0, 2.0]), 0.0, 30.0, 2.0) is None
    assert recency_factor(np.array([]), 0.5, 30.0, 2.0) is None


# --- top documents -------------------------------------------------------------------------


def test_top_documents_best_first_and_cut_at_k() -> None:
    scores = np.array([0.5, 3.0, 0.0, 2.0, 1.0], dtype=np.float32)
    candidates = np.array([0, 1, 3, 4])
    assert list(top_documents(scores, candidates, 10)) == [1, 3, 4, 0]
    assert list(top_documents(scores, candidates, 2)) == [1, 3]
    assert list(top_documents(scores, np.array([], dtype=np.int64), 5)) == []


def test_ties_go_to_the_most_recent_and_undated_last() -> None:
    scores = np.array([1.0, 1.0, 1.0, 1.0, 2.0], dtype=np.float32)
    published = np.array([100.0, np.nan, 300.0, 200.0, 0.0])
    order = top_documents(scores, np.arange(5), 5, tiebreak=published)
    assert list(order) == [4, 2, 3, 0, 1]


def test_ties_at_the_cut_still_go_to_the_most_recent() -> None:
    """The k kept among tied documents are the k most recent, whatever k is.

    Paging relies on it: page 1 (k=10) must be the first ten of page 2's k=20.
    """
    scores = np.ones(300, dtype=np.float32)
    published = np.arange(300, dtype=np.float64)
    assert list(top_documents(scores, np.arange(300), 3, tiebreak=published)) == [299, 298, 297]
    for k in (1, 10, 20):
        best = top_documents(scores, np.arange(300), 300, tiebreak=published)
        assert list(top_documents(scores, np.arange(300), k, tiebreak=published)) == list(best[:k])


# --- positions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("run", "numbers", "expected"),
    [
        ([0, 4, 5, 1], [4, 5], True),  # a token run (term numbers in order) holding "4 5"
        ([4, 0, 5], [4, 5], False),
        ([5, 4], [4, 5], False),  # in order only
        ([1, 9, 3, 9, 10, 11], [9, 10, 11], True),
        ([9, 10, 2, 11], [9, 10, 11], False),
        ([7, 7], [7, 7], True),  # the same word twice: "vite vite"
        ([7], [7], True),
        ([4], [4, 5], False),  # the run ends before the phrase does
        ([], [4], False),
    ],
)
def test_a_phrase_is_found_in_a_token_run(run: list[int], numbers: list[int],
                                          expected: bool) -> None:
    assert has_run(np.array(run, dtype=np.int32), numbers) is expected


def test_field_weights_follow_the_config() -> None:
    config = RankingConfig(title_weight=3.0, summary_weight=1.5, body_weight=0.5)
    assert config.field_weights == {"title": 3.0, "summary": 1.5, "body": 0.5}
