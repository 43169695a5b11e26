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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

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
T = TypeVar("T")


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

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, Any]
    ) -> None:
        if getattr(resource, "admin_api", False) and self.newsroom.guard is not None:
            req.context.admin = self.newsroom.guard.check(req.get_header("Authorization"))

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if is_admin_path(req.path):
            resp.set_header("Cache-Control", ADMIN_CACHE)  # 401s, 404s and 304s included


def _body(req: falcon.Request) -> dict[str, Any]:
    data = req.get_media()
    if not isinstance(data, dict):
        raise BadQuery("the body must be a JSON object", parameter="body")
    return data


def _run(call: Callable[[], T]) -> T:
    """``call()``, its failures in the API's terms: 400 naming the field, or 503."""
    try:
        return call()
    except EditorialError as exc:
        raise BadQuery(exc.message, parameter=exc.parameter or "body") from None
    except StorageError as exc:
        raise StorageUnavailable(f"the analytics file cannot be used: {exc}") from None


class Reports(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        by = params.choice(req, "by", ("day", "week")) or "day"
        limit = params.integer(req, "limit", default=20, minimum=1, maximum=MAX_REPORT_ROWS)
        try:
            span = period(params.iso_date(req, "from"), params.iso_date(req, "to"))
        except ValueError as exc:
            raise BadQuery(str(exc), parameter="from") from None

        def read() -> dict[str, Any]:
            with opened(self.newsroom.store.path, busy_ms=1000) as conn:
                return report(conn, span, by="week" if by == "week" else "day", limit=limit)

        data = _run(read)
        recorder = self.newsroom.recorder
        data["worker"] = {
            "analytics": recorder is not None and recorder.enabled,
            "written": recorder.stats.written if recorder else 0,
            "dropped": recorder.stats.dropped if recorder else 0,
        }
        resp.media = data


class Synonyms(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        rules = _run(self.newsroom.store.read).synonyms.rules
        resp.media = {"synonyms": [rule.to_dict() for rule in rules]}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = _body(req)
        rule = _run(lambda: self.newsroom.store.add_synonym(data, req.context.admin))
        self.newsroom.editorial.reload()
        resp.status = falcon.HTTP_201
        resp.media = rule.to_dict()


class Pins(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        pins = _run(self.newsroom.store.read).pins
        resp.media = {"pins": [pin.to_dict() for pin in pins]}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = _body(req)
        query, ids = data.get("query"), data.get("article_ids")
        if not isinstance(query, str):
            raise BadQuery("query must be the query to pin articles for", parameter="query")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadQuery("article_ids must be a list of article ids", parameter="article_ids")
        pins = _run(
            lambda: self.newsroom.store.add_pins(
                query,
                ids,
                req.context.admin,
                starts=parse_time(data.get("starts"), "starts"),
                ends=parse_time(data.get("ends"), "ends"),
            )
        )
        self.newsroom.editorial.reload()
        resp.status = falcon.HTTP_201
        resp.media = {"pins": [pin.to_dict() for pin in pins]}


class Item(AdminResource):
    """``DELETE`` of one synonym rule or pin, by id."""

    def __init__(self, newsroom: Newsroom, what: str, delete: Callable[[int, str], bool]) -> None:
        super().__init__(newsroom)
        self.what = what
        self.delete = delete

    def on_delete(self, req: falcon.Request, resp: falcon.Response, item_id: int) -> None:
        if not _run(lambda: self.delete(item_id, req.context.admin)):
            raise NoSuchItem(f"no {self.what} with id {item_id}")
        self.newsroom.editorial.reload()
        resp.status = falcon.HTTP_204


class Audit(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = params.integer(req, "limit", default=100, minimum=1, maximum=1000)
        resp.media = {"audit": _run(lambda: self.newsroom.store.audit(limit))}


class Export(AdminResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = _run(self.newsroom.store.export_data)


def add_admin_routes(app: falcon.App[falcon.Request, falcon.Response], newsroom: Newsroom) -> None:
    """Route the admin page and API (only call this when a token is configured)."""
    for route, asset in ADMIN_ASSETS.items():
        app.add_route(route, StaticFile(asset))
    app.add_route("/admin/api/reports", Reports(newsroom))
    app.add_route("/admin/api/synonyms", Synonyms(newsroom))
    store = newsroom.store
    app.add_route(
        "/admin/api/synonyms/{item_id:int}", Item(newsroom, "synonym rule", store.delete_synonym)
    )
    app.add_route("/admin/api/pins", Pins(newsroom))
    app.add_route("/admin/api/pins/{item_id:int}", Item(newsroom, "pin", store.delete_pin))
    app.add_route("/admin/api/audit", Audit(newsroom))
    app.add_route("/admin/api/export", Export(newsroom))
