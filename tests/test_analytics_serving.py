"""Analytics under real processes (issue 12): 5 gunicorn workers writing one file at once, and
a writer killed with ``kill -9`` in the middle of its batches.

- every search answered by any of the 5 workers (and every click) is in the file after a
  graceful stop, with the ``query_id`` the answer carried, and the file passes SQLite's
  integrity check;
- a process killed mid-batch leaves a file that passes the integrity check and holds a
  contiguous prefix of its events (no hole, no half batch); what it lost is at most what was
  still queued, and the file takes new writes at once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO
from test_serving import free_port, get, running, server_env, wait_ready

from search.analytics import ClickEvent, Recorder

pytestmark = pytest.mark.slow


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def post_click(base: str, query_id: str, position: int) -> int:
    body = json.dumps({"query_id": query_id, "article_id": "a", "position": position}).encode()
    request = urllib.request.Request(base + "/events/click", data=body,
                                     headers={"Content-Type": "text/plain;charset=UTF-8"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return int(resp.status)


def test_five_workers_write_one_file_at_once(sample_index: Path, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = tmp_path / "analytics.sqlite3"
    env = server_env(PRESSE_INDEX_DIR=str(sample_index), PRESSE_BIND=f"127.0.0.1:{port}",
                     PRESSE_WORKERS="5", PRESSE_ANALYTICS_DB=str(db))
    log = tmp_path / "gunicorn.log"
    answered: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for k in range(40):
            try:
                status, _, body = get(f"{base}/search?q=maroc+{n}+{k}&per_page=2")
                if status != 200:
                    failures.append(f"{status}")
                    continue
                if k % 4 == 0:
                    assert post_click(base, body["query_id"], 1) == 204
                with lock:
                    answered.append(body["query_id"])
            except Exception as exc:  # noqa: BLE001 - every failure is reported below
                failures.append(repr(exc))

    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    with running(command, env, log) as process:
        wait_ready(process, base, log)
        threads = [threading.Thread(target=client, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        process.send_signal(signal.SIGTERM)  # workers write what they queued on the way out
        assert process.wait(timeout=30) == 0
    assert failures == []
    assert len(answered) == 400
    assert integrity(db) == "ok"
    conn = sqlite3.connect(db)
    try:
        recorded = {row[0] for row in conn.execute("SELECT query_id FROM searches")}
        clicks = conn.execute("SELECT COUNT(*) FROM clicks").fetchone()[0]
    finally:
        conn.close()
    assert recorded == set(answered)
    assert clicks == 100
    output = log.read_text()
    assert "analytics off" not in output, output[-3000:]
    assert output.count("warmed up on generation") == 5


WRITER = """
import sys, time
from pathlib import Path
from search.analytics import ClickEvent, Recorder

recorder = Recorder(Path(sys.argv[1]), queue_size=100_000, retention_days=90)
seq = 0
while True:
    for _ in range(50):
        seq += 1
        recorder.record(ClickEvent(time.time(), "0" * 32, sys.argv[2], seq))
    print(seq, flush=True)
    time.sleep(0.002)
"""
KILLS = 3


def committed(db: Path, run: str) -> list[int]:
    conn = sqlite3.connect(db, timeout=5)
    try:
        return [row[0] for row in conn.execute(
            "SELECT position FROM clicks WHERE article_id = ? ORDER BY rowid", (run,))]
    except sqlite3.OperationalError:
        return []  # the schema is not there yet
    finally:
        conn.close()


def kill_mid_batch(db: Path, run: str, after: int) -> int:
    """Start a writer, ``kill -9`` it once ``after`` of its events are committed; returns how
    many events it had recorded (queued or written) by then."""
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), run], cwd=REPO,
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    recorded = 0
    try:
        assert writer.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            recorded = int(writer.stdout.readline())
            if recorded % 500 == 0 and len(committed(db, run)) >= after:
                break
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        for line in writer.stdout:  # what it had recorded before dying
            recorded = max(recorded, int(line))
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        if writer.stdout is not None:
            writer.stdout.close()
    return recorded


def test_kill_9_mid_batch_loses_at_most_the_queue_and_never_corrupts(tmp_path: Path) -> None:
    db = tmp_path / "analytics.sqlite3"
    for k, after in enumerate((3000, 4200, 5100)[:KILLS]):  # at different points of a batch
        run = f"run-{k}"
        recorded = kill_mid_batch(db, run, after)
        assert integrity(db) == "ok"
        positions = committed(db, run)
        kept = len(positions)
        assert positions == list(range(1, kept + 1))  # a prefix: no hole, no half batch
        assert kept >= after
        assert recorded - kept <= 100_000  # lost: at most what was queued (a bounded queue)
        print(f"\nkill -9 #{k + 1}: {recorded} events recorded, {kept} committed, "
              f"{recorded - kept} lost")

    recorder = Recorder(db, queue_size=10, retention_days=90)  # the file takes writes at once
    try:
        recorder.record(ClickEvent(time.time(), "1" * 32, "after", 1))
        assert recorder.flush() and recorder.stats.written == 1
    finally:
        recorder.close()


def test_every_worker_picks_up_a_change_within_the_refresh_interval(
    sample_index: Path, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token = "redaction-token-0123456789abcdef"
    env = server_env(PRESSE_INDEX_DIR=str(sample_index), PRESSE_BIND=f"127.0.0.1:{port}",
                     PRESSE_WORKERS="3", PRESSE_ANALYTICS_DB=str(tmp_path / "a.sqlite3"),
                     PRESSE_ADMIN_TOKEN=f"amina:{token}", PRESSE_REFRESH_INTERVAL="1")
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    with running(command, env, log) as process:
        wait_ready(process, base, log)
        for _ in range(12):  # every worker has answered, and holds the old (empty) rules
            assert get(f"{base}/search?q=BAM")[2]["expansions"] == []
        request = urllib.request.Request(
            base + "/admin/api/synonyms", data=b'{"line": "BAM, Bank Al-Maghrib"}',
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 201
        changed_at = time.monotonic()
        time.sleep(1.2)  # PRESSE_REFRESH_INTERVAL, and a margin
        answers = [get(f"{base}/search?q=BAM")[2] for _ in range(30)]
        assert all(a["expansions"] == [{"from": "BAM", "to": ["Bank Al-Maghrib"]}]
                   for a in answers), time.monotonic() - changed_at
