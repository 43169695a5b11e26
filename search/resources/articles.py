"""``GET /articles/{id}/similar``: the "Articles similaires" under an article.

Parameters: ``limit`` (1–20, default 5) and ``section=same`` to keep to the article's section(s).
An unknown id answers the JSON 404 of ``ArticleNotFound``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import falcon

from search.resources import params

if TYPE_CHECKING:
    from search.engine import Engine

MAX_LIMIT = 20
DEFAULT_LIMIT = 5


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
