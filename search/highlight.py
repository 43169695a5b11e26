"""Titles with the query's words marked, and the best ~200-character passage of an article.

A word of the text matches when it analyses to one of the query's stems (so ``economie`` marks
``économiques``) or folds to one of its surface words. Matched words are wrapped in
``<mark>…</mark>``; every other character is HTML-escaped, because the page inserts these strings
as HTML and article text may hold ``<script>``. An elided article stays outside the mark
(``l’<mark>économie</mark>``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from index.analysis import analyze, fold, french_analyzer
from index.schema import STEMMER

# A word as the analyzer sees one: internal hyphens and apostrophes, decimals (3,5) kept whole.
_WORD = re.compile(r"\w+(?:(?:['’\-\u2010\u2011]|(?<=\d)[.,](?=\d))\w+)*")
_ELIDED = frozenset({"l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu",
                     "puisqu"})
_SPACES = re.compile(r"\s+")

SNIPPET_CHARS = 200
LEAD_CHARS = 40  # context kept before the first matched word of a passage


@dataclass(slots=True)
class _Word:
    start: int
    end: int
    key: str | None  # the query term it matches, or None
    lead: int  # where the whole token starts, elided article included (``l’`` of ``l’économie``)


class WordAnalysis:
    """A word's folded form and stems, remembered: they do not depend on the query, and the
    texts of a news site keep using the same words. One per index (its analyzer)."""

    def __init__(self, analyzer: Any = None, size: int = 200_000) -> None:
        self.analyzer = analyzer if analyzer is not None else french_analyzer(STEMMER)
        self.size = size
        self._known: dict[str, tuple[str, tuple[str, ...]]] = {}

    def __call__(self, word: str) -> tuple[str, tuple[str, ...]]:
        known = self._known.get(word)
        if known is None:
            if len(self._known) >= self.size:
                self._known.clear()  # rare: cheaper than tracking an LRU per lookup
            known = self._known[word] = (fold(word), tuple(analyze(self.analyzer, word)))
        return known


class Matcher:
    """Decides which words of a text match a query; built once per query."""

    def __init__(self, stems: tuple[str, ...], surfaces: tuple[str, ...],
                 analysis: WordAnalysis | None = None) -> None:
        self.stems = frozenset(stems)
        self.surfaces = frozenset(surfaces)
        self._analysis = analysis if analysis is not None else WordAnalysis()
        # token -> (characters of its elided article, the query term it matches): a text is
        # mostly words already met in this query's other texts.
        self._tokens: dict[str, tuple[int, str | None]] = {}

    def key(self, word: str) -> str | None:
        """The query term that ``word`` matches, or None."""
        folded, stems = self._analysis(word)
        if folded in self.surfaces:
            return folded
        return next((t for t in stems if t in self.stems), None)

    def words(self, text: str) -> list[_Word]:
        found = []
        tokens = self._tokens
        for match in _WORD.finditer(text):
            token = match.group()
            known = tokens.get(token)
            if known is None:
                head, sep, rest = _split_elision(token)
                known = tokens[token] = (len(head) + 1, self.key(rest)) if sep else (
                    0, self.key(token))
            skip, key = known
            lead = match.start()
            found.append(_Word(lead + skip, match.end(), key, lead))
        return found


def _split_elision(token: str) -> tuple[str, str, str]:
    for sep in ("'", "’"):
        head, found, rest = token.partition(sep)
        if found and rest and head.lower() in _ELIDED:
            return head, found, rest
    return token, "", ""


def _render(text: str, words: list[_Word], start: int, end: int) -> str:
    parts, cursor = [], start
    for word in words:
        if word.key is None or word.start < start or word.end > end:
            continue
        parts.append(html.escape(text[cursor:word.start]))
        parts.append(f"<mark>{html.escape(text[word.start:word.end])}</mark>")
        cursor = word.end
    parts.append(html.escape(text[cursor:end]))
    return _SPACES.sub(" ", "".join(parts)).strip()


def mark(text: str, matcher: Matcher) -> str:
    """The whole of ``text``, escaped, with matched words marked (for titles)."""
    return _render(text, matcher.words(text), 0, len(text))


def best_snippet(texts: Sequence[str], matcher: Matcher, size: int = SNIPPET_CHARS) -> str:
    """The snippet of the first of ``texts`` (body, then summary) that holds a query word; of the
    first non-empty one when none does."""
    candidates = [t for t in texts if t]
    for text in candidates:
        words = matcher.words(text)
        if any(word.key is not None for word in words):
            return snippet(text, matcher, size, words)
    return snippet(candidates[0], matcher, size) if candidates else ""


def snippet(text: str, matcher: Matcher, size: int = SNIPPET_CHARS,
            words: list[_Word] | None = None) -> str:
    """The passage of about ``size`` characters holding the most distinct query words."""
    if words is None:
        words = matcher.words(text)
    if not words:
        return html.escape(_SPACES.sub(" ", text[:size]).strip())
    hits = [i for i, w in enumerate(words) if w.key is not None]
    best_first, best_score = 0, (-1, -1)
    for anchor in hits or [0]:
        first = anchor
        while first > 0 and words[anchor].start - words[first - 1].start <= LEAD_CHARS:
            first -= 1
        keys, count = set(), 0
        for word in words[first:]:
            if word.end - words[first].start > size:
                break
            if word.key is not None:
                keys.add(word.key)
                count += 1
        if (len(keys), count) > best_score:
            best_first, best_score = first, (len(keys), count)
    # A passage opens with its first word's elided article (``l’``), and the one that opens the
    # text with whatever precedes its first word (``« ``): no "…" for nothing left out.
    start = 0 if best_first == 0 else words[best_first].lead
    end = start
    for word in words[best_first:]:
        if word.end - start > size:
            break
        end = word.end
    if end == start:  # one "word" longer than the passage (a pasted URL, a run of letters)
        end = min(len(text), start + size)
    if end >= words[-1].end:  # the passage holds the last word: what closes the text too (" %")
        end = len(text)
    # Keep the punctuation that closes the passage's last sentence, if it is right there.
    while end < len(text) and text[end] in ".!?»)\"":
        end += 1
    body = _render(text, words, start, end)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text.rstrip()) else ""
    return f"{prefix}{body}{suffix}"

