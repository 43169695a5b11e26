"""The OpenAPI 3.1 document of the API, as a Python dict served at ``/openapi.json``.

It is kept true by ``tests/test_openapi.py``, which validates real answers of every endpoint,
errors included, against the schemas here; fixed shapes say ``additionalProperties: false`` so
that a field added to an answer without being documented fails that test. The limits quoted
come from the modules that enforce them.
"""

from __future__ import annotations

from typing import Any

from search.autocomplete import ARTICLES_SHOWN
from search.pins import MAX_PINNED
from search.resources import articles, events, popular, suggest
from search.results import MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_RESULT_WINDOW, SORTS
from search.similar import LEAD_CHARS


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
WHITESPACE = r"\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
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
                        "description": "the query parameter (or the field of a JSON body) "
                        "at fault, on a 400",
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
            "pinned": {
                "const": True,
                "description": "present on the articles the newsroom pinned for this query "
                "(page 1 only, first, at most 3)",
            },
        },
    },
    "SimilarHit": {
        "type": "object",
        "required": [*_HIT_REQUIRED, "summary"],
        "additionalProperties": False,
        "properties": {
            **_HIT_PROPERTIES,
            "summary": {
                "type": "string",
                "maxLength": LEAD_CHARS + 1,
                "description": "the article's lead (or the opening of its body when it has "
                "none), plain text, cut at a word with … past about "
                f"{LEAD_CHARS} characters; escape it wherever shown",
            },
        },
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
            "expansions",
            "query_id",
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
            "hits": {
                "type": "array",
                "items": _ref("SearchHit"),
                "maxItems": MAX_PER_PAGE + MAX_PINNED,
                "description": "per_page hits at most, plus the pinned ones on page 1",
            },
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
            "expansions": {
                "type": "array",
                "description": "the newsroom's synonyms applied: the words typed (from) and "
                "what was searched too, with less weight (to)",
                "items": {
                    "type": "object",
                    "required": ["from", "to"],
                    "additionalProperties": False,
                    "properties": {"from": _STRING, "to": {"type": "array", "items": _STRING}},
                },
            },
            "query_id": {
                "type": "string",
                "pattern": "^[0-9a-f]{32}$",
                "description": "random id of this answer; send it back with POST /events/click",
            },
            "stopwords_only": {
                "type": "boolean",
                "description": "true when the query holds only stop words and question words "
                "(les, comment pourquoi), so nothing was searched",
            },
            "section_labels": _ref("SectionLabels"),
        },
    },
    "Popular": {
        "type": "object",
        "required": ["queries"],
        "additionalProperties": False,
        "properties": {
            "queries": {"type": "array", "items": _STRING, "maxItems": popular.MAX_LIMIT},
        },
    },
    "Click": {
        "type": "object",
        "required": ["query_id", "article_id", "position"],
        "properties": {
            "query_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "article_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": events.MAX_ARTICLE_ID_CHARS,
            },
            "position": {"type": "integer", "minimum": 1, "maximum": MAX_RESULT_WINDOW},
        },
    },
    "AdminObject": {
        "type": "object",
        "description": "an admin answer (reports, synonyms, pins, audit, export); see "
        "search/resources/admin.py for each shape",
    },
    "SimilarResult": {
        "type": "object",
        "required": ["id", "hits"],
        "additionalProperties": False,
        "properties": {
            "id": {
                "type": ["string", "null"],
                "description": "the source article's id; null for a posted text",
            },
            "hits": {"type": "array", "items": _ref("SimilarHit"), "maxItems": articles.MAX_LIMIT},
        },
    },
    "TextToMatch": {
        "type": "object",
        "description": "a text not yet published; at least one of title and body holds "
        "something besides whitespace",
        "properties": {
            "title": {"type": "string"},
            "body": {"type": "string", "description": "the text: lead and body"},
        },
        "anyOf": [
            {"required": ["title"], "properties": {"title": {"pattern": _NOT_BLANK}}},
            {"required": ["body"], "properties": {"body": {"pattern": _NOT_BLANK}}},
        ],
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
            "segments": {
                "type": "integer",
                "minimum": 0,
                "description": "segments of the open generation",
            },
            "problem": {
                "type": "string",
                "description": "why a newer generation is not served (a refused "
                "generation, a damaged CURRENT); the open one still is",
            },
            "replication": {
                "type": "object",
                "description": "on a replica (PRESSE_REPLICATE_FROM) only: its follower's "
                "report (docs/replication.md)",
                "additionalProperties": False,
                "required": [
                    "source",
                    "source_generation",
                    "lag_generations",
                    "lag_s",
                    "last_success",
                    "error",
                ],
                "properties": {
                    "source": {"type": ["string", "null"]},
                    "source_generation": {"type": ["string", "null"]},
                    "lag_generations": {"type": ["integer", "null"], "minimum": 0},
                    "lag_s": {"type": ["number", "null"], "minimum": 0},
                    "last_success": {"type": ["string", "null"], "description": "ISO 8601"},
                    "error": {"type": ["string", "null"]},
                },
            },
            "unready": {
                "type": "string",
                "description": "on a replica answering 503: why (past PRESSE_MAX_LAG, or "
                "its follower is not running)",
            },
        },
    },
    "NotReady": {"oneOf": [_ref("Error"), _ref("Ready")]},
}

RESPONSES: dict[str, Any] = {
    "BadRequest": _json(
        _ref("Error"), "a parameter is missing, malformed or out of range; error.parameter names it"
    ),
    "NotFound": _json(_ref("Error"), "no such article (or no such endpoint)"),
    "MethodNotAllowed": _json(
        _ref("Error"),
        "the API only reads: GET and HEAD (and OPTIONS) are served, and POST on /similar "
        "(which reads a text and changes nothing)",
    ),
    "PayloadTooLarge": _json(
        _ref("Error"), f"the request body is over {articles.MAX_BODY_BYTES} bytes"
    ),
    "Unavailable": _json(
        _ref("Error"),
        "no index is open yet (index_unavailable), or the "
        "search ran past its time budget (timeout)",
    ),
    "InternalError": _json(_ref("Error"), "a failure on our side; the body says nothing more"),
    "AdminNotFound": _json(
        _ref("Error"), "PRESSE_ADMIN_TOKEN is not set (every /admin path), or no such item"
    ),
    "Unauthorized": _json(_ref("Error"), "no bearer token, or a wrong one"),
    "TooManyAttempts": _json(
        _ref("Error"), "too many wrong tokens lately (per process); see Retry-After"
    ),
    "StorageUnavailable": _json(_ref("Error"), "the analytics file cannot be used right now"),
}

# Every admin operation: off (404) without PRESSE_ADMIN_TOKEN, bearer token in a header.
_ADMIN_ERRORS = {
    "401": _response("Unauthorized"),
    "404": _response("AdminNotFound"),
    "429": _response("TooManyAttempts"),
    "503": _response("StorageUnavailable"),
}
_ADMIN_SECURITY: list[dict[str, list[str]]] = [{"adminToken": []}]


def _admin(
    operation_id: str,
    summary: str,
    ok: str,
    *,
    status: str = "200",
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["admin"],
        "security": _ADMIN_SECURITY,
        "parameters": parameters or [],
        "responses": {
            status: {"description": ok} if status == "204" else _json(_ref("AdminObject"), ok),
            "400": _response("BadRequest"),
            **_ADMIN_ERRORS,
        },
    }
    if body:
        operation["requestBody"] = {
            "required": True,
            "description": body,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return operation


_ADMIN_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]

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
    "/similar": {
        "post": {
            "operationId": "similarToText",
            "summary": "Articles similar to a text not yet published",
            "description": "For an editor writing an article: what the archive already holds. "
            "Reads the index and changes nothing. The body is a JSON object of at most "
            f"{articles.MAX_BODY_BYTES} bytes (past that: a 413); title and body are optional "
            "strings, but not both absent or blank (a 400 naming title); other fields are "
            "ignored. Not JSON, or not an object: a 400 without parameter; a field of the "
            "wrong type: a 400 naming it.",
            "parameters": [
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
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("TextToMatch")}},
            },
            "responses": {
                "200": _json(_ref("SimilarResult"), "similar articles, best first; id is null"),
                **_ERRORS_400,
                "413": _response("PayloadTooLarge"),
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
                "503": _json(
                    _ref("NotReady"),
                    "no index is open yet (an error), or a replica too far behind its "
                    "source (its status, with unready saying why)",
                ),
            },
        }
    },
    "/popular": {
        "get": {
            "operationId": "popular",
            "summary": "Recherches populaires: frequent recent queries with results and clicks",
            "description": "From analytics; a query appears only once searched at least "
            "PRESSE_POPULAR_MIN_COUNT times in 7 days, so no rare query is shown to others.",
            "parameters": [
                _query(
                    "limit",
                    _LIMIT_DESCRIPTION,
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": popular.MAX_LIMIT,
                        "default": popular.DEFAULT_LIMIT,
                    },
                ),
            ],
            "responses": {
                "200": _json(_ref("Popular"), "the queries, most searched first"),
                **_ERRORS_400,
            },
        }
    },
    "/events/click": {
        "post": {
            "operationId": "click",
            "summary": "A reader clicked a result (navigator.sendBeacon)",
            "description": "JSON (as text/plain, so no preflight) or a form. No IP address, "
            "cookie or user agent is stored.",
            "requestBody": {
                "required": True,
                "content": {
                    "text/plain": {"schema": _STRING},
                    "application/json": {"schema": _ref("Click")},
                    "application/x-www-form-urlencoded": {"schema": _ref("Click")},
                },
            },
            "responses": {
                "204": {"description": "recorded (or dropped if analytics is off or busy)"},
                "400": _response("BadRequest"),
                "405": _response("MethodNotAllowed"),
                "500": _response("InternalError"),
            },
        }
    },
    "/admin/api/reports": {
        "get": _admin(
            "adminReports",
            "Analytics reports over a period",
            "summary, series, top, no-result and no-click queries",
            parameters=[
                _query(
                    "from",
                    "first day (default: 6 days before to)",
                    {"type": "string", "format": "date"},
                ),
                _query(
                    "to", "last day (default: today, UTC)", {"type": "string", "format": "date"}
                ),
                _query(
                    "by", "series by day or ISO week", {"type": "string", "enum": ["day", "week"]}
                ),
                _query(
                    "limit",
                    "rows per list",
                    {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                ),
            ],
        )
    },
    "/admin/api/synonyms": {
        "get": _admin("adminSynonyms", "The synonym rules", "the rules"),
        "post": _admin(
            "adminAddSynonym",
            "Add a rule",
            "the rule",
            status="201",
            body='{"line": "BAM, Bank Al-Maghrib"} or {"line": "PJD => Parti de la '
            'justice et du développement"}',
        ),
    },
    "/admin/api/synonyms/{id}": {
        "delete": _admin(
            "adminDeleteSynonym", "Delete a rule", "deleted", status="204", parameters=_ADMIN_ID
        ),
    },
    "/admin/api/pins": {
        "get": _admin("adminPins", "The pinned articles", "the pins"),
        "post": _admin(
            "adminAddPins",
            "Pin articles for a query",
            "the new pins",
            status="201",
            body='{"query": "élections", "article_ids": ["…"], '
            '"starts": ISO 8601 or null, "ends": ISO 8601 or null}',
        ),
    },
    "/admin/api/pins/{id}": {
        "delete": _admin(
            "adminDeletePin", "Delete a pin", "deleted", status="204", parameters=_ADMIN_ID
        ),
    },
    "/admin/api/audit": {
        "get": _admin(
            "adminAudit",
            "Who changed what, when (newest first)",
            "the audit trail",
            parameters=[
                _query(
                    "limit",
                    _LIMIT_DESCRIPTION,
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                )
            ],
        ),
    },
    "/admin/api/export": {
        "get": _admin(
            "adminExport", "Synonyms and pins as JSON (scripts/admin import reads it)", "the export"
        ),
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
    "components": {
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "securitySchemes": {
            "adminToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "a token of PRESSE_ADMIN_TOKEN; never in the URL",
            }
        },
    },
}
