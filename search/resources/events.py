"""``POST /events/click``: a reader clicked a result (sent with ``navigator.sendBeacon``).

The body holds ``query_id`` (from the search answer), ``article_id`` and ``position`` (1 for
the first hit of page 1), as JSON or as a form; ``sendBeacon`` sends a string as
``text/plain``, which needs no CORS preflight, so the widgets on the site's pages can send it.
Answers 204 whether analytics is on or not (the page has nothing to do about it); a malformed
body is a JSON 400 naming the field. Nothing else is read from the request: no IP address,
cookie or user agent is stored.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl

import falcon

from search.analytics import ClickEvent
from search.errors import BadQuery
from search.results import MAX_RESULT_WINDOW

if TYPE_CHECKING:
    from search.newsroom import Newsroom

MAX_BODY_BYTES = 2048
MAX_ARTICLE_ID_CHARS = 200
_QUERY_ID = re.compile(r"[0-9a-f]{32}")


def read_click(body: bytes) -> ClickEvent:
    """The click in ``body`` (JSON or a form), or ``BadQuery`` naming the field at fault."""
    text = body.decode("utf-8", "replace").strip()
    fields: dict[str, Any]
    if text.startswith(("{", "[")):
        try:
            fields = json.loads(text)
        except ValueError:
            raise BadQuery("the body is not valid JSON", parameter="body") from None
        if not isinstance(fields, dict):
            raise BadQuery("the body must be a JSON object", parameter="body")
    else:
        fields = dict(parse_qsl(text))
    query_id = fields.get("query_id")
    if not isinstance(query_id, str) or not _QUERY_ID.fullmatch(query_id):
        raise BadQuery("query_id must be the query_id of a search answer", parameter="query_id")
    article_id = fields.get("article_id")
    if (
        not isinstance(article_id, str)
        or not 0 < len(article_id) <= MAX_ARTICLE_ID_CHARS
        or not article_id.isprintable()
    ):
        raise BadQuery("article_id must be the id of an article", parameter="article_id")
    position = fields.get("position")
    if isinstance(position, str) and position.isdigit():
        position = int(position)
    if (
        not isinstance(position, int)
        or isinstance(position, bool)
        or not 1 <= position <= MAX_RESULT_WINDOW
    ):
        raise BadQuery(f"position must be between 1 and {MAX_RESULT_WINDOW}", parameter="position")
    return ClickEvent(at=time.time(), query_id=query_id, article_id=article_id, position=position)


class Click:
    cacheable: ClassVar[bool] = False

    def __init__(self, newsroom: Newsroom | None) -> None:
        self.newsroom = newsroom

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.bounded_stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise BadQuery(f"the body may hold at most {MAX_BODY_BYTES} bytes", parameter="body")
        click = read_click(body)
        if self.newsroom is not None:
            self.newsroom.record(click)
        resp.status = falcon.HTTP_204
