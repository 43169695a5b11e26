"""The Falcon application: routes, JSON, the one error shape, and the headers every answer gets.

``create_app(settings, engine)`` wires the resources to an engine and opens nothing; the engine
opens the index on first use (or when gunicorn's ``post_worker_init`` hook warms it, see
``gunicorn.conf.py``). ``get_app()`` is the hosting entry point, the only place that reads the
environment::

    PRESSE_INDEX_DIR=var/index gunicorn 'search.app:get_app()'

Every error answers ``{"error": {"code", "message", "parameter"?}}``, whatever raised it: our own
``SearchError`` tree (``search.errors``), Falcon's ``HTTPError`` (unknown route, wrong method) or
anything else, which becomes a 500 whose body says nothing about the exception (the traceback goes
to the log).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from typing import Any

import falcon
import falcon.media

from index.generations import IndexRoot
from search.config import Settings
from search.cors import CORS
from search.engine import Engine
from search.errors import SearchError
from search.newsroom import Newsroom
from search.resources.admin import AdminGate, add_admin_routes
from search.resources.articles import SimilarArticles, SimilarToText
from search.resources.events import Click
from search.resources.health import Health, Ready
from search.resources.openapi import OpenAPIDocument
from search.resources.popular import Popular
from search.resources.replication import add_replication_routes
from search.resources.search import Search
from search.resources.static import add_static_routes
from search.resources.suggest import Suggest
from search.sections import SectionLabels

log = logging.getLogger("presse.search.app")

INTERNAL_ERROR_MESSAGE = "the search service failed to answer; please try again later"

# Codes for Falcon's own errors, in the vocabulary of search.errors.
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    500: "internal_error",
    503: "unavailable",
}
# Falcon names the parameter only inside its message: 'The "limit" parameter is invalid. ...'
_FALCON_PARAMETER = re.compile(r'^The "([^"]+)" parameter')


def create_app(
    settings: Settings, engine: Engine | None = None, newsroom: Newsroom | None = None
) -> falcon.App[falcon.Request, falcon.Response]:
    """The WSGI app over ``engine`` (a new, unopened ``Engine(settings)`` when not given) and
    ``newsroom`` (analytics, synonyms, pins, admin access; a new one when not given)."""
    engine = engine if engine is not None else Engine(settings)
    newsroom = newsroom if newsroom is not None else Newsroom(settings)
    middleware: list[Any] = []
    if settings.cors_origins:
        allowed = "*" if "*" in settings.cors_origins else settings.cors_origins
        middleware.append(CORS(allow_origins=allowed))
    if newsroom.guard is not None:
        middleware.append(AdminGate(newsroom))  # before ResponseHeaders: has the last word
    middleware.append(ResponseHeaders(settings))
    app = falcon.App(middleware=middleware)

    json_handler = falcon.media.JSONHandler(dumps=dumps)
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    app.resp_options.default_media_type = falcon.MEDIA_JSON

    labels = SectionLabels(settings.section_labels)
    app.add_route("/search", Search(engine, newsroom, labels))
    app.add_route("/articles/{article_id}/similar", SimilarArticles(engine))
    app.add_route("/similar", SimilarToText(engine))  # POST: reads the index, changes nothing
    app.add_route("/suggest", Suggest(engine, labels))
    app.add_route("/health", Health())
    app.add_route("/ready", Ready(engine, settings))
    app.add_route("/openapi.json", OpenAPIDocument())
    app.add_route("/events/click", Click(newsroom))
    app.add_route("/popular", Popular(newsroom))
    if newsroom.guard is not None:  # no token, no route: every /admin path answers 404
        add_admin_routes(app, newsroom)
    if settings.replication_token:  # no token, no route: every /replication path answers 404
        add_replication_routes(app, IndexRoot(settings.index_dir), settings.replication_token)
    add_static_routes(app)  # the search page and the embeddable widget

    # Falcon picks the most specific handler by the exception's MRO, whatever the order here.
    app.add_error_handler(Exception, _internal_error)
    app.add_error_handler(falcon.HTTPError, _http_error)
    app.add_error_handler(SearchError, _search_error)
    return app


def dumps(obj: Any) -> str:
    """JSON as UTF-8 readers can read it (``ensure_ascii=False``), whatever the stored text holds.

    Falcon encodes the text to UTF-8, which a lone surrogate cannot pass: an article stored with
    one (the reindexer refuses them now, older generations may hold some) made every answer
    holding it an empty 500. Such a document is sent ASCII-escaped instead (``\\ud800``), which
    is valid JSON, so the reader gets the answer; the search cost is one failed encode.
    """
    text = json.dumps(obj, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj)
    return text


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    """The app gunicorn serves: settings from the environment, this process's engine."""
    settings = Settings.from_env()
    return create_app(settings, process_engine(settings), process_newsroom(settings))


@functools.cache
def process_newsroom(settings: Settings) -> Newsroom:
    """The one ``Newsroom`` of this process (its analytics thread starts on first use)."""
    return Newsroom(settings)


@functools.cache
def process_engine(settings: Settings) -> Engine:
    """The one engine of this process for ``settings``, shared by ``get_app`` and gunicorn's hooks.

    ``Engine(...)`` opens nothing, so even an app loaded before the fork (``--preload``) hands
    each worker an engine that opens its own index after the fork.
    """
    return Engine(settings)


class ResponseHeaders:
    """Headers on every answer: caching policy, ``nosniff``, and ``Vary: Origin`` under CORS.

    Successful answers of resources marked ``cacheable`` get ``public, max-age=<setting>``; those
    of resources with their own ``cache_control`` (the static files) get that, 304s included;
    everything else (errors, health, readiness, preflights) gets ``no-store``. When CORS is set up
    for named origins, every answer varies by ``Origin`` — also those without
    ``Access-Control-Allow-Origin`` — so that a shared cache never hands an answer cached for one
    origin (or for none) to another.
    """

    def __init__(self, settings: Settings) -> None:
        self.cache_control = f"public, max-age={settings.cache_max_age_s}"
        self.vary_origin = bool(settings.cors_origins) and "*" not in settings.cors_origins

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        resp.set_header("X-Content-Type-Options", "nosniff")
        cacheable = (
            req_succeeded
            and req.method in ("GET", "HEAD")  # HEAD: the headers GET would get
            and resp.status_code == 200
            and getattr(resource, "cacheable", False)
        )
        own = getattr(resource, "cache_control", None)
        if own and req_succeeded and resp.status_code in (200, 304):
            resp.set_header("Cache-Control", own)
        else:
            resp.set_header("Cache-Control", self.cache_control if cacheable else "no-store")
        if self.vary_origin:
            resp.append_header("Vary", "Origin")


def _search_error(
    req: falcon.Request, resp: falcon.Response, error: SearchError, params: dict[str, Any]
) -> None:
    if error.status >= 500:
        log.warning("%s %s: %s %s", req.method, req.path, error.status, error.message)
    resp.status = error.status
    if error.headers:
        resp.set_headers(error.headers)  # WWW-Authenticate on a 401, Retry-After on a 429
    resp.media = error.to_dict()


def _http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: dict[str, Any]
) -> None:
    status = error.status_code
    resp.status = status
    if error.headers:
        resp.set_headers(error.headers)  # e.g. Allow on a 405
    body: dict[str, Any] = {
        "code": _HTTP_CODES.get(status) or _code_from_title(error.title),
        "message": _http_error_message(req, error),
    }
    if isinstance(error, falcon.HTTPInvalidParam | falcon.HTTPMissingParam):
        match = _FALCON_PARAMETER.match(error.description or "")
        if match:
            body["parameter"] = match.group(1)
    resp.media = {"error": body}


def _internal_error(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    # The reader learns nothing about the failure (no text, no path); the log gets everything.
    log.error("%s %s failed", req.method, req.relative_uri, exc_info=error)
    resp.status = 500
    resp.media = {"error": {"code": "internal_error", "message": INTERNAL_ERROR_MESSAGE}}


def _http_error_message(req: falcon.Request, error: falcon.HTTPError) -> str:
    if isinstance(error, falcon.HTTPRouteNotFound):
        return f"no such endpoint: {req.path} (the API is described at /openapi.json)"
    if isinstance(error, falcon.HTTPMethodNotAllowed):
        allowed = dict(error.headers or {}).get("Allow", "GET")
        return f"{req.method} is not allowed on {req.path}; use {allowed}"
    if error.description:
        return error.description
    return (error.title or "").split(" ", 1)[-1]  # "404 Not Found" -> "Not Found"


def _code_from_title(title: str | None) -> str:
    # "415 Unsupported Media Type" -> "unsupported_media_type"
    words = re.findall(r"[A-Za-z]+", title or "")
    return "_".join(words).lower() or "http_error"
