"""Replication with real processes: a follower killed with SIGKILL mid-copy, a generation pruned
under a copy, and replicas under gunicorn (``PRESSE_REPLICATE_FROM``) behind a publisher that
goes away.

Copies are made slow with the copy speed limit (``PRESSE_REPLICATION_MAX_MBPS``), so that a
kill lands in the middle of one: that is the setting an admin uses to leave bandwidth to the
searches, not a test hook.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import synthetic
from replication_env import TOKEN, build_publisher, serving_publisher, update
from test_serving import REPO, free_port, get, running, server_env, wait_ready

from index import replica_status, replicas
from index.build import full_build
from index.generations import IndexRoot
from index.manifest import read, verify
from index.replica_copy import STAGING_DIR

pytestmark = pytest.mark.slow


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@contextmanager
def follower(url: str, replica: Path, log: Path, mbps: float = 0.0,
             *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    env = server_env(PRESSE_REPLICATION_TOKEN=TOKEN, PRESSE_REPLICATION_POLL_S="0.1",
                     PRESSE_REPLICATION_MAX_MBPS=str(mbps))
    command = [sys.executable, "-m", "index.replica", "--from", url,
               "--index-dir", str(replica), "--name", "r1", *extra]
    with running(command, env, log) as process:
        yield process


def staged_bytes(replica: Path) -> int:
    folder = replica / STAGING_DIR
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def only_ready_generations(replica: Path) -> bool:
    root = IndexRoot(replica)
    listed = sorted(p.name for p in root.generations_dir.iterdir())
    return listed == [g.id for g in root.ready_generations()]


def rebuild(root: IndexRoot, folder: Path, seed: int, keep: int = 3,
            timeout_s: float = 3600.0) -> str:
    """A full build of other articles: every segment file new (a copy of the whole index)."""
    source = synthetic.write_jsonl(folder / f"rebuild-{seed}.jsonl",
                                   list(synthetic.articles(300, seed=seed)))
    return full_build(root, source, processes=1, keep_generations=keep,
                      replica_timeout_s=timeout_s).generation


def test_a_follower_killed_mid_copy_resumes_and_never_serves_a_half_copy(
    tmp_path: Path
) -> None:
    publisher = build_publisher(tmp_path)
    replica = tmp_path / "replica"
    with serving_publisher(publisher.path) as url:
        with follower(url, replica, tmp_path / "f0.log", 0, "--once") as process:
            assert process.wait(timeout=60) == 0
        first = publisher.current_id()
        assert IndexRoot(replica).current_id() == first
        second = rebuild(publisher, tmp_path, seed=11)
        total = sum(f.size for f in read(publisher.current().path).files)
        # 0.4 MB/s: a copy of ~1.2 MB lasts ~3 s; killed at a quarter, a half, three quarters.
        for k, share in enumerate((0.25, 0.5, 0.75), start=1):
            with follower(url, replica, tmp_path / f"f{k}.log", 0.4) as process:
                if k == 1:  # a long copy rewrites the status as it goes: not a dead follower
                    wait_for(lambda: staged_bytes(replica) > 100_000, 30, "a copy under way")
                    before = replica_status.read(replica)
                    time.sleep(0.5)
                    after = replica_status.read(replica)
                    assert before is not None and after is not None
                    assert after.last_poll != before.last_poll
                    assert after.bytes_copied_last > before.bytes_copied_last
                    assert after.behind_generations == 1 and after.serving == first
                wait_for(lambda s=share: staged_bytes(replica) >= s * total, 30, f"{share:.0%}")
                process.send_signal(signal.SIGKILL)
                process.wait()
            assert IndexRoot(replica).current_id() == first  # never the half copy
            assert only_ready_generations(replica)
            assert not (IndexRoot(replica).generations_dir / second).exists()
            staged = staged_bytes(replica)
            assert 0 < staged < total
        with follower(url, replica, tmp_path / "f4.log", 0, "--once") as process:
            assert process.wait(timeout=60) == 0, (tmp_path / "f4.log").read_text()
    root = IndexRoot(replica)
    assert root.current_id() == second
    verify(root.current().path, read(root.current().path))
    status = replica_status.read(replica)
    assert status is not None and status.error is None
    print(f"\nresumed after 3 kills: {status.bytes_copied_last:,} of {total:,} bytes fetched "
          f"by the last run (staged before it: {staged:,})")
    assert status.bytes_copied_last == total - staged  # resumed where the kill left it
    assert not any((replica / STAGING_DIR).iterdir())


def test_a_generation_pruned_under_a_copy_is_dropped_for_the_new_current_one(
    tmp_path: Path
) -> None:
    publisher = build_publisher(tmp_path, keep=1)
    replica = tmp_path / "replica"
    first = publisher.current_id()
    with (serving_publisher(publisher.path) as url,
          follower(url, replica, tmp_path / "f.log", 0.4) as process):
        wait_for(lambda: staged_bytes(replica) > 100_000, 30, "a copy under way")
        # A replica forgotten at once (timeout 0): the rebuild prunes what it copies.
        newer = rebuild(publisher, tmp_path, seed=12, keep=1, timeout_s=0)
        assert [g.id for g in publisher.ready_generations()] == [newer]
        wait_for(lambda: IndexRoot(replica).current_id() == newer, 60, "the new current")
        assert process.poll() is None
    log = (tmp_path / "f.log").read_text()
    assert f"generation {first} is gone at the source" in log, log
    assert only_ready_generations(replica)
    verify(IndexRoot(replica).current().path, read(IndexRoot(replica).current().path))


# --- replicas under gunicorn ----------------------------------------------------------------------


GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in state


def test_a_gunicorn_replica_follows_reports_its_lag_and_outlives_its_publisher(
    tmp_path: Path
) -> None:
    publisher = build_publisher(tmp_path)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    pub_port, rep_port = free_port(), free_port()
    pub_base, rep_base = f"http://127.0.0.1:{pub_port}", f"http://127.0.0.1:{rep_port}"
    quick = {"PRESSE_WORKERS": "1", "PRESSE_REFRESH_INTERVAL": "0.2", "PRESSE_ANALYTICS": "off"}
    pub_env = server_env(PRESSE_INDEX_DIR=str(publisher.path), PRESSE_BIND=f"127.0.0.1:{pub_port}",
                         PRESSE_REPLICATION_TOKEN=TOKEN, **quick)
    rep_env = server_env(PRESSE_INDEX_DIR=str(tmp_path / "replica"),
                         PRESSE_BIND=f"127.0.0.1:{rep_port}", PRESSE_REPLICATE_FROM=pub_base,
                         PRESSE_REPLICATION_TOKEN_FILE=str(token_file),
                         PRESSE_REPLICATION_POLL_S="0.2", PRESSE_REPLICA_NAME="web-1", **quick)
    pub_log, rep_log = tmp_path / "publisher.log", tmp_path / "replica.log"
    with running(GUNICORN, pub_env, pub_log) as pub, running(GUNICORN, rep_env, rep_log) as rep:
        wait_ready(pub, pub_base, pub_log)
        ready = wait_ready(rep, rep_base, rep_log)
        assert ready["generation"] == publisher.current_id()
        assert ready["replication"]["source"] == pub_base
        assert ready["replication"]["lag_generations"] == 0
        # The replica does not publish: it was given its token in a file, not the variable.
        status, _, _ = get(rep_base + "/replication/current")
        assert status == 404

        started = time.monotonic()
        second = update(publisher, tmp_path, 1)
        wait_for(lambda: get(rep_base + "/ready")[2].get("generation") == second, 10,
                 "the replica on the update")
        print(f"\nupdate served by the replica {time.monotonic() - started:.1f} s after "
              "its switch on the publisher")
        status, _, body = get(rep_base + "/search?q=balafon")
        assert status == 200 and [h["id"] for h in body["hits"]] == ["maj-1"]

        # Files go out with sendfile under gunicorn: a range from an offset is still exact.
        biggest = max(read(publisher.current().path).files, key=lambda f: f.size)
        request = urllib.request.Request(
            f"{pub_base}/replication/generations/{second}/files/{biggest.name}",
            headers={"Authorization": f"Bearer {TOKEN}", "Range": "bytes=12345-"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 206
            tail = resp.read()
        assert tail == (publisher.current().path / biggest.name).read_bytes()[12345:]

        pub.send_signal(signal.SIGTERM)  # the publisher goes away
        pub.wait(timeout=30)
        time.sleep(1.5)  # several polls of the follower
        status, _, body = get(rep_base + "/ready")
        assert status == 200, body
        assert body["generation"] == second
        assert "unreachable" in body["replication"]["error"]
        assert get(rep_base + "/search?q=balafon")[0] == 200

        follower_pid = int(rep_log.read_text().split("follower started (pid ")[1].split(")")[0])
        assert alive(follower_pid)
        rep.send_signal(signal.SIGKILL)  # the master dies: its follower stops by itself
        rep.wait()
        wait_for(lambda: not alive(follower_pid), 10, "the follower to stop")


@pytest.mark.parametrize("launcher", ["replica", "serve"])
def test_scripts_replica_or_serve_with_replicate_from_serve_the_sources_index(
    tmp_path: Path, launcher: str
) -> None:
    publisher = build_publisher(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(PRESSE_BIND=f"127.0.0.1:{port}", PRESSE_WORKERS="1",
                     PRESSE_ANALYTICS="off", PRESSE_REPLICATION_POLL_S="0.2")
    if launcher == "replica":  # relative paths, from the caller's folder
        command = ["bash", str(REPO / "scripts" / "replica"), "--from", "publisher",
                   "--index-dir", "replica", "--name", "web-9"]
    else:  # scripts/serve builds no sample index on a replica
        command = ["bash", str(REPO / "scripts" / "serve")]
        env |= {"PRESSE_REPLICATE_FROM": str(publisher.path),
                "PRESSE_INDEX_DIR": str(tmp_path / "replica"), "PRESSE_REPLICA_NAME": "web-9"}
    log = tmp_path / "replica.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        ready = wait_ready(process, base, log)
        assert ready["generation"] == publisher.current_id()
        assert ready["replication"]["source"] == str(publisher.path)
        [ack] = replicas.read_acks(publisher.path)
        assert ack.replica == "web-9" and ack.serving == publisher.current_id()
        served = IndexRoot(tmp_path / "replica").ready_generations()
        assert [g.id for g in served] == [publisher.current_id()]  # and nothing else
        follower_pid = int(log.read_text().split("follower started (pid ")[1].split(")")[0])
        assert alive(follower_pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert not alive(follower_pid)  # stopped by the master on its way out (on_exit)


@pytest.mark.parametrize("args, message", [([], "error: --from URL|PATH is required"),
                                           (["--from"], ""), (["--from", "x", "--index-dir"], "")])
def test_scripts_replica_explains_its_usage(args: list[str], message: str) -> None:
    done = subprocess.run(["bash", str(REPO / "scripts" / "replica"), *args],
                          capture_output=True, text=True, timeout=60, env=server_env())
    assert done.returncode == 2
    assert message in done.stderr and "usage: scripts/replica --from URL|PATH" in done.stderr


def test_a_second_follower_on_the_same_root_is_refused(tmp_path: Path) -> None:
    publisher = build_publisher(tmp_path)
    replica = tmp_path / "replica"
    with follower(str(publisher.path), replica, tmp_path / "f.log") as first:
        wait_for(lambda: IndexRoot(replica).current_id() is not None, 30, "the first copy")
        done = subprocess.run([sys.executable, "-m", "index.replica", "--from",
                               str(publisher.path), "--index-dir", str(replica), "--once"],
                              capture_output=True, text=True, timeout=60, env=server_env())
        assert done.returncode == 1
        assert "one follower per index root" in done.stderr
        assert first.poll() is None
