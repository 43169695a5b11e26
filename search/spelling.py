"""Autocomplete and "did you mean", from the real words of the index (never stems).

``Vocabulary`` is built once per index generation from the unstemmed ``words`` field: every
surface form (``économie``, ``Économie`` lowercased, ``economie``) is grouped under its folded form,
which keeps its most frequent surface form and the summed document frequency. Then:

- ``complete(prefix)``: folded words starting with the folded prefix, most frequent first, shown
  in their surface form — ``econ`` and ``écon`` both offer ``économie``. (The engine completes
  the last word of a multi-word prefix with the words that appear beside the others.)
- ``correct(word)``: for a word the index does not know (or barely), the most frequent known word
  with the same French phonetic key (``economik`` and ``économique`` both key ``ekonomik``), else
  the most frequent within one or two edits. Only words seen in at least ``MIN_DF`` articles are
  offered, so typos in articles are not suggested back.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.analysis import fold

MIN_DF = 2
_PHONETIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"ph", "f"), (r"qu", "k"), (r"ck", "k"), (r"c(?=[eiy])", "s"), (r"c", "k"),
        (r"g(?=[eiy])", "j"), (r"gu(?=[eiy])", "g"), (r"eau|au", "o"), (r"ai|ei", "e"),
        (r"y", "i"), (r"(?<!c)h", ""), (r"x$", ""), (r"z", "s"), (r"w", "v"),
        (r"(.)\1+", r"\1"), (r"(?<=.)[estd]+$", ""),
    )
)


def phonetic_key(word: str) -> str:
    """A rough French sound key of a folded word: spellings that sound alike share it."""
    key = word
    for pattern, replacement in _PHONETIC_RULES:
        key = pattern.sub(replacement, key)
    return key


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class _Entry:
    surface: str
    doc_freq: int


class Vocabulary:
    """The index's words by folded form; see the module docstring."""

    def __init__(self, words: Iterable[tuple[str, int]]) -> None:
        best: dict[str, tuple[str, int, int]] = {}  # folded -> (surface, its df, total df)
        for surface, doc_freq in words:
            folded = fold(surface)
            if not folded:
                continue
            current = best.get(folded)
            if current is None:
                best[folded] = (surface, doc_freq, doc_freq)
            else:
                top, top_df, total = current
                if doc_freq > top_df:
                    top, top_df = surface, doc_freq
                best[folded] = (top, top_df, total + doc_freq)
        self.entries = {k: _Entry(v[0], v[2]) for k, v in best.items()}
        self.sorted_keys = sorted(k for k, e in self.entries.items() if e.doc_freq >= MIN_DF)
        self._by_sound: dict[str, str] = {}
        self._by_shape: dict[tuple[str, int], list[str]] = {}
        for key in self.sorted_keys:
            sound = phonetic_key(key)
            if self._better(key, self._by_sound.get(sound)):
                self._by_sound[sound] = key
            self._by_shape.setdefault((key[0], len(key)), []).append(key)

    def __len__(self) -> int:
        return len(self.entries)

    def _better(self, key: str, other: str | None) -> bool:
        return other is None or self.entries[key].doc_freq > self.entries[other].doc_freq

    def doc_freq(self, word: str) -> int:
        entry = self.entries.get(fold(word))
        return entry.doc_freq if entry else 0

    def surface(self, folded: str) -> str:
        entry = self.entries.get(folded)
        return entry.surface if entry else folded

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """Known words starting with ``prefix`` (accents ignored), most frequent first."""
        stem = fold(prefix.strip())
        if not stem:
            return []
        lo = bisect.bisect_left(self.sorted_keys, stem)
        hi = bisect.bisect_right(self.sorted_keys, stem + "\uffff")
        candidates = heapq.nsmallest(limit, self.sorted_keys[lo:hi],
                                     key=lambda k: -self.entries[k].doc_freq)
        return [self.entries[k].surface for k in candidates]

    def correct(self, word: str) -> str | None:
        """A known word for an unknown ``word`` (folded), or None if it is fine or hopeless."""
        folded = fold(word)
        if len(folded) < 3 or self.doc_freq(folded) >= MIN_DF or folded.isdigit():
            return None
        by_sound = self._by_sound.get(phonetic_key(folded))
        if by_sound is not None and by_sound != folded:
            return self.entries[by_sound].surface
        limit = 1 if len(folded) < 6 else 2
        best: tuple[int, int, str] | None = None
        for length in range(len(folded) - limit, len(folded) + limit + 1):
            for key in self._by_shape.get((folded[0], length), ()):
                distance = edit_distance(folded, key, limit)
                if distance <= limit:
                    rank = (distance, -self.entries[key].doc_freq, key)
                    if best is None or rank < best:
                        best = rank
        return self.entries[best[2]].surface if best else None
