"""Similar articles: the terms that say what an article is about, searched for in the others.

Key terms come from the article's own tokens in the serving image (title counted
``similar_title_boost`` times), weighted by tf·idf, after Lucene's MoreLikeThis guards (minimum
document frequency, a cap on very common terms, a cap on the number of terms). The candidates
are scored with the same BM25F as searches; those matching at least ``similar_min_match_share``
of the key terms come first. An article with the same title (the same story, republished) is
never offered.
"""

from __future__ import annotations

import math
import re

import numpy as np

from index.analysis import fold
from search.ranking import RankingConfig, Scorer, top_documents
from search.retrieval import Norms, in_sections
from search.segments import GenerationReader


def same_story_key(title: str) -> str:
    return re.sub(r"\W+", " ", fold(title)).strip()


def key_terms(reader: GenerationReader, docnum: int,
              config: RankingConfig) -> list[tuple[str, float]]:
    """The terms that best tell what article ``docnum`` is about, with their weights."""
    weights: dict[str, float] = {}
    for field, boost in (("title", config.similar_title_boost), ("summary", 1.0),
                         ("body", 1.0)):
        run = reader.tokens(field, docnum)
        numbers, counts = np.unique(run.terms, return_counts=True)
        for number, count in zip(numbers.tolist(), counts.tolist(), strict=True):
            term = run.field.terms[number]
            weights[term] = weights.get(term, 0.0) + boost * count
    documents = max(reader.documents, 1)
    max_df = max(int(config.similar_max_doc_share * documents),
                 config.similar_max_doc_freq_floor)
    scored = []
    for term, tf in weights.items():
        if term.isdigit() and len(term) < 4:
            continue
        doc_freq = reader.doc_frequency("body", term) or reader.doc_frequency("title", term)
        if config.similar_min_doc_freq <= doc_freq <= max_df:
            scored.append((term, tf * math.log(documents / doc_freq)))
    scored.sort(key=lambda item: -item[1])
    return scored[: config.similar_key_terms]


def similar_documents(reader: GenerationReader, norms: Norms, source: int, terms:
                      list[tuple[str, float]], config: RankingConfig, limit: int,
                      same_section: bool) -> list[tuple[int, float]]:
    """The ``limit`` documents most like ``source`` with their scores, best first."""
    if not terms:
        return []
    scorer = Scorer(reader.n_docs, config)
    for term, _ in terms:
        scorer.add_term(term, [(reader.postings(f, term), w, norms.fields[f])
                               for f, w in config.field_weights.items()])
    mask = scorer.count > 0
    mask[source] = False
    stored = reader.stored(source)
    if same_section:
        mask &= in_sections(reader, tuple((stored.get("section") or "").split(",")))
    needed = max(2, math.ceil(config.similar_min_match_share * len(terms)))
    strong = mask & (scorer.count >= min(needed, len(terms)))
    story = same_story_key(stored.get("title") or "")
    found: list[tuple[int, float]] = []
    for pool in (strong, mask & ~strong):
        order = top_documents(scorer.scores, np.flatnonzero(pool), limit * 4,
                              tiebreak=reader.published)
        for docnum in order.tolist():
            if same_story_key(reader.stored(docnum).get("title") or "") == story:
                continue
            found.append((docnum, float(scorer.scores[docnum])))
            if len(found) == limit:
                return found
    return found
