"""``GET /search``: keyword search with filters, facets and "did you mean".

Parameters: ``q`` (required, 1–500 characters), ``page``, ``per_page``, ``section`` and ``tag``
(repeatable), ``from`` / ``to`` (``YYYY-MM-DD``, on the publication date), ``sort``
(``relevance`` or ``date``), ``correct`` (``false``: no corrected query, the query as typed).
Section labels are added to the engine's answer (``search.sections``). Ranges, the deep-paging
cap and the date order are checked by ``SearchRequest`` itself, so the benchmarks and the tests
get the same rules as HTTP callers.

With a ``Newsroom`` (issue 12), the newsroom's synonyms go into the request, its pins are put
first (``search.pins``), the answer carries a random ``query_id`` (which clicks send back) and
the search is queued for analytics — after the answer is built, never waited for.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar, cast

import falcon

from search.analytics import new_query_id, search_event
from search.pins import pinned_ids, with_pins
from search.resources import params
from search.results import SearchRequest
from search.sections import SectionLabels

if TYPE_CHECKING:
    from search.engine import Engine
    from search.newsroom import Newsroom


class Search:
    cacheable: ClassVar[bool] = True

    def __init__(
        self, engine: Engine, newsroom: Newsroom | None = None, labels: SectionLabels | None = None
    ) -> None:
        self.engine = engine
        self.newsroom = newsroom
        self.labels = labels or SectionLabels()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        editorial = self.newsroom.current() if self.newsroom is not None else None
        request = SearchRequest(
            query=params.text(req, "q") or "",
            page=params.integer(req, "page", default=1),
            per_page=params.integer(req, "per_page", default=10),
            sections=params.texts(req, "section"),
            tags=params.texts(req, "tag"),
            date_from=params.iso_date(req, "from"),
            date_to=params.iso_date(req, "to"),
            sort=cast(Any, params.text(req, "sort") or "relevance"),
            synonyms=editorial.synonyms if editorial and editorial.synonyms.rules else None,
            correct=params.boolean(req, "correct", default=True),
        )
        answer = self.labels.search_answer(self.engine.search(request).to_dict())
        if editorial is not None and editorial.pins:
            ids = pinned_ids(editorial.pins, request.query, time.time())
            if ids:
                pinned = [hit.to_dict() for hit in self.engine.hits_for(ids, request.query)]
                answer = with_pins(answer, pinned)
        answer["query_id"] = query_id = new_query_id()
        resp.media = answer
        if self.newsroom is not None and req.method == "GET":
            filters = {
                "section": list(request.sections),
                "tag": list(request.tags),
                "from": request.date_from,
                "to": request.date_to,
                "sort": request.sort if request.sort != "relevance" else None,
                "per_page": request.per_page if request.per_page != 10 else None,
            }
            self.newsroom.record(
                search_event(query_id, request.query, filters, request.page, answer)
            )

    on_head = on_get  # the same answer without its body (Falcon drops it)
