"""A gunicorn entry point with a bug planted in it, for tests over real HTTP.

``gunicorn -c gunicorn.conf.py --pythonpath tests 'broken_app:get_app()'`` serves the real app,
configured from the environment like ``search.app:get_app()``, except that finding similar
articles raises an exception whose text names internal paths: the 500 it causes must tell the
reader none of it (``tests/test_security_headers.py``). ``EveryMethodBroken`` fails everywhere.
"""

from __future__ import annotations

import falcon

from search.app import create_app
from search.config import Settings
from search.engine import Engine
from search.results import (
    IndexStatus,
    SearchRequest,
    SearchResult,
    SimilarResult,
    SuggestResult,
)

SECRET = "secret: /srv/presse/var/index/CURRENT is broken (search/engine.py, line 42)"


class BrokenEngine(Engine):
    def similar(
        self, article_id: str, *, limit: int = 5, same_section: bool = False
    ) -> SimilarResult:
        raise RuntimeError(SECRET)


class EveryMethodBroken(Engine):
    """An engine whose every answer fails with an exception that names internal paths, for
    the in-process tests of the 500 answer (``test_api.py``, ``test_security_headers.py``)."""

    def search(self, request: SearchRequest) -> SearchResult:
        raise RuntimeError(SECRET)

    def similar(
        self, article_id: str, *, limit: int = 5, same_section: bool = False
    ) -> SimilarResult:
        raise RuntimeError(SECRET)

    def suggest(self, prefix: str, *, limit: int = 8) -> list[str]:
        raise OSError(2, "No such file or directory", "/srv/presse/var/index/generations/x")

    def autocomplete(self, prefix: str, *, limit: int = 8) -> SuggestResult:
        raise OSError(2, "No such file or directory", "/srv/presse/var/index/generations/x")

    def status(self) -> IndexStatus:
        raise KeyError(SECRET)


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    settings = Settings.from_env()
    return create_app(settings, BrokenEngine(settings))
