"""Running a parsed query on an opened generation: scores, filters, phrases, facets, rerank.

The levers are ``RankingConfig``'s (``search.ranking``); the data comes from
``search.segments.GenerationReader``. Every loop whose length a reader's query can drive (phrase
verification, exclusions, the proximity rerank) checks the time budget as it goes, and works on
candidates only: phrases are verified on the documents that hold all their words (rarest word
first), proximity on the ``rerank_depth`` best, each from the document's run of tokens in the
image — a slice of one array, not a decoded posting per term.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import numpy as np

from index.image import TEXT_FIELDS, Postings
from search.errors import SearchTimeout
from search.query import Clause, ParsedQuery
from search.ranking import RankingConfig, Scorer, length_norms
from search.results import FacetValue, SearchRequest
from search.segments import GenerationReader

EPOCH = datetime(1970, 1, 1)
CHECK_EVERY = 32  # documents between two looks at the clock in per-document loops


def check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise SearchTimeout("the search took longer than its time budget; try fewer words")


class Norms:
    """BM25 length norms of one generation for one ``b``, computed once per generation."""

    def __init__(self, reader: GenerationReader, b: float) -> None:
        self.fields = {
            name: length_norms(reader.lengths[name], reader.live, b) for name in TEXT_FIELDS
        }
        self.surface = length_norms(reader.surface_lengths, reader.live, b)


def score(
    reader: GenerationReader, norms: Norms, parsed: ParsedQuery, config: RankingConfig
) -> Scorer:
    """BM25F of the query's stems, plus its exact forms (unstemmed, folded)."""
    scorer = Scorer(reader.n_docs, config)
    weights = config.field_weights
    for term in parsed.stems:
        scorer.add_term(
            term, [(reader.postings(f, term), w, norms.fields[f]) for f, w in weights.items()]
        )
    if config.exact_weight > 0:
        for folded in parsed.surfaces:
            scorer.add_term(
                "=" + folded,
                [(reader.surface_postings(folded), 1.0, norms.surface)],
                weight=config.exact_weight,
                count_match=False,
            )
    return scorer


def has_run(run: np.ndarray, numbers: list[int]) -> bool:
    """Whether the term numbers ``numbers`` stand consecutively, in order, in ``run``."""
    starts = np.flatnonzero(run[: len(run) - len(numbers) + 1] == numbers[0])
    for k, number in enumerate(numbers[1:], 1):
        if not len(starts):
            return False
        starts = starts[run[starts + k] == number]
    return bool(len(starts))


def docs_with(reader: GenerationReader, clause: Clause, deadline: float) -> np.ndarray:
    """A mask of the documents holding ``clause``: its term, or its terms as a phrase."""
    found = np.zeros(reader.n_docs, dtype=bool)
    for field in TEXT_FIELDS:
        lists = sorted((reader.postings(field, t)[0] for t in clause.stems), key=len)
        common = lists[0]
        for ids in lists[1:]:  # rarest first: the intersection shrinks fastest
            if not len(common):
                break
            common = np.intersect1d(common, ids, assume_unique=True)
        if len(clause.stems) > 1 and len(common):
            keep = np.zeros(len(common), dtype=bool)
            known: dict[tuple[int, tuple[str, ...]], list[int]] = {}
            for i, docnum in enumerate(common.tolist()):
                if i % CHECK_EVERY == 0:
                    check(deadline)
                run = reader.tokens(field, docnum)
                numbers = run.numbers(clause.stems, known)
                keep[i] = min(numbers) >= 0 and has_run(run.terms, numbers)
            common = common[keep]
        found[common] = True
    return found


def filters(
    reader: GenerationReader, parsed: ParsedQuery, request: SearchRequest, deadline: float
) -> np.ndarray:
    """The documents that pass the query's phrases and exclusions and the request's filters."""
    keep = reader.live.copy()
    for clause in parsed.required_phrases:
        keep &= docs_with(reader, clause, deadline)
        check(deadline)
    for clause in parsed.negative:
        keep &= ~docs_with(reader, clause, deadline)
        check(deadline)
    if request.tags:
        tagged = np.zeros(reader.n_docs, dtype=bool)
        for tag in request.tags:
            tagged[reader.postings("tags", tag.strip().lower())[0]] = True
        keep &= tagged
    if request.date_from or request.date_to:
        days = reader.published
        dated = ~np.isnan(days)
        if request.date_from:
            dated &= days >= day_number(request.date_from)
        if request.date_to:
            dated &= days < day_number(request.date_to) + 1.0
        keep &= dated
    return keep


def section_facets(reader: GenerationReader, mask: np.ndarray) -> tuple[FacetValue, ...]:
    counts = [
        FacetValue(value, int(np.count_nonzero(mask[docs])))
        for value, docs in reader.sections.items()
    ]
    return tuple(sorted((f for f in counts if f.count), key=lambda f: (-f.count, f.value)))


def in_sections(reader: GenerationReader, sections: tuple[str, ...]) -> np.ndarray:
    wanted = np.zeros(reader.n_docs, dtype=bool)
    for section in sections:
        docs = reader.sections.get(section)
        if docs is not None:
            wanted[docs] = True
    return wanted


def proximity_pairs(parsed: ParsedQuery, config: RankingConfig) -> list[tuple[str, str]]:
    stems = [c.stems for c in parsed.positive]
    pairs = [(a, b) for clause in stems for a, b in zip(clause, clause[1:], strict=False)]
    flat = [t for clause in stems for t in clause]
    pairs += [(a, b) for a, b in zip(flat, flat[1:], strict=False)]
    # Each pair once, and no word paired with itself: a repeated word ("économie économie
    # …") must neither multiply the bonus and the position reads nor earn a bonus.
    return [(a, b) for a, b in dict.fromkeys(pairs) if a != b][: config.max_proximity_pairs]


def rerank(
    reader: GenerationReader,
    parsed: ParsedQuery,
    scores: np.ndarray,
    order: np.ndarray,
    config: RankingConfig,
    deadline: float,
) -> np.ndarray:
    """Add the proximity bonus to the best ``rerank_depth`` documents and sort them again.

    A pair of query words earns the bonus once per document, in whichever field it stands
    within ``proximity_window`` positions. The token runs of the candidates of one segment are
    read as one array, and each pair is checked for all of them at once: a per-document loop
    cost ~9 ms a search on the shared corpus, this costs about one.
    """
    pairs = proximity_pairs(parsed, config)
    if not pairs or config.proximity_weight <= 0 or not len(order):
        return order
    depth = config.rerank_depth
    head = np.sort(order[:depth])
    rewarded = np.zeros((len(head), len(pairs)), dtype=bool)  # once per pair, in any field
    terms = tuple(dict.fromkeys(t for pair in pairs for t in pair))
    for field in ("title", "body"):
        check(deadline)
        for base, rows, postings in reader.by_segment(head, field):
            numbers = [postings.terms.find(t) for t in terms]
            # Only a document holding both words of a pair can earn its bonus: the token runs
            # of the others are not read (about half of the runs' tokens on the shared corpus).
            holding = {t: _holding(postings, n, rows) for t, n in zip(terms, numbers, strict=True)}
            both = np.zeros(len(rows), dtype=bool)
            for a, b in pairs:
                both |= holding[a] & holding[b]
            if not both.any():
                continue
            base, rows = base[both], rows[both]
            tokens, doc_of = postings.runs(rows)
            where = {
                t: np.flatnonzero(tokens == n) if n >= 0 else _NONE
                for t, n in zip(terms, numbers, strict=True)
            }
            for k, (a, b) in enumerate(pairs):
                first, second = where[a], where[b]
                if not len(first) or not len(second):
                    continue
                after = np.searchsorted(second, first, side="right")
                ok = after < len(second)
                first, following = first[ok], second[after[ok]]
                near = (following - first <= config.proximity_window) & (
                    doc_of[following] == doc_of[first]
                )
                rewarded[base[np.unique(doc_of[first[near]])], k] = True
    bonus = rewarded.sum(axis=1).astype(np.float32) * config.proximity_weight
    reranked = scores[head] * (1.0 + bonus)
    scores[head] = reranked
    top = head[np.lexsort((-np.nan_to_num(reader.published[head], nan=-1e9), -reranked))]
    return np.concatenate([top, order[depth:]])


_NONE = np.zeros(0, dtype=np.int64)


def _holding(postings: Postings, number: int, docs: np.ndarray) -> np.ndarray:
    """Which of ``docs`` (sorted, the segment's numbers) hold the term numbered ``number``."""
    if number < 0:
        return np.zeros(len(docs), dtype=bool)
    holders = postings.docs[postings.indptr[number] : postings.indptr[number + 1]]
    if not len(holders):
        return np.zeros(len(docs), dtype=bool)
    at = np.minimum(np.searchsorted(holders, docs), len(holders) - 1)
    found: np.ndarray = holders[at] == docs
    return found


def day_number(day: date) -> float:
    return (datetime(day.year, day.month, day.day) - EPOCH) / timedelta(days=1)
