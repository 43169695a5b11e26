"""``GET /health`` (liveness: the process answers, no index touched) and ``GET /ready``
(readiness: 200 with the open generation, or the 503 of ``IndexUnavailable`` with its reason).
Neither is ever cached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import falcon

if TYPE_CHECKING:
    from search.engine import Engine


class Health:
    cacheable: ClassVar[bool] = False

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}

    on_head = on_get  # the same answer without its body (Falcon drops it)


class Ready:
    cacheable: ClassVar[bool] = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.engine.status().to_dict()

    on_head = on_get  # the same answer without its body (Falcon drops it)
