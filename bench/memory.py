"""Memory of a process tree over time, sampled from ``/proc`` in a background thread.

``peak RSS`` is the highest *sum* of the resident sets of a process and all its descendants seen
at one sample: what the machine had to hold at that moment. (``getrusage(RUSAGE_CHILDREN)``
would give the largest single child instead, which under-reports a multi-process build.) Forked
workers share copy-on-write pages, which the RSS sum counts once per process, so the proportional
set size (PSS, which splits shared pages between their sharers) is sampled too when the kernel
offers ``smaps_rollup``.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_pids(root: int) -> list[int]:
    """``root`` and every process descending from it."""
    children = _children_map()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return None
    return None


def tree_memory(root: int) -> tuple[int, int | None, int]:
    """(summed RSS, summed PSS or None, process count) of ``root``'s tree, now."""
    pids = tree_pids(root)
    rss = sum(_rss(pid) for pid in pids)
    pss_values = [_pss(pid) for pid in pids]
    pss = None if any(v is None for v in pss_values) else sum(v or 0 for v in pss_values)
    return rss, pss, len(pids)


class TreeSampler:
    """Samples ``tree_memory(pid)`` every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int, int | None, int]] = []  # (s, rss, pss, procs)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def __enter__(self) -> TreeSampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss, procs = tree_memory(self.pid)
            if rss:
                self.samples.append((time.monotonic() - self._started, rss, pss, procs))
            self._stop.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        pss = [s[2] for s in self.samples if s[2] is not None]
        return {
            "peak_rss_bytes": max((s[1] for s in self.samples), default=None),
            "peak_pss_bytes": max(pss, default=None),
            "max_processes": max((s[3] for s in self.samples), default=0),
            "samples": len(self.samples),
            "interval_s": self.interval,
        }

    def timeline(self) -> list[list[float]]:
        """[seconds, RSS MiB] pairs, for the memory-over-time figure."""
        return [[round(s[0], 2), round(s[1] / (1 << 20), 1)] for s in self.samples]
