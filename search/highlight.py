"""Titles with the query's words marked, and the best ~200-character passage of an article,
from the character spans of the tokens that the serving image keeps (``index.image``).

No text is analysed at query time: a token matches when its stem is one of the query's
(so ``economie`` marks ``économiques``), and its span in the stored text is known. v1 analysed
every hit's body again, 55% of an uncached search's time; and the work here is bounded by the
passage, not by the article's length: the best passage is found with a few binary searches
over the spans, and only the tokens inside it are rendered.

Matched words are wrapped in ``<mark>…</mark>``; every other character is HTML-escaped, because
the page inserts these strings as HTML and article text may hold ``<script>``. An elided article
stays outside the mark (``l’<mark>économie</mark>``): the analysis gives the word's span without
it.
"""

from __future__ import annotations

import html
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SNIPPET_CHARS = 200
LEAD_CHARS = 40  # context kept before the first matched word of a passage
MAX_ANCHORS = 64  # matched words tried as the start of a passage (the first ones)
_ELIDED = frozenset(
    {"l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu"}
)
_JOINERS = frozenset({"-", "\u2010", "\u2011"})  # inside a compound: one mark for its parts


@dataclass(frozen=True)
class Spans:
    """The kept tokens of one text (their character spans), and those that match a query term:
    ``hits``, their indexes in order, and ``hit_keys``, the number of the term each matches."""

    starts: np.ndarray
    ends: np.ndarray
    hits: np.ndarray
    hit_keys: list[int]

    @classmethod
    def match(
        cls, starts: np.ndarray, ends: np.ndarray, terms: np.ndarray, numbers: Sequence[int]
    ) -> Spans:
        """Spans whose token's term number is one of ``numbers`` (the query's stems, as the
        text's segment numbers them; -1 for a stem the segment lacks) match it; the first of
        equal numbers wins.

        One comparison of the tokens per query term (a query has a few), and the matched
        tokens' keys in Python: sorting the numbers and searching every token in them took
        ~3x as many numpy calls.
        """
        key_of: dict[int, int] = {}
        for key, number in enumerate(numbers):
            if number >= 0:
                key_of.setdefault(number, key)
        if not key_of or not len(terms):
            return cls(starts, ends, _NO_HITS, [])
        wanted = iter(key_of)
        matched = terms == next(wanted)
        for number in wanted:
            matched |= terms == number
        hits = np.flatnonzero(matched)
        if len(key_of) == 1:
            return cls(starts, ends, hits, [next(iter(key_of.values()))] * len(hits))
        return cls(starts, ends, hits, [key_of[t] for t in terms[hits].tolist()])

    @property
    def keys(self) -> np.ndarray:
        """For each token, the number of the query term it matches, or -1."""
        keys = np.full(len(self.starts), -1, dtype=np.int32)
        keys[self.hits] = self.hit_keys
        return keys


_NO_HITS = np.zeros(0, dtype=np.int64)


def _lead(text: str, start: int) -> int:
    """Where the token at ``start`` begins with its elided article (``l’`` of ``l’économie``)."""
    if start < 2 or text[start - 1] not in "'’":
        return start
    head = start - 1
    while head > 0 and text[head - 1].isalpha():
        head -= 1
    return head if text[head : start - 1].lower() in _ELIDED else start


def _collapsed(text: str) -> str:
    """Runs of whitespace as one space, none at either end (as ``re.sub(r"\\s+", " ")`` then
    ``strip()``, which took 4x as long)."""
    return " ".join(text.split())


def _marked(text: str, spans: Spans, tokens: np.ndarray) -> list[tuple[int, int]]:
    """The character spans of the matched ``tokens`` to mark, the parts of one compound joined
    (``Al-Maghrib``)."""
    marked: list[tuple[int, int]] = []
    for word_start, word_end in zip(
        spans.starts[tokens].tolist(), spans.ends[tokens].tolist(), strict=True
    ):
        if marked and text[marked[-1][1] : word_start] in _JOINERS:
            marked[-1] = (marked[-1][0], word_end)
        else:
            marked.append((word_start, word_end))
    return marked


def _render(text: str, words: list[tuple[int, int]], start: int, end: int) -> str:
    parts, cursor = [], start
    for word_start, word_end in words:
        if word_start < cursor or word_end > end:
            continue
        parts.append(html.escape(text[cursor:word_start]))
        parts.append(f"<mark>{html.escape(text[word_start:word_end])}</mark>")
        cursor = word_end
    parts.append(html.escape(text[cursor:end]))
    return _collapsed("".join(parts))


def mark(text: str, spans: Spans) -> str:
    """The whole of ``text``, escaped, with matched words marked (for titles)."""
    if not len(spans.hits):
        return html.escape(_collapsed(text))
    return _render(text, _marked(text, spans, spans.hits), 0, len(text))


def snippet(text: str, spans: Spans, size: int = SNIPPET_CHARS) -> str:
    """The passage of about ``size`` characters holding the most distinct query words."""
    n = len(spans.starts)
    if not n:
        return html.escape(_collapsed(text[:size]))
    starts, ends = spans.starts, spans.ends
    hits = spans.hits
    if len(hits):
        best_first, best_last, inside = _best_passage(spans, hits, size)
    else:
        best_first, best_last = 0, int(np.searchsorted(ends, int(starts[0]) + size, side="right"))
        inside = hits
    # A passage opens with its first word's elided article (``l’``), and the one that opens the
    # text with whatever precedes its first word (``« ``): no "…" for nothing left out.
    start = 0 if best_first == 0 else _lead(text, int(starts[best_first]))
    end = int(ends[best_last - 1]) if best_last > best_first else start
    if end - start > size or end == start:  # one "word" longer than the passage (a URL)
        end = min(len(text), start + size)
    if best_last >= n:  # the passage holds the last word: what closes the text too (" %")
        end = len(text)
    # Keep the punctuation that closes the passage's last sentence, if it is right there.
    while end < len(text) and text[end] in '.!?»)"':
        end += 1
    body = _render(text, _marked(text, spans, inside), start, end)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text.rstrip()) else ""
    return f"{prefix}{body}{suffix}"


def _best_passage(spans: Spans, hits: np.ndarray, size: int) -> tuple[int, int, np.ndarray]:
    """The tokens ``[first, last)`` of the passage holding the most distinct query words, then
    the most matches (the earliest such), among those opening ``LEAD_CHARS`` before one of the
    first ``MAX_ANCHORS`` matched words (``hits``: the indexes of all the matched tokens); and
    the matched tokens inside it.

    The passages' bounds come from three vectorised binary searches; each passage's matches are
    then a slice of the (short) list of matched tokens, found by bisection: plain Python on
    lists, where a few numpy calls on each passage's slice of the token arrays cost ~60% of a
    snippet's time.
    """
    starts, ends = spans.starts, spans.ends
    firsts = np.searchsorted(starts, starts[hits[:MAX_ANCHORS]] - LEAD_CHARS, side="left")
    lasts = np.maximum(np.searchsorted(ends, starts[firsts] + size, side="right"), firsts + 1)
    at, keys = hits.tolist(), spans.hit_keys
    best, best_score = (0, 0, 0, 0), (-1, -1)
    for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True):
        lo, hi = bisect_left(at, first), bisect_left(at, last)
        score = (len(set(keys[lo:hi])), hi - lo)
        if score > best_score:
            best, best_score = (first, last, lo, hi), score
    return best[0], best[1], hits[best[2] : best[3]]


def best_snippet(texts: Sequence[tuple[str, Spans]], size: int = SNIPPET_CHARS) -> str:
    """The snippet of the first of ``texts`` (body, then summary) that holds a query word; of the
    first non-empty one when none does."""
    candidates = [(t, s) for t, s in texts if t]
    for text, spans in candidates:
        if len(spans.hits):
            return snippet(text, spans, size)
    return snippet(*candidates[0], size) if candidates else ""
