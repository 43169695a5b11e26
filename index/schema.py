"""The Whoosh schema of an index generation, and how an article becomes a document.

Fields:
- ``id``: unique, stored; the article's id; also a column, from which the search engine maps ids
  to document numbers in one sweep when it opens a generation.
- ``title``, ``summary``, ``body``: the stemmed French chain with positions (phrase queries and the
  proximity bonus need them); all three stored (snippets, result lists, and the key terms of
  similar articles, analysed again from the stored text in well under a millisecond).
- ``section``, ``tags``: comma-separated keywords, for filters and facet counts (tags lowercased).
- ``published``: a sortable date (a column: date sort, recency, date filters); ``updated``: stored.
- ``url``, ``author``: stored only. ``seq``: the record's position in its source, stored, so that
  a repeated id keeps its last record (see ``index.build``).

The unstemmed words (exact-form ranking, spelling suggestions, autocomplete) are not a Whoosh field
but the generation's surface table, ``index.surface``: a second pass of the text through Whoosh's
posting machinery cost 40% of the build, and a term vector on ``body`` another 14%.

Field weights are decided where ranking is (``search.engine``), not frozen here. The analyzers are
pickled into the index with the schema, which is why they live in ``index.analysis``; changing
them means a reindex.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from whoosh import fields

from index.analysis import french_analyzer
from index.articles import Article

# Snowball (PyStemmer, on folded text) won the comparison on ../shared/eval/piaf: see the note
# on issue 2 and `scripts/bench relevance`. "light" is our Savoy-style stemmer.
STEMMER = "snowball"

TEXT_FIELDS: tuple[str, ...] = ("title", "summary", "body")


class SortableDate(fields.DATETIME):  # type: ignore[misc]
    """A stored, sortable date indexed as one term instead of Whoosh's sixteen trie terms.

    The trie terms serve range queries through the index; ours filter dates on the column, in
    numpy, so the terms would only cost build time (about 7% of it, with two date fields).
    """

    def __init__(self) -> None:
        super().__init__(stored=True, sortable=True)
        self.shift_step = self.bits


def build_schema(stemmer: str = STEMMER) -> fields.Schema:
    """The schema of a new generation; ``stemmer`` exists for the evaluation of the stemmers."""
    stemmed = french_analyzer(stemmer)
    return fields.Schema(
        id=fields.ID(unique=True, stored=True, sortable=True),
        title=fields.TEXT(analyzer=stemmed, stored=True, phrase=True),
        summary=fields.TEXT(analyzer=stemmed, stored=True, phrase=True),
        body=fields.TEXT(analyzer=stemmed, stored=True, phrase=True),
        section=fields.KEYWORD(stored=True, commas=True, scorable=False),
        tags=fields.KEYWORD(stored=True, commas=True, lowercase=True, scorable=False),
        published=SortableDate(),
        updated=fields.STORED(),
        url=fields.STORED(),
        author=fields.STORED(),
        seq=fields.STORED(),
    )


def _keywords(values: tuple[str, ...]) -> str:
    # A comma inside a value would split it in two keywords.
    return ",".join(v.replace(",", " ").strip() for v in values if v.strip())


def _naive_utc(moment: datetime | None) -> datetime | None:
    # Whoosh's DATETIME stores naive datetimes; ours are aware, so store them as naive UTC.
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None)


def document_fields(article: Article, seq: int) -> dict[str, Any]:
    """The keyword arguments of ``writer.add_document`` for ``article``."""
    doc: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "summary": article.summary,
        "body": article.body,
        "section": _keywords(article.sections),
        "tags": _keywords(article.tags),
        "url": article.url,
        "author": article.author,
        "seq": seq,
    }
    published = _naive_utc(article.published)
    if published is not None:
        doc["published"] = published
    if article.updated is not None:
        doc["updated"] = _naive_utc(article.updated)
    return doc


def surface_text(article: Article) -> str:
    """The text whose unstemmed words go into the surface table (``index.surface``)."""
    return "\n\n".join(t for t in (article.title, article.summary, article.body) if t)
