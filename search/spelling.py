"""Word completion and word correction, from the lexicons of a generation's segments.

``Vocabulary`` answers over one ``index.lexicon.Lexicon`` per segment (mmapped numpy arrays, no
per-worker dict of the words), summing the counts of a word across segments:

- ``complete(prefix)``: known words starting with the folded prefix, most frequent first, in their
  real spelling — ``econ`` and ``écon`` both offer ``économie``.
- ``correct(word)``: a known word for a word the index does not hold, with Meilisearch's length
  rules (no typo under 5 letters, 1 from 5, 2 from 9; a swap of two neighbours counts as one):
  first the most frequent word that sounds the same (``economik`` -> ``économique``, three edits
  but one sound: French spelling errors are mostly phonetic) if it is within two edits more than
  the budget, else the nearest, most frequent word within the typo budget. A word the index
  holds, even in one article, is never corrected (a rare name is not a typo); only words of at
  least ``MIN_DF`` articles are offered, so typos in articles are not suggested back.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

import numpy as np

from index.analysis import fold
from index.lexicon import (
    MAX_WORD_BYTES,
    Lexicon,
    LexiconBuilder,
    encode,
    letter_bits,
    phonetic_key,
)

__all__ = ["MIN_DF", "Vocabulary", "edit_distance", "phonetic_key", "typo_budget"]

MIN_DF = 2
# Candidates of one segment looked at for a completion: the most frequent of its range.
COMPLETION_POOL = 64
# A word that sounds the same may be this many edits further than the typo budget: economik ->
# économique is 3 edits, one sound; hollnde -> aulne (4 edits) is not a correction but a pun.
SOUND_EXTRA_EDITS = 2
_BITS = np.array([bin(n).count("1") for n in range(256)], dtype=np.uint8)


def _popcount(values: np.ndarray) -> np.ndarray:
    """Bits set in each uint32 (numpy 1.26 has no bitwise_count)."""
    counts: np.ndarray = _BITS[values.astype(np.uint32).view(np.uint8)].reshape(-1, 4).sum(axis=1)
    return counts


def typo_budget(word: str) -> int:
    """Meilisearch's defaults: no typo under 5 letters, 1 from 5, 2 from 9."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance where swapping two neighbours costs 1 (optimal string alignment),
    or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return min(previous[-1], limit + 1)


class Vocabulary:
    """The words of a generation, over its segments' lexicons; see the module docstring."""

    def __init__(self, lexicons: Sequence[Lexicon]) -> None:
        self.lexicons = tuple(lexicons)

    @classmethod
    def from_counts(cls, words: Iterable[tuple[str, int]]) -> Vocabulary:
        """A one-segment vocabulary of (surface word, document frequency) pairs, in memory."""
        builder = LexiconBuilder()
        for word, doc_freq in words:
            builder.add_counts(word, doc_freq)
        return cls([builder.build()])

    def __len__(self) -> int:
        return sum(len(lexicon) for lexicon in self.lexicons)

    def doc_freq(self, word: str) -> int:
        folded = fold(word)
        return sum(lexicon.doc_freq(folded) for lexicon in self.lexicons)

    def knows(self, word: str) -> bool:
        """Whether some article holds ``word`` (accents ignored), or it is too long to tell."""
        folded = fold(word)
        return len(encode(folded)) > MAX_WORD_BYTES or self.doc_freq(folded) > 0

    def surface(self, folded: str) -> str | None:
        """The most frequent spelling of a folded word (from its largest segment), or None."""
        best: tuple[int, str] | None = None
        for lexicon in self.lexicons:
            n = lexicon.find(folded)
            if n >= 0 and (best is None or int(lexicon.doc_freqs[n]) > best[0]):
                best = (int(lexicon.doc_freqs[n]), lexicon.surface(n))
        return best[1] if best else None

    def _shown(self, folded: str) -> str:
        return self.surface(folded) or folded

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """Known words starting with ``prefix`` (accents ignored), most frequent first."""
        stem = fold(prefix.strip())
        if not stem:
            return []
        if len(self.lexicons) == 1:  # counts need no summing: straight from the arrays
            return self._complete_one(self.lexicons[0], stem, limit)
        pool: set[str] = set()
        for lexicon in self.lexicons:
            lo, hi = lexicon.prefix_range(stem)
            freqs = np.asarray(lexicon.doc_freqs[lo:hi])
            if len(freqs) > COMPLETION_POOL:
                top = np.argpartition(-freqs, COMPLETION_POOL)[:COMPLETION_POOL]
            else:
                top = np.arange(len(freqs))
            pool.update(lexicon.word(lo + int(i)) for i in top)
        counted = [(self.doc_freq(w), w) for w in pool]
        best = heapq.nsmallest(
            limit,
            (item for item in counted if item[0] >= MIN_DF),
            key=lambda item: (-item[0], item[1]),
        )
        return [self._shown(w) for _, w in best]

    @staticmethod
    def _complete_one(lexicon: Lexicon, stem: str, limit: int) -> list[str]:
        lo, hi = lexicon.prefix_range(stem)
        freqs = np.asarray(lexicon.doc_freqs[lo:hi])
        top = (
            np.argpartition(-freqs, limit)[:limit] if len(freqs) > limit else np.arange(len(freqs))
        )
        # Most frequent first; ties in word order, as the summing path has them.
        ranked = sorted(
            (-int(freqs[i]), lexicon.word(lo + int(i)), int(i)) for i in top if freqs[i] >= MIN_DF
        )
        return [lexicon.surface(lo + i) for _, _, i in ranked]

    def correct(self, word: str) -> str | None:
        """A known word for an unknown ``word``, or None (known, too short, or nothing close)."""
        folded = fold(word)
        limit = typo_budget(folded)
        if not limit or folded.isdigit() or self.knows(folded):
            return None
        sound = self._by_sound(folded, limit + SOUND_EXTRA_EDITS)
        if sound is not None:
            return self._shown(sound)
        best: tuple[int, int, str] | None = None
        lengths = range(len(folded) - limit, len(folded) + limit + 1)
        for candidate in self._words_of_shape(folded, lengths, limit):
            distance = edit_distance(folded, candidate, limit)
            if distance <= limit:
                doc_freq = self.doc_freq(candidate)
                rank = (distance, -doc_freq, candidate)
                if doc_freq >= MIN_DF and (best is None or rank < best):
                    best = rank
        return self._shown(best[2]) if best else None

    def _by_sound(self, folded: str, max_edits: int) -> str | None:
        key = phonetic_key(folded)
        found = {lexicon.word(int(n)) for lexicon in self.lexicons for n in lexicon.same_sound(key)}
        ranked = [(self.doc_freq(w), w) for w in found if w != folded]
        ranked = [
            item
            for item in ranked
            if item[0] >= MIN_DF and edit_distance(folded, item[1], max_edits) <= max_edits
        ]
        return max(ranked)[1] if ranked else None

    def _words_of_shape(self, folded: str, lengths: range, limit: int) -> set[str]:
        """Words of the lengths given, starting with the same letter and holding nearly the
        same letters (an edit changes at most two of the ``letter_bits``)."""
        words: set[str] = set()
        bits = np.uint32(letter_bits(folded))
        for lexicon in self.lexicons:
            numbers = lexicon.same_shape(folded[0], lengths)
            if not len(numbers):
                continue
            keep = _popcount(np.asarray(lexicon.letters)[numbers] ^ bits) <= 2 * limit
            if len(self.lexicons) == 1:  # words of one article are never offered...
                keep &= np.asarray(lexicon.doc_freqs)[numbers] >= MIN_DF  # ...unless summed
            words.update(lexicon.word(int(n)) for n in numbers[keep])
        return words
