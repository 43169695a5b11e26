"""Reindex under load: a full rebuild, then an incremental update, while clients keep searching.

Real gunicorn (``gunicorn.conf.py``, 2 workers, the default refresh interval) serves a copy of the
synthetic index on a loopback port. ``CLIENTS`` threads send searches for the whole run, each
waiting for its answer before sending the next. Meanwhile the admin's reindex runs as a
subprocess: first a full rebuild from a source holding a word no article had, then an
``--update`` of ``UPDATED`` articles carrying another new word. A watcher thread notes when
``CURRENT`` changes (and when ``READY`` records the update's revision) and searches for the new
word from then on.

Every answer of the run must be a 200 (zero failed requests), and the new word must be found
within ``VISIBLE_WITHIN_S`` of the switch, by ``CONFIRM`` searches in a row (so by both workers,
which take connections in turn as they free up).
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
import synthetic
from conftest import REPO, SYNTHETIC_ARTICLES
from test_serving import free_port, running, server_env, wait_ready

from index.generations import IndexRoot
from search.config import Settings
from search.engine import Engine
from search.results import SearchRequest

pytestmark = pytest.mark.slow

CLIENTS = 8
UPDATED = 100
VISIBLE_WITHIN_S = 2.0
CONFIRM = 10
REBUILD_WORD = "zellijquantique"
UPDATE_WORD = "zellijseptante"
QUERIES = [
    "port",
    "Rabat",
    "plan de développement",
    "festival",
    "réforme des retraites",
    "Tanger",
    "économique",
    "budget éducation",
    "autoroute",
    "gouvernement",
]


class Load:
    """``CLIENTS`` threads searching until stopped; every answer is counted by status."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: Counter[str] = Counter()
        self.failures: list[str] = []
        self.threads = [
            threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(CLIENTS)
        ]

    def search(self, query: str) -> tuple[int, dict[str, object] | None]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", "/search?" + urlencode({"q": query}))
            resp = conn.getresponse()
            body = resp.read()
            status = resp.status
            if resp.getheader("Server") is not None:
                self.note(f"Server header: {resp.getheader('Server')}")
        except OSError as exc:
            self.note(f"{query!r}: {type(exc).__name__}: {exc}")
            return 0, None
        finally:
            conn.close()
        with self.lock:
            self.answers[str(status)] += 1
        if status != 200:
            self.note(f"{query!r}: {status} {body[:200]!r}")
            return status, None
        return status, json.loads(body)

    def note(self, failure: str) -> None:
        with self.lock:
            self.answers["failed"] += 1
            self.failures.append(failure)

    def _client(self, number: int) -> None:
        i = number
        while not self.stop.is_set():
            self.search(QUERIES[i % len(QUERIES)])
            i += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def visible_after(load: Load, changed: Callable[[], bool], word: str, timeout: float) -> float:
    """Wait for ``changed()``, then search ``word`` until ``CONFIRM`` searches in a row find it;
    returns the seconds from the change to the first of those."""
    deadline = time.monotonic() + timeout
    while not changed():
        assert time.monotonic() < deadline, "the reindex never switched"
        time.sleep(0.005)
    switched = time.monotonic()
    streak_started, streak = 0.0, 0
    while streak < CONFIRM:
        assert time.monotonic() - switched < 30, f"{word!r} still not found everywhere"
        status, body = load.search(word)
        found = (
            status == 200
            and body is not None
            and body["total"] == (1 if word == REBUILD_WORD else UPDATED)
        )
        if found:
            streak_started = streak_started if streak else time.monotonic()
            streak += 1
        else:
            streak = 0
    return streak_started - switched


def reindex(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "index.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=600,
    )


def test_reindex_under_load(
    synthetic_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "index"
    shutil.copytree(synthetic_index, root)
    articles = list(synthetic.articles(SYNTHETIC_ARTICLES))
    articles[7]["body"] += f" Le mot {REBUILD_WORD} n'apparaît qu'ici."
    rebuild_source = synthetic.write_jsonl(tmp_path / "rebuild.jsonl", articles)
    updated = [
        dict(a, title=f"{a['title']} ({UPDATE_WORD})") for a in articles[100 : 100 + UPDATED]
    ]
    update_source = synthetic.write_jsonl(tmp_path / "update.jsonl", updated)

    port = free_port()
    env = server_env(
        PRESSE_INDEX_DIR=str(root), PRESSE_BIND=f"127.0.0.1:{port}", PRESSE_WORKERS="2"
    )
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    with running(command, env, log) as server:
        wait_ready(server, f"http://127.0.0.1:{port}", log)
        before = IndexRoot(root).current()
        with Load(port) as load:
            time.sleep(1.0)
            assert load.answers["200"] > 0, load.failures

            # A full rebuild and switch.
            done: list[subprocess.CompletedProcess[str]] = []
            build = threading.Thread(
                target=lambda: done.append(
                    reindex("--source", str(rebuild_source), "--index-dir", str(root))
                )
            )
            build.start()
            rebuild_delay = visible_after(
                load,
                lambda: (root / "CURRENT").read_text().strip() != before.id,
                REBUILD_WORD,
                timeout=600,
            )
            build.join(timeout=600)
            assert done and done[0].returncode == 0, done and done[0].stderr
            live = IndexRoot(root).current()

            # An incremental update of UPDATED articles.
            result: list[subprocess.CompletedProcess[str]] = []
            update = threading.Thread(
                target=lambda: result.append(
                    reindex("--update", "--source", str(update_source), "--index-dir", str(root))
                )
            )
            update.start()
            update_delay = visible_after(
                load,
                lambda: IndexRoot(root).current().meta.get("revision", 0) > 0,
                UPDATE_WORD,
                timeout=600,
            )
            update.join(timeout=600)
            assert result and result[0].returncode == 0, result and result[0].stderr
            time.sleep(1.0)  # more load on the updated index
        assert server.poll() is None, log.read_text()

    total = sum(n for status, n in load.answers.items() if status != "failed")
    with capsys.disabled():
        print(
            f"\nreindex under load: {total} searches by {CLIENTS} clients, "
            f"{load.answers['failed']} failed ({dict(load.answers)}); new word found by every "
            f"worker {rebuild_delay:.2f} s after the switch of CURRENT, updated articles "
            f"{update_delay:.2f} s after the update's commit (generation {live.id})"
        )
    assert load.failures == [], load.failures[:10]
    assert set(load.answers) == {"200"}
    assert rebuild_delay < VISIBLE_WITHIN_S
    assert update_delay < VISIBLE_WITHIN_S


def switch_to_a_copy(root: Path) -> str:
    """A new generation, a copy of the live one, switched to at once: a reindex in a second."""
    index_root = IndexRoot(root)
    live = index_root.current()
    gen_id, path = index_root.new_generation_dir()
    path.rmdir()
    shutil.copytree(live.path, path)
    index_root.mark_ready(path, dict(live.meta, generation=gen_id))
    index_root.switch(gen_id)
    return gen_id


def test_the_search_that_notices_a_switch_is_not_charged_for_opening_it(
    synthetic_index: Path, tmp_path: Path
) -> None:
    # Opening this index takes a few hundred ms; a budget below that stands for the full corpus.
    root = tmp_path / "index"
    shutil.copytree(synthetic_index, root)
    engine = Engine(Settings(index_dir=root, refresh_interval_s=0, search_budget_ms=100))
    try:
        engine.warm_up()
        assert engine.search(SearchRequest(query="port")).total > 0
        generation = switch_to_a_copy(root)
        assert engine.search(SearchRequest(query="port")).total > 0  # not a 503
        assert engine.status().generation == generation
    finally:
        engine.close()
