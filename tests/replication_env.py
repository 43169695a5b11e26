"""What the replication tests share: a publisher's index root built with the project's builder,
updates, and the publisher's routes served over real HTTP from a thread (``wsgiref``, which
iterates a file answer instead of using ``sendfile``: the gunicorn tests cover that path).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import synthetic

from index.build import apply_update, full_build
from index.generations import IndexRoot
from index.manifest import read
from search.app import create_app
from search.config import Settings
from search.engine import Engine
from search.newsroom import Newsroom

TOKEN = "jeton-de-replication-0123456789"
ARTICLES = 300


def build_publisher(folder: Path, count: int = ARTICLES, keep: int = 3) -> IndexRoot:
    source = synthetic.write_jsonl(folder / "base.jsonl", list(synthetic.articles(count)))
    root = IndexRoot(folder / "publisher")
    full_build(root, source, processes=1, keep_generations=keep)
    return root


def update(root: IndexRoot, folder: Path, n: int, keep: int = 3, timeout_s: float = 3600.0) -> str:
    """Add one article (a new small segment) as a new generation; its id."""
    article = {"id": f"maj-{n}", "title": f"Mise à jour numéro {n} : le balafon de Tanger",
               "body": f"Le balafon du port de Tanger Med résonne, épisode {n}."}
    path = folder / f"update-{n}.jsonl"
    path.write_text(json.dumps(article, ensure_ascii=False) + "\n", encoding="utf-8")
    return apply_update(root, path, keep_generations=keep, replica_timeout_s=timeout_s).generation


def new_files(root: IndexRoot, old: str, new: str) -> dict[str, int]:
    """The files of generation ``new`` that ``old`` does not have, with their sizes."""
    before = {f.name for f in read(root.generations_dir / old).files}
    return {f.name: f.size for f in read(root.generations_dir / new).files if f.name not in before}


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def serving_publisher(
    root: Path, token: str = TOKEN, seen: list[tuple[str, str]] | None = None
) -> Iterator[str]:
    """The publisher's app over real HTTP on a loopback port; yields its base URL. Each
    request's path and Range header are appended to ``seen`` when given."""
    settings = Settings(index_dir=root, replication_token=token, analytics_enabled=False)
    engine, newsroom = Engine(settings), Newsroom(settings)
    app = create_app(settings, engine, newsroom)

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        if seen is not None:
            seen.append((environ["PATH_INFO"], environ.get("HTTP_RANGE", "")))
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, recording,
                         server_class=_ThreadingServer, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        engine.close()
        newsroom.close()
