"""``GET /popular``: "Recherches populaires", for the search page's empty state and the
suggestion list before any letter is typed.

Built from analytics (``search.reports.popular``): queries of the last 7 days searched at least
``PRESSE_POPULAR_MIN_COUNT`` times, with results and clicks, so a rare query a reader typed is
never shown to others. Public and cacheable; ``limit`` 1–20 (default 8).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import falcon

from search.resources import params

if TYPE_CHECKING:
    from search.newsroom import Newsroom

MAX_LIMIT = 20
DEFAULT_LIMIT = 8


class Popular:
    cacheable: ClassVar[bool] = True

    def __init__(self, newsroom: Newsroom | None) -> None:
        self.newsroom = newsroom

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = params.integer(req, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        queries = self.newsroom.popular.get(limit) if self.newsroom is not None else []
        resp.media = {"queries": queries}

    on_head = on_get  # the same answer without its body (Falcon drops it)
