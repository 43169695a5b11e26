"""The admin routes (issue 12): ``/admin`` (a French page) and its JSON API under ``/admin/api/``.

They exist only when ``PRESSE_ADMIN_TOKEN`` is set (``add_admin_routes`` is not called
otherwise, so every ``/admin`` path answers 404). Every ``/admin/api/`` request goes through
``AdminGate``, which asks ``search.admin_auth.AdminGuard`` for the label of its bearer token
(401 wrong or missing, 429 after repeated failures); the page itself holds no data and no
secret. Every answer is ``no-store``, and CORS never applies under ``/admin`` (``search.app``).

    GET    /admin/api/reports        from, to (YYYY-MM-DD), by (day|week), limit
    GET    /admin/api/synonyms       POST {"line": "BAM, Bank Al-Maghrib"}   DELETE …/{id}
    GET    /admin/api/pins           POST {"query", "article_ids", "starts"?, "ends"?}
                                     DELETE …/{id}
    GET    /admin/api/audit          who changed what, when (newest first)
    GET    /admin/api/export         synonyms and pins as JSON (``scripts/admin import`` reads it)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import falcon

from search.editorial import EditorialError, parse_time
from search.errors import BadQuery, NoSuchItem, StorageUnavailable
from search.reports import period, report
from search.resources import params
from search.resources.static import PAGE_CSP, Asset, StaticFile
from search.storage import StorageError, opened

if TYPE_CHECKING:
    from search.newsroom import Newsroom

ADMIN_CACHE = "no-store"
ADMIN_ASSETS = {
    "/admin": Asset("admin.html", "text/html; charset=utf-8", ADMIN_CACHE, PAGE_CSP),
    "/admin/admin.js": Asset("admin.js", "text/javascript; charset=utf-8", ADMIN_CACHE),
    "/admin/admin.css": Asset("admin.css", "text/css; charset=utf-8", ADMIN_CACHE),
}
MAX_REPORT_ROWS = 100


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


class AdminResource:
    """Base of the ``/admin/api/`` resources: ``AdminGate`` checks the token before them."""

    cacheable: ClassVar[bool] = False
    admin_api: ClassVar[bool] = True

    def __init__(self, newsroom: Newsroom) -> None:
        self.newsroom = newsroom


class AdminGate:
    """Middleware: the bearer token of every ``/admin/api/`` request, before its responder."""

    def __init__(self, newsroom: Newsroom) -> None:
        self.newsroom = newsroom

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: object,
                         params: dict[str, Any]) -> None:
        if getattr(resource, "admin_api", False) and self.newsroom.guard is not None:
            req.context.admin = self.newsroom.guard.check(req.get_header("Authorization"))

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: object,
                         req_succeeded: bool) -> None:
        if is_admin_path(req.path):
            resp.set_header("Cache-Control", ADMIN_CACHE)  # 401s, 404s and 304s included


def _body(req: falcon.Request) -> dict[str, Any]:
    data = req.get_media()
    if not isinstance(data, dict):
        raise BadQuery("the body must be a JSON object", parameter="body")
    return data


def _storage(exc: StorageError) -> StorageUnavailable:
    return StorageUnavailable(f"the analytics file cannot be used: {exc}")


def _editorial(exc: EditorialError) -> BadQuery:
    return BadQuery(exc.message, parameter=exc.parameter or "body")


class Reports(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        by = params.choice(req, "by", ("day", "week")) or "day"
        limit = params.integer(req, "limit", default=20, minimum=1, maximum=MAX_REPORT_ROWS)
        try:
            span = period(params.iso_date(req, "from"), params.iso_date(req, "to"))
        except ValueError as exc:
            raise BadQuery(str(exc), parameter="from") from None
        try:
            with opened(self.newsroom.store.path, busy_ms=1000) as conn:
                data = report(conn, span, by="week" if by == "week" else "day", limit=limit)
        except StorageError as exc:
            raise _storage(exc) from None
        recorder = self.newsroom.recorder
        data["worker"] = {
            "analytics": recorder is not None and recorder.enabled,
            "written": recorder.stats.written if recorder else 0,
            "dropped": recorder.stats.dropped if recorder else 0,
        }
        resp.media = data


class Synonyms(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            rules = self.newsroom.store.read().synonyms.rules
        except StorageError as exc:
            raise _storage(exc) from None
        resp.media = {"synonyms": [rule.to_dict() for rule in rules]}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            rule = self.newsroom.store.add_synonym(_body(req), req.context.admin)
        except EditorialError as exc:
            raise _editorial(exc) from None
        except StorageError as exc:
            raise _storage(exc) from None
        self.newsroom.editorial.reload()
        resp.status = falcon.HTTP_201
        resp.media = rule.to_dict()


class Synonym(AdminResource):
    def on_delete(self, req: falcon.Request, resp: falcon.Response, rule_id: int) -> None:
        try:
            found = self.newsroom.store.delete_synonym(rule_id, req.context.admin)
        except StorageError as exc:
            raise _storage(exc) from None
        if not found:
            raise NoSuchItem(f"no synonym rule with id {rule_id}")
        self.newsroom.editorial.reload()
        resp.status = falcon.HTTP_204


class Pins(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            pins = self.newsroom.store.read().pins
        except StorageError as exc:
            raise _storage(exc) from None
        resp.media = {"pins": [pin.to_dict() for pin in pins]}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = _body(req)
        query, ids = data.get("query"), data.get("article_ids")
        if not isinstance(query, str):
            raise BadQuery("query must be the query to pin articles for", parameter="query")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadQuery("article_ids must be a list of article ids", parameter="article_ids")
        try:
            pins = self.newsroom.store.add_pins(
                query, ids, req.context.admin,
                starts=parse_time(data.get("starts"), "starts"),
                ends=parse_time(data.get("ends"), "ends"))
        except EditorialError as exc:
            raise _editorial(exc) from None
        except StorageError as exc:
            raise _storage(exc) from None
        self.newsroom.editorial.reload()
        resp.status = falcon.HTTP_201
        resp.media = {"pins": [pin.to_dict() for pin in pins]}


class PinItem(AdminResource):
    def on_delete(self, req: falcon.Request, resp: falcon.Response, pin_id: int) -> None:
        try:
            found = self.newsroom.store.delete_pin(pin_id, req.context.admin)
        except StorageError as exc:
            raise _storage(exc) from None
        if not found:
            raise NoSuchItem(f"no pin with id {pin_id}")
        self.newsroom.editorial.reload()
        resp.status = falcon.HTTP_204


class Audit(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = params.integer(req, "limit", default=100, minimum=1, maximum=1000)
        try:
            resp.media = {"audit": self.newsroom.store.audit(limit)}
        except StorageError as exc:
            raise _storage(exc) from None


class Export(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            resp.media = self.newsroom.store.export_data()
        except StorageError as exc:
            raise _storage(exc) from None


def add_admin_routes(app: falcon.App[falcon.Request, falcon.Response],
                     newsroom: Newsroom) -> None:
    """Route the admin page and API (only call this when a token is configured)."""
    for route, asset in ADMIN_ASSETS.items():
        app.add_route(route, StaticFile(asset))
    app.add_route("/admin/api/reports", Reports(newsroom))
    app.add_route("/admin/api/synonyms", Synonyms(newsroom))
    app.add_route("/admin/api/synonyms/{rule_id:int}", Synonym(newsroom))
    app.add_route("/admin/api/pins", Pins(newsroom))
    app.add_route("/admin/api/pins/{pin_id:int}", PinItem(newsroom))
    app.add_route("/admin/api/audit", Audit(newsroom))
    app.add_route("/admin/api/export", Export(newsroom))
