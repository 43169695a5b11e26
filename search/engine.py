"""The search engine of one worker: the only module of ``search/`` that touches Whoosh.

Whoosh is used as storage — posting lists, positions, stored fields, field lengths, the id
column — and the scoring is done by ``search.ranking`` in numpy over posting arrays cached per
generation. That is what keeps BM25F, exact forms, coordination, exact totals and facets within
milliseconds on 34k articles, where Whoosh's own matchers take tens to hundreds.

``Snapshot`` is one opened generation with everything derived from it (length norms, dates,
section postings, the surface table and vocabulary, caches of postings, key terms and answers).
``Engine`` holds the current snapshot and checks ``CURRENT`` (with the generation's revision and
Whoosh's commit number, which incremental updates change) at most every ``refresh_interval_s``;
a new generation is opened in a background thread and takes over once open, so no request fails
or waits for it. Nothing is opened before the first use (or ``warm_up()``, which gunicorn calls
in each worker after the fork).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from whoosh import index as whoosh_index

from index.analysis import analyze, fold, surface_analyzer
from index.config import Settings
from index.generations import Generation, GenerationError, IndexRoot, toc_generation
from index.lexicon import Lexicon, lexicon_of_counts
from index.phrases import PhraseIndex
from index.schema import TEXT_FIELDS
from index.surface import FILENAME as SURFACE_FILE
from index.surface import SurfaceIndex, SurfaceIndexBuilder
from search.autocomplete import (
    ARTICLES_SHOWN,
    article_refs,
    complete_phrases,
    merge,
    needs_words,
)
from search.correction import clearly_more, corrected_query
from search.errors import ArticleNotFound, IndexUnavailable, SearchTimeout
from search.highlight import Matcher, WordAnalysis, best_snippet, mark
from search.query import Clause, ParsedQuery, is_stop_words_only, parse_query
from search.ranking import (
    Postings,
    RankingConfig,
    Scorer,
    has_phrase,
    length_norms,
    recency_factor,
    top_documents,
    within,
)
from search.results import (
    ArticleLink,
    FacetValue,
    Hit,
    IndexStatus,
    SearchRequest,
    SearchResult,
    SimilarResult,
    SuggestResult,
)
from search.spelling import Vocabulary

log = logging.getLogger("presse.search")

EMPTY = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
POSTING_CACHE_ENTRIES = 6_000_000  # postings kept per worker (~48 MB)
SUGGEST_BELOW = 3  # "did you mean" is computed when a search finds fewer hits than this
SUGGEST_CANDIDATES = 40  # completions of the last word checked against the words before it
EPOCH = datetime(1970, 1, 1)

# Similar articles, after Lucene's MoreLikeThis guards.
SIMILAR_KEY_TERMS = 12
SIMILAR_MIN_DOC_FREQ = 2
SIMILAR_MAX_DOC_SHARE = 0.02
SIMILAR_MAX_DOC_FREQ_FLOOR = 50
SIMILAR_MIN_MATCH_SHARE = 0.3
SIMILAR_TITLE_BOOST = 2.0
KEY_TERMS_CACHED = 4096  # articles whose key terms a worker keeps
MAX_PROXIMITY_PAIRS = 8  # word pairs checked for proximity (~5 ms each on a long query)
SWITCH_WAIT_S = 0.25  # how long a request waits for a new generation being opened
RESULTS_CACHED = 2048  # answers (search pages, similar lists) a worker keeps per generation


def _days(moment: datetime | None) -> float:
    if moment is None or moment.year < 1900:
        return math.nan
    return (moment - EPOCH).total_seconds() / 86400.0


def _same_story_key(title: str) -> str:
    return re.sub(r"\W+", " ", fold(title)).strip()


class ResultCache:
    """The most recently asked answers of one snapshot (least recently used ones go first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._answers: OrderedDict[Hashable, object] = OrderedDict()

    def get(self, key: Hashable) -> object | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: Hashable, answer: object) -> None:
        self._answers[key] = answer
        if len(self._answers) > self.size:
            self._answers.popitem(last=False)


class Snapshot:
    """One opened generation and what the engine derives from it once."""

    def __init__(self, generation: Generation, config: RankingConfig) -> None:
        self.generation = generation
        self.key = snapshot_key(generation)
        self.config = config
        self.ix = whoosh_index.open_dir(str(generation.path))
        self.reader = self.ix.reader()
        # Queries are analysed by the analyzer pickled in this index, as its documents were.
        self.analyzers = (self.reader.schema["body"].analyzer, surface_analyzer())
        self.word_analysis = WordAnalysis(self.analyzers[0])
        self._cache: OrderedDict[tuple[str, str], Postings] = OrderedDict()
        self._cached = 0
        # Answers do not change while this snapshot is served: popular queries repeat (news).
        self.results = ResultCache(RESULTS_CACHED)
        try:
            self.leaves = list(self.reader.leaf_readers())
            self.n_docs = self.reader.doc_count_all()
            self.live = np.zeros(self.n_docs, dtype=bool)
            self.live[np.fromiter(self.reader.all_doc_ids(), dtype=np.int64)] = True
            self.documents = int(self.live.sum())
            self.norms = {
                name: length_norms(self._lengths(name), self.live, config.b)
                for name in TEXT_FIELDS
            }
            self.surface = self._surface_table(generation)
            self.docnum_of_article = self._docnums_of(self.surface.ids)
            self.surface_term_numbers = {t: n for n, t in enumerate(self.surface.terms)}
            self.surface_norms = length_norms(self._surface_lengths(), self.live, config.b)
            self.published = self._published_days()
            known = self.published[~np.isnan(self.published)]
            self.newest_day = float(known.max()) if len(known) else 0.0
            self.sections = {
                value: self.postings("section", value)[0] for value in self._terms("section")
            }
            # issue 10: spelling and autocomplete read mmapped arrays built at index time,
            # one segment per generation until Index v2 gives a list of segments.
            self.vocabulary = Vocabulary([self._lexicon(generation)])
            self.phrases = [PhraseIndex.open(generation.path)]
            self._key_terms: OrderedDict[int, list[tuple[str, float]]] = OrderedDict()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.reader.close()

    # --- reading Whoosh ---

    def _lengths(self, field: str) -> np.ndarray:
        lengths = np.zeros(self.n_docs, dtype=np.float32)
        for docnum in np.flatnonzero(self.live):
            lengths[docnum] = self.reader.doc_field_length(int(docnum), field) or 0
        return lengths

    def _published_days(self) -> np.ndarray:
        # Segment by segment: a segment without the column (no dated article in it) would throw
        # off the document numbers of Whoosh's multi-segment column reader.
        days = np.full(self.n_docs, np.nan, dtype=np.float64)
        for leaf, offset in self.leaves:
            if not leaf.has_column("published"):
                continue
            column = leaf.column_reader("published")
            for docnum in range(leaf.doc_count_all()):
                try:
                    value = column[docnum]
                except (OverflowError, ValueError):  # an undated article: the column's default
                    continue
                if isinstance(value, datetime):
                    days[offset + docnum] = _days(value)
        return days

    def _terms(self, field: str) -> list[str]:
        if field not in self.reader.schema:
            return []
        return [t.decode("utf-8") if isinstance(t, bytes) else t
                for t in self.reader.lexicon(field)]

    @staticmethod
    def _surface_table(generation: Generation) -> SurfaceIndex:
        try:
            return SurfaceIndex.load(generation.path / SURFACE_FILE)
        except FileNotFoundError:  # built before the surface table existed: no exact forms
            log.warning("generation %s has no surface table: exact forms, suggestions and "
                        "corrections are off until a reindex", generation.id)
            return SurfaceIndexBuilder().table()

    def _lexicon(self, generation: Generation) -> Lexicon:
        lexicon = Lexicon.open(generation.path)
        if not len(lexicon) and len(self.surface.terms):  # built before the lexicon existed
            return lexicon_of_counts(self.surface.terms, self.surface.doc_freqs())
        return lexicon

    def _docnums_of(self, ids: list[str]) -> np.ndarray:
        """The live document number of each article of the surface table (-1 if gone)."""
        docnum_of_id: dict[str, int] = {}
        for leaf, offset in self.leaves:
            if leaf.has_column("id"):  # one sweep of the id column
                column = leaf.column_reader("id")
                for local in range(leaf.doc_count_all()):
                    if self.live[offset + local]:
                        docnum_of_id[column[local]] = offset + local
                continue
            for raw in leaf.lexicon("id"):  # a generation built before the column existed
                for local in leaf.postings("id", raw).all_ids():
                    if self.live[offset + local]:
                        docnum_of_id[raw.decode("utf-8")] = offset + local
        return np.array([docnum_of_id.get(i, -1) for i in ids], dtype=np.int64)

    def _surface_lengths(self) -> np.ndarray:
        lengths = np.zeros(self.n_docs, dtype=np.float32)
        known = self.docnum_of_article >= 0
        lengths[self.docnum_of_article[known]] = self.surface.lengths[known]
        return lengths

    def surface_postings(self, word: str) -> Postings:
        """Document numbers and frequencies of the unstemmed ``word`` (as indexed, accents)."""
        number = self.surface_term_numbers.get(word)
        if number is None:
            return EMPTY
        articles, tfs = self.surface.postings(number)
        docnums = self.docnum_of_article[articles]
        live = docnums >= 0
        return docnums[live].astype(np.int32), tfs[live].astype(np.float32)

    def postings(self, field: str, term: str) -> Postings:
        """Document numbers (live only) and frequencies of ``term`` in ``field``; cached."""
        key = (field, term)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        found = self._read_postings(field, term)
        self._cache[key] = found
        self._cached += len(found[0])
        while self._cached > POSTING_CACHE_ENTRIES and len(self._cache) > 1:
            _, (ids, _) = self._cache.popitem(last=False)
            self._cached -= len(ids)
        return found

    def _read_postings(self, field: str, term: str) -> Postings:
        raw = term.encode("utf-8")
        id_parts, tf_parts = [], []
        for leaf, offset in self.leaves:
            if (field, raw) not in leaf:
                continue
            matcher = leaf.postings(field, raw)
            # A segment with deletions wraps its matcher in a filter; the live mask below does
            # that job, so read the leaf matcher underneath.
            while not hasattr(matcher, "_read_ids") and hasattr(matcher, "child"):
                matcher = matcher.child
            # Whole blocks at a time: Whoosh's per-posting iteration is the slow part. These are
            # the W3 codec's block arrays (Whoosh-Reloaded is pinned exactly in pyproject).
            while matcher.is_active():
                matcher._read_ids()
                matcher._read_weights()
                id_parts.append(np.asarray(matcher._ids, dtype=np.int32) + offset)
                tf_parts.append(np.asarray(matcher._weights, dtype=np.float32))
                matcher._next_block()
        if not id_parts:
            return EMPTY
        ids, tfs = np.concatenate(id_parts), np.concatenate(tf_parts)
        keep = self.live[ids]
        return ids[keep], tfs[keep]

    def positions(self, field: str, term: str, docnums: np.ndarray) -> dict[int, list[int]]:
        """Positions of ``term`` in ``field`` for the given documents (ascending) that hold it."""
        raw = term.encode("utf-8")
        found: dict[int, list[int]] = {}
        for leaf, offset in self.leaves:
            end = offset + leaf.doc_count_all()
            local = [int(d) - offset for d in docnums if offset <= d < end]
            if not local or (field, raw) not in leaf:
                continue
            matcher = leaf.postings(field, raw)
            for docnum in local:
                if not matcher.is_active():
                    break
                matcher.skip_to(docnum)
                if matcher.is_active() and matcher.id() == docnum:
                    found[docnum + offset] = list(matcher.value_as("positions"))
        return found

    def docnum(self, article_id: str) -> int | None:
        ids, _ = self.postings("id", article_id)
        return int(ids[-1]) if len(ids) else None

    def stored(self, docnum: int) -> dict[str, Any]:
        return dict(self.reader.stored_fields(docnum))

    def key_terms(self, docnum: int) -> list[tuple[str, float]]:
        """The terms that best tell what article ``docnum`` is about, with their weights.

        Analysed again from the stored text (a fraction of a millisecond), and kept for the
        articles asked about most recently.
        """
        cached = self._key_terms.get(docnum)
        if cached is not None:
            self._key_terms.move_to_end(docnum)
            return cached
        terms = self._find_key_terms(docnum)
        self._key_terms[docnum] = terms
        if len(self._key_terms) > KEY_TERMS_CACHED:
            self._key_terms.popitem(last=False)
        return terms

    def _find_key_terms(self, docnum: int) -> list[tuple[str, float]]:
        weights: dict[str, float] = {}
        stored = self.stored(docnum)
        analyzer = self.analyzers[0]
        for field, boost in (("title", SIMILAR_TITLE_BOOST), ("summary", 1.0), ("body", 1.0)):
            for term in analyze(analyzer, stored.get(field) or ""):
                weights[term] = weights.get(term, 0.0) + boost
        max_df = max(int(SIMILAR_MAX_DOC_SHARE * self.documents), SIMILAR_MAX_DOC_FREQ_FLOOR)
        scored = []
        for term, tf in weights.items():
            if term.isdigit() and len(term) < 4:
                continue
            doc_freq = self.reader.doc_frequency("body", term)
            if not doc_freq:  # a word of the title or summary only
                doc_freq = self.reader.doc_frequency("title", term)
            if SIMILAR_MIN_DOC_FREQ <= doc_freq <= max_df:
                scored.append((term, tf * math.log(self.documents / doc_freq)))
        scored.sort(key=lambda item: -item[1])
        return scored[:SIMILAR_KEY_TERMS]


class _Opening:
    """A generation being opened in a background thread."""

    def __init__(self, generation: Generation, key: tuple[str, int, int],
                 ranking: RankingConfig) -> None:
        self.key = key
        self.snapshot: Snapshot | None = None
        self.error: Exception | None = None
        self.done = threading.Event()
        thread = threading.Thread(target=self._open, args=(generation, ranking),
                                  name=f"open-{generation.id}", daemon=True)
        thread.start()

    def _open(self, generation: Generation, ranking: RankingConfig) -> None:
        try:
            self.snapshot = Snapshot(generation, ranking)
        except Exception as exc:
            self.error = exc
        finally:
            self.done.set()


class Engine:
    """Answers searches, similar articles and suggestions from the live generation."""

    def __init__(self, settings: Settings, ranking: RankingConfig | None = None) -> None:
        self.settings = settings
        self.ranking = ranking or RankingConfig()
        self.root = IndexRoot(settings.index_dir)
        self._snapshot: Snapshot | None = None
        self._opening: _Opening | None = None
        self._failed_key: tuple[str, int, int] | None = None
        self._checked_at = -math.inf
        self._lock = threading.Lock()

    # --- lifecycle ---

    def warm_up(self) -> None:
        """Open the live generation now (gunicorn calls this after the fork); never raises."""
        try:
            self._current()
        except IndexUnavailable as exc:
            log.warning("no index to open yet: %s", exc.message)

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None

    def _current(self) -> Snapshot:
        """The snapshot to answer from; looks for a new generation at most once a refresh.

        A new generation (or revision) is opened in a background thread while the current one
        keeps answering — opening the full corpus takes seconds, which a request must not wait
        for — and takes over as soon as it is open. A small index opens within ``SWITCH_WAIT_S``
        and is used at once.
        """
        now = time.monotonic()
        snapshot = self._snapshot
        if (snapshot is not None and self._opening is None
                and now - self._checked_at < self.settings.refresh_interval_s):
            return snapshot
        with self._lock:
            if snapshot is None or now - self._checked_at >= self.settings.refresh_interval_s:
                self._checked_at = now
                self._look_for_generation()
            opening = self._opening
            if opening is not None:
                opening.done.wait(SWITCH_WAIT_S)
                if opening.done.is_set():
                    self._take_over(opening)
            if self._snapshot is None:
                raise IndexUnavailable("the index is being opened; try again in a moment")
            return self._snapshot

    def _look_for_generation(self) -> None:
        try:
            generation = self.root.current()
        except GenerationError as exc:
            self._drop()
            raise IndexUnavailable(str(exc)) from None
        except OSError as exc:
            self._drop()
            log.error("cannot read the index root: %s", exc)
            raise IndexUnavailable(f"the index cannot be read ({type(exc).__name__})") from None
        try:
            key = snapshot_key(generation)
        except OSError as exc:  # the generation's folder went away under us
            self._drop()
            raise IndexUnavailable(f"the live generation {generation.id} cannot be read "
                                   f"({type(exc).__name__})") from None
        if self._snapshot is None:
            # Nothing to answer from meanwhile (start-up, or after the index was unavailable).
            try:
                self._snapshot = Snapshot(generation, self.ranking)
            except Exception as exc:
                # Most likely built by an older version whose pickled analyzer no longer loads.
                log.exception("cannot open generation %s (if an older version built it, "
                              "reindex)", generation.id)
                raise IndexUnavailable(f"cannot open index generation {generation.id} "
                                       f"({type(exc).__name__}); if it was built by an older "
                                       "version, run a full reindex") from None
            log.info("serving generation %s (%d documents)", generation.id,
                     self._snapshot.documents)
            return
        wanted = self._snapshot.key != key and key != self._failed_key
        if wanted and (self._opening is None or self._opening.key != key):
            self._opening = _Opening(generation, key, self.ranking)

    def _take_over(self, opening: _Opening) -> None:
        self._opening = None
        if opening.snapshot is None:
            self._failed_key = opening.key
            log.error("cannot open generation %s, still serving %s (if an older version built "
                      "it, reindex): %r", opening.key[0],
                      self._snapshot.key[0] if self._snapshot else "nothing", opening.error)
            return
        # The old snapshot is not closed here: a request in another thread may still hold it;
        # its files close when the last reference goes.
        self._snapshot = opening.snapshot
        log.info("serving generation %s (%d documents)", opening.key[0],
                 opening.snapshot.documents)

    def _drop(self) -> None:
        self._snapshot = None
        self._opening = None

    def status(self) -> IndexStatus:
        snapshot = self._current()
        meta = snapshot.generation.meta
        return IndexStatus(generation=snapshot.generation.id, documents=snapshot.documents,
                           built_at=meta.get("built_at"))

    # --- search ---

    def search(self, request: SearchRequest) -> SearchResult:
        started = time.monotonic()
        snapshot = self._current()
        cached = snapshot.results.get(request)
        if isinstance(cached, SearchResult):
            return replace(cached, took_ms=_ms(started))
        # issue 10: typo-tolerant results (the typed query is not run when a correction wins).
        result = self._corrected(snapshot, request, started) if request.correct else None
        if result is None:
            result = self._search(snapshot, request, started)
        snapshot.results.put(request, result)
        return result

    def _corrected(self, snapshot: Snapshot, request: SearchRequest,
                   started: float) -> SearchResult | None:
        """The results of the corrected query when it finds clearly more (``search.correction``),
        the reader's query kept in ``query``; None when there is no such correction."""
        corrected = corrected_query(snapshot.vocabulary, request.query)
        if corrected is None:
            return None
        holding_all = [self._docs_with_all(snapshot, parse_query(q, snapshot.analyzers).stems)
                       for q in (request.query, corrected)]
        before, after = (0 if docs is None else int(np.count_nonzero(docs)) for docs in holding_all)
        if not clearly_more(before, after):
            return None
        better = self._search(snapshot, replace(request, query=corrected), started)
        return replace(better, query=request.query, corrected_query=corrected, suggestion=None)

    def _search(self, snapshot: Snapshot, request: SearchRequest,
                started: float) -> SearchResult:
        deadline = started + self.settings.search_budget_ms / 1000.0
        parsed = parse_query(request.query, snapshot.analyzers)
        if parsed.is_empty:
            return SearchResult(request.query, 0, request.page, request.per_page,
                                _ms(started), (), (), stopwords_only=is_stop_words_only(parsed))
        scorer = self._score(snapshot, parsed)
        mask = scorer.count > 0
        mask &= self._filters(snapshot, parsed, request)
        facets = self._section_facets(snapshot, mask)
        if request.sections:
            wanted = np.zeros(snapshot.n_docs, dtype=bool)
            for section in request.sections:
                if section in snapshot.sections:
                    wanted[snapshot.sections[section]] = True
            mask &= wanted
        _check(deadline)
        candidates = np.flatnonzero(mask)
        total = len(candidates)
        window = request.page * request.per_page
        if request.sort == "date":
            recency = None
            newest_first = np.nan_to_num(snapshot.published, nan=-np.inf)  # undated last
            order = top_documents(newest_first, candidates, window, tiebreak=scorer.scores)
        else:
            recency = recency_factor(snapshot.published, self.settings.recency_weight,
                                     self.settings.recency_half_life_days, snapshot.newest_day)
            scores = scorer.finish(recency)
            order = top_documents(scores, candidates, max(window, self.ranking.rerank_depth),
                                  tiebreak=snapshot.published)
            order = self._rerank(snapshot, parsed, scores, order, deadline)
        _check(deadline)
        page = order[window - request.per_page:window]
        matcher = Matcher(parsed.stems, parsed.surfaces, snapshot.word_analysis)
        hits = tuple(self._hit(snapshot, int(d), float(scorer.scores[d]), matcher) for d in page)
        suggestion = self._did_you_mean(snapshot, request.query) if total < SUGGEST_BELOW else None
        return SearchResult(request.query, total, request.page, request.per_page, _ms(started),
                            hits, facets, suggestion)

    def _score(self, snapshot: Snapshot, parsed: ParsedQuery) -> Scorer:
        scorer = Scorer(snapshot.n_docs, self.ranking)
        weights = self.ranking.field_weights
        for term in parsed.stems:
            scorer.add_term(term, [(snapshot.postings(f, term), w, snapshot.norms[f])
                                   for f, w in weights.items()])
        if self.ranking.exact_weight > 0:
            norms = snapshot.surface_norms
            for folded in parsed.surfaces:
                forms = self._surface_forms(snapshot, folded)
                scorer.add_term("=" + folded,
                                [(snapshot.surface_postings(f), 1.0, norms) for f in forms],
                                weight=self.ranking.exact_weight, count_match=False)
        return scorer

    def _surface_forms(self, snapshot: Snapshot, folded: str) -> list[str]:
        # The words field keeps accents; a folded query word matches each of its spellings.
        surface = snapshot.vocabulary.surface(folded)
        return sorted({folded, surface} if surface else {folded})

    def _docs_with(self, snapshot: Snapshot, clause: Clause) -> np.ndarray:
        """Documents holding ``clause``: its term, or its terms as a phrase within one field."""
        found = np.zeros(snapshot.n_docs, dtype=bool)
        for field in TEXT_FIELDS:
            lists = [snapshot.postings(field, t)[0] for t in clause.stems]
            common = lists[0]
            for ids in lists[1:]:
                common = np.intersect1d(common, ids, assume_unique=True)
            if len(clause.stems) > 1 and len(common):
                positions = [snapshot.positions(field, t, common) for t in clause.stems]
                common = np.array([d for d in common
                                   if has_phrase([p.get(int(d), []) for p in positions])],
                                  dtype=np.int64)
            found[common] = True
        return found

    def _filters(self, snapshot: Snapshot, parsed: ParsedQuery,
                 request: SearchRequest) -> np.ndarray:
        keep = snapshot.live.copy()
        for clause in parsed.required_phrases:
            keep &= self._docs_with(snapshot, clause)
        for clause in parsed.negative:
            keep &= ~self._docs_with(snapshot, clause)
        if request.tags:
            tagged = np.zeros(snapshot.n_docs, dtype=bool)
            for tag in request.tags:
                tagged[snapshot.postings("tags", tag.strip().lower())[0]] = True
            keep &= tagged
        if request.date_from or request.date_to:
            days = snapshot.published
            dated = ~np.isnan(days)
            if request.date_from:
                dated &= days >= _day(request.date_from)
            if request.date_to:
                dated &= days < _day(request.date_to) + 1.0
            keep &= dated
        return keep

    def _section_facets(self, snapshot: Snapshot, mask: np.ndarray) -> tuple[FacetValue, ...]:
        counts = [FacetValue(value, int(np.count_nonzero(mask[docs])))
                  for value, docs in snapshot.sections.items()]
        return tuple(sorted((f for f in counts if f.count), key=lambda f: (-f.count, f.value)))

    def _rerank(self, snapshot: Snapshot, parsed: ParsedQuery, scores: np.ndarray,
                order: np.ndarray, deadline: float) -> np.ndarray:
        """Add the proximity bonus to the best ``rerank_depth`` documents and sort them again."""
        stems = [c.stems for c in parsed.positive]
        pairs = [(a, b) for clause in stems for a, b in zip(clause, clause[1:], strict=False)]
        flat = [t for clause in stems for t in clause]
        pairs += [(a, b) for a, b in zip(flat, flat[1:], strict=False)]
        # Each pair once, and no word paired with itself: a repeated word ("économie économie
        # …") must neither multiply the bonus and the position reads nor earn a bonus.
        pairs = [(a, b) for a, b in dict.fromkeys(pairs) if a != b][:MAX_PROXIMITY_PAIRS]
        weight = self.ranking.proximity_weight
        depth = self.ranking.rerank_depth
        if not pairs or weight <= 0 or not len(order):
            return order
        head = np.sort(order[:depth])
        bonus = np.zeros(len(head), dtype=np.float32)
        window = self.ranking.proximity_window
        index = {int(d): i for i, d in enumerate(head)}
        for first, second in pairs:
            _check(deadline)
            rewarded: set[int] = set()  # once per pair and document, whichever field has it
            for field in ("title", "body"):
                both = np.intersect1d(np.intersect1d(head, snapshot.postings(field, first)[0]),
                                      snapshot.postings(field, second)[0])
                if not len(both):
                    continue
                p1 = snapshot.positions(field, first, both)
                p2 = snapshot.positions(field, second, both)
                for docnum in both:
                    d = int(docnum)
                    if d not in rewarded and within(p1.get(d, []), p2.get(d, []), window):
                        bonus[index[d]] += weight
                        rewarded.add(d)
        reranked = scores[head] * (1.0 + bonus)
        scores[head] = reranked
        top = head[np.lexsort((-np.nan_to_num(snapshot.published[head], nan=-1e9), -reranked))]
        return np.concatenate([top, order[depth:]])

    def _hit(self, snapshot: Snapshot, docnum: int, score: float,
             matcher: Matcher | None) -> Hit:
        stored = snapshot.stored(docnum)
        title = stored.get("title") or ""
        snippet_html = None
        if matcher is not None:
            snippet_html = best_snippet((stored.get("body") or "", stored.get("summary") or ""),
                                        matcher)
        published = stored.get("published")
        return Hit(
            id=stored["id"],
            title=title,
            url=stored.get("url") or "",
            section=_sections(stored),
            published=_iso(published),
            author=stored.get("author") or "",
            score=score,
            title_html=mark(title, matcher or Matcher((), (), snapshot.word_analysis)),
            snippet_html=snippet_html,
        )

    def _did_you_mean(self, snapshot: Snapshot, query: str) -> str | None:
        return corrected_query(snapshot.vocabulary, query)

    # --- similar articles and suggestions ---

    def similar(self, article_id: str, *, limit: int = 5,
                same_section: bool = False) -> SimilarResult:
        snapshot = self._current()
        key = ("similar", article_id, limit, same_section)
        cached = snapshot.results.get(key)
        if isinstance(cached, SimilarResult):
            return cached
        result = self._similar(snapshot, article_id, limit, same_section)
        snapshot.results.put(key, result)
        return result

    def _similar(self, snapshot: Snapshot, article_id: str, limit: int,
                 same_section: bool) -> SimilarResult:
        source = snapshot.docnum(article_id)
        if source is None:
            raise ArticleNotFound(f"no article with id {article_id!r}")
        terms = snapshot.key_terms(source)
        if not terms:
            return SimilarResult(article_id, ())
        scorer = Scorer(snapshot.n_docs, self.ranking)
        weights = self.ranking.field_weights
        for term, _ in terms:
            scorer.add_term(term, [(snapshot.postings(f, term), w, snapshot.norms[f])
                                   for f, w in weights.items()])
        mask = scorer.count > 0
        mask[source] = False
        stored = snapshot.stored(source)
        if same_section:
            in_section = np.zeros(snapshot.n_docs, dtype=bool)
            for section in (stored.get("section") or "").split(","):
                if section in snapshot.sections:
                    in_section[snapshot.sections[section]] = True
            mask &= in_section
        needed = max(2, math.ceil(SIMILAR_MIN_MATCH_SHARE * len(terms)))
        strong = mask & (scorer.count >= min(needed, len(terms)))
        scores = scorer.scores
        story = _same_story_key(stored.get("title") or "")
        hits: list[Hit] = []
        for pool in (strong, mask & ~strong):
            order = top_documents(scores, np.flatnonzero(pool), limit * 4,
                                  tiebreak=snapshot.published)
            for docnum in order:
                hit = self._hit(snapshot, int(docnum), float(scores[docnum]), None)
                if _same_story_key(hit.title) == story:
                    continue
                hits.append(hit)
                if len(hits) == limit:
                    return SimilarResult(article_id, tuple(hits))
        return SimilarResult(article_id, tuple(hits))

    def suggest(self, prefix: str, *, limit: int = 8) -> list[str]:
        """Completions of what the reader is typing: real words, never stems.

        With several words, the last one is completed by words found in articles that also hold
        the words before it, the most such articles first, so that ``banque cen`` offers
        ``banque centrale`` and not every word in ``cen…``.
        """
        snapshot = self._current()
        head, _, last = prefix.strip().rpartition(" ")
        head = head.strip()
        if not head:
            return snapshot.vocabulary.complete(last, limit)
        typed = {fold(word) for word in head.split()}
        candidates = [word for word in snapshot.vocabulary.complete(last, SUGGEST_CANDIDATES)
                      if fold(word) not in typed]
        context = self._docs_with_all(snapshot, parse_query(head, snapshot.analyzers).stems)
        if context is None:  # only stop words before the last word: keep them as typed
            return [f"{head} {word}" for word in candidates[:limit]]
        ranked = []
        for rank, word in enumerate(candidates):  # candidates come most frequent first
            together = int(np.count_nonzero(context[snapshot.surface_postings(word)[0]]))
            if together:
                ranked.append((-together, rank, word))
        ranked.sort()
        return [f"{head} {word}" for _, _, word in ranked[:limit]]

    def autocomplete(self, prefix: str, *, limit: int = 8) -> SuggestResult:
        """``/suggest``: the prefix completed into phrases of the titles, and words
        (``search.autocomplete``), and articles whose titles hold those phrases."""
        snapshot = self._current()
        key = ("autocomplete", prefix, limit)
        cached = snapshot.results.get(key)
        if isinstance(cached, SuggestResult):
            return cached
        phrases = complete_phrases(snapshot.phrases, prefix, limit)
        words = self.suggest(prefix, limit=limit) if needs_words(prefix, phrases) else []
        shown = merge(prefix, phrases, words, limit)
        articles: list[ArticleLink] = []
        for _, article in article_refs(prefix, phrases, shown):  # one segment until Index v2
            docnum = int(snapshot.docnum_of_article[article])
            if docnum < 0:  # deleted since the build
                continue
            stored = snapshot.stored(docnum)
            articles.append(ArticleLink(stored["id"], stored.get("title") or "",
                                        stored.get("url") or "", _sections(stored)))
            if len(articles) == ARTICLES_SHOWN:
                break
        result = SuggestResult(prefix, tuple(c.text for c in shown), tuple(shown),
                               tuple(articles))
        snapshot.results.put(key, result)
        return result

    def _docs_with_all(self, snapshot: Snapshot, stems: tuple[str, ...]) -> np.ndarray | None:
        """Documents holding every one of ``stems`` in some text field (None if no stems)."""
        if not stems:
            return None
        together = snapshot.live.copy()
        for stem in stems:
            found = np.zeros(snapshot.n_docs, dtype=bool)
            for field in TEXT_FIELDS:
                found[snapshot.postings(field, stem)[0]] = True
            together &= found
        return together


def snapshot_key(generation: Generation) -> tuple[str, int, int]:
    """What identifies the content of a generation: its id, the revision that incremental
    updates record, and Whoosh's own commit number (a change even if an update died before
    recording its revision, so that every worker serves the same state)."""
    return (generation.id, int(generation.meta.get("revision", 0)),
            toc_generation(generation.path))


def _sections(stored: dict[str, Any]) -> tuple[str, ...]:
    return tuple(s for s in (stored.get("section") or "").split(",") if s)


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise SearchTimeout("the search took longer than its time budget; try fewer words")


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def _day(day: date) -> float:
    return (datetime(day.year, day.month, day.day) - EPOCH) / timedelta(days=1)


def _iso(moment: Any) -> str | None:
    if not isinstance(moment, datetime):
        return None
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
