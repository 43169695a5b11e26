"""Phrase autocomplete: the typed prefix completed into phrases of the titles.

``complete_phrases(indexes, typed, limit)`` looks the normalized prefix up in each segment's
``index.phrases.PhraseIndex`` (a binary search, then the most frequent rows of the range with
``np.argpartition``: well under a millisecond on the shared corpus), sums the title counts of a
phrase found in several segments, and answers the most frequent phrases first. Each
``Completion`` says which part of its text the reader typed (``typed``), so the page can set the
rest in bold, and which articles' titles hold it (the newest first).

A stop word never opens the list: phrases never start with one, and a prefix that is a stop word
or a question word on its own (``les``, ``comment``) is not completed at all (it would offer
``lesbiennes``). The phrase that is the typed text itself comes first, for its articles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.phrases import PhraseIndex, is_stop_word, normalize

# Rows of one segment looked at: the most frequent of its range (limit is at most 20).
POOL = 64
# A phrase of fewer titles than this ranks after the words of the text: "infl" would otherwise
# offer "inflammable" and "infligée" (two titles each) before "inflation" (86 articles).
STRONG_PHRASE = 3
ARTICLES_SHOWN = 3


@dataclass(frozen=True)
class Completion:
    """A phrase completing the typed text; ``typed`` is the start of ``text`` that was typed."""

    text: str
    typed: str
    count: int  # titles holding the phrase, over every segment
    articles: tuple[tuple[int, int], ...] = ()  # (segment, article number), newest first

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "typed": self.typed}


def typed_part(text: str, prefix: str) -> str:
    """The start of ``text`` that the reader's ``prefix`` stands for (accents, case and hyphens
    ignored): ``typed_part("Notre-Dame de Paris", "notre da") == "Notre-Da"``."""
    wanted = len(normalize(prefix))
    for end in range(len(text) + 1):
        if len(normalize(text[:end]) if end else "") >= wanted:
            return text[:end]
    return text


def opens_nothing(prefix: str) -> bool:
    """A prefix that is one stop word or question word of 3 letters or more (``les``, ``pour``,
    ``comment``), which autocomplete leaves alone. Shorter ones (``ma``, ``le``) are mostly the
    start of a longer word (``maroc``, ``législatives``) and are completed."""
    words = prefix.split()
    return (
        len(words) == 1
        and not prefix[-1:].isspace()
        and len(words[0]) >= 3
        and is_stop_word(words[0])
    )


def _cut_short(phrase: str, counts: dict[str, int]) -> bool:
    """Whether ``phrase`` is never seen without the same next words, i.e. a longer phrase found
    as often holds it: "Marrakech confirme" of "Marrakech confirme son statut" (the same two
    titles). Judged over the summed counts: one segment alone may not see the shorter one
    elsewhere."""
    return any(
        other.startswith(phrase + " ") and count == counts[phrase]
        for other, count in counts.items()
    )


def _after_stop_words(indexes: Sequence[PhraseIndex], prefix: str, limit: int) -> list[Completion]:
    """Phrases never start with a stop word, so ``la coupe du m`` is completed as ``coupe du m``
    with the words typed before it kept: "la coupe du monde"."""
    end = 0
    for word in re.finditer(r"(\S+)\s+", prefix):
        if not is_stop_word(word.group(1)):
            break
        end = word.end()
    if not end or not prefix[end:].strip():
        return []
    typed_before = prefix[:end]
    return [
        Completion(typed_before + c.text, typed_before + c.typed, c.count, c.articles)
        for c in complete_phrases(indexes, prefix[end:], limit)
    ]


def complete_phrases(indexes: Sequence[PhraseIndex], prefix: str, limit: int) -> list[Completion]:
    """Up to ``limit`` phrases of the titles that start with ``prefix``, most frequent first.

    The phrase that is exactly the typed text comes first when the titles hold it, so that its
    articles lead; ``Completion.text`` then equals ``typed`` (callers may leave it out).
    """
    key = normalize(prefix)
    if not key.strip() or opens_nothing(prefix):
        return []
    holders: dict[str, list[tuple[int, int, int]]] = {}  # key -> (count, segment, row)
    for segment, index in enumerate(indexes):
        lo, hi = index.prefix_range(key)
        if lo >= hi:
            continue
        found = np.asarray(index.counts[lo:hi])
        rows = np.argpartition(-found, POOL)[:POOL] if len(found) > POOL else range(len(found))
        for offset in rows:
            row = lo + int(offset)
            holders.setdefault(index.key(row), []).append((int(found[offset]), segment, row))
    if not holders:
        return _after_stop_words(indexes, prefix, limit)
    typed_key = key.strip()
    counts = {phrase: sum(h[0] for h in held) for phrase, held in holders.items()}
    ranked = sorted(
        (phrase != typed_key, -counts[phrase], phrase)
        for phrase in counts
        if not _cut_short(phrase, counts)
    )
    completions = []
    for _, negative_count, phrase in ranked[:limit]:
        # The segment holding it in most titles first; on a tie, the later (newer) segment.
        held = sorted(holders[phrase], reverse=True)
        _, segment, row = held[0]
        text = indexes[segment].text(row)
        articles = tuple(
            (s, int(a)) for _, s, r in held for a in np.asarray(indexes[s].articles[r]) if a >= 0
        )
        completions.append(Completion(text, typed_part(text, prefix), -negative_count, articles))
    return completions


def _spelling(text: str) -> str:
    """What tells two completions apart: case and hyphens do not, accents do (``influence``
    and ``influencé`` are two words; ``economie`` typed still gets ``économie``)."""
    return " ".join(text.lower().replace("’", "'").replace("-", " ").split())


def merge(
    prefix: str, phrases: Sequence[Completion], words: Sequence[str], limit: int
) -> list[Completion]:
    """The completions to show: phrases of at least ``STRONG_PHRASE`` titles, then ``words``
    (the caller's: words of the text for one word being typed, pairs found together in articles
    when no title phrase matched), then the other phrases; never the typed text alone."""
    strong = [c for c in phrases if c.count >= STRONG_PHRASE]
    weak = [c for c in phrases if c.count < STRONG_PHRASE]
    # A word that is also a phrase is shown as titles write it ("Marrakech"), with its articles.
    as_phrase = {_spelling(c.text): c for c in phrases}
    from_words = [
        as_phrase.get(_spelling(w)) or Completion(w, typed_part(w, prefix), 0) for w in words
    ]
    shown: list[Completion] = []
    seen = {_spelling(prefix)}
    for completion in (*strong, *from_words, *weak):
        key = _spelling(completion.text)
        if key not in seen:
            seen.add(key)
            shown.append(completion)
    return shown[:limit]


def article_refs(
    prefix: str, phrases: Sequence[Completion], shown: Sequence[Completion]
) -> list[tuple[int, int]]:
    """(segment, article) of the articles whose titles hold the phrases, each once: those of
    the typed phrase itself first, then of the completions in the order shown, each phrase's
    newest first. The caller shows the first ``ARTICLES_SHOWN`` that still exist."""
    typed = normalize(prefix).strip()
    exact = [c for c in phrases if normalize(c.text) == typed]
    return list(
        dict.fromkeys(ref for completion in (*exact, *shown) for ref in completion.articles)
    )


def needs_words(prefix: str, phrases: Sequence[Completion]) -> bool:
    """Whether words should complete ``prefix`` beside the phrases: never after a finished word
    (a trailing space); always for one word being typed; for several, only when no title phrase
    starts with them (word pairs found together
    in articles made "coupe du mondelez" and "gilets janvier" where a title phrase existed)."""
    if opens_nothing(prefix) or prefix[-1:].isspace():
        return False  # a finished word: words would only complete the one before ("de la" ->
        # "de lancé"); phrases of the titles may continue it
    return len(prefix.split()) == 1 or not phrases
