"""The follower of a replica: polls its source, copies each new generation, switches, acks.

``python -m index.replica --from URL|PATH`` (started by ``scripts/replica``, or by gunicorn's
master when ``PRESSE_REPLICATE_FROM`` is set) holds the index root's lock for as long as it
runs — one follower per root, and no reindex on a replica — and every
``PRESSE_REPLICATION_POLL_S``:

1. reads the source's current generation (``index.replica_sources``);
2. if the replica does not serve it: acks ``copying``, copies it (``index.replica_copy``:
   staging, hard links, resume, checksums), switches ``CURRENT``, prunes local generations
   beyond ``PRESSE_KEEP_GENERATIONS``; a generation already here (a rollback at the source, or
   a kill between the move and the switch) is checked and switched to without a copy;
3. acks what it serves, and writes ``REPLICA.json`` (``index.replica_status``), which ``/ready``
   reads. During a long copy the status is rewritten every poll interval, so a copy in
   progress is not mistaken for a dead follower.

Nothing a poll meets stops the loop: an unreachable or refusing source, a pruned generation
(404: the attempt is dropped, the next poll starts from the new current one) or a file refused
by its checksum go into ``error``, and the replica keeps serving what it has. A generation
refused by its checksums is tried again after a delay that doubles (up to ``RETRY_MAX_S``),
so a corrupt source is not copied from again every second.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from index import manifest, replica_status, replicas
from index.config import ConfigError, IndexSettings
from index.generations import GenerationError, IndexRoot, ReindexRunning
from index.replica_copy import CopyRefused, Stopped, copy_generation
from index.replica_sources import GenerationGone, Published, Source, SourceError, open_source
from index.replica_status import ReplicaStatus, now_iso

log = logging.getLogger("presse.replica")

RETRY_MAX_S = 300.0


def default_name(root: Path) -> str:
    """This host's name and a hash of the root: stable across restarts, distinct per root."""
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:40].lstrip(".-") or "replica"
    digest = hashlib.sha1(str(root.resolve()).encode("utf-8")).hexdigest()[:8]
    return f"{host}-{digest}"


def behind(serving: str | None, published: Published) -> int:
    """How many of the source's ready generations the replica lacks, up to its current one
    (1 when the source does not list them, or after a rollback at the source)."""
    if serving == published.generation:
        return 0
    newer = [
        g
        for g in published.generations
        if (serving is None or g > serving) and g <= published.generation
    ]
    return max(len(newer), 1)


class Follower:
    """One replica root following one source; see the module docstring."""

    def __init__(
        self,
        root: IndexRoot,
        source: Source,
        name: str,
        *,
        poll_s: float = 1.0,
        max_mbps: float = 0.0,
        keep_generations: int = 3,
        stop: threading.Event | None = None,
    ) -> None:
        self.root = root
        self.source = source
        self.name = name
        self.poll_s = poll_s
        self.max_mbps = max_mbps
        self.keep_generations = keep_generations
        self.stop = stop or threading.Event()
        root.path.mkdir(parents=True, exist_ok=True)
        previous = replica_status.read(root.path)
        self.status = ReplicaStatus(source=source.description, name=name)
        if previous is not None and previous.source == source.description:
            # Keep when it fell behind and when it last succeeded across a restart.
            self.status = replace(
                self.status,
                behind_since=previous.behind_since,
                last_success=previous.last_success,
                source_generation=previous.source_generation,
            )
        self._refused: tuple[str, float, float] | None = None  # generation, retry at, delay

    def _write(self, **changes: Any) -> None:
        self.status = replace(self.status, serving=self.root.current_id(), **changes)
        replica_status.write(self.root.path, self.status)

    def _ack(self, copying: str | None) -> None:
        self.source.ack(
            replicas.parse_ack(
                {"replica": self.name, "serving": self.root.current_id(), "copying": copying}
            )
        )

    def poll(self) -> None:
        """One round (see the module docstring); raises only ``Stopped``."""
        now = now_iso()
        try:
            published = self.source.current()
        except SourceError as exc:
            self._write(last_poll=now, error=str(exc))
            return
        if published is None:
            self._write(last_poll=now, error=f"{self.source.description} has no index yet")
            return
        serving = self.root.current_id()
        lacking = behind(serving, published)
        since = (self.status.behind_since or now) if lacking else None
        self._write(
            last_poll=now,
            source_generation=published.generation,
            behind_generations=lacking,
            behind_since=since,
        )
        if not lacking:
            self._ack(None)
            self._write(error=None, last_success=now)
            return
        refused = self._refused
        if refused and refused[0] == published.generation and time.monotonic() < refused[1]:
            self._ack(None)
            return
        try:
            self._follow(published)
        except CopyRefused as exc:
            delay = min(refused[2] * 2, RETRY_MAX_S) if refused else self.poll_s * 4
            self._refused = (published.generation, time.monotonic() + delay, delay)
            log.error("generation %s refused: %s", published.generation, exc)
            self._write(error=f"generation {published.generation} refused: {exc}")
            self._ack(None)
            return
        except GenerationGone as exc:
            log.warning(
                "generation %s is gone at the source (%s): starting over from its new current one",
                published.generation,
                exc,
            )
            self._write(error=f"{exc}; starting over from the source's new current generation")
            return
        except (SourceError, OSError, GenerationError, manifest.CorruptGeneration) as exc:
            self._write(error=str(exc))
            return
        self._refused = None
        self._ack(None)
        self._write(
            error=None,
            last_success=now_iso(),
            behind_generations=0,
            behind_since=None,
        )

    def _follow(self, published: Published) -> None:
        gen_id = published.generation
        local = self.root.get(gen_id)
        if local is not None:  # already here: checked, then switched to, no copy
            try:
                manifest.verify(local.path, manifest.read(local.path))
            except manifest.CorruptGeneration as exc:
                log.warning("local copy of %s damaged (%s): copying it again", gen_id, exc)
                shutil.rmtree(local.path)
            else:
                self.root.switch(gen_id)
                self._write(bytes_copied_last=0, bytes_linked_last=0)
                log.info("switched to generation %s, already here", gen_id)
                return
        self._ack(gen_id)
        last_beat = time.monotonic()

        def heartbeat(done: int) -> None:
            nonlocal last_beat
            if time.monotonic() - last_beat >= self.poll_s:
                last_beat = time.monotonic()
                self._write(last_poll=now_iso(), bytes_copied_last=done)

        report = copy_generation(
            self.root,
            self.source,
            published,
            max_mbps=self.max_mbps,
            stop=self.stop,
            progress=heartbeat,
        )
        self.root.switch(gen_id)
        self.root.prune(self.keep_generations)
        self._write(bytes_copied_last=report.bytes_copied, bytes_linked_last=report.bytes_linked)
        log.info(
            "serving generation %s: %d files (%s bytes) fetched, %d files (%s bytes) "
            "hard-linked, in %.1f s",
            gen_id,
            report.files_copied,
            f"{report.bytes_copied:,}",
            report.files_linked,
            f"{report.bytes_linked:,}",
            report.seconds,
        )

    def run(self, parent_pid: int | None = None) -> None:
        """Poll until ``stop`` is set (or the parent process is gone)."""
        while not self.stop.is_set():
            try:
                self.poll()
            except Stopped:
                break
            except Exception as exc:  # a bug: logged, in the status, and the loop goes on
                log.exception("replica poll failed")
                with contextlib.suppress(OSError):
                    self._write(last_poll=now_iso(), error=f"{type(exc).__name__}: {exc}")
            if parent_pid is not None and os.getppid() != parent_pid:
                log.info("the service that started this follower is gone; stopping")
                break
            self.stop.wait(self.poll_s)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="replica",
        description="Follow a publisher: copy each new index generation into this index root.",
    )
    parser.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL|PATH",
        help="the publisher's URL (http://host:port) or its index root folder",
    )
    parser.add_argument("--index-dir", type=Path, help="index root (default: PRESSE_INDEX_DIR)")
    parser.add_argument(
        "--name",
        help="name to ack under (default: PRESSE_REPLICA_NAME, or "
        "host name and a hash of the index root)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        help="file holding the token (default: PRESSE_REPLICATION_TOKEN_FILE, "
        "else PRESSE_REPLICATION_TOKEN)",
    )
    parser.add_argument("--once", action="store_true", help="one poll, then exit")
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def read_token(token_file: Path | None) -> str | None:
    if token_file is not None:
        return token_file.read_text(encoding="utf-8").strip() or None
    return os.environ.get("PRESSE_REPLICATION_TOKEN") or None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the follower; exit status 0 when stopped, 1 on a failure to start, 2 on usage."""
    try:
        args = parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s [replica %(process)d] %(levelname)s %(message)s"
    )
    try:
        settings = IndexSettings.from_env(
            index_dir=args.index_dir, replica_name=args.name, replication_token_file=args.token_file
        )
        token = read_token(settings.replication_token_file)
        source = open_source(args.source, token)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"replica: error: {exc}", file=sys.stderr)
        return 2
    root = IndexRoot(settings.index_dir)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    name = settings.replica_name or default_name(root.path)
    try:
        with root.lock("replica"):
            follower = Follower(
                root,
                source,
                name,
                poll_s=settings.replication_poll_s,
                max_mbps=settings.replication_max_mbps,
                keep_generations=settings.keep_generations,
                stop=stop,
            )
            log.info("replica %s of %s into %s", name, source.description, root.path)
            if args.once:
                follower.poll()
            else:
                follower.run(args.parent_pid)
    except ReindexRunning:
        print(
            f"replica: error: {root.path} is locked by another follower or a reindex; "
            "one follower per index root",
            file=sys.stderr,
        )
        return 1
    except (GenerationError, OSError) as exc:
        print(f"replica: error: {exc}", file=sys.stderr)
        return 1
    except Stopped:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
