"""``GET /suggest``: completions for the search box as the reader types.

Parameters: ``q``, the prefix typed so far (1–100 characters), and ``limit`` (1–20, default 8).
Answers ``{"query": q, "suggestions": [words…], "completions": [{"text", "typed"}…],
"articles": [{"id", "title", "url", "section"}…], "section_labels": {slug: label}}``: word
suggestions as before, the whole prefix completed into phrases of the titles, and up to three
articles whose titles hold the best of them. Matching is accent-insensitive (the engine's job).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import falcon

from search.errors import BadQuery
from search.resources import params
from search.sections import SectionLabels

if TYPE_CHECKING:
    from search.engine import Engine

MAX_PREFIX_CHARS = 100
MAX_LIMIT = 20
DEFAULT_LIMIT = 8


class Suggest:
    cacheable: ClassVar[bool] = True

    def __init__(self, engine: Engine, labels: SectionLabels | None = None) -> None:
        self.engine = engine
        self.labels = labels or SectionLabels()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        prefix = params.text(req, "q")
        if prefix is None:
            raise BadQuery("q is required: the beginning of a word or title", parameter="q")
        if len(prefix) > MAX_PREFIX_CHARS:
            raise BadQuery(
                f"q is {len(prefix)} characters long; at most {MAX_PREFIX_CHARS} are allowed",
                parameter="q",
            )
        limit = params.integer(req, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        answer = self.engine.autocomplete(prefix, limit=limit).to_dict()
        resp.media = self.labels.suggest_answer(answer)

    on_head = on_get  # the same answer without its body (Falcon drops it)
