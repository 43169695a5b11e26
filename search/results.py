"""What the engine is asked and what it answers: small frozen dataclasses with ``to_dict()``.

``SearchRequest`` validates itself (ranges, deep-paging cap, date order) and raises ``BadQuery``
naming the parameter, so every caller — the HTTP resource, the benchmarks, the tests — gets the
same rules. The ``to_dict()`` shapes are the API's JSON, described in ``search.openapi``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from search.autocomplete import Completion
from search.errors import BadQuery

if TYPE_CHECKING:
    from search.synonyms import Synonyms

MAX_QUERY_CHARS = 500
MAX_PER_PAGE = 100
MAX_RESULT_WINDOW = 1000  # page x per_page: deeper pages are refused (cost, and scrapers)
SORTS = ("relevance", "date")


@dataclass(frozen=True, kw_only=True)
class SearchRequest:
    """One search, as the reader asked it."""

    query: str
    page: int = 1
    per_page: int = 10
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    sort: Literal["relevance", "date"] = "relevance"
    # The newsroom's synonyms (issue 12): part of the request, so of the answer cache's key.
    synonyms: Synonyms | None = None
    correct: bool = True  # False: run the query as typed, even if a correction finds more

    def __post_init__(self) -> None:
        if not self.query or not self.query.strip():
            raise BadQuery("q is required: the words to search for", parameter="q")
        if len(self.query) > MAX_QUERY_CHARS:
            raise BadQuery(
                f"q is {len(self.query)} characters long; at most {MAX_QUERY_CHARS} are allowed",
                parameter="q",
            )
        if self.page < 1:
            raise BadQuery("page must be 1 or more", parameter="page")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise BadQuery(f"per_page must be between 1 and {MAX_PER_PAGE}", parameter="per_page")
        if self.page * self.per_page > MAX_RESULT_WINDOW:
            raise BadQuery(
                f"page x per_page may not exceed {MAX_RESULT_WINDOW}: refine the "
                "query or filter instead of paging this deep",
                parameter="page",
            )
        if self.sort not in SORTS:
            raise BadQuery("sort must be 'relevance' or 'date'", parameter="sort")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise BadQuery("from must not be after to", parameter="from")


@dataclass(frozen=True)
class Hit:
    """One article in a result list. ``snippet_html`` is None for similar articles, whose
    ``summary`` (the lead, plain text) the "Articles similaires" teasers show."""

    id: str
    title: str
    url: str
    section: tuple[str, ...]
    published: str | None
    author: str
    score: float
    title_html: str
    snippet_html: str | None = None
    summary: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "section": list(self.section),
            "published": self.published,
            "author": self.author,
            "score": round(self.score, 4),
            "title_html": self.title_html,
        }
        if self.snippet_html is not None:
            data["snippet_html"] = self.snippet_html
        if self.summary is not None:
            data["summary"] = self.summary
        return data


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count}


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: tuple[Hit, ...]
    section_facets: tuple[FacetValue, ...]
    suggestion: str | None = None
    # (typed words, synonyms searched too) for each synonym rule applied (issue 12).
    expansions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    corrected_query: str | None = None  # set when these are the results of a corrected query
    stopwords_only: bool = False  # the query held only stop words and question words

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "corrected_query": self.corrected_query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "took_ms": round(self.took_ms, 2),
            "hits": [hit.to_dict() for hit in self.hits],
            "facets": {"section": [facet.to_dict() for facet in self.section_facets]},
            "suggestion": self.suggestion,
            "expansions": [{"from": typed, "to": list(added)} for typed, added in self.expansions],
            "stopwords_only": self.stopwords_only,
        }


@dataclass(frozen=True)
class SimilarResult:
    id: str | None  # None: similar to a posted text (``POST /similar``)
    hits: tuple[Hit, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "hits": [hit.to_dict() for hit in self.hits]}


@dataclass(frozen=True)
class ArticleLink:
    """An article named beside the completions: enough to show its title and link to it."""

    id: str
    title: str
    url: str
    section: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "url": self.url, "section": list(self.section)}


@dataclass(frozen=True)
class SuggestResult:
    """What ``/suggest`` answers: the completions as plain strings (``suggestions``, the shape of
    before) and with the part typed (``completions``), and articles."""

    query: str
    suggestions: tuple[str, ...]
    completions: tuple[Completion, ...] = ()
    articles: tuple[ArticleLink, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "suggestions": list(self.suggestions),
            "completions": [completion.to_dict() for completion in self.completions],
            "articles": [article.to_dict() for article in self.articles],
        }


@dataclass(frozen=True)
class IndexStatus:
    """What ``/ready`` reports about the open generation."""

    generation: str
    documents: int
    built_at: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "documents": self.documents,
            "built_at": self.built_at,
        } | self.extra
