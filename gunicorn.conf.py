"""Gunicorn's configuration for presse-search: ``gunicorn -c gunicorn.conf.py`` (``scripts/serve``).

Everything comes from the one ``Settings`` object, read from the ``PRESSE_*`` environment (see the
README's table): the address, the number of workers (default 2 × cores + 1), the timeout. A bad
value stops start-up with one line naming the variable. Command-line options still win.

The master process imports no application code (``preload_app = False``): each worker loads
``search.app:get_app()`` itself, and ``post_worker_init`` then opens the live index generation
and builds the suggestion tables, so the first request does not pay for them. That hook, rather
than ``post_fork``, because ``post_fork`` runs before the worker has loaded the app (and before
``raw_env`` is applied), when there is no engine yet to warm.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from index.config import ConfigError, Settings

try:
    _settings = Settings.from_env()
except ConfigError as exc:
    sys.exit(f"presse-search: bad setting: {exc}")

wsgi_app = "search.app:get_app()"
bind = [_settings.bind]
workers = _settings.workers
worker_class = "sync"  # the work is CPU-bound and short: one request at a time per process
timeout = _settings.timeout_s
graceful_timeout = _settings.timeout_s
keepalive = 5
preload_app = False
proc_name = "presse-search"
# Gunicorn >= 25 opens a control socket at one fixed per-user path ($HOME/.gunicorn/gunicorn.ctl)
# by default, so two servers of the same user (tests, a second checkout) would fight over it.
control_socket_disable = True


def _drop_server_header() -> None:
    """Send no ``Server`` header: it only tells scanners what to try.

    Gunicorn writes ``Server: gunicorn`` itself, before the application's headers, and has no
    setting to leave it out; its response class is patched here, in the master, so that every
    worker forked from it inherits the change. ``tests/test_security_headers.py`` checks over real
    HTTP that no ``Server`` header goes out (and so that this still works after an upgrade).
    """
    from gunicorn.http import wsgi

    default_headers = wsgi.Response.default_headers
    if getattr(default_headers, "drops_server", False):
        return

    def without_server(self: Any) -> list[str]:
        return [h for h in default_headers(self) if not h.lower().startswith("server:")]

    without_server.drops_server = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = without_server  # type: ignore[method-assign]


_drop_server_header()

accesslog = "-"
# client, request line, status, bytes, duration in ms, user agent
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = "info"


def post_worker_init(worker: Any) -> None:
    """Open the index and build the suggestion tables in this worker, before it takes requests."""
    # Imported here, in the worker: the master never loads the application's code.
    from search.app import process_engine
    from search.errors import SearchError

    # The application logs under "presse"; give its records gunicorn's error log and format.
    app_log = logging.getLogger("presse")
    app_log.handlers[:] = worker.log.error_log.handlers
    app_log.setLevel(worker.log.error_log.level)
    app_log.propagate = False

    started = time.monotonic()
    engine = process_engine(Settings.from_env())
    engine.warm_up()
    try:
        status = engine.status()
    except SearchError as exc:
        worker.log.warning(
            "worker %s: no index yet (%s); /ready answers 503 until one is built",
            worker.pid,
            exc.message,
        )
        return
    worker.log.info(
        "worker %s: warmed up on generation %s (%d documents) in %.0f ms",
        worker.pid,
        status.generation,
        status.documents,
        (time.monotonic() - started) * 1000,
    )


def worker_exit(server: Any, worker: Any) -> None:
    """Close this worker's index readers, and write its queued analytics, on the way out."""
    from search.app import process_engine, process_newsroom

    settings = Settings.from_env()
    process_engine(settings).close()
    process_newsroom(settings).close()
