"""CORS for the sites listed in ``PRESSE_CORS_ORIGINS``: Falcon's middleware, with a fixed list of
allowed request headers.

Falcon's ``CORSMiddleware`` answers a preflight by echoing whatever headers it asked for
(``Access-Control-Request-Headers: x-evil`` came back allowed). The API reads no request header a
browser would have to ask for (the widget's requests are simple CORS requests, with no preflight),
so a preflight is told only the CORS-safelisted headers, whatever it asks.
"""

from __future__ import annotations

import falcon

from search.resources.admin import is_admin_path

ALLOWED_HEADERS = "Accept, Accept-Language, Content-Language"


class CORS(falcon.CORSMiddleware):  # type: ignore[type-arg]
    """``falcon.CORSMiddleware`` whose preflights allow ``ALLOWED_HEADERS`` and nothing else."""

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if is_admin_path(req.path) or req.path.startswith("/replication/"):
            return  # no site's page may read an admin or replication answer, nor preflight one
        super().process_response(req, resp, resource, req_succeeded)
        if resp.get_header("Access-Control-Allow-Headers") is not None:
            resp.set_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
