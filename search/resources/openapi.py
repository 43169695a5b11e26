"""``GET /openapi.json``: the OpenAPI 3.1 description of the API (``search.openapi``)."""

from __future__ import annotations

from typing import ClassVar

import falcon

from search.openapi import OPENAPI


class OpenAPIDocument:
    cacheable: ClassVar[bool] = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = OPENAPI

    on_head = on_get  # the same answer without its body (Falcon drops it)
