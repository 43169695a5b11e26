"""The cluster's processes and its state file: started in groups of their own, always stoppable.

Every process of a cluster (publisher, replicas, nginx, the health checker) starts in a new
session, so its pid is also its process group, holding the gunicorn workers or nginx workers
it forks. Its pid, the kernel's start time of that pid (so that a pid reused by an unrelated
process after a reboot or a crash is never signalled), its command and its log go into the
state file ``cluster.json`` the moment it is started, before anything waits on it: a ``down``
after a crash of ``up`` itself still finds everything.

Stopping a group: SIGTERM to the group, then SIGKILL to what is left after a grace period. A
group whose leader died (gunicorn master killed -9) can still hold orphaned workers; Linux does
not reuse a pid while a group of that id exists, so the group is found by scanning /proc for
processes whose group is the recorded pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATE_FILE = "cluster.json"
# The Popen objects of the processes this process started: kept so that they are not collected
# while running (Python warns), and so that their exit statuses are collected (no zombies).
_STARTED: dict[int, subprocess.Popen[bytes]] = {}


def adopt(process: subprocess.Popen[bytes]) -> None:
    _STARTED[process.pid] = process


@dataclass
class Proc:
    """One started process, as recorded in the state file."""

    name: str
    pid: int
    start_ticks: int | None  # /proc/<pid>/stat field 22: tells a reused pid apart
    argv: list[str]
    env: dict[str, str]  # what was added to the environment (never a secret)
    log: str
    port: int | None = None


def start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    return int(stat.rsplit(")", 1)[1].split()[19])


def group_members(pgid: int) -> list[int]:
    """Pids of the live processes in process group ``pgid`` (zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def is_ours(proc: Proc) -> bool:
    """Whether ``proc``'s group still has processes that are the ones we started."""
    ticks = start_ticks(proc.pid)
    if ticks is not None:  # the leader lives: it is ours only if it is the same process
        return proc.start_ticks is None or ticks == proc.start_ticks
    return bool(group_members(proc.pid))  # leader gone: its orphans, if any


def alive(proc: Proc) -> bool:
    ticks = start_ticks(proc.pid)
    if ticks is None or (proc.start_ticks is not None and ticks != proc.start_ticks):
        return False
    try:
        state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop_group(proc: Proc, grace_s: float = 20.0) -> None:
    """SIGTERM the group, wait up to ``grace_s``, then SIGKILL what is left."""
    if not is_ours(proc):
        _reap(proc.pid)
        return
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            _reap(proc.pid)
            if not group_members(proc.pid):
                _reap(proc.pid, wait=True)
                return
            time.sleep(0.1)
    _reap(proc.pid, wait=True)


def _reap(pid: int, wait: bool = False) -> None:
    # When this process started the leader, it must collect its exit status or it stays a zombie.
    process = _STARTED.get(pid)
    if process is None:
        return
    if wait:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    if process.poll() is not None:
        del _STARTED[pid]


def reap_exited() -> None:
    """Collect the exit status of every process this one started that has ended."""
    for pid in list(_STARTED):
        _reap(pid)


def spawn(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    recorded_env: Mapping[str, str],
    log: Path,
    cwd: Path,
    port: int | None = None,
) -> Proc:
    """Start ``argv`` in a new session with the environment ``env``, output appended to ``log``;
    ``recorded_env`` is what the state file keeps of it (never a secret)."""
    reap_exited()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    adopt(process)
    return Proc(
        name=name,
        pid=process.pid,
        start_ticks=start_ticks(process.pid),
        argv=list(argv),
        env=dict(recorded_env),
        log=str(log),
        port=port,
    )


class State:
    """``DIR/cluster.json``: the cluster's ports and processes, rewritten atomically."""

    def __init__(self, folder: Path, data: dict[str, Any] | None = None) -> None:
        self.folder = folder
        self.data: dict[str, Any] = data if data is not None else {"procs": {}}

    @property
    def path(self) -> Path:
        return self.folder / STATE_FILE

    @classmethod
    def load(cls, folder: Path) -> State | None:
        try:
            data = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise RuntimeError(f"{folder / STATE_FILE} is not valid JSON: {exc}") from None
        return cls(folder, data)

    def procs(self) -> list[Proc]:
        return [Proc(**p) for p in self.data["procs"].values()]

    def proc(self, name: str) -> Proc:
        try:
            return Proc(**self.data["procs"][name])
        except KeyError:
            raise RuntimeError(f"no process named {name!r} in {self.path}") from None

    def record(self, proc: Proc) -> None:
        self.data["procs"][proc.name] = asdict(proc)
        self.save()

    def forget(self, name: str) -> None:
        self.data["procs"].pop(name, None)
        self.save()

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{STATE_FILE}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
