"""Flat numpy arrays in one file, replaced atomically and opened mmapped: how the lexicon and
the phrase index are stored beside a segment.

Opened with ``np.memmap``, an array costs a worker nothing until it is read, and then only the
pages read, shared with every other worker on the same file: no per-worker copy of a structure
of the whole corpus, and opening a generation stays one file open.

One file, not one ``.npy`` per array: an incremental update rewrites the lexicon of the live
generation while workers may be opening it, and a reader that took some arrays from the old
files and some from the new ones indexed one with the other's positions (a 500 in the reindex
under load test). The file is written under a temporary name and renamed; a reader opens it once
and maps every array from that one descriptor, so it sees the old set or the new one.

``StoredArrays`` is the base of the two stores (``index.lexicon.Lexicon``,
``index.phrases.PhraseIndex``): frozen dataclasses of arrays with ``open(folder)`` and
``save(folder)``.

Layout: ``PRESSE-ARRAYS\\n``, the header's length (8 bytes, little-endian), a JSON header
``{name: [dtype, shape, offset]}``, then each array's bytes (C order) at its offset, aligned to
64 bytes.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

MAGIC = b"PRESSE-ARRAYS\n"
ALIGN = 64


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (readers see the old file or the new one)."""
    header: dict[str, list[object]] = {}
    offset = 0
    blobs = []
    for name, array in arrays.items():
        data = np.ascontiguousarray(array)
        offset = -(-offset // ALIGN) * ALIGN
        header[name] = [data.dtype.str, list(data.shape), offset]
        blobs.append((offset, data))
        offset += data.nbytes
    encoded = json.dumps(header).encode("utf-8")
    start = -(-(len(MAGIC) + 8 + len(encoded)) // ALIGN) * ALIGN
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(MAGIC + len(encoded).to_bytes(8, "little") + encoded)
        for at, data in blobs:
            handle.seek(start + at)
            handle.write(data.tobytes())
        handle.truncate(start + offset)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def open_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of ``path``, mmapped read-only from one open file; None if there is no file."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - the maps keep what they need of it
    except FileNotFoundError:
        return None
    with handle:
        if handle.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{path} is not an arrays file")
        size = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(size))
        start = -(-(len(MAGIC) + 8 + size) // ALIGN) * ALIGN
        arrays: dict[str, np.ndarray] = {}
        for name, (dtype, shape, offset) in header.items():
            count = int(np.prod(shape)) if shape else 1
            if count == 0:  # mmap cannot map nothing
                arrays[name] = np.zeros(shape, dtype=np.dtype(dtype))
                continue
            arrays[name] = np.memmap(
                handle, dtype=np.dtype(dtype), mode="r", offset=start + offset, shape=tuple(shape)
            )
        return arrays


class StoredArrays:
    """Base of a frozen dataclass whose fields are numpy arrays kept in one file of a segment's
    folder: ``FILENAME`` names it, ``empty()`` is what a folder without it (or with an older
    layout) opens as."""

    FILENAME: ClassVar[str]

    @classmethod
    def empty(cls) -> Self:
        raise NotImplementedError

    @classmethod
    def open(cls, folder: Path) -> Self:
        """The arrays saved in ``folder``, mmapped (``empty()`` if the folder has none)."""
        return cls.open_file(folder / cls.FILENAME)

    @classmethod
    def open_file(cls, path: Path) -> Self:
        """The arrays saved in ``path``, mmapped (``empty()`` if there is no such file)."""
        names = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
        arrays = open_arrays(path)
        if arrays is None or set(arrays) != names:  # none, or an older layout
            return cls.empty()
        built: Any = cls  # a dataclass of those fields, which the base cannot say
        opened: Self = built(**arrays)
        return opened

    def save(self, folder: Path) -> None:
        self.save_file(folder / self.FILENAME)

    def save_file(self, path: Path) -> None:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        save_arrays(path, {f.name: getattr(self, f.name) for f in fields})
