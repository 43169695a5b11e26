"""``cluster.processes``: process groups recorded, found again and stopped, and never a stranger.

Real processes (``sleep``, a shell that forks one), no cluster: what ``scripts/cluster down``
relies on after a crash.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cluster.processes import (
    Proc,
    State,
    alive,
    group_members,
    is_ours,
    spawn,
    start_ticks,
    stop_group,
)


def test_a_group_whose_leader_died_is_still_stopped(tmp_path: Path) -> None:
    # A leader that forks a long child and is then killed -9: the child is an orphan of its group.
    argv = ["bash", "-c", "sleep 300 & wait"]
    proc = spawn("leader", argv, dict(os.environ), {}, tmp_path / "leader.log", tmp_path)
    deadline = time.monotonic() + 10
    while len(group_members(proc.pid)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    while alive(proc):
        time.sleep(0.05)
    orphans = group_members(proc.pid)
    assert orphans and proc.pid not in orphans
    assert is_ours(proc)
    stop_group(proc, grace_s=5)
    assert group_members(proc.pid) == []
    assert not is_ours(proc)


def test_a_reused_pid_is_never_signalled(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        ticks = start_ticks(stranger.pid)
        assert ticks is not None
        # What the state file would hold if this pid had been ours before a reboot: another start.
        recorded = Proc("old", stranger.pid, ticks - 1, ["x"], {}, "log")
        assert not is_ours(recorded) and not alive(recorded)
        stop_group(recorded, grace_s=1)
        assert stranger.poll() is None  # untouched
    finally:
        stranger.kill()
        stranger.wait()


def test_the_state_file_keeps_what_was_started_and_no_secret(tmp_path: Path) -> None:
    state = State(tmp_path, {"base_port": 1, "replicas": 1, "procs": {}})
    secret = {"PRESSE_REPLICATION_TOKEN": "s3cret-token"}
    proc = spawn(
        "one",
        [sys.executable, "-c", "import os, time; assert os.environ['PRESSE_REPLICATION_TOKEN']"
         "; time.sleep(300)"],
        {**os.environ, "PRESSE_BIND": "127.0.0.1:1", **secret},
        {"PRESSE_BIND": "127.0.0.1:1"},
        tmp_path / "one.log",
        tmp_path,
    )
    state.record(proc)
    try:
        loaded = State.load(tmp_path)
        assert loaded is not None
        again = loaded.proc("one")
        assert again.pid == proc.pid and again.start_ticks == proc.start_ticks
        assert again.env == {"PRESSE_BIND": "127.0.0.1:1"}
        assert "s3cret-token" not in (tmp_path / "cluster.json").read_text()
        time.sleep(0.5)
        assert alive(again)  # it had the token: its assertion passed
    finally:
        stop_group(proc, grace_s=5)
    assert not alive(proc)
