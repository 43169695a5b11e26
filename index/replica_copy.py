"""A replica's copy of one generation: into a staging folder, then moved in whole.

::

    <root>/staging/<id>/           the copy under way (readers never look here)
    <root>/staging/<id>/<f>.part   a file being fetched; its bytes so far are kept

Each file of the source's manifest is, in this order of preference:

- already in staging, whole (a copy that was interrupted, of this generation or of one the
  source has since replaced: ``staging_for``): kept once its checksum is checked;
- the same file (name, size, SHA-256) in a local generation: hard-linked, no byte copied;
  segment files never change once written, so an update costs only its new segment;
- fetched into ``<f>.part``, resuming after the bytes a killed copy left there (``Range``),
  hashed while it arrives, fsynced, then renamed to ``<f>``. A file whose size or checksum does
  not match is deleted and fetched again, ``FETCH_TRIES`` times, then the copy is refused
  (``CopyRefused``, naming the file) and the replica keeps serving what it has.

Then ``manifest.verify`` checks the whole folder as the readers will, ``MANIFEST.json`` and
``READY`` (the source's metadata plus ``replicated_from``) are written and fsynced, and the
folder is renamed to ``generations/<id>`` — one ``rename``, so a generation folder is either
complete or absent. The switch of ``CURRENT`` is the follower's (``index.replica``).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from index import manifest
from index.generations import IndexRoot, fsync_dir
from index.manifest import CorruptGeneration, FileEntry, Manifest
from index.replica_sources import Published, Source, SourceError

STAGING_DIR = "staging"
CHUNK = 1 << 20  # 1 MiB reads: large enough for disk and socket, small enough to stop quickly
FETCH_TRIES = 3  # a flipped bit in transit is refetched; three mismatches mean the source is bad
_RESERVED = {manifest.FILENAME, "READY", "LIVE"}
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}")
_GENERATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")


class CopyRefused(Exception):
    """The source's files do not match its manifest (after retries); the message says which."""


class Stopped(Exception):
    """The follower was asked to stop; what was copied so far stays for the next run."""


@dataclass(frozen=True)
class CopyReport:
    generation: str
    bytes_copied: int  # fetched from the source by this run
    bytes_linked: int  # hard-linked from local generations (no copy)
    files_copied: int
    files_linked: int
    seconds: float


def safe_generation_id(gen_id: str) -> bool:
    return _GENERATION_ID.fullmatch(gen_id) is not None


def check_names(published: Published) -> None:
    """Refuse a manifest whose names could write outside the staging folder (a hostile or
    broken source): plain file names only, and not the generation's own markers."""
    if not safe_generation_id(published.generation):
        raise CopyRefused(f"the source names a generation {published.generation!r}: not an id")
    for entry in published.manifest.files:
        if not _FILE_NAME.fullmatch(entry.name) or entry.name in _RESERVED:
            raise CopyRefused(f"the source's manifest lists a file named {entry.name!r}")


RANGE_MAX = 64 << 20  # bytes asked for in one request, unthrottled: well under 1 s on a LAN
REQUEST_S = 10.0  # throttled, one request lasts about this long


class Throttle:
    """Sleeps so that bytes go no faster than ``mbps`` MB/s (0: no limit); tells ``progress``
    the bytes fetched so far; raises ``Stopped`` as soon as ``stop`` is set."""

    def __init__(
        self, mbps: float, stop: threading.Event, progress: Callable[[int], None] | None = None
    ) -> None:
        self.rate = mbps * 1e6
        self.stop = stop
        self.progress = progress
        # Each file is asked for in ranges of at most ``span`` bytes: the publisher's sync
        # worker is busy for the whole of a request, and gunicorn kills one busy for longer
        # than PRESSE_TIMEOUT (30 s); a 300 MB file at 5 MB/s would take a minute.
        self.span = max(CHUNK, int(self.rate * REQUEST_S)) if self.rate > 0 else RANGE_MAX
        # Reads of a tenth of a second at the limit (64 KiB at least): progress is reported,
        # and a stop noticed, between reads; 1 MiB at 0.4 MB/s would be 2.6 s.
        self.read_size = min(CHUNK, max(64 << 10, int(self.rate / 10))) if self.rate else CHUNK
        self.started = time.monotonic()
        self.done = 0

    def spent(self, count: int) -> None:
        if self.stop.is_set():
            raise Stopped()
        self.done += count
        if self.progress is not None:
            self.progress(self.done)
        if self.rate > 0:
            ahead = self.done / self.rate - (time.monotonic() - self.started)
            if ahead > 0 and self.stop.wait(ahead):
                raise Stopped()


def local_files(root: IndexRoot) -> dict[str, tuple[FileEntry, Path]]:
    """Every file of the local ready generations, by name, with where it is."""
    found: dict[str, tuple[FileEntry, Path]] = {}
    for generation in reversed(root.ready_generations()):  # newest first: its files win
        try:
            listed = manifest.read(generation.path)
        except CorruptGeneration:
            continue
        for entry in listed.files:
            found.setdefault(entry.name, (entry, generation.path / entry.name))
    return found


def _whole(folder: Path, entry: FileEntry) -> bool:
    """Whether ``folder/<entry>`` is that file, checksum included (cached by inode)."""
    try:
        manifest.verify(folder, Manifest(entry, ()), share=False)
    except CorruptGeneration:
        return False
    return True


def staging_for(root: IndexRoot, gen_id: str, names: set[str]) -> Path:
    """The staging folder of ``gen_id``, with only files of ``names`` (whole or ``.part``).

    A copy of another generation left by a kill is taken over rather than thrown away: when
    the source moved on meanwhile, its new generation is most often the same files plus an
    update's segment, and whatever is not the same is caught by the checksums.
    """
    staging = root.path / STAGING_DIR
    folder = staging / gen_id
    others = sorted(c for c in staging.iterdir() if c.name != gen_id) if staging.is_dir() else []
    if not folder.exists() and others and others[-1].is_dir():
        os.rename(others.pop(), folder)  # the newest: ids sort by creation time
    for other in others:
        if other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
        else:
            other.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    for child in folder.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.removesuffix(".part") not in names:
            child.unlink()
    return folder


def copy_generation(
    root: IndexRoot,
    source: Source,
    published: Published,
    *,
    max_mbps: float = 0.0,
    stop: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> CopyReport:
    """Stage ``published`` from ``source`` and move it to ``generations/<id>`` (see the module
    docstring). Call with the root's lock held."""
    started = time.monotonic()
    stop = stop or threading.Event()
    check_names(published)
    gen_id = published.generation
    folder = staging_for(root, gen_id, {f.name for f in published.manifest.files})
    have = local_files(root)
    throttle = Throttle(max_mbps, stop, progress)
    copied = linked = files_copied = files_linked = 0
    for entry in published.manifest.files:
        target = folder / entry.name
        if target.exists():
            if _whole(folder, entry):
                continue
            target.unlink()
        local = have.get(entry.name)
        if local is not None and local[0] == entry and _whole(local[1].parent, entry):
            os.link(local[1], target)
            linked += entry.size
            files_linked += 1
            continue
        copied += _fetch(source, gen_id, entry, folder, throttle)
        files_copied += 1
    for leftover in folder.glob("*.part"):  # a part of a file that was found whole instead
        leftover.unlink()
    manifest.write(folder, published.manifest)
    try:
        manifest.verify(folder, published.manifest, share=False)
    except CorruptGeneration as exc:
        shutil.rmtree(folder, ignore_errors=True)  # whatever it is, start this one afresh
        raise CopyRefused(f"the staged copy failed its check: {exc}") from None
    meta = dict(published.meta) | {
        "replicated_from": source.description,
        "replicated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    root.mark_ready(folder, meta)  # fsyncs READY and the folder (MANIFEST.json was fsynced)
    destination = root.generations_dir / gen_id
    if destination.exists():  # a leftover never served (CURRENT names only what we moved in)
        shutil.rmtree(destination)
    root.generations_dir.mkdir(parents=True, exist_ok=True)
    os.rename(folder, destination)
    fsync_dir(root.generations_dir)
    fsync_dir(folder.parent)
    return CopyReport(
        gen_id, copied, linked, files_copied, files_linked, time.monotonic() - started
    )


def _fetch(source: Source, gen_id: str, entry: FileEntry, folder: Path, throttle: Throttle) -> int:
    """Fetch one file into ``folder`` (resuming its ``.part``); the bytes fetched."""
    part = folder / f"{entry.name}.part"
    fetched = 0
    problem = ""
    for _ in range(FETCH_TRIES):
        with open(part, "ab+") as out:
            size = out.tell()
            if size > entry.size:
                out.truncate(0)
                size = 0
            digest = hashlib.sha256()
            out.seek(0)
            while block := out.read(CHUNK):  # the bytes a killed copy left: hashed, not fetched
                digest.update(block)
            while size < entry.size:  # (== already: killed between the last byte and the rename)
                want = min(throttle.span, entry.size - size)
                stream, start = source.open(gen_id, entry.name, size, want)
                if start != size:  # the source cannot resume: the whole file, from the start
                    out.truncate(0)
                    digest, size, want = hashlib.sha256(), 0, entry.size + 1
                try:
                    with stream:
                        got = _pour(stream, out, digest, want, throttle)
                except (OSError, http.client.HTTPException) as exc:
                    out.flush()  # keep what arrived: the next round resumes after it
                    raise SourceError(
                        f"{source.description}: {entry.name} cut off ({exc})"
                    ) from None
                size += got
                fetched += got
                if got == 0:  # the source's file ends before the manifest says
                    break
            out.flush()
            os.fsync(out.fileno())
        if size == entry.size and digest.hexdigest() == entry.sha256:
            os.replace(part, folder / entry.name)
            return fetched
        problem = (
            f"{size} bytes, the manifest says {entry.size}"
            if size != entry.size
            else "checksum mismatch"
        )
        part.unlink()
    raise CopyRefused(
        f"{entry.name} of generation {gen_id} from {source.description}: {problem} "
        f"({FETCH_TRIES} tries)"
    )


def _pour(stream: BinaryIO, out: BinaryIO, digest: Any, limit: int, throttle: Throttle) -> int:
    """Copy at most ``limit`` bytes of ``stream`` to ``out``, hashing them; the bytes copied."""
    done = 0
    while done < limit and (block := stream.read(min(throttle.read_size, limit - done))):
        out.write(block)
        digest.update(block)
        done += len(block)
        throttle.spent(len(block))
    return done
