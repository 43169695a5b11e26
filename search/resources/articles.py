"""Similar articles: ``GET /articles/{id}/similar`` (the "Articles similaires" under an article)
and ``POST /similar`` (the articles of the archive close to a text not yet published).

Parameters: ``limit`` (1–20, default 5), and for ``GET`` ``section=same`` to keep to the
article's section(s). An unknown id answers the JSON 404 of ``ArticleNotFound``.

``POST /similar`` takes ``{"title": "…", "body": "…"}`` (either may be absent, not both; at most
``MAX_BODY_BYTES``) and answers the same shape, with ``"id": null``. It reads the index and
changes nothing; its answers are not cached (an editor's text changes with every keystroke).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import falcon

from search.errors import BadQuery
from search.resources import params

if TYPE_CHECKING:
    from search.engine import Engine

MAX_LIMIT = 20
DEFAULT_LIMIT = 5
MAX_BODY_BYTES = 100_000  # an article is ~2 kB; a long feature ~30 kB


class SimilarArticles:
    cacheable: ClassVar[bool] = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_get(self, req: falcon.Request, resp: falcon.Response, article_id: str) -> None:
        limit = params.integer(req, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        same_section = params.choice(req, "section", ("same",)) == "same"
        result = self.engine.similar(article_id, limit=limit, same_section=same_section)
        resp.media = result.to_dict()

    on_head = on_get  # the same answer without its body (Falcon drops it)


class SimilarToText:
    cacheable: ClassVar[bool] = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = params.integer(req, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        posted = params.json_object(req, max_bytes=MAX_BODY_BYTES)
        title, body = params.json_string(posted, "title"), params.json_string(posted, "body")
        if not title.strip() and not body.strip():
            raise BadQuery("give the text's title or body (or both)", parameter="title")
        resp.media = self.engine.similar_to_text(title, body, limit=limit).to_dict()
