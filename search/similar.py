"""Similar articles: the "Articles similaires" under an article, or beside a text not yet published.

A More-Like-This in numpy over posting arrays, in three steps:

1. **Key terms** (``key_terms``): the source's stems weighted by tf·idf, the term frequency
   counted over title, lead and body with a weight per field (an occurrence inside a capitalised
   multi-word name of the title or lead, ``Jean-Paul Delevoye``, ``Bank Al-Maghrib``, can count
   more: ``entity_boost``, off, as it changed nothing). Terms found in fewer than
   ``min_doc_freq`` articles (typos, one-offs) or in more than ``max_doc_share`` of them (no
   ceiling by default) are dropped; short numbers too.
2. **Candidates** (``rank``): every live article holding a key term gets a true BM25F score over
   the key terms (each weighted by its key-term weight to the power ``term_weight_power``), then
   a news factor ``1 + time_weight * 0.5 ** (|days apart| / time_half_life_days)`` (follow-ups of
   the same story, a decay rather than a cut-off). Those matching at least ``min_match_share`` of
   the key terms come first (Lucene's ``minimum_should_match``); the others only fill the list.
3. **Exclusions**: the source's own story again (same normalised title) and near-duplicate wire
   copies (same normalised lead, or same opening of the body) are dropped, as are copies of an
   article already in the list.

The functions read an opened index only through ``SimilarIndex``, a Protocol that the engine's
snapshot satisfies. Every lever is a field of ``SimilarConfig``; the defaults are the values
measured on the tagged articles of ``../shared/corpus`` (``docs/similar.md``, ``scripts/bench
similar``).
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from index.analysis import analyze, fold
from search.ranking import RankingConfig, idf, top_documents

Postings = tuple[np.ndarray, np.ndarray]

TEXT_FIELDS = ("title", "summary", "body")
MAX_TEXT_CHARS = 100_000  # what ``POST /similar`` accepts; longer stored texts are cut there
OPENING_CHARS = 200  # the opening of the body that identifies a wire copy
MIN_LEAD_WORDS = 6  # a shorter lead ("Vidéo.") identifies nothing
LEAD_CHARS = 240  # of the lead in a similar article's answer; the block shows ~100
IMPACTS_CACHED = 2_000_000  # (term, article) contributions kept per index (~16 MB)
DOC_FREQS_CACHED = 250_000  # terms whose document frequency is remembered per index (~30 MB)

_DOC_FREQS: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()


class SimilarIndex(Protocol):
    """What similar articles read from an opened index (``search.engine.Snapshot`` has it)."""

    n_docs: int  # document numbers are 0 .. n_docs - 1
    documents: int  # live documents
    live: np.ndarray  # bool per document number
    published: np.ndarray  # float days since 1970 per document number, NaN when undated
    sections: dict[str, np.ndarray]  # section value -> document numbers
    norms: dict[str, np.ndarray]  # text field -> BM25 length norm per document number
    analyzers: tuple[Any, ...]  # the first one analyses the text fields (stems)

    def postings(self, field: str, term: str) -> Postings: ...

    def doc_frequency(self, field: str, term: str) -> int: ...

    def stored(self, docnum: int) -> dict[str, Any]: ...


@dataclass(frozen=True, kw_only=True)
class SimilarConfig:
    """Every lever of similar articles (see the module docstring and ``docs/similar.md``)."""

    # Figures: docs/similar.md (tag agreement on the tagged articles of ../shared/corpus).
    key_terms: int = 35  # 12: 0.643, 25: 0.683, 35: 0.696, 50: 0.709 (without time proximity)
    min_doc_freq: int = 2  # 5 (Lucene's): +0.005, within the seeds' spread; 2 keeps rarer names
    max_doc_share: float = 1.0  # no ceiling: 0.02 (issue 8's) cost 0.036, 0.05 cost 0.015
    pick_title: float = 2.0  # weight of a title occurrence when picking key terms (1 or 3: ±0.004)
    pick_summary: float = 1.5
    pick_body: float = 1.0
    entity_boost: float = 1.0  # x on a term inside a capitalised name: 2 or 3 changed nothing
    term_weight_power: float = 0.0  # key terms weighted in the query: 0.5 cost 0.003, 1 cost 0.015
    min_match_share: float = 0.3  # Lucene's 30%; 0.2 and 0.45 both cost ~0.007
    time_weight: float = 1.5  # follow-ups of a story: +0.05 to +0.06 (see docs/similar.md)
    time_half_life_days: float = 60.0


@dataclass(frozen=True)
class Source:
    """What similar articles are found for: an indexed article or a text not yet published."""

    title: str
    summary: str
    body: str
    published: float = math.nan  # days since 1970
    sections: tuple[str, ...] = ()
    docnum: int | None = None  # the article itself, never its own similar article


def source_of_article(index: SimilarIndex, docnum: int) -> Source:
    """The ``Source`` of an indexed article, from its stored fields."""
    stored = index.stored(docnum)
    return Source(
        title=stored.get("title") or "",
        summary=stored.get("summary") or "",
        body=(stored.get("body") or "")[:MAX_TEXT_CHARS],
        published=float(index.published[docnum]),
        sections=tuple(s for s in (stored.get("section") or "").split(",") if s),
        docnum=docnum,
    )


def lead(stored: dict[str, Any]) -> str:
    """What a teaser shows of an article: its lead, or the opening of its body when it has
    none (12% of the shared corpus), cut at a word near ``LEAD_CHARS``."""
    text = " ".join((stored.get("summary") or stored.get("body") or "").split())
    if len(text) <= LEAD_CHARS:
        return text
    cut = text.rfind(" ", 0, LEAD_CHARS)
    return text[: cut if cut > LEAD_CHARS // 2 else LEAD_CHARS].rstrip(" ,;:") + "…"


# --- step 1: key terms ---------------------------------------------------------------------

_CAPITALISED = r"[A-ZÀ-ÖØ-Þ][\w’'-]*"
_PARTICLE = r"(?:de|du|des|d[’']|la|le|al|el|ben|bin|von|van|ibn)"
_NAME = re.compile(rf"{_CAPITALISED}(?:\s+(?:{_PARTICLE}\s+)?{_CAPITALISED})+")
# Capitalised words that open a sentence or a title, not a name: "Le Maroc" is "Maroc".
_NOT_NAME_START = frozenset(fold(w) for w in (
    "le", "la", "les", "l", "un", "une", "des", "du", "de", "ce", "cet", "cette", "ces", "son",
    "sa", "ses", "leur", "leurs", "au", "aux", "en", "et", "ou", "mais", "pour", "par", "sur",
    "dans", "avec", "sans", "selon", "après", "avant", "quand", "comment", "pourquoi", "où",
    "qui", "que", "quoi", "il", "elle", "ils", "elles", "on", "nous", "vous", "je", "tu",
))  # fmt: skip


def names(text: str) -> list[str]:
    """Capitalised multi-word names in ``text`` (people, places, organisations), in order.

    >>> names("Le Premier ministre Aziz Akhannouch reçoit Bank Al-Maghrib à Rabat")
    ['Aziz Akhannouch', 'Bank Al-Maghrib']
    """
    found = []
    for match in _NAME.finditer(text):
        words = match.group().split()
        while words and fold(words[0]).rstrip("'") in _NOT_NAME_START:
            words.pop(0)
        if len(words) >= 2:
            found.append(" ".join(words))
    return found


def term_frequencies(analyzer: Any, source: Source, config: SimilarConfig) -> dict[str, float]:
    """Each stem of the source with its frequency, weighted by field and by names."""
    weights: dict[str, float] = {}
    for name in TEXT_FIELDS:
        boost = float(getattr(config, "pick_" + name))
        if boost <= 0:
            continue
        text = getattr(source, name)
        for term in analyze(analyzer, text):
            weights[term] = weights.get(term, 0.0) + boost
        if config.entity_boost != 1.0 and name in ("title", "summary"):
            for entity in names(text):
                for term in analyze(analyzer, entity):
                    if term in weights:  # once more per occurrence inside a name
                        weights[term] += boost * (config.entity_boost - 1.0)
    return weights


def _doc_frequency(index: SimilarIndex, term: str) -> int:
    """Articles holding ``term``, as counted in the body (in the title, then the lead, for a
    word the bodies lack); remembered per index: a lookup costs ~17 µs on a multi-segment
    Whoosh index, an article has ~150 distinct terms, and the same words come back (Zipf)."""
    cache = _DOC_FREQS.get(index)
    if cache is None:
        cache = _DOC_FREQS[index] = {}
    found = cache.get(term)
    if found is None:
        found = 0
        for name in ("body", "title", "summary"):
            found = index.doc_frequency(name, term)
            if found:
                break
        if len(cache) >= DOC_FREQS_CACHED:
            cache.clear()  # rare (a quarter of a million distinct words); cheap to refill
        cache[term] = found
    return found


def key_terms(
    index: SimilarIndex, source: Source, config: SimilarConfig
) -> list[tuple[str, float]]:
    """The ``config.key_terms`` terms that best tell what ``source`` is about, best first."""
    max_df = max(config.max_doc_share * index.documents, config.min_doc_freq)
    scored = []
    for term, tf in term_frequencies(index.analyzers[0], source, config).items():
        if term.isdigit() and len(term) < 4:  # "3", "12": counts, not topics (years stay)
            continue
        # A posted text counts as one more article, as an indexed source counts itself.
        doc_freq = _doc_frequency(index, term) + (source.docnum is None)
        if config.min_doc_freq <= doc_freq <= max_df:
            scored.append((term, tf * math.log(index.documents / doc_freq)))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[: config.key_terms]


# --- step 2: candidates --------------------------------------------------------------------


class _Impacts:
    """Each key term's BM25F contribution to every article holding it, remembered per index.

    The same words come back in article after article (Zipf), and a term's contribution does
    not depend on the source: caching it turns the scoring of a term into two scatter-adds.
    Bounded by the number of (term, article) entries kept, the least recently used go first.
    A lock keeps the cache and its scratch array whole if two threads share an engine.
    """

    def __init__(self, index: SimilarIndex, ranking: RankingConfig) -> None:
        self.index = index
        self.ranking = ranking
        self.entries: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.size = 0
        self._tf = np.zeros(index.n_docs, dtype=np.float32)
        self._seen = np.zeros(index.n_docs, dtype=bool)
        self._lock = threading.Lock()

    def of(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            found = self.entries.get(term)
            if found is not None:
                self.entries.move_to_end(term)
                return found
            found = self._compute(term)
            self.entries[term] = found
            self.size += len(found[0])
            while self.size > IMPACTS_CACHED and len(self.entries) > 1:
                _, (docs, _) = self.entries.popitem(last=False)
                self.size -= len(docs)
            return found

    def _compute(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        # True BM25F: the fields' weighted, length-normalised frequencies are added, then
        # saturated once (search.ranking's model, here for one term at a time).
        tf, seen, parts = self._tf, self._seen, []
        for name, weight in self.ranking.field_weights.items():
            ids, freqs = self.index.postings(name, term)
            if len(ids):
                tf[ids] += weight * freqs / self.index.norms[name][ids]
                seen[ids] = True
                parts.append(ids)
        if not parts:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        # A scratch mask marks the documents of the fields' postings: one scan of its bytes finds
        # them faster than np.unique over the postings (0.5 ms a term at x4) or a scan of tf.
        docs = parts[0] if len(parts) == 1 else np.flatnonzero(seen).astype(np.int32)
        seen[docs] = False
        freq = tf[docs]
        tf[docs] = 0.0
        k1 = self.ranking.k1
        impact = idf(len(docs), self.index.n_docs) * freq * (k1 + 1.0) / (freq + k1)
        return docs, impact.astype(np.float32)


_IMPACTS: weakref.WeakKeyDictionary[Any, dict[RankingConfig, _Impacts]] = (
    weakref.WeakKeyDictionary()
)


def _scores(
    index: SimilarIndex,
    terms: Sequence[tuple[str, float]],
    config: SimilarConfig,
    ranking: RankingConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Each article's score over the key terms, and how many of them it holds."""
    per_ranking = _IMPACTS.get(index)
    if per_ranking is None:
        per_ranking = _IMPACTS[index] = {}
    impacts = per_ranking.get(ranking)
    if impacts is None:
        impacts = per_ranking[ranking] = _Impacts(index, ranking)
    scores = np.zeros(index.n_docs, dtype=np.float32)
    count = np.zeros(index.n_docs, dtype=np.int16)
    top = terms[0][1]
    for term, weight in terms:
        docs, impact = impacts.of(term)
        # A term in every article has no weight (idf 0): then every key term counts alike.
        relative = weight / top if top > 0 else 1.0
        scores[docs] += impact * relative**config.term_weight_power
        count[docs] += 1
    return scores, count


def time_factor(published: np.ndarray, day: float, config: SimilarConfig) -> np.ndarray:
    """``1 + weight * 0.5 ** (|days apart| / half-life)``; 1 when either date is unknown."""
    if config.time_weight <= 0 or math.isnan(day):
        return np.ones(len(published), dtype=np.float32)
    apart = np.abs(published - day)
    boost = config.time_weight * np.power(0.5, apart / config.time_half_life_days)
    return (1.0 + np.nan_to_num(boost, nan=0.0)).astype(np.float32)


def _near_in_time(
    index: SimilarIndex,
    scores: np.ndarray,
    pool: np.ndarray,
    day: float,
    config: SimilarConfig,
    k: int,
) -> np.ndarray:
    """Multiply the scores of ``pool`` by the time factor, and return the part of it that can
    still be among its ``k`` best: the factor is at most ``1 + time_weight``, so an article
    whose score times that stays below the k-th best score before the factor cannot get in.
    (Over the whole candidate set, a third of the time of a call went into the factor.)"""
    if config.time_weight <= 0 or math.isnan(day):
        return pool
    if len(pool) > k:
        raw = scores[pool]
        kth = np.partition(raw, len(raw) - k)[len(raw) - k]
        pool = pool[raw * (1.0 + config.time_weight) >= kth]
    scores[pool] *= time_factor(index.published[pool], day, config)
    return pool


def _normalised(text: str) -> str:
    return re.sub(r"\W+", " ", fold(text)).strip()


def copy_keys(title: str, summary: str, body: str) -> set[str]:
    """What identifies one story's copies: its normalised title, lead, and body opening.

    Wire copies of one dispatch, updated during the day, keep their lead or their first lines
    and often change the title (``EN DIRECT``, a new figure).
    """
    keys = {"t:" + _normalised(title)}
    lead = _normalised(summary)
    if len(lead.split()) >= MIN_LEAD_WORDS:
        keys.add("l:" + lead)
    opening = _normalised(body[: OPENING_CHARS * 2])[:OPENING_CHARS]  # folding all costs ~1 ms
    if len(opening) == OPENING_CHARS:
        keys.add("b:" + opening)
    return keys


def _stored_keys(stored: dict[str, Any]) -> set[str]:
    return copy_keys(
        stored.get("title") or "", stored.get("summary") or "", stored.get("body") or ""
    )


def rank(
    index: SimilarIndex,
    source: Source,
    *,
    limit: int,
    same_section: bool = False,
    config: SimilarConfig | None = None,
    ranking: RankingConfig | None = None,
) -> list[tuple[int, float]]:
    """The ``limit`` articles most similar to ``source``: (document number, score), best first."""
    config = config or SimilarConfig()
    ranking = ranking or RankingConfig()
    terms = key_terms(index, source, config)
    if not terms:
        return []
    scores, count = _scores(index, terms, config, ranking)
    mask = (count > 0) & index.live
    if source.docnum is not None:
        mask[source.docnum] = False
    if same_section:
        wanted = np.zeros(index.n_docs, dtype=bool)
        for section in source.sections:
            if section in index.sections:
                wanted[index.sections[section]] = True
        mask &= wanted
    candidates = np.flatnonzero(mask)
    needed = min(max(2, math.ceil(config.min_match_share * len(terms))), len(terms))
    strong = count[candidates] >= needed
    seen = copy_keys(source.title, source.summary, source.body)
    found: list[tuple[int, float]] = []
    for pool in (candidates[strong], candidates[~strong]):
        pool = _near_in_time(index, scores, pool, source.published, config, limit * 4)
        for docnum in top_documents(scores, pool, limit * 4, tiebreak=index.published):
            keys = _stored_keys(index.stored(int(docnum)))
            if keys & seen:  # the source's story again, or a copy of one already listed
                continue
            seen |= keys
            found.append((int(docnum), float(scores[docnum])))
            if len(found) == limit:
                return found
    return found
