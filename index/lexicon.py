"""The lexicon of a segment: its real words (folded), how many articles hold each, and the keys
that spelling correction looks words up by — flat numpy arrays, written once, opened mmapped.

A search worker must not hold a Python dict of the whole vocabulary (135k articles: ~400k
words, tens of MB per worker, and seconds to build at every generation switch), so everything
is computed at index time and read in place at query time:

- ``terms``: the folded words (``economie``), sorted, as fixed-width UTF-8 (``S<n>``), so that a
  word or a prefix is found with ``np.searchsorted``; ``doc_freqs`` beside them;
- ``surfaces``: each word's most frequent spelling with its accents (``économie``), to show;
- ``sounds`` / ``sound_terms``: each word's French sound key (``phonetic_key``), sorted, with
  the term it belongs to: ``economik`` finds ``économique`` by key;
- ``shapes`` / ``shape_terms``: (first letter, length) codes, sorted, with their terms: the
  words that could be one or two edits away from a typed word are a few contiguous slices;
- ``letters``: which letters each word holds, as bits (``letter_bits``): an edit changes at
  most two of them, so a vectorised XOR drops most of a slice before any edit distance is
  computed in Python (``coronavirsu``: 190 ms -> see docs/search-box.md).

Words longer than ``MAX_WORD_BYTES`` (URLs, run-together junk) are left out: nobody types them,
and the caller treats a word too long to be in the lexicon as one it must not correct.

A generation of several segments has one lexicon per segment; ``search.spelling`` sums their
counts. ``LexiconBuilder.add(words)`` takes the surface words of one document (as the
``surface_analyzer`` gives them); ``add_counts(word, doc_freq)`` takes counts already made (the
surface table's). File: ``<folder>/lexicon.arrays`` (``index.arrays``); a folder without it
opens empty.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from index.analysis import fold
from index.arrays import StoredArrays

MAX_WORD_BYTES = 40  # 99.9% of the shared corpus's distinct words are shorter
FILENAME = "lexicon.arrays"

_PHONETIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"ph", "f"), (r"qu", "k"), (r"ck", "k"), (r"c(?=[eiy])", "s"), (r"c", "k"),
        (r"g(?=[eiy])", "j"), (r"gu(?=[eiy])", "g"), (r"eau|au", "o"), (r"ai|ei", "e"),
        (r"y", "i"), (r"(?<!c)h", ""), (r"x$", ""), (r"z", "s"), (r"w", "v"),
        (r"(.)\1+", r"\1"), (r"(?<=.)[estd]+$", ""),
    )
)  # fmt: skip


def phonetic_key(word: str) -> str:
    """A rough French sound key of a folded word: spellings that sound alike share it."""
    key = word
    for pattern, replacement in _PHONETIC_RULES:
        key = pattern.sub(replacement, key)
    return key


def shape_code(first: str, length: int) -> int:
    """The (first letter, length) bucket of a word, as one sortable integer."""
    return ord(first) * 256 + min(length, 255)


def letter_bits(word: str) -> int:
    """The letters ``a``-``z`` a folded word holds, one bit each (bit 26: a digit, 27: other)."""
    bits = 0
    for ch in word:
        if "a" <= ch <= "z":
            bits |= 1 << (ord(ch) - 97)
        else:
            bits |= 1 << (26 if ch.isdigit() else 27)
    return bits


def encode(word: str) -> bytes:
    return word.encode("utf-8")


class LexiconBuilder:
    """Counts the words of a segment's documents; ``save`` writes the arrays."""

    def __init__(self) -> None:
        self._doc_freqs: Counter[str] = Counter()  # surface word -> articles holding it

    def add(self, words: Iterable[str]) -> None:
        """The surface words of one document (each counted once)."""
        self._doc_freqs.update(set(words))

    def add_counts(self, word: str, doc_freq: int) -> None:
        """A surface word and the number of articles holding it."""
        self._doc_freqs[word] += doc_freq

    def build(self) -> Lexicon:
        """The finished lexicon, in memory."""
        best: dict[str, tuple[str, int, int]] = {}  # folded -> (surface, its df, total df)
        for surface, doc_freq in self._doc_freqs.items():
            folded = fold(surface)
            if not folded or doc_freq <= 0 or len(encode(folded)) > MAX_WORD_BYTES:
                continue
            current = best.get(folded)
            if current is None:
                best[folded] = (surface, doc_freq, doc_freq)
                continue
            top, top_df, total = current
            if (doc_freq, surface) > (top_df, top):  # ties: the same answer on every build
                top, top_df = surface, doc_freq
            best[folded] = (top, top_df, total + doc_freq)
        folded_words = sorted(best, key=encode)  # byte order: what searchsorted compares
        terms = np.array([encode(w) for w in folded_words], dtype=_bytes_dtype(folded_words))
        surfaces_text = [best[w][0] for w in folded_words]
        surfaces = np.array([encode(s) for s in surfaces_text], dtype=_bytes_dtype(surfaces_text))
        doc_freqs = np.array([best[w][2] for w in folded_words], dtype=np.int32)
        keys = [phonetic_key(w) for w in folded_words]
        sound_order = np.array(
            sorted(range(len(keys)), key=lambda n: encode(keys[n])), dtype=np.int32
        )
        sounds = np.array([encode(keys[n]) for n in sound_order], dtype=_bytes_dtype(keys))
        codes = np.array([shape_code(w[0], len(w)) for w in folded_words], dtype=np.int32)
        shape_order = np.argsort(codes, kind="stable").astype(np.int32)
        letters = np.array([letter_bits(w) for w in folded_words], dtype=np.uint32)
        return Lexicon(
            terms=terms,
            doc_freqs=doc_freqs,
            surfaces=surfaces,
            sounds=sounds,
            sound_terms=sound_order,
            shapes=codes[shape_order],
            shape_terms=shape_order,
            letters=letters,
        )

    def save(self, folder: Path) -> Lexicon:
        lexicon = self.build()
        lexicon.save(folder)
        return lexicon


def lexicon_of_counts(words: Iterable[str], doc_freqs: Iterable[int]) -> Lexicon:
    """The lexicon of surface words already counted (e.g. a surface table's terms)."""
    builder = LexiconBuilder()
    for word, doc_freq in zip(words, doc_freqs, strict=True):
        builder.add_counts(word, int(doc_freq))
    return builder.build()


def _bytes_dtype(words: list[str]) -> str:
    return f"S{max((len(encode(w)) for w in words), default=1) or 1}"


@dataclass(frozen=True)
class Lexicon(StoredArrays):
    """One segment's lexicon (see the module docstring); arrays in memory or mmapped."""

    terms: np.ndarray
    doc_freqs: np.ndarray
    surfaces: np.ndarray
    sounds: np.ndarray
    sound_terms: np.ndarray
    shapes: np.ndarray
    shape_terms: np.ndarray
    letters: np.ndarray

    FILENAME: ClassVar[str] = FILENAME

    @classmethod
    def empty(cls) -> Lexicon:
        return LexiconBuilder().build()

    def __len__(self) -> int:
        return len(self.terms)

    def find(self, folded: str) -> int:
        """The term number of a folded word, or -1."""
        raw = encode(folded)
        if not raw or len(raw) > self.terms.dtype.itemsize:
            return -1
        n = int(np.searchsorted(self.terms, raw))
        return n if n < len(self.terms) and self.terms[n] == raw else -1

    def doc_freq(self, folded: str) -> int:
        n = self.find(folded)
        return int(self.doc_freqs[n]) if n >= 0 else 0

    def word(self, n: int) -> str:
        return bytes(self.terms[n]).decode("utf-8")

    def surface(self, n: int) -> str:
        return bytes(self.surfaces[n]).decode("utf-8")

    def prefix_range(self, folded_prefix: str) -> tuple[int, int]:
        """The term numbers [lo, hi) of the words starting with ``folded_prefix``."""
        raw = encode(folded_prefix)
        lo = int(np.searchsorted(self.terms, raw, side="left"))
        hi = int(np.searchsorted(self.terms, raw + b"\xff", side="left"))
        return lo, hi

    def same_sound(self, key: str) -> np.ndarray:
        """Term numbers of the words whose sound key is ``key``."""
        raw = encode(key)
        if not raw or len(raw) > self.sounds.dtype.itemsize:
            return np.zeros(0, dtype=np.int32)
        lo = int(np.searchsorted(self.sounds, raw, side="left"))
        hi = int(np.searchsorted(self.sounds, raw, side="right"))
        return np.asarray(self.sound_terms[lo:hi])

    def same_shape(self, first: str, lengths: range) -> np.ndarray:
        """Term numbers of the words starting with ``first`` whose length is in ``lengths``."""
        lo = int(np.searchsorted(self.shapes, shape_code(first, max(lengths.start, 1)), "left"))
        hi = int(np.searchsorted(self.shapes, shape_code(first, lengths.stop - 1), "right"))
        return np.asarray(self.shape_terms[lo:hi])
