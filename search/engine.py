"""The search engine of one worker: searches, similar articles and suggestions, answered from
the generation that ``search.lifecycle`` serves.

Each method reads its parameters, runs the pieces that follow the data — ``search.retrieval``
(scores, filters, phrases, facets, proximity), ``search.highlight`` (marked titles and snippets
from token spans), ``search.similar``, ``search.suggestions`` — and shapes the answer
(``search.results``). Answers are cached per generation: they do not change while it is served,
and news queries repeat.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from index.generations import IndexRoot
from search import similar
from search.autocomplete import ARTICLES_SHOWN, article_refs, complete_phrases, merge, needs_words
from search.config import Settings
from search.correction import clearly_more, corrected_query
from search.errors import ArticleNotFound, IndexUnavailable, SearchTimeout
from search.highlight import Spans, best_snippet, mark
from search.lifecycle import Lifecycle, Served
from search.query import check_limits, is_stop_words_only, parse_query
from search.ranking import RankingConfig, top_documents
from search.results import (
    ArticleLink,
    Hit,
    IndexStatus,
    SearchRequest,
    SearchResult,
    SimilarResult,
    SuggestResult,
)
from search.retrieval import (
    check,
    docs_with,
    filters,
    in_sections,
    rerank,
    score,
    section_facets,
)
from search.synonyms import score_expansion

__all__ = ["Engine", "SearchTimeout"]


class Engine:
    """Answers searches, similar articles and suggestions from the live generation."""

    def __init__(self, settings: Settings, ranking: RankingConfig | None = None) -> None:
        self.settings = settings
        self.ranking = replace(
            ranking or RankingConfig(),
            recency_weight=settings.recency_weight,
            recency_half_life_days=settings.recency_half_life_days,
        )
        self.lifecycle = Lifecycle(
            IndexRoot(settings.index_dir), self.ranking, settings.refresh_interval_s
        )

    # --- lifecycle ---

    def warm_up(self) -> None:
        """Open the live generation now and watch for new ones (gunicorn calls this after the
        fork); never raises."""
        with contextlib.suppress(IndexUnavailable):  # the lifecycle logged why; /ready says it
            self.lifecycle.current()
        self.lifecycle.watch()

    def close(self) -> None:
        self.lifecycle.close()

    def status(self) -> IndexStatus:
        served = self.lifecycle.current()
        meta = served.generation.meta
        extra: dict[str, Any] = {"segments": len(served.reader.segments)}
        if self.lifecycle.problem:
            extra["problem"] = self.lifecycle.problem
        return IndexStatus(
            generation=served.id,
            documents=served.reader.documents,
            built_at=meta.get("built_at"),
            extra=extra,
        )

    # --- search ---

    def search(self, request: SearchRequest) -> SearchResult:
        served = self.lifecycle.current()
        # The budget starts once a generation is at hand: a search that noticed a new one and
        # waited for it to open is not charged for that.
        started = time.monotonic()
        cached = served.results.get(request)
        if isinstance(cached, SearchResult):
            return replace(cached, took_ms=_ms(started))
        # Typo-tolerant results: when a correction finds clearly more, only it is run.
        result = self._corrected(served, request, started) if request.correct else None
        if result is None:
            result = self._search(served, request, started)
        served.results.put(request, result)
        return result

    def _corrected(
        self, served: Served, request: SearchRequest, started: float
    ) -> SearchResult | None:
        """The results of the corrected query when it finds clearly more (``search.correction``),
        the reader's query kept in ``query``; None when there is no such correction."""
        suggestions = served.suggestions
        corrected = corrected_query(suggestions.vocabulary, request.query)
        if corrected is None:
            return None
        holding_all = [
            suggestions.docs_with_all(parse_query(q, served.analyzers).stems)
            for q in (request.query, corrected)
        ]
        before, after = (0 if docs is None else int(np.count_nonzero(docs)) for docs in holding_all)
        if not clearly_more(before, after):
            return None
        better = self._search(served, replace(request, query=corrected), started)
        return replace(better, query=request.query, corrected_query=corrected, suggestion=None)

    def _search(self, served: Served, request: SearchRequest, started: float) -> SearchResult:
        deadline = started + self.settings.search_budget_ms / 1000.0
        reader, config = served.reader, self.ranking
        parsed = parse_query(request.query, served.analyzers)
        check_limits(parsed)
        if request.synonyms is not None:  # the newsroom's synonyms, as lighter optional clauses
            parsed = request.synonyms.expand(parsed, served.analyzers)
        if parsed.is_empty:
            return SearchResult(
                request.query,
                0,
                request.page,
                request.per_page,
                _ms(started),
                (),
                (),
                stopwords_only=is_stop_words_only(parsed),
            )
        scorer = score(reader, served.norms, parsed, config)
        for clause in parsed.expansions:  # synonyms, weighted below the words typed
            holding = docs_with(reader, clause, deadline) if len(clause.stems) > 1 else None
            score_expansion(
                scorer, clause, reader.postings, served.norms.fields, config.field_weights, holding
            )
        mask = scorer.count > 0
        mask &= filters(reader, parsed, request, deadline)
        facets = section_facets(reader, mask)
        if request.sections:
            mask &= in_sections(reader, request.sections)
        check(deadline)
        candidates = np.flatnonzero(mask)
        total = len(candidates)
        window = request.page * request.per_page
        if request.sort == "date":
            newest_first = np.nan_to_num(reader.published, nan=-np.inf)  # undated last
            order = top_documents(newest_first, candidates, window, tiebreak=scorer.scores)
        else:
            recency = served.recency(config.recency_weight, config.recency_half_life_days)
            scores = scorer.finish(recency, candidates)
            order = top_documents(
                scores, candidates, max(window, config.rerank_depth), tiebreak=reader.published
            )
            order = rerank(reader, parsed, scores, order, config, deadline)
        check(deadline)
        page = order[window - request.per_page : window]
        numbers: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        # marked_stems holds the synonyms' stems too: a hit found through one shows it.
        marked = parsed.marked_stems
        hits = tuple(
            self._hit(served, int(d), float(scorer.scores[d]), marked, numbers)
            for d in page.tolist()
        )
        suggestion = None
        if total < config.suggest_below:
            suggestion = served.suggestions.did_you_mean(request.query)
        return SearchResult(
            request.query,
            total,
            request.page,
            request.per_page,
            _ms(started),
            hits,
            facets,
            suggestion,
            expansions=parsed.applied_expansions,
        )

    def _hit(
        self,
        served: Served,
        docnum: int,
        score: float,
        stems: tuple[str, ...] | None,
        numbers: dict[tuple[int, tuple[str, ...]], list[int]] | None = None,
    ) -> Hit:
        reader = served.reader
        stored = reader.stored(docnum)
        title = stored.get("title") or ""
        known = numbers if numbers is not None else {}

        def spans(field: str) -> Spans:
            run = reader.tokens(field, docnum)
            return Spans.match(run.starts, run.ends, run.terms, run.numbers(stems or (), known))

        snippet_html = None
        if stems is not None:
            body, summary = stored.get("body") or "", stored.get("summary") or ""
            texts = [(body, spans("body"))]
            if summary and not len(texts[0][1].hits):  # the lead only when needed
                texts.append((summary, spans("summary")))
            snippet_html = best_snippet(texts)
        return Hit(
            id=stored["id"],
            title=title,
            url=stored.get("url") or "",
            section=_sections(stored),
            published=_iso(stored.get("published")),
            author=stored.get("author") or "",
            score=score,
            title_html=mark(title, spans("title")),
            snippet_html=snippet_html,
        )

    def hits_for(self, article_ids: list[str], query: str) -> list[Hit]:
        """Hits for these articles (pinned ones), marked for ``query``, in the order given; an
        article no longer in the index is left out."""
        served = self.lifecycle.current()
        stems = parse_query(query, served.analyzers).stems
        docnums = [served.reader.docnum(article_id) for article_id in article_ids]
        return [self._hit(served, d, 0.0, stems) for d in docnums if d is not None]

    # --- similar articles and suggestions ---

    def similar(
        self, article_id: str, *, limit: int = 5, same_section: bool = False
    ) -> SimilarResult:
        served = self.lifecycle.current()
        key = ("similar", article_id, limit, same_section)
        cached = served.results.get(key)
        if isinstance(cached, SimilarResult):
            return cached
        source = served.reader.docnum(article_id)
        if source is None:
            raise ArticleNotFound(f"no article with id {article_id!r}")
        view = served.similar_view
        found = similar.rank(
            view,
            similar.source_of_article(view, source),
            limit=limit,
            same_section=same_section,
            ranking=self.ranking,
        )
        result = SimilarResult(article_id, self._similar_hits(served, found))
        served.results.put(key, result)
        return result

    def similar_to_text(self, title: str, body: str, *, limit: int = 5) -> SimilarResult:
        """Articles similar to a text not yet published (``POST /similar``); dated like the
        newest article, as a text being written belongs to the latest news."""
        served = self.lifecycle.current()
        source = similar.Source(
            title=title, summary="", body=body, published=served.reader.newest_day
        )
        found = similar.rank(served.similar_view, source, limit=limit, ranking=self.ranking)
        return SimilarResult(None, self._similar_hits(served, found))

    def _similar_hits(self, served: Served, found: list[tuple[int, float]]) -> tuple[Hit, ...]:
        hits = []
        for docnum, value in found:
            hit = self._hit(served, docnum, value, None)
            hits.append(replace(hit, summary=similar.lead(served.reader.stored(docnum))))
        return tuple(hits)

    def suggest(self, prefix: str, *, limit: int = 8) -> list[str]:
        """Word completions of what the reader is typing (see ``search.suggestions``)."""
        return self.lifecycle.current().suggestions.complete(prefix, limit)

    def autocomplete(self, prefix: str, *, limit: int = 8) -> SuggestResult:
        """``/suggest``: the prefix completed into phrases of the titles, and words
        (``search.autocomplete``), and articles whose titles hold those phrases."""
        served = self.lifecycle.current()
        key = ("autocomplete", prefix, limit)
        cached = served.results.get(key)
        if isinstance(cached, SuggestResult):
            return cached
        reader, suggestions = served.reader, served.suggestions
        phrases = complete_phrases(reader.phrases, prefix, limit)
        words = suggestions.complete(prefix, limit) if needs_words(prefix, phrases) else []
        shown = merge(prefix, phrases, words, limit)
        articles: list[ArticleLink] = []
        for position, article in article_refs(prefix, phrases, shown):
            docnum = reader.segments[position].base + article
            if not reader.live[docnum]:  # deleted or replaced since its segment was written
                continue
            stored = reader.stored(docnum)
            articles.append(
                ArticleLink(
                    stored["id"],
                    stored.get("title") or "",
                    stored.get("url") or "",
                    _sections(stored),
                )
            )
            if len(articles) == ARTICLES_SHOWN:
                break
        result = SuggestResult(prefix, tuple(c.text for c in shown), tuple(shown), tuple(articles))
        served.results.put(key, result)
        return result


def _sections(stored: dict[str, Any]) -> tuple[str, ...]:
    return tuple(s for s in (stored.get("section") or "").split(",") if s)


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def _iso(moment: Any) -> str | None:
    if not isinstance(moment, datetime):
        return None
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
