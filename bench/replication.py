"""Reindexing a running cluster and following its replicas: what ``bench cluster`` and
``tests/test_cluster.py`` both do.

- ``update_files``: small ``--update`` sources made from a corpus (its first articles, each
  with a changed title), one file per update;
- ``Change``: one reindex command on the publisher and what followed it: the command's time,
  the generation it made, the bytes of the files new to that generation (its new segment and
  table of contents), and, per replica, how long after the command it served the generation
  and what it copied and hard-linked for it (``REPLICA.json``);
- ``Load``: clients searching through nginx meanwhile (``wrk``, or ``bench.loadgen``), in a
  thread, until the changes are done, counting every answer that is not a 2xx and every socket
  error (its p99 is the worst of its 5-second runs).
"""

from __future__ import annotations

import json
import shutil
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.collection import open_text
from bench.http import load
from cluster.run import Cluster, http_get


def update_files(source: Path, count: int, folder: Path) -> list[Path]:
    """``count`` one-article sources: the corpus's first articles, each title changed."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    with open_text(source) as lines:
        for k, line in enumerate(lines):
            if k == count:
                break
            record = json.loads(line)
            record["title"] = f"{record.get('title', '')} (mise à jour {k + 1})"
            path = folder / f"update-{k + 1}.jsonl"
            path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
            files.append(path)
    if len(files) < count:
        raise RuntimeError(f"{source} holds fewer than {count} articles")
    return files


def current(root: Path) -> str:
    return (root / "CURRENT").read_text(encoding="utf-8").strip()


def manifest_files(root: Path, generation: str) -> dict[str, int]:
    """name -> size of every file of ``generation``'s manifest (segments and TOC)."""
    data = json.loads((root / "generations" / generation / "MANIFEST.json").read_text("utf-8"))
    files = {data["toc"]["name"]: int(data["toc"]["size"])}
    for segment in data["segments"]:
        files.update({f["name"]: int(f["size"]) for f in segment["files"]})
    return files


def replica_generation(cluster: Cluster, name: str) -> str | None:
    status, body = http_get(cluster.url(name) + "/ready", timeout=2.0)
    try:
        value = json.loads(body).get("generation") if body else None
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def replica_status(cluster: Cluster, i: int) -> dict[str, Any]:
    try:
        data = json.loads((cluster.replica_root(i) / "REPLICA.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class Change:
    """One reindex command on the publisher and the replicas following it."""

    label: str
    command_s: float = 0.0
    generation: str = ""
    new_bytes: int = 0  # the files of the generation its predecessor did not have
    served_after_s: dict[str, float | None] = field(default_factory=dict)
    copied: dict[str, int | None] = field(default_factory=dict)
    linked: dict[str, int | None] = field(default_factory=dict)

    @property
    def slowest_s(self) -> float | None:
        values = list(self.served_after_s.values())
        return None if not values or None in values else max(v for v in values if v is not None)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "slowest_s": self.slowest_s}


def apply_change(
    cluster: Cluster, label: str, args: list[str], replicas: list[int], timeout_s: float
) -> Change:
    """Run ``scripts/reindex ARGS`` on the publisher; wait for every replica to serve it."""
    root = cluster.publisher_root
    before = current(root)
    started = time.monotonic()
    done = cluster.reindex([*args, "--quiet"])
    change = Change(label, command_s=time.monotonic() - started)
    if done.returncode != 0:
        raise RuntimeError(f"reindex {args} failed ({done.returncode}): {done.stderr[-1000:]}")
    change.generation = current(root)
    old = manifest_files(root, before)
    change.new_bytes = sum(
        size for name, size in manifest_files(root, change.generation).items() if name not in old
    )
    finished = time.monotonic()
    waiting = {f"replica-{i}" for i in replicas}
    deadline = finished + timeout_s
    while waiting and time.monotonic() < deadline:
        for name in sorted(waiting):
            if replica_generation(cluster, name) == change.generation:
                change.served_after_s[name] = time.monotonic() - finished
                waiting.discard(name)
        time.sleep(0.05)
    for name in waiting:
        change.served_after_s[name] = None
    for i in replicas:
        status = replica_status(cluster, i)
        if status.get("serving") == change.generation:
            change.copied[f"replica-{i}"] = status.get("bytes_copied_last")
            change.linked[f"replica-{i}"] = status.get("bytes_linked_last")
    return change


class Load:
    """``connections`` clients sending ``paths`` through ``base``, in a thread, for at least
    ``seconds`` and until ``join()``: in runs of ``CHUNK_S`` (wrk runs for a fixed time), so that
    the load lasts as long as the changes it must cover, however long a reindex takes."""

    CHUNK_S = 5.0

    def __init__(self, base: str, paths: Path, connections: int, seconds: float) -> None:
        self.client = "wrk" if shutil.which("wrk") else "python"
        self.chunks: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        self._done = threading.Event()
        started = time.monotonic()

        def go() -> None:
            try:
                k = 0
                while True:
                    elapsed = time.monotonic() - started
                    if self._done.is_set() and elapsed >= seconds - 0.5:
                        return
                    # whole seconds: wrk takes no fraction
                    length = float(min(self.CHUNK_S, max(1, round(seconds - elapsed))))
                    offset = k * 997
                    self.chunks.append(
                        load(self.client, base, paths, connections, length, 1, offset=offset)
                    )
                    k += 1
            except BaseException as exc:  # reported by join()
                self.error = exc

        self._thread = threading.Thread(target=go, name="cluster-load", daemon=True)
        self._thread.start()

    def join(self) -> dict[str, Any]:
        """Stop after the current run (once ``seconds`` have passed); the totals."""
        self._done.set()
        self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"the load failed: {self.error}") from self.error
        return self.result

    @property
    def result(self) -> dict[str, Any]:
        total = {
            key: sum(int(c[key]) for c in self.chunks)
            for key in ("requests", "non2xx", "socket_errors", "duration_us")
        }
        total["p99_us"] = max((c["p99_us"] for c in self.chunks), default=0)
        total["p50_us"] = statistics.median(c["p50_us"] for c in self.chunks) if self.chunks else 0
        total["runs"] = len(self.chunks)
        return total

    @property
    def failed(self) -> int:
        result = self.result
        return int(result["non2xx"]) + int(result["socket_errors"])
