"""``GET /search``: keyword search with filters, facets, typo-tolerant results and "did you mean".

Parameters: ``q`` (required, 1–500 characters), ``page``, ``per_page``, ``section`` and ``tag``
(repeatable), ``from`` / ``to`` (``YYYY-MM-DD``, on the publication date), ``sort``
(``relevance`` or ``date``), ``correct`` (``false``: no corrected query, the query as typed).
Section labels are added to the engine's answer (``search.sections``). Ranges, the deep-paging
cap and the date order are checked by ``SearchRequest`` itself, so the benchmarks and the tests
get the same rules as HTTP callers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

import falcon

from search.resources import params
from search.results import SearchRequest
from search.sections import SectionLabels

if TYPE_CHECKING:
    from search.engine import Engine


class Search:
    cacheable: ClassVar[bool] = True

    def __init__(self, engine: Engine, labels: SectionLabels | None = None) -> None:
        self.engine = engine
        self.labels = labels or SectionLabels()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        request = SearchRequest(
            query=params.text(req, "q") or "",
            page=params.integer(req, "page", default=1),
            per_page=params.integer(req, "per_page", default=10),
            sections=params.texts(req, "section"),
            tags=params.texts(req, "tag"),
            date_from=params.iso_date(req, "from"),
            date_to=params.iso_date(req, "to"),
            sort=cast(Any, params.text(req, "sort") or "relevance"),
            correct=params.boolean(req, "correct", default=True),
        )
        resp.media = self.labels.search_answer(self.engine.search(request).to_dict())

    on_head = on_get  # the same answer without its body (Falcon drops it)
