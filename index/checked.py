"""Checksums already computed on this machine, shared by the processes that open a generation.

Every worker verifies a generation before it serves it (``index.manifest.verify``): the SHA-256
of each file, 1.55 s for the 1.4 GB of a generation of the corpus ×4. Within one process a file
already hashed (same inode, size and modification time) is not read again, so an update's switch
costs the hash of its new segment only; but each worker's start, and the first generation after
a full build, cost every worker the whole hash, five workers hashing the same 1.4 GB at once on
two cores. This record extends the process's memory to the machine: the first process to open a
generation hashes its files holding an ``flock`` on ``<generation>/CHECKED.lock`` and writes what
it found to ``<generation>/CHECKED.json``; the others wait for it, then read the record and only
``stat`` the files.

A recorded checksum is trusted only for a file whose device, inode, size and modification time
are still those it had when it was hashed, and whose modification time was more than
``RACY_NS`` older than the hashing: a write in the same clock tick as the write before it (a few
milliseconds) leaves the time unchanged, so a file hashed that soon after it was written could
change unseen (git's "racily clean" entries). Such a file is hashed again by every process, as a
file written since it was recorded is.

The record is a cache and nothing else: missing, unreadable or not writable (an index root the
service may not write), every process hashes for itself, as it did before.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK = "CHECKED.lock"
RECORD = "CHECKED.json"
RACY_NS = 2_000_000_000  # far above any file system's time granularity (ext4: one jiffy, ≤ 10 ms)

Identity = tuple[int, int, int, int]  # device, inode, size, modification time (ns)


def identity_of(stat: os.stat_result) -> Identity:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


class Record:
    """What the processes of this machine found when they hashed a generation's files."""

    def __init__(self, entries: dict[str, Any]) -> None:
        self._entries = entries
        self.changed = False

    def digest(self, name: str, identity: Identity) -> str | None:
        """The checksum recorded for ``name`` if it may be trusted for a file of ``identity``."""
        entry = self._entries.get(name)
        if not isinstance(entry, list) or len(entry) != 6:
            return None
        *recorded, hashed_at_ns, digest = entry
        if tuple(recorded) != identity or not isinstance(hashed_at_ns, int):
            return None
        if identity[3] + RACY_NS > hashed_at_ns or not isinstance(digest, str):
            return None
        return digest

    def add(self, name: str, identity: Identity, hashed_at_ns: int, digest: str) -> None:
        self._entries[name] = [*identity, hashed_at_ns, digest]
        self.changed = True

    def to_json(self) -> str:
        return json.dumps(self._entries)


@contextmanager
def shared(folder: Path) -> Iterator[Record]:
    """The record of ``folder``, held against the other processes until the block ends; written
    back when the block added to it and ended without an exception (a generation refused leaves
    no record of the files it did check)."""
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError:
        fd = -1  # a folder this process may not write: no sharing, hash everything
    try:
        if fd >= 0:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by the close below, or by the kernel
        record = Record(_read(folder / RECORD) if fd >= 0 else {})
        yield record
        if fd >= 0 and record.changed:
            _write(folder / RECORD, record.to_json())
    finally:
        if fd >= 0:
            os.close(fd)


@contextmanager
def private() -> Iterator[Record]:
    """A record of this process's own, never read from nor written to a folder."""
    yield Record({})


def _read(path: Path) -> dict[str, Any]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a cache: the next process hashes for itself
