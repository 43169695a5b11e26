"""The phrase index of a segment: the word sequences of its titles, for autocomplete.

Autocomplete must complete the whole typed prefix into something people actually wrote
(``coupe du mo`` -> "coupe du monde", ``gilets j`` -> "gilets jaunes"), not pair the words
before with any frequent word of the right beginning. Titles are where a news site names its
stories, so every run of 1 to ``MAX_WORDS`` words of a title (within one clause: a title is cut
at ``:``, ``,``, quotes, dashes…) is a phrase, counted once per title, when

- it neither starts nor ends with a stop word or a question word (``la coupe``, ``coupe du``
  are not phrases; ``coupe du monde`` is), and
- at least ``MIN_TITLES`` titles of the segment hold it (a phrase of one title is noise: on the
  shared corpus, 856k distinct runs, 93k of two titles or more).

Words keep their hyphens and elisions (``notre-dame``, ``covid-19``, ``l'essence``), so those
prefixes work; in the keys, hyphens are spaces (``notre da`` also finds "Notre-Dame").

Arrays (``<folder>/phrases.arrays``, ``index.arrays``: opened mmapped, no per-worker Python
structure):
``keys`` (folded, sorted, fixed-width UTF-8, for ``np.searchsorted`` by prefix), ``counts``
(titles holding the phrase), ``texts`` (the phrase to show: each word in the case it usually
has inside titles, ``Notre-Dame``, ``gilets jaunes``), ``articles`` (up to ``ARTICLES_KEPT``
article numbers per phrase, newest first, -1 for none: the titles shown beside the
completions). Article numbers are the caller's (the build numbers articles as it meets them).
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from index.analysis import QUESTION_WORDS, STOP_WORDS, fold
from index.arrays import StoredArrays

MAX_WORDS = 5
MIN_TITLES = 2
ARTICLES_KEPT = 3
MAX_KEY_BYTES = 64
FILENAME = "phrases.arrays"

# What cuts a title into clauses: phrases never run across these.
_CLAUSE_BREAK = re.compile(r"[:;,.!?…«»\"“”()\[\]{}|/–—]|\s[-‐‑]+\s")
_WORD = re.compile(r"\w[\w'’\-‐‑]*")
_ELISION = re.compile(r"^(?:l|m|t|qu|n|s|j|d|c|jusqu|quoiqu|lorsqu|puisqu)'", re.IGNORECASE)
_HYPHENS = re.compile(r"[\-‐‑]")


def normalize(text: str) -> str:
    """How keys and typed prefixes are compared: folded, hyphens as spaces, spaces collapsed.

    A trailing space is kept (``saint-`` -> ``saint `` asks for what follows a whole word).
    """
    folded = _HYPHENS.sub(" ", fold(text))
    collapsed = " ".join(folded.split())
    if collapsed and folded[-1:].isspace():
        collapsed += " "
    return collapsed


# Kept in the index as homonyms (the East), but in titles nearly always the verb: "Macron est".
_VERB_HOMONYMS = frozenset({"est"})


def is_stop_word(word: str) -> bool:
    """A word that cannot open or close a phrase: a stop word, elided or not, or a question word.

    ``l'essence`` is not (the elided article goes with its noun); ``d'une`` and ``l'`` are.
    """
    folded = fold(word).strip("'-")
    bare = _ELISION.sub("", folded)
    return (
        not bare
        or bare in STOP_WORDS
        or bare in QUESTION_WORDS
        or bare in _VERB_HOMONYMS
        or (len(bare) < 2 and not bare.isdigit())
    )


def title_words(title: str) -> Iterator[list[str]]:
    """The words of each clause of a title, as written (trailing hyphens and quotes trimmed)."""
    for clause in _CLAUSE_BREAK.split(title):
        words = [w.rstrip("'’-‐‑") for w in _WORD.findall(clause)]
        words = [w.replace("’", "'") for w in words if w]
        if words:
            yield words


def _runs(words: list[str], stopped: list[bool] | None = None) -> Iterator[tuple[int, int]]:
    if stopped is None:
        stopped = [is_stop_word(w) for w in words]
    for start in range(len(words)):
        if stopped[start]:
            continue
        for end in range(start + 1, min(start + MAX_WORDS, len(words)) + 1):
            if not stopped[end - 1]:
                yield start, end


class _Words:
    """``normalize`` and ``is_stop_word`` of each distinct word, worked out once: titles keep
    reusing the same words (cProfile: 30% of the phrase index's build)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, bool]] = {}

    def clauses(self, title: str) -> list[tuple[list[str], list[str], list[tuple[int, int]]]]:
        """Each clause of ``title``: its words, their keys, and its runs."""
        out = []
        seen = self._seen
        for words in title_words(title):
            keyed: list[str] = []
            stopped: list[bool] = []
            for word in words:
                known = seen.get(word)
                if known is None:
                    known = seen[word] = (normalize(word), is_stop_word(word))
                keyed.append(known[0])
                stopped.append(known[1])
            out.append((words, keyed, list(_runs(words, stopped))))
        return out


class PhraseIndexBuilder:
    """Collects a segment's titles; ``build``/``save`` make the phrase arrays."""

    def __init__(self) -> None:
        self._titles: list[str] = []
        self._articles = array("i")
        self._published = array("d")

    def add_title(self, title: str, article: int, published_day: float = float("nan")) -> None:
        """The title of article number ``article`` (``published_day``: days since 1970)."""
        self._titles.append(title)
        self._articles.append(article)
        self._published.append(published_day)

    def _shown_words(self) -> dict[str, str]:
        """How each word is usually written inside titles: ``Notre-Dame``, ``COVID-19``,
        ``jaunes``. A title's first word is capitalised by sentence case, so it only counts for
        a word never seen elsewhere, and then keeps its capital before another capitalised
        word (``Bank Al-Maghrib``), not otherwise (``Inflation : …`` -> ``inflation``)."""
        inside: dict[str, Counter[str]] = {}
        first: dict[str, Counter[str]] = {}
        for title in self._titles:
            for clause_number, words in enumerate(title_words(title)):
                for position, word in enumerate(words):
                    if clause_number or position:
                        inside.setdefault(word.lower(), Counter())[word] += 1
                        continue
                    named = len(words) > 1 and words[1][:1].isupper()
                    shown = word if named or word.isupper() else word.lower()
                    first.setdefault(word.lower(), Counter())[shown] += 1
        shown_words = {lower: counts.most_common(1)[0][0] for lower, counts in first.items()}
        shown_words.update((lower, counts.most_common(1)[0][0]) for lower, counts in inside.items())
        return shown_words

    def build(self, keep: np.ndarray | None = None) -> PhraseIndex:
        """The phrase index of the titles added; ``keep[n]`` False drops title ``n`` (a record
        that a later one replaced)."""
        titles = [
            (t, a, p)
            for n, (t, a, p) in enumerate(
                zip(self._titles, self._articles, self._published, strict=True)
            )
            if keep is None or keep[n]
        ]
        # Pass 1, cheap: count each run by hash (Python's, stable within this process) so that
        # only the runs of MIN_TITLES titles or more are ever held as strings.
        analysed = _Words()
        clauses = [analysed.clauses(title) for title, _, _ in titles]
        hashes = array("q")
        for title_clauses in clauses:
            runs: set[int] = set()
            for _, keyed, spans in title_clauses:
                runs.update(hash(" ".join(keyed[s:e])) for s, e in spans)
            hashes.extend(runs)
        found, counts = np.unique(np.frombuffer(hashes, dtype=np.int64), return_counts=True)
        frequent = set(found[counts >= MIN_TITLES].tolist())
        # Pass 2: the frequent runs, their titles and how to show them.
        shown = self._shown_words()
        phrases: dict[str, tuple[str, list[tuple[float, int]]]] = {}
        for (_, article, published), title_clauses in zip(titles, clauses, strict=True):
            seen: set[str] = set()
            for words, keyed, spans in title_clauses:
                for start, end in spans:
                    key = " ".join(keyed[start:end])
                    if key in seen or hash(key) not in frequent:
                        continue
                    seen.add(key)
                    entry = phrases.get(key)
                    if entry is None:
                        text = " ".join(shown.get(w.lower(), w.lower()) for w in words[start:end])
                        entry = phrases[key] = (text, [])
                    entry[1].append((published, article))
        keys = sorted(
            (k for k in phrases if len(k.encode("utf-8")) <= MAX_KEY_BYTES),
            key=lambda k: k.encode("utf-8"),
        )
        article_table = np.full((len(keys), ARTICLES_KEPT), -1, dtype=np.int32)
        for row, key in enumerate(keys):
            dated = sorted(phrases[key][1], key=lambda item: (-_day(item[0]), item[1]))
            newest = [article for _, article in dated[:ARTICLES_KEPT]]
            article_table[row, : len(newest)] = newest
        texts = [phrases[k][0] for k in keys]
        return PhraseIndex(
            keys=_fixed([k.encode("utf-8") for k in keys]),
            counts=np.array([len(phrases[k][1]) for k in keys], dtype=np.int32),
            texts=_fixed([t.encode("utf-8") for t in texts]),
            articles=article_table,
        )

    def save(self, folder: Path, keep: np.ndarray | None = None) -> PhraseIndex:
        index = self.build(keep)
        index.save(folder)
        return index


def _day(published: float) -> float:
    return -1e9 if published != published else published  # undated (NaN) last


def _fixed(values: list[bytes]) -> np.ndarray:
    width = max((len(v) for v in values), default=1) or 1
    return np.array(values, dtype=f"S{width}")


@dataclass(frozen=True)
class PhraseIndex(StoredArrays):
    """One segment's phrases (see the module docstring); arrays in memory or mmapped."""

    keys: np.ndarray
    counts: np.ndarray
    texts: np.ndarray
    articles: np.ndarray

    FILENAME: ClassVar[str] = FILENAME

    @classmethod
    def empty(cls) -> PhraseIndex:
        return PhraseIndexBuilder().build()

    def __len__(self) -> int:
        return len(self.keys)

    def prefix_range(self, normalized_prefix: str) -> tuple[int, int]:
        """The rows [lo, hi) whose key starts with ``normalized_prefix`` (see ``normalize``)."""
        raw = normalized_prefix.encode("utf-8")
        if len(raw) > self.keys.dtype.itemsize:
            return 0, 0
        lo = int(np.searchsorted(self.keys, raw, side="left"))
        hi = int(np.searchsorted(self.keys, raw + b"\xff", side="left"))
        return lo, hi

    def key(self, row: int) -> str:
        return bytes(self.keys[row]).decode("utf-8")

    def text(self, row: int) -> str:
        return bytes(self.texts[row]).decode("utf-8")
