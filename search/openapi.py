"""The OpenAPI 3.1 document of the API, as a Python dict served at ``/openapi.json``.

It is kept true by ``tests/test_openapi.py``, which validates real answers of every endpoint,
errors included, against the schemas here; fixed shapes say ``additionalProperties: false`` so
that a field added to an answer without being documented fails that test. The limits quoted
come from the modules that enforce them.
"""

from __future__ import annotations

from typing import Any

from search.autocomplete import ARTICLES_SHOWN
from search.resources import articles, suggest
from search.results import MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_RESULT_WINDOW, SORTS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _response(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/{name}"}


def _query(
    name: str,
    description: str,
    schema: dict[str, Any],
    *,
    required: bool = False,
    repeatable: bool = False,
) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": name,
        "in": "query",
        "description": description,
        "required": required,
        "schema": schema,
    }
    if repeatable:
        parameter.update(style="form", explode=True)
    elif not required:
        # What an HTML form sends for an empty field (``?from=``) counts as absent. (A repeatable
        # parameter's schema already admits blank values, which are dropped.)
        parameter["allowEmptyValue"] = True
    return parameter


_STRING = {"type": "string"}
# A required text must hold something besides whitespace, as Python's ``str.isspace`` has it (a
# blank value counts as absent). Spelt out because ``\s`` means a different set in ECMA-262
# (the dialect of JSON Schema patterns) and in Python.
WHITESPACE = (
    r"\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_NOT_BLANK = f"[^{WHITESPACE}]"

_HIT_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "description": "the article's id"},
    "title": {"type": "string", "description": "plain text"},
    "url": {"type": "string"},
    "section": {"type": "array", "items": _STRING, "description": "the article's sections"},
    "published": {"type": ["string", "null"], "description": "ISO 8601, UTC; null if unknown"},
    "author": {"type": "string"},
    "score": {
        "type": "number",
        "description": "relative within one answer; not comparable across queries",
    },
    "title_html": {
        "type": "string",
        "description": "the title, HTML-escaped, with the query's words in <mark>…</mark>",
    },
}
_HIT_REQUIRED = ["id", "title", "url", "section", "published", "author", "score", "title_html"]

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "description": "The shape of every error, whatever its status.",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {
                        "type": "string",
                        "pattern": "^[a-z][a-z_]*$",
                        "description": "bad_request, not_found, method_not_allowed, "
                        "index_unavailable, timeout, internal_error (or another "
                        "HTTP reason in snake_case)",
                    },
                    "message": {"type": "string", "description": "for people, in English"},
                    "parameter": {
                        "type": "string",
                        "description": "the query parameter at fault, on a 400",
                    },
                },
            }
        },
    },
    "SearchHit": {
        "type": "object",
        "required": [*_HIT_REQUIRED, "snippet_html"],
        "additionalProperties": False,
        "properties": {
            **_HIT_PROPERTIES,
            "snippet_html": {
                "type": "string",
                "description": "about 200 characters of the "
                "best passage, HTML-escaped, with matched words in <mark>…</mark>",
            },
        },
    },
    "SimilarHit": {
        "type": "object",
        "required": _HIT_REQUIRED,
        "additionalProperties": False,
        "properties": _HIT_PROPERTIES,
    },
    "FacetValue": {
        "type": "object",
        "required": ["value", "label", "count"],
        "additionalProperties": False,
        "properties": {
            "value": {"type": "string", "description": "the section's slug, to filter with"},
            "label": {
                "type": "string",
                "description": "the section's name from the site's labels file "
                "(PRESSE_SECTION_LABELS), or its slug",
            },
            "count": {"type": "integer", "minimum": 1},
        },
    },
    "SectionLabels": {
        "type": "object",
        "description": "slug -> label of every section named in this answer (the slug itself "
        "when the site's labels file has none)",
        "additionalProperties": _STRING,
    },
    "Completion": {
        "type": "object",
        "required": ["text", "typed"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "description": "the completed phrase, plain text"},
            "typed": {
                "type": "string",
                "description": "the start of text that stands for what was typed (accents, "
                "case and hyphens may differ from it): show the rest in bold",
            },
        },
    },
    "SuggestedArticle": {
        "type": "object",
        "required": ["id", "title", "url", "section"],
        "additionalProperties": False,
        "properties": {
            "id": _STRING,
            "title": {"type": "string", "description": "plain text"},
            "url": _STRING,
            "section": {"type": "array", "items": _STRING, "description": "section slugs"},
        },
    },
    "SearchResult": {
        "type": "object",
        "required": [
            "query",
            "corrected_query",
            "total",
            "page",
            "per_page",
            "took_ms",
            "hits",
            "facets",
            "suggestion",
            "stopwords_only",
            "section_labels",
        ],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string", "description": "the query as the reader typed it"},
            "corrected_query": {
                "type": ["string", "null"],
                "description": "set when the query as typed found (almost) nothing and this "
                "correction of its words found clearly more: the hits, total and facets are "
                "the corrected query's; null otherwise, and always with correct=false",
            },
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "articles matching the query and every filter",
            },
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "took_ms": {"type": "number", "minimum": 0},
            "hits": {"type": "array", "items": _ref("SearchHit"), "maxItems": MAX_PER_PAGE},
            "facets": {
                "type": "object",
                "required": ["section"],
                "additionalProperties": False,
                "properties": {
                    "section": {
                        "type": "array",
                        "items": _ref("FacetValue"),
                        "description": "counts over every article matching the query and the "
                        "other filters, before the section filter",
                    }
                },
            },
            "suggestion": {
                "type": ["string", "null"],
                "description": "a corrected query, offered (not run) when this one found little",
            },
            "stopwords_only": {
                "type": "boolean",
                "description": "true when the query holds only stop words and question words "
                "(les, comment pourquoi), so nothing was searched",
            },
            "section_labels": _ref("SectionLabels"),
        },
    },
    "SimilarResult": {
        "type": "object",
        "required": ["id", "hits"],
        "additionalProperties": False,
        "properties": {
            "id": _STRING,
            "hits": {"type": "array", "items": _ref("SimilarHit"), "maxItems": articles.MAX_LIMIT},
        },
    },
    "Suggestions": {
        "type": "object",
        "required": ["query", "suggestions", "completions", "articles", "section_labels"],
        "additionalProperties": False,
        "properties": {
            "query": _STRING,
            "suggestions": {
                "type": "array",
                "items": _STRING,
                "maxItems": suggest.MAX_LIMIT,
                "description": "words completing the last word typed (the previous ones kept)",
            },
            "completions": {
                "type": "array",
                "items": _ref("Completion"),
                "maxItems": suggest.MAX_LIMIT,
                "description": "the whole prefix completed into phrases of the titles, the "
                "most frequent first (then, for one word, words of the text); empty for a "
                "prefix that is a stop word (les, pour)",
            },
            "articles": {
                "type": "array",
                "items": _ref("SuggestedArticle"),
                "maxItems": ARTICLES_SHOWN,
                "description": "articles whose titles hold the best completions, newest first",
            },
            "section_labels": _ref("SectionLabels"),
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"const": "ok"}},
    },
    "Ready": {
        "type": "object",
        "required": ["generation", "documents", "built_at"],
        "additionalProperties": False,
        "properties": {
            "generation": {"type": "string", "description": "id of the open index generation"},
            "documents": {"type": "integer", "minimum": 0},
            "built_at": {"type": ["string", "null"], "description": "ISO 8601"},
        },
    },
}

RESPONSES: dict[str, Any] = {
    "BadRequest": _json(
        _ref("Error"), "a parameter is missing, malformed or out of range; error.parameter names it"
    ),
    "NotFound": _json(_ref("Error"), "no such article (or no such endpoint)"),
    "MethodNotAllowed": _json(
        _ref("Error"), "the API only reads: GET and HEAD (and OPTIONS) are served, nothing else"
    ),
    "Unavailable": _json(
        _ref("Error"),
        "no index is open yet (index_unavailable), or the "
        "search ran past its time budget (timeout)",
    ),
    "InternalError": _json(_ref("Error"), "a failure on our side; the body says nothing more"),
}

_LIMIT_DESCRIPTION = "how many answers at most"

_SEARCH_PARAMETERS = [
    _query(
        "q",
        'the query: words, "exact phrases", -excluded words, OR between words',
        {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS, "pattern": _NOT_BLANK},
        required=True,
    ),
    _query(
        "page",
        f"page of results; page × per_page may not exceed {MAX_RESULT_WINDOW} (a 400 naming page)",
        {"type": "integer", "minimum": 1, "maximum": MAX_RESULT_WINDOW, "default": 1},
    ),
    _query(
        "per_page",
        "results per page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10},
    ),
    _query(
        "section",
        "keep articles of this section; repeat for several (any of them)",
        {"type": "array", "items": _STRING},
        repeatable=True,
    ),
    _query(
        "tag",
        "keep articles with this tag; repeat for several (any of them)",
        {"type": "array", "items": _STRING},
        repeatable=True,
    ),
    _query(
        "from",
        "keep articles published on or after this date",
        {"type": "string", "format": "date"},
    ),
    _query(
        "to", "keep articles published on or before this date", {"type": "string", "format": "date"}
    ),
    _query(
        "sort",
        "relevance (with a recency boost), or date (newest first)",
        {"type": "string", "enum": list(SORTS), "default": "relevance"},
    ),
    _query(
        "correct",
        "false runs the query exactly as typed, never a correction of it (the page's "
        "'rechercher plutôt' link); true, the default, answers with a corrected query's results "
        "when it finds clearly more",
        {"type": "boolean", "default": True},
    ),
]

_ERRORS_400 = {
    "400": _response("BadRequest"),
    "405": _response("MethodNotAllowed"),
    "500": _response("InternalError"),
}

PATHS: dict[str, Any] = {
    "/search": {
        "get": {
            "operationId": "search",
            "summary": "Search articles",
            "description": "Single-valued parameters may be given once (twice is a 400); blank "
            "values count as absent; unknown parameters are ignored.",
            "parameters": _SEARCH_PARAMETERS,
            "responses": {
                "200": _json(_ref("SearchResult"), "one page of results"),
                **_ERRORS_400,
                "503": _response("Unavailable"),
            },
        }
    },
    "/articles/{id}/similar": {
        "get": {
            "operationId": "similarArticles",
            "summary": "Articles similar to one article",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": _STRING},
                _query(
                    "limit",
                    _LIMIT_DESCRIPTION,
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": articles.MAX_LIMIT,
                        "default": articles.DEFAULT_LIMIT,
                    },
                ),
                _query(
                    "section",
                    "same: keep to the article's own section",
                    {"type": "string", "enum": ["same"]},
                ),
            ],
            "responses": {
                "200": _json(_ref("SimilarResult"), "similar articles, best first"),
                **_ERRORS_400,
                "404": _response("NotFound"),
                "503": _response("Unavailable"),
            },
        }
    },
    "/suggest": {
        "get": {
            "operationId": "suggest",
            "summary": "Completions of what the reader is typing",
            "description": "Accent-insensitive: econ and écon both offer économie; gilets j "
            "completes to gilets jaunes, notre-da to Notre-Dame, l'ess to l'essence.",
            "parameters": [
                _query(
                    "q",
                    "the beginning typed so far",
                    {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": suggest.MAX_PREFIX_CHARS,
                        "pattern": _NOT_BLANK,
                    },
                    required=True,
                ),
                _query(
                    "limit",
                    _LIMIT_DESCRIPTION,
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": suggest.MAX_LIMIT,
                        "default": suggest.DEFAULT_LIMIT,
                    },
                ),
            ],
            "responses": {
                "200": _json(_ref("Suggestions"), "completions, most likely first"),
                **_ERRORS_400,
                "503": _response("Unavailable"),
            },
        }
    },
    "/health": {
        "get": {
            "operationId": "health",
            "summary": "Liveness: the process answers (the index is not touched)",
            "responses": {
                "200": _json(_ref("Health"), "alive"),
                "405": _response("MethodNotAllowed"),
            },
        }
    },
    "/ready": {
        "get": {
            "operationId": "ready",
            "summary": "Readiness: an index generation is open",
            "responses": {
                "200": _json(_ref("Ready"), "the open generation"),
                "405": _response("MethodNotAllowed"),
                "503": _response("Unavailable"),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": _json({"type": "object"}, "the OpenAPI 3.1 document"),
                "405": _response("MethodNotAllowed"),
            },
        }
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "presse-search",
        "version": "0.1.0",
        "description": "Search API of the news site: keyword search, similar articles and "
        "suggestions, over French articles. Every error has the same JSON shape "
        "(components.schemas.Error). A single-valued parameter given twice is a 400; a blank "
        "value counts as absent; unknown parameters are ignored.",
    },
    "paths": PATHS,
    "components": {"schemas": SCHEMAS, "responses": RESPONSES},
}
