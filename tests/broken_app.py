"""A gunicorn entry point with a bug planted in it, for tests over real HTTP.

``gunicorn -c gunicorn.conf.py --pythonpath tests 'broken_app:get_app()'`` serves the real app,
configured from the environment like ``search.app:get_app()``, except that finding similar
articles raises an exception whose text names internal paths: the 500 it causes must tell the
reader none of it (``tests/test_security_headers.py``).
"""

from __future__ import annotations

import falcon

from index.config import Settings
from search.app import create_app
from search.engine import Engine
from search.results import SimilarResult

SECRET = "secret: /srv/presse/var/index/CURRENT is broken (search/engine.py, line 42)"


class BrokenEngine(Engine):
    def similar(
        self, article_id: str, *, limit: int = 5, same_section: bool = False
    ) -> SimilarResult:
        raise RuntimeError(SECRET)


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    settings = Settings.from_env()
    return create_app(settings, BrokenEngine(settings))
