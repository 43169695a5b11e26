"""``bench hostile`` and ``bench workers`` build what they claim: costly queries that pass the
API's validation (so they measure the engine, not a 400), from the index's frequent words, and
``deploy/nginx.conf`` with only its addresses changed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from falcon.testing import TestClient

from bench.hostile import Q_LIMIT, _Uncached, frequent_words, shapes
from bench.proxy import DEPLOY_CONF, site_config
from search.query import MAX_PHRASES


@pytest.fixture(scope="module")
def words(sample_index: Path) -> list[str]:
    return frequent_words(sample_index, 40, 500)


def test_frequent_words_are_searchable_words(words: list[str]) -> None:
    assert len(words) >= 10
    assert "les" not in words and "de" not in words  # stop words are never costly
    assert all(re.fullmatch(r"\w{2,}", w) for w in words)


def test_every_costly_shape_passes_validation(words: list[str], client: TestClient) -> None:
    built = shapes(words)
    assert set(built) == {"quoted pairs", "quoted triples", "negated pairs", "long OR list",
                          "500 chars of frequent words"}
    uncached = _Uncached()
    paths = set()
    for name, query in built.items():
        assert Q_LIMIT - 40 < len(query) <= Q_LIMIT, (name, len(query))
        path = uncached.path(query)
        paths.add(path)
        route, _, query_string = path.partition("?")
        resp = client.simulate_get(route, query_string=query_string)
        assert resp.status_code in (200, 503), (name, resp.text)  # never a 400
    assert len(paths) == len(built)  # each request its own cache key
    assert built["quoted pairs"].count('"') == 2 * MAX_PHRASES  # as many as allowed


def test_the_proxy_config_changes_only_the_addresses() -> None:
    shipped = DEPLOY_CONF.read_text(encoding="utf-8")
    rendered = site_config("127.0.0.1:9999", "127.0.0.1:8888")
    changed = [(a, b) for a, b in zip(shipped.splitlines(), rendered.splitlines(), strict=True)
               if a != b]
    assert [b.strip() for _, b in changed] == [
        "server 127.0.0.1:9999 max_fails=3 fail_timeout=5s;", "listen 127.0.0.1:8888;"]
