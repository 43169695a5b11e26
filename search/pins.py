"""Pinned results (issue 12): articles an editor puts first for a query, for a while.

A pin belongs to a query matched by ``search.normalize.query_key`` (accents, case and word
order do not matter), holds one article, a rank, and an optional start and end time. At most
``MAX_PINNED`` pinned articles are shown per query, the lowest ranks first; a pin outside its
time window is never shown, nor is an article no longer in the index (the engine finds no
hit for it). Pinned hits come first on page 1, flagged ``"pinned": true``, above that page's
hits (which keep their number, so no article is pushed off the result pages); the pinned
articles are left out of the other hits on every page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from search.normalize import query_key

MAX_PINNED = 3


@dataclass(frozen=True)
class Pin:
    id: int
    query: str
    query_key: str
    article_id: str
    rank: int
    starts: float | None = None  # Unix seconds
    ends: float | None = None

    def active(self, now: float) -> bool:
        started = self.starts is None or self.starts <= now
        return started and (self.ends is None or now < self.ends)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "query": self.query,
            "article_id": self.article_id,
            "rank": self.rank,
            "starts": iso(self.starts),
            "ends": iso(self.ends),
        }


def iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def pinned_ids(pins: Iterable[Pin], query: str, now: float) -> list[str]:
    """The articles pinned for ``query`` now, in rank order, each once, at most ``MAX_PINNED``."""
    key = query_key(query)
    if not key:
        return []
    chosen = sorted(
        (p for p in pins if p.query_key == key and p.active(now)), key=lambda p: (p.rank, p.id)
    )
    return list(dict.fromkeys(p.article_id for p in chosen))[:MAX_PINNED]


def with_pins(
    answer: Mapping[str, Any], pinned_hits: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The JSON answer of a search with ``pinned_hits`` (JSON hits of the pinned articles that
    still exist) first on page 1, and out of the other hits on every page."""
    pinned_ids_ = {hit["id"] for hit in pinned_hits}
    hits = [hit for hit in answer["hits"] if hit["id"] not in pinned_ids_]
    if answer.get("page", 1) == 1:
        hits = [{**hit, "pinned": True} for hit in pinned_hits] + hits
    return {**answer, "hits": hits}
