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

Whoosh's postings of title, summary and body are written from the build's one analysis pass
(``index.segments``, ``index.postings``: the same files as the analyzer would give); the unstemmed
words (exact-form ranking, spelling,
autocomplete), the character offsets and the other hot-path data are in each segment's serving
image (``index.image``), not in Whoosh fields: a second pass of the text through Whoosh's posting
machinery cost 40% of the build in v1, and a term vector on ``body`` another 14%.

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


def keywords_of(article: Article) -> dict[str, list[str]]:
    """The section and tag terms of ``article``, as the keyword fields index them."""
    sections = [v.replace(",", " ").strip() for v in article.sections]
    tags = [v.replace(",", " ").strip().lower() for v in article.tags]
    return {"section": [v for v in sections if v], "tags": [v for v in tags if v]}


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


def article_from_stored(stored: dict[str, Any]) -> Article:
    """The article a document was made of, from its stored fields (merging segments)."""

    def aware(moment: Any) -> datetime | None:
        return moment.replace(tzinfo=UTC) if isinstance(moment, datetime) else None

    def names(value: Any) -> tuple[str, ...]:
        return tuple(v for v in (value or "").split(",") if v)

    return Article(
        id=stored["id"],
        title=stored.get("title") or "",
        body=stored.get("body") or "",
        summary=stored.get("summary") or "",
        sections=names(stored.get("section")),
        tags=names(stored.get("tags")),
        published=aware(stored.get("published")),
        updated=aware(stored.get("updated")),
        url=stored.get("url") or "",
        author=stored.get("author") or "",
    )
