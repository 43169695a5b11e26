"""The file format of a serving image: named flat arrays in one file, opened as a memory map.

Layout: 8 bytes (little-endian length of the header), the header (JSON: for each array its
offset, dtype and length), then the arrays, each aligned on 64 bytes. One file per segment
(rather than one ``.npy`` per array: 45 of them) means one memory map, one checksum and one hard
link per segment. Arrays come back as read-only views of the map: the page cache holds them once
for every worker, and opening a segment reads only the header.

``Strings`` is a list of UTF-8 strings stored as one byte blob and its offsets: a term
dictionary that costs no Python object per term until asked. Look-ups go through an
open-addressing hash table stored beside it (CRC-32, linear probing, at most half full): about
3 µs a term, where a binary search over the memory-mapped blob took ~40 µs, and a query looks up
each of its terms in every field of every segment.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

_ALIGN = 64
_HEADER = struct.Struct("<Q")


class ImageFormatError(ValueError):
    """An image file that cannot be read (truncated, or not an image)."""


def write_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` (a new file, fsynced)."""
    header: dict[str, list[object]] = {}
    offset = 0
    for name, data in arrays.items():
        header[name] = [offset, data.dtype.str, int(data.size)]
        offset += -(-data.nbytes // _ALIGN) * _ALIGN
    head = json.dumps(header).encode("utf-8")
    start = -(-(_HEADER.size + len(head)) // _ALIGN) * _ALIGN
    with open(path, "xb") as handle:
        handle.write(_HEADER.pack(len(head)) + head)
        handle.write(b"\0" * (start - _HEADER.size - len(head)))
        for data in arrays.values():
            raw = np.ascontiguousarray(data).tobytes()
            handle.write(raw)
            handle.write(b"\0" * (-len(raw) % _ALIGN))
        handle.flush()
        os.fsync(handle.fileno())


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an image file, as read-only views of one memory map."""
    size = path.stat().st_size
    if size < _HEADER.size:
        raise ImageFormatError(f"{path.name}: truncated image ({size} bytes)")
    data = np.memmap(path, dtype=np.uint8, mode="r")
    (length,) = _HEADER.unpack(data[: _HEADER.size].tobytes())
    if _HEADER.size + length > size:
        raise ImageFormatError(f"{path.name}: truncated image header")
    try:
        header = json.loads(data[_HEADER.size : _HEADER.size + length].tobytes())
    except ValueError as exc:
        raise ImageFormatError(f"{path.name}: unreadable image header ({exc})") from None
    start = -(-(_HEADER.size + length) // _ALIGN) * _ALIGN
    arrays = {}
    for name, (offset, dtype, count) in header.items():
        kind = np.dtype(dtype)
        begin = start + offset
        if begin + kind.itemsize * count > size:
            raise ImageFormatError(f"{path.name}: array {name!r} runs past the end of the file")
        arrays[name] = np.frombuffer(data, dtype=kind, count=count, offset=begin)
    return arrays


def pack_strings(strings: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(blob, offsets)`` of ``strings``: string ``i`` is ``blob[offsets[i]:offsets[i+1]]``."""
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def hash_slots(strings: list[str]) -> np.ndarray:
    """The look-up table of ``strings``: slot -> string number (-1 empty)."""
    size = 1 << max(4, (2 * len(strings) - 1).bit_length())
    slots = [-1] * size  # a list while filling: ~5x faster than numpy's scalar access
    mask = size - 1
    for number, text in enumerate(strings):
        slot = zlib.crc32(text.encode("utf-8")) & mask
        while slots[slot] >= 0:
            slot = (slot + 1) & mask
        slots[slot] = number
    return np.array(slots, dtype=np.int32)


class Strings:
    """A list of strings over ``pack_strings``' arrays; ``find`` needs their ``hash_slots``."""

    __slots__ = ("blob", "offsets", "slots", "_mask")

    def __init__(
        self, blob: np.ndarray, offsets: np.ndarray, slots: np.ndarray | None = None
    ) -> None:
        self.blob = blob
        self.offsets = offsets
        self.slots = slots
        self._mask = len(slots) - 1 if slots is not None else 0

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def raw(self, i: int) -> bytes:
        return self.blob[self.offsets[i] : self.offsets[i + 1]].tobytes()

    def __getitem__(self, i: int) -> str:
        return self.raw(i).decode("utf-8")

    def find(self, text: str) -> int:
        """The index of ``text`` in this list, or -1 (through its ``hash_slots``)."""
        if self.slots is None:
            raise ValueError("this list of strings has no look-up table")
        key = text.encode("utf-8")
        slot = zlib.crc32(key) & self._mask
        while (number := int(self.slots[slot])) >= 0:
            if self.raw(number) == key:
                return number
            slot = (slot + 1) & self._mask
        return -1
