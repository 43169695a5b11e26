"""Section labels: the names a site gives its section slugs (``societe/sante`` -> "Santé").

The labels come from an optional JSON file (``PRESSE_SECTION_LABELS``, read and checked once at
start-up by ``index.config``); a section without one is shown as its slug. ``SectionLabels``
adds them to answers: ``label`` beside each facet's ``value``, and a ``section_labels`` map
(slug -> label) of every section an answer names, so hits and suggested articles, which keep
their slugs for filtering, can be shown by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class SectionLabels:
    """Slug -> label, with the slug itself for a section that has no label."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._labels = dict(pairs)

    def label(self, slug: str) -> str:
        return self._labels.get(slug, slug)

    def labels_of(self, slugs: Iterable[str]) -> dict[str, str]:
        return {slug: self.label(slug) for slug in sorted(set(slugs))}

    def search_answer(self, answer: dict[str, Any]) -> dict[str, Any]:
        """A ``/search`` answer with facet labels and the ``section_labels`` map."""
        facets = answer["facets"]["section"]
        for facet in facets:
            facet["label"] = self.label(facet["value"])
        named = [facet["value"] for facet in facets]
        named += [slug for hit in answer["hits"] for slug in hit["section"]]
        answer["section_labels"] = self.labels_of(named)
        return answer

    def suggest_answer(self, answer: dict[str, Any]) -> dict[str, Any]:
        """A ``/suggest`` answer with the ``section_labels`` map of its articles."""
        answer["section_labels"] = self.labels_of(
            slug for article in answer["articles"] for slug in article["section"]
        )
        return answer
