"""A generation's manifest: its segments, their deletions, and every file with size and SHA-256.

A generation is a Whoosh index folder whose segment files are immutable: a full build writes
new ones, an update hard-links the live generation's files and adds a segment, and Whoosh
records deletions in its table of contents (TOC), never in a segment file. The manifest
(``MANIFEST.json``) is written from that TOC once the generation is complete::

    {"toc": {"name": "_MAIN_3.toc", "size": …, "sha256": …},
     "segments": [{"id": "MAIN_k3j…", "documents": 33945, "deleted": [12, 40],
                   "files": [{"name": "MAIN_k3j….seg", …}, {"name": "MAIN_k3j….img", …}]}]}

Segments are listed in the TOC's order, which is the order of document numbers. Readers check
it before opening a generation (``verify``): a file missing, of the wrong size or whose checksum
differs is refused, and the generation is not served. A file that is a hard link of one checked
before has the same inode, so ``verify`` hashes only what is new to the process (an update
costs the hash of its own segment, not of the index).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from index import checked

FILENAME = "MANIFEST.json"
INDEX_NAME = "MAIN"


class CorruptGeneration(Exception):
    """A generation's files do not match its manifest (or it has none)."""


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class SegmentEntry:
    id: str
    documents: int
    deleted: tuple[int, ...]
    files: tuple[FileEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "documents": self.documents,
            "deleted": list(self.deleted),
            "files": [f.to_dict() for f in self.files],
        }


@dataclass(frozen=True)
class Manifest:
    toc: FileEntry
    segments: tuple[SegmentEntry, ...]

    @property
    def files(self) -> tuple[FileEntry, ...]:
        return (self.toc, *(f for s in self.segments for f in s.files))

    @property
    def documents(self) -> int:
        """Live documents: all of each segment's but its deleted ones."""
        return sum(s.documents - len(s.deleted) for s in self.segments)

    def to_json(self) -> str:
        return json.dumps(
            {"toc": self.toc.to_dict(), "segments": [s.to_dict() for s in self.segments]}, indent=1
        )

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)

        def entry(raw: dict[str, Any]) -> FileEntry:
            return FileEntry(str(raw["name"]), int(raw["size"]), str(raw["sha256"]))

        return cls(
            entry(data["toc"]),
            tuple(
                SegmentEntry(
                    str(s["id"]),
                    int(s["documents"]),
                    tuple(int(d) for d in s["deleted"]),
                    tuple(entry(f) for f in s["files"]),
                )
                for s in data["segments"]
            ),
        )


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_toc(folder: Path) -> Any:
    """Whoosh's latest table of contents in ``folder``."""
    return TOC.read(FileStorage(str(folder)), INDEX_NAME)


def describe(folder: Path, known: Iterable[FileEntry] = ()) -> Manifest:
    """The manifest of the Whoosh index in ``folder``. Files listed in ``known`` (hard links
    this run made of files checked before) keep their checksum; the others are hashed."""
    storage = FileStorage(str(folder))
    toc = TOC.read(storage, INDEX_NAME)
    reuse = {f.name: f for f in known}

    def entry(name: str) -> FileEntry:
        size = (folder / name).stat().st_size
        old = reuse.get(name)
        if old is not None and old.size == size:
            return old
        return FileEntry(name, size, sha256_of(folder / name))

    segments = []
    for segment in toc.segments:
        names = sorted(segment.list_files(storage))
        segments.append(
            SegmentEntry(
                segment.segment_id(),
                segment.doc_count_all(),
                tuple(sorted(segment.deleted_docs())),
                tuple(entry(n) for n in names),
            )
        )
    return Manifest(entry(TOC._filename(INDEX_NAME, toc.generation)), tuple(segments))


def write(folder: Path, manifest: Manifest) -> None:
    path = folder / FILENAME
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(manifest.to_json())
        handle.flush()
        os.fsync(handle.fileno())


def read(folder: Path) -> Manifest:
    try:
        return Manifest.from_json((folder / FILENAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorruptGeneration(
            f"{folder.name} has no {FILENAME} (built by an older version? run a full reindex)"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptGeneration(f"{folder.name}: unreadable {FILENAME} ({exc})") from None


_checked: dict[tuple[str, int, int, int, int], str] = {}  # file identity -> its checksum


def verify(folder: Path, manifest: Manifest, *, share: bool = True) -> None:
    """Raise ``CorruptGeneration`` unless every file of ``manifest`` is there, whole and
    unchanged. Files this process checked before (same inode, size and mtime) are not read, nor
    those another process of this machine recorded when it checked them (``index.checked``).
    ``share=False`` leaves no record: for a folder that is not a generation yet (a replica's
    staging copy, whose files were just written, too recently for a record to be trusted)."""
    with checked.shared(folder) if share else checked.private() as record:
        for entry in manifest.files:
            path = folder / entry.name
            try:
                stat = path.stat()
            except OSError as exc:
                raise CorruptGeneration(f"{folder.name}/{entry.name}: {exc.strerror}") from None
            if stat.st_size != entry.size:
                raise CorruptGeneration(
                    f"{folder.name}/{entry.name}: {stat.st_size} bytes, the manifest says "
                    f"{entry.size}"
                )
            identity = checked.identity_of(stat)
            digest = _checked.get((entry.name, *identity)) or record.digest(entry.name, identity)
            if digest is None:
                hashed_at_ns = time.time_ns()
                digest = sha256_of(path)
                record.add(entry.name, identity, hashed_at_ns, digest)
            if digest != entry.sha256:
                raise CorruptGeneration(
                    f"{folder.name}/{entry.name}: checksum mismatch (the file "
                    "changed after the generation was built)"
                )
            _checked[(entry.name, *identity)] = digest
