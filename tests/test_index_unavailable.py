"""The index goes away under a running app: it keeps serving what it has, says why on
``/ready``, and an app that starts then answers a JSON 503 with the reason.

For each way of losing the index — ``CURRENT`` naming a missing generation, the live generation
deleted, its ``READY`` unreadable, ``CURRENT`` unreadable, the index root unreadable, the root
gone — a worker that already serves a generation goes on serving it (its files are open and
immutable) and ``/ready`` reports the problem; a worker with nothing open answers ``/ready``,
searches, suggestions and similar articles with a JSON 503 naming the reason, ``/health`` still
200. Once the index is back, the problem clears and the cold app answers 200, within the refresh
interval, without a restart.

Tests run as root, for whom ``chmod 000`` locks nothing out; an unreadable root is simulated by
putting a plain file where the folder was (every read under it fails with ``NotADirectoryError``,
an ``OSError`` like the ``PermissionError`` a real permission problem raises), and an unreadable
``CURRENT`` by a folder in its place (``IsADirectoryError``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BuildIndex, MakeClient
from falcon.testing import TestClient

from index.generations import IndexRoot
from search.config import Settings

REFRESH_S = 0.2
RESUME_WITHIN_S = 5.0


def assert_unavailable(client: TestClient, reason: str, root: Path) -> None:
    ready = client.simulate_get("/ready")
    assert ready.status_code == 503
    assert ready.json["error"]["code"] == "index_unavailable"
    assert reason in ready.json["error"]["message"], ready.json
    assert str(root) not in ready.text
    assert client.simulate_get("/health").status_code == 200
    for path, query in [("/search", "q=maroc"), ("/suggest", "q=ma"), ("/articles/x/similar", "")]:
        resp = client.simulate_get(path, query_string=query)
        assert resp.status_code == 503, (path, resp.text)
        assert resp.headers["content-type"] == "application/json"
        assert resp.json["error"]["code"] == "index_unavailable"


def assert_still_serving(client: TestClient, reason: str, root: Path, documents: int) -> None:
    ready = client.simulate_get("/ready")
    assert ready.status_code == 200 and ready.json["documents"] == documents
    assert reason in ready.json["problem"], ready.json
    assert str(root) not in ready.text
    search = client.simulate_get("/search", params={"q": "maroc"})
    assert search.status_code == 200 and search.json["total"] > 0


def wait_available(client: TestClient, documents: int) -> float:
    started = time.monotonic()
    while True:
        ready = client.simulate_get("/ready")
        if ready.status_code == 200 and "problem" not in ready.json and (
                ready.json["documents"] == documents):
            break
        assert time.monotonic() - started < RESUME_WITHIN_S, ready.text
        time.sleep(0.05)
    assert ready.json["documents"] == documents
    search = client.simulate_get("/search", params={"q": "maroc"})
    assert search.status_code == 200 and search.json["total"] > 0
    return time.monotonic() - started


def _stash(path: Path) -> Callable[[], None]:
    """Move ``path`` aside; the returned function puts it back."""
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)

    def restore() -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        aside.rename(path)

    return restore


def missing_generation(root: Path) -> tuple[str, Callable[[], None]]:
    current = (root / "CURRENT").read_text()
    (root / "CURRENT").write_text("20990101T000000000000Z-abcdef\n")
    return "missing", lambda: (root / "CURRENT").write_text(current)


def live_generation_deleted(root: Path) -> tuple[str, Callable[[], None]]:
    return "missing", _stash(IndexRoot(root).current().path)


def ready_unreadable(root: Path) -> tuple[str, Callable[[], None]]:
    ready = IndexRoot(root).current().path / "READY"
    text = ready.read_text()
    ready.write_text("{not json")
    return "missing", lambda: ready.write_text(text)


def current_unreadable(root: Path) -> tuple[str, Callable[[], None]]:
    restore = _stash(root / "CURRENT")
    (root / "CURRENT").mkdir()
    return "cannot be read", restore


def root_unreadable(root: Path) -> tuple[str, Callable[[], None]]:
    restore = _stash(root)
    root.write_text("a file where the index root was")
    return "cannot be read", restore


def root_gone(root: Path) -> tuple[str, Callable[[], None]]:
    return "no index has been built yet", _stash(root)


@pytest.mark.parametrize(
    "break_index",
    [
        missing_generation,
        live_generation_deleted,
        ready_unreadable,
        current_unreadable,
        root_unreadable,
        root_gone,
    ],
)
def test_a_serving_app_keeps_serving_and_a_cold_one_waits(
    sample_index: Path,
    tmp_path: Path,
    make_client: MakeClient,
    break_index: Callable[[Path], tuple[str, Callable[[], None]]],
) -> None:
    root = tmp_path / "index"
    shutil.copytree(sample_index, root)
    settings = Settings(index_dir=root, refresh_interval_s=REFRESH_S)
    client = make_client(settings)
    documents = client.simulate_get("/ready").json["documents"]
    assert client.simulate_get("/search", params={"q": "maroc"}).status_code == 200

    reason, restore = break_index(root)
    time.sleep(REFRESH_S * 1.5)
    assert_still_serving(client, reason, root, documents)
    assert_still_serving(client, reason, root, documents)  # and it stays so, no crash loop
    cold = make_client(settings)
    assert_unavailable(cold, reason, root)
    assert_unavailable(cold, reason, root)

    restore()
    assert wait_available(client, documents) < RESUME_WITHIN_S
    assert wait_available(cold, documents) < RESUME_WITHIN_S


def test_a_new_build_brings_a_lost_index_back(
    sample_index: Path,
    build_index: BuildIndex,
    tmp_path: Path,
    make_client: MakeClient,
    sample_articles: list[dict[str, object]],
) -> None:
    """The live generation is deleted for good: the admin's next reindex is all it takes."""
    root = tmp_path / "index"
    shutil.copytree(sample_index, root)
    client = make_client(Settings(index_dir=root, refresh_interval_s=REFRESH_S))
    assert client.simulate_get("/ready").status_code == 200
    documents = client.simulate_get("/ready").json["documents"]
    shutil.rmtree(IndexRoot(root).current().path)
    time.sleep(REFRESH_S * 1.5)
    assert_still_serving(client, "missing", root, documents)
    build_index(sample_articles[:10], root=root)
    wait_available(client, 10)
