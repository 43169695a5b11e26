"""Gunicorn's configuration for presse-search: ``gunicorn -c gunicorn.conf.py`` (``scripts/serve``).

Everything comes from the one ``Settings`` object, read from the ``PRESSE_*`` environment (see the
README's table): the address, the number of workers (default 2 × cores + 1), the timeout. A bad
value stops start-up with one line naming the variable. Command-line options still win.

The master process imports no application code (``preload_app = False``): each worker loads
``search.app:get_app()`` itself, and ``post_worker_init`` then opens the live index generation
and builds the suggestion tables, so the first request does not pay for them. That hook, rather
than ``post_fork``, because ``post_fork`` runs before the worker has loaded the app (and before
``raw_env`` is applied), when there is no engine yet to warm.

On a replica (``PRESSE_REPLICATE_FROM``), ``on_starting`` starts the follower that copies new
generations into the index root, and ``on_exit`` stops it (docs/replication.md).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from typing import Any

from index.config import ConfigError
from search.config import Settings

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
# The longest request line the API needs: q may hold 500 characters (search.resources.params);
# a 4-byte character is 12 bytes once %-encoded, so "GET /search?q=" + 6,000 + " HTTP/1.1" is
# 6,023 bytes, and the rest (page, per_page, section, tag, from, to, sort) fits in what is left.
# Gunicorn's default, 4,094, answered 414 to 500 such characters. 8,190 is gunicorn's maximum.
limit_request_line = 8190
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

# What gunicorn answers itself, for requests that never reach the app; the JSON shape of the API.
# Messages are ours: gunicorn's would echo the attacker's request line back.
_GUNICORN_ERRORS = {
    400: ("bad_request", "the request is not valid HTTP"),
    403: ("forbidden", "request forbidden"),
    414: ("uri_too_long", f"the request line is over {limit_request_line} bytes (q is at most "
                          "500 characters)"),
    417: ("expectation_failed", "unsupported Expect header"),
    431: ("request_header_fields_too_large", "request headers too large or too many"),
    500: ("internal_error", "the search service failed to answer; please try again later"),
    501: ("not_implemented", "unsupported transfer coding"),
}


def _json_errors() -> None:
    """Give the errors gunicorn writes itself (400, 414, 431...) the API's JSON error shape.

    Gunicorn writes them with ``gunicorn.util.write_error`` (an HTML page) when it cannot parse a
    request, before any application code runs, and has no setting for their format; the function
    is replaced here, in the master, so every worker inherits the change (as with the ``Server``
    header above). ``tests/test_http_limits.py`` checks each over real HTTP. What stays outside
    it: a worker killed by ``PRESSE_TIMEOUT`` closes the connection without an answer (nginx, in
    front, answers that with its own JSON 502; see deploy/nginx.conf).
    """
    from gunicorn import util

    if getattr(util.write_error, "writes_json", False):
        return

    def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        code, message = _GUNICORN_ERRORS.get(status_int, ("http_error", reason))
        body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
        head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
                "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
                f"Cache-Control: no-store\r\nContent-Length: {len(body)}\r\n\r\n")
        util.write_nonblock(sock, head.encode("latin-1") + body)

    write_json_error.writes_json = True  # type: ignore[attr-defined]
    util.write_error = write_json_error


_json_errors()

accesslog = "-"
# client, request line, status, bytes, duration in ms, user agent
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = "info"


_follower: subprocess.Popen[bytes] | None = None


def on_starting(server: Any) -> None:
    """On a replica (``PRESSE_REPLICATE_FROM``), start the follower as a child of the master.

    One follower per service, whatever the number of workers: it is the only writer of the
    index root (the workers pick its switches up like a reindex's). It gets the master's pid
    and stops when the master is gone, even after a kill -9; ``on_exit`` stops it otherwise.
    """
    global _follower
    if not _settings.replicate_from:
        return
    command = [sys.executable, "-m", "index.replica", "--from", _settings.replicate_from,
               "--parent-pid", str(os.getpid())]
    _follower = subprocess.Popen(command)
    server.log.info("replica of %s: follower started (pid %s)",
                    _settings.replicate_from.rpartition("@")[2], _follower.pid)


def on_exit(server: Any) -> None:
    """Stop the follower (it keeps a copy in progress for its next start)."""
    if _follower is not None and _follower.poll() is None:
        _follower.terminate()
        try:
            _follower.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _follower.kill()


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
