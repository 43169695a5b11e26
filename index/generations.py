"""Index generations on disk: the layout, the writer's lock, the atomic switch, rollback, pruning.

An index root looks like this::

    <root>/CURRENT                  the id of the live generation (replaced with os.replace)
    <root>/LOCK                     held (flock) by the one running reindex; names its pid
    <root>/generations/<id>/        one complete Whoosh index each, with a serving image per
                                    segment; segment files are shared between generations
                                    (hard links) and never written after their segment
    <root>/generations/<id>/MANIFEST.json  its segments, deletions, files and checksums
    <root>/generations/<id>/READY   written after the generation was checked: its metadata
    <root>/generations/<id>/LIVE    written when it first goes live, just before CURRENT names it
    <root>/replicas/<name>.json     on a publisher: each replica's last ack (index.replicas)
    <root>/staging/, REPLICA.json   on a replica: a copy under way, the follower's status
                                    (index.replica_copy, index.replica_status)

A generation without ``READY`` is partial (a build that died or is running); the next reindex,
holding the lock, removes it. ``CURRENT`` only ever names a ready generation. Readers (the search
service) only read ``CURRENT`` and the generation it names; nothing here is imported by them but
``IndexRoot.current()`` and ``read_meta()``.

The lock is an ``flock`` on ``LOCK``: the kernel drops it when its process dies, even by kill -9,
so a stale lock is taken over without guessing whether a pid still lives; the pid and start time
written in the file are for the message that a second reindex prints. A forked child (Whoosh's
indexing processes) would share the lock and keep it after its parent's death: children drop it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO


class GenerationError(Exception):
    """The index root cannot give what was asked (no generation, nothing to roll back to...)."""


class ReindexRunning(GenerationError):
    """Another reindex holds the lock."""


@dataclass(frozen=True)
class Generation:
    """A ready generation and its metadata (``READY``)."""

    id: str
    path: Path
    meta: dict[str, Any]


_held_lock_fds: set[int] = set()


def _drop_inherited_locks() -> None:
    # Runs in every forked child. Orphaned children of a killed reindex would otherwise hold its
    # flock for ever. The fd is pointed at /dev/null rather than closed: the child's file object
    # still owns that number, and a close would free it for reuse under that object.
    if not _held_lock_fds:
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in _held_lock_fds:
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)
    _held_lock_fds.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old content or the new, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class IndexRoot:
    """One index root folder; see the module docstring for its layout."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.generations_dir = self.path / "generations"
        self.current_file = self.path / "CURRENT"
        self.lock_file = self.path / "LOCK"

    # --- reading (also used by the search service) ---

    def current_id(self) -> str | None:
        """The id named by ``CURRENT``, or None when there is none yet."""
        try:
            text = self.current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def current(self) -> Generation:
        """The live generation; ``GenerationError`` says why there is none."""
        gen_id = self.current_id()
        if gen_id is None:
            raise GenerationError("no index has been built yet (run scripts/reindex)")
        generation = self.get(gen_id)
        if generation is None:
            raise GenerationError(f"CURRENT names generation {gen_id!r}, which is missing")
        return generation

    def get(self, gen_id: str) -> Generation | None:
        """The ready generation ``gen_id``, or None if it is missing or partial."""
        if not _is_generation_id(gen_id):
            return None
        path = self.generations_dir / gen_id
        meta = read_meta(path)
        return None if meta is None else Generation(gen_id, path, meta)

    def ready_generations(self) -> list[Generation]:
        """Every ready generation, oldest first (ids sort by creation time)."""
        found = []
        if self.generations_dir.is_dir():
            for child in sorted(self.generations_dir.iterdir()):
                generation = self.get(child.name)
                if generation is not None:
                    found.append(generation)
        return found

    # --- writing (the reindex script only, holding the lock) ---

    @contextmanager
    def lock(self, purpose: str = "reindex", warn: TextIO = sys.stderr) -> Iterator[None]:
        """Hold the writer's lock, or raise ``ReindexRunning`` naming the holder.

        ``LOCK`` must be a plain file of its own: a symlink (or a hard link) is refused, since
        truncating it would empty the file it points to. Its content is only ever a message, so
        any bytes in it (invalid UTF-8, not JSON) are read as "holder unknown", never an error.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise GenerationError(
                f"{self.lock_file} is a symbolic link (to {os.readlink(self.lock_file)!r}); "
                "refusing to write through it: remove it and run again"
            ) from None
        handle = os.fdopen(fd, "r+b")
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
                raise GenerationError(
                    f"{self.lock_file} is not a plain file of its own (a hard "
                    "link or a special file); remove it and run again"
                )
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _lock_holder(handle.read(_LOCK_READ))
                raise ReindexRunning(
                    f"another reindex is running (pid {holder.get('pid', '?')}, "
                    f"started {holder.get('started', '?')})"
                ) from None
            previous = _lock_holder(handle.read(_LOCK_READ))
            if previous.get("pid"):
                # All that is known: that run did not release the lock, and no process holds it
                # now. Its pid may well be running again as something else (pid 1 always is).
                print(
                    f"warning: taking over a stale lock left by pid {previous['pid']} "
                    f"(started {previous.get('started', '?')}): that reindex did not finish, "
                    "and no process holds the lock now",
                    file=warn,
                )
            handle.seek(0)
            handle.truncate()
            started = datetime.now(UTC).isoformat(timespec="seconds")
            holder_text = json.dumps({"pid": os.getpid(), "started": started, "purpose": purpose})
            handle.write(holder_text.encode("utf-8"))
            handle.flush()
            _held_lock_fds.add(fd)
            try:
                yield
            finally:
                _held_lock_fds.discard(fd)
                handle.seek(0)
                handle.truncate()
                handle.flush()
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            handle.close()

    def new_generation_dir(self) -> tuple[str, Path]:
        """Create the folder of a new (partial) generation; ids sort by creation time."""
        self.generations_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        gen_id = f"{stamp}-{secrets.token_hex(3)}"
        path = self.generations_dir / gen_id
        path.mkdir()
        return gen_id, path

    def mark_ready(self, path: Path, meta: dict[str, Any]) -> None:
        """Write ``READY`` with the generation's metadata: the generation may now go live."""
        write_atomically(path / "READY", json.dumps(meta, ensure_ascii=False, indent=2))

    def switch(self, gen_id: str) -> None:
        """Make ``gen_id`` live, atomically; it must be ready."""
        generation = self.get(gen_id)
        if generation is None:
            raise GenerationError(f"generation {gen_id!r} is not ready; CURRENT left as it was")
        if not went_live(generation.path):
            write_atomically(generation.path / "LIVE", datetime.now(UTC).isoformat() + "\n")
        write_atomically(self.current_file, gen_id + "\n")

    def rollback(self) -> Generation:
        """Switch back to the newest generation older than the live one that was live once.

        With a ``CURRENT`` that names nothing usable (damaged by hand, or its generation
        removed), go to the newest generation that was live: that is what was served last.
        """
        served = [g for g in self.ready_generations() if went_live(g.path)]
        try:
            live_id = self.current().id
        except GenerationError:
            if not served:
                raise
            self.switch(served[-1].id)
            return served[-1]
        older = [g for g in served if g.id < live_id]
        if not older:
            raise GenerationError(f"no generation older than {live_id} to roll back to")
        self.switch(older[-1].id)
        return older[-1]

    def remove_partial(self) -> list[str]:
        """Remove what builds that died left behind (call with the lock held): generations
        without ``READY``, and ready ones that never went live (killed between the check and
        the switch) — never served, they must not become rollback targets either."""
        removed = []
        live = self.current_id()
        if self.generations_dir.is_dir():
            for child in sorted(self.generations_dir.iterdir()):
                if child.name != live and (read_meta(child) is None or not went_live(child)):
                    shutil.rmtree(child, ignore_errors=True)
                    removed.append(child.name)
        return removed

    def prune(self, keep: int, hold: Collection[str] = ()) -> list[str]:
        """Keep the ``keep`` newest ready generations, always the live one, and those in
        ``hold`` (what replicas still copy or serve: ``index.replicas.held``)."""
        live = self.current_id()
        ready = self.ready_generations()
        doomed = [
            g for g in ready[: max(len(ready) - keep, 0)] if g.id != live and g.id not in hold
        ]
        for generation in doomed:
            shutil.rmtree(generation.path, ignore_errors=True)
        return [g.id for g in doomed]


def went_live(path: Path) -> bool:
    """Whether the generation in ``path`` was ever switched to (its ``LIVE`` marker)."""
    return (path / "LIVE").is_file()


def read_meta(path: Path) -> dict[str, Any] | None:
    """The ``READY`` metadata of a generation folder, or None when it is partial or unreadable."""
    try:
        meta = json.loads((path / "READY").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


_LOCK_READ = 4096  # a holder's message is under 100 bytes; never read more of whatever is there


def _lock_holder(data: bytes) -> dict[str, str]:
    """The pid and start time a ``LOCK`` names, as safe one-line strings; {} when unknown."""
    try:
        holder = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return {}
    if not isinstance(holder, dict):
        return {}
    known: dict[str, str] = {}
    pid = holder.get("pid")
    if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
        known["pid"] = str(pid)
    started = holder.get("started")
    if isinstance(started, str) and re.fullmatch(r"[\w:+.-]{1,40}", started):
        known["started"] = started
    return known


def _is_generation_id(name: str) -> bool:
    # Ids come from new_generation_dir; anything else (a path, "..") is never a generation.
    return bool(name) and all(c.isalnum() or c == "-" for c in name)


def directory_size(path: Path) -> int:
    """Bytes used by the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
