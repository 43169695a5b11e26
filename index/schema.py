"""The Whoosh schema of an index generation, and how an article becomes a document.

Fields:
- ``id``: unique, stored; the article's id.
- ``title``, ``summary``, ``body``: the stemmed French chain with positions (phrase queries and the
  proximity bonus need them); all three stored (snippets, result lists); ``body`` also keeps a term
  vector (term frequencies) from which similar articles pick an article's key terms.
- ``words``: title, summary and body again, through the unstemmed surface chain, frequencies only;
  it serves exact-form ranking, spelling suggestions and autocomplete.
- ``section``, ``tags``: comma-separated keywords, for filters and facet counts (tags lowercased).
- ``published``, ``updated``: dates; ``published`` sortable (columnar) for date sort and recency.
- ``url``, ``author``: stored only. ``seq``: the record's position in its source, stored, so that
  a repeated id keeps its last record (see ``index.build``).

Field weights are decided where ranking is (``search.engine``), not frozen here. The analyzers are
pickled into the index with the schema, which is why they live in ``index.analysis``; changing
them means a reindex.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from whoosh import fields, formats

from index.analysis import french_analyzer, surface_analyzer
from index.articles import Article

# Snowball (PyStemmer, on folded text) won the comparison on ../shared/eval/piaf: see the note
# on issue 2 and `scripts/bench relevance`. "light" is our Savoy-style stemmer.
STEMMER = "snowball"

TEXT_FIELDS: tuple[str, ...] = ("title", "summary", "body")
SURFACE_FIELD = "words"


def build_schema(stemmer: str = STEMMER) -> fields.Schema:
    """The schema of a new generation; ``stemmer`` exists for the evaluation of the stemmers."""
    stemmed = french_analyzer(stemmer)
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),
        title=fields.TEXT(analyzer=stemmed, stored=True, phrase=True),
        summary=fields.TEXT(analyzer=stemmed, stored=True, phrase=True),
        body=fields.TEXT(analyzer=stemmed, stored=True, phrase=True, vector=formats.Frequency()),
        words=fields.TEXT(analyzer=surface_analyzer(), phrase=False),
        section=fields.KEYWORD(stored=True, commas=True, scorable=False),
        tags=fields.KEYWORD(stored=True, commas=True, lowercase=True, scorable=False),
        published=fields.DATETIME(stored=True, sortable=True),
        updated=fields.DATETIME(stored=True),
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
        "words": "\n\n".join(t for t in (article.title, article.summary, article.body) if t),
        "section": _keywords(article.sections),
        "tags": _keywords(article.tags),
        "url": article.url,
        "author": article.author,
        "seq": seq,
    }
    for name in ("published", "updated"):
        value = _naive_utc(getattr(article, name))
        if value is not None:
            doc[name] = value
    return doc
