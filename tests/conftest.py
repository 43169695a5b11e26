"""Shared fixtures: real indexes built in temporary folders, and the API under falcon.testing.

- ``build_index(source, root=None)``: builds a real index generation from a JSON Lines file or a
  list of article dicts and returns its root; called again with the same ``root``, it builds the
  next generation there (what a reindex does).
- ``sample_index``: the sample corpus (``data/sample/articles.jsonl``), built once per session.
  Treat it as read-only: tests that change an index build their own.
- ``synthetic_source`` / ``synthetic_index``: ``SYNTHETIC_ARTICLES`` made-up French articles
  (``tests/synthetic.py``) as JSON Lines, and an index of them, built once per session; read-only
  too (copy the index folder to change it).
- ``browser`` (``tests/browser_env.py``, a plugin): one headless Chromium (Debian's) under
  Playwright for the whole session, shared by the browser test modules (two Playwright
  instances cannot run in one process); without it the browser tests skip, or fail when
  ``CI=true``.
- ``searchbox_index`` / ``searchbox``: ``data/searchbox/articles.jsonl`` (typos, title phrases,
  sections; written for the search box's API) as an index built once per session, and the API
  over it.
- ``settings`` / ``client``: the API over the sample index, with the site's origin
  allowed for CORS; ``make_client(settings, engine=None, newsroom=None)`` does the same for
  other settings. Engines and newsrooms (analytics threads) are closed at teardown (an open
  Whoosh reader would warn, and warnings are errors).
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import synthetic
from falcon.testing import TestClient

from cluster.nginx import NGINX
from index.build import full_build
from index.generations import IndexRoot
from search.app import create_app
from search.config import Settings
from search.engine import Engine
from search.newsroom import Newsroom

# The browser tests' fixtures (Chromium, the app under gunicorn, the news sites that embed the
# widget), shared by the modules that drive a browser; they skip without Chromium.
pytest_plugins = ["browser_env"]

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CORPUS = REPO / "data" / "sample" / "articles.jsonl"
SITE_ORIGIN = "https://www.exemple.ma"

BuildIndex = Callable[..., Path]
MakeClient = Callable[..., TestClient]


def loopback_get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """``GET path`` from ``127.0.0.1:port`` over a fresh connection: status, headers (names in
    lower case), body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def nginx_installed() -> None:
    """For the modules that run Debian's nginx (``pytest.mark.usefixtures``): without it they
    skip, except when ``CI=true`` (``.ci/run`` installs it)."""
    if not NGINX.exists():
        reason = f"Debian's nginx is not installed ({NGINX})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; required when CI=true")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def build_index(tmp_path_factory: pytest.TempPathFactory) -> BuildIndex:
    def build(source: Path | Iterable[Mapping[str, Any]], root: Path | None = None) -> Path:
        root = root if root is not None else tmp_path_factory.mktemp("index")
        if not isinstance(source, Path):
            path = tmp_path_factory.mktemp("source") / "articles.jsonl"
            lines = (json.dumps(dict(article), ensure_ascii=False) + "\n" for article in source)
            path.write_text("".join(lines), encoding="utf-8")
            source = path
        full_build(IndexRoot(root), source, max_errors=0)
        return root

    return build


@pytest.fixture(scope="session")
def sample_index(build_index: BuildIndex) -> Path:
    return build_index(SAMPLE_CORPUS)


SEARCHBOX_CORPUS = REPO / "tests" / "data" / "searchbox" / "articles.jsonl"


@pytest.fixture(scope="session")
def searchbox_index(build_index: BuildIndex) -> Path:
    return build_index(SEARCHBOX_CORPUS)


SYNTHETIC_ARTICLES = 3000


@pytest.fixture(scope="session")
def synthetic_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "articles.jsonl"
    return synthetic.write_jsonl(path, synthetic.articles(SYNTHETIC_ARTICLES))


@pytest.fixture(scope="session")
def synthetic_index(build_index: BuildIndex, synthetic_source: Path) -> Path:
    return build_index(synthetic_source)


@pytest.fixture(scope="session")
def sample_articles() -> list[dict[str, Any]]:
    """The sample corpus's records, as written in the file."""
    with SAMPLE_CORPUS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture
def settings(sample_index: Path) -> Settings:
    return Settings(index_dir=sample_index, cors_origins=(SITE_ORIGIN,))


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    engines: list[Engine] = []
    newsrooms: list[Newsroom] = []

    def make(settings: Settings, engine: Engine | None = None,
             newsroom: Newsroom | None = None) -> TestClient:
        engine = engine if engine is not None else Engine(settings)
        newsroom = newsroom if newsroom is not None else Newsroom(settings)
        engines.append(engine)
        newsrooms.append(newsroom)
        return TestClient(create_app(settings, engine, newsroom))

    yield make
    for engine in engines:
        engine.close()
    for newsroom in newsrooms:
        newsroom.close()


@pytest.fixture
def client(settings: Settings, make_client: MakeClient) -> TestClient:
    return make_client(settings)


@pytest.fixture
def searchbox(searchbox_index: Path, make_client: MakeClient) -> TestClient:
    return make_client(Settings(index_dir=searchbox_index))
