"""Whoosh's W3 codec, with each segment's field lengths read once into memory.

When Whoosh writes a segment's postings it looks up the length of the posting's document for
every posting (for the per-block length statistics that its scorers use): a seek and a one-byte
read in the segment's length column each time — 15% of our build's CPU, measured with cProfile on
2,000 articles. This codec's per-document reader reads a length column whole on its first use and
answers from the bytes. The files written are the W3 codec's own, byte for byte; only how lengths
are read changes, for the writer and for the search engine's readers alike.

The codec object is pickled into the index's table of contents with each segment, so this class
must stay importable from here (like the analyzers of ``index.analysis``).
"""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocReader, _lenfield
from whoosh.util.numeric import byte_to_length

_LENGTH_OF_BYTE = [byte_to_length(b) for b in range(256)]


class LengthsInMemoryReader(W3PerDocReader):  # type: ignore[misc]
    """A W3 per-document reader whose field lengths come from memory after a first read."""

    def __init__(self, storage: Any, segment: Any) -> None:
        super().__init__(storage, segment)
        self._length_bytes: dict[str, bytes | None] = {}

    def _lengths(self, fieldname: str) -> bytes | None:
        if fieldname not in self._length_bytes:
            column = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            self._length_bytes[fieldname] = (
                None if column is None else bytes(column[d] for d in range(self._doccount))
            )
        return self._length_bytes[fieldname]

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        lengths = self._lengths(fieldname)
        if lengths is None:
            return default
        # Like W3PerDocReader: a zero byte (no terms in the field) answers None.
        byte = lengths[docnum] if docnum < len(lengths) else 0
        return _LENGTH_OF_BYTE[byte] if byte else None


class PresseCodec(W3Codec):  # type: ignore[misc]
    """The W3 codec with ``LengthsInMemoryReader`` as its per-document reader."""

    def per_document_reader(self, storage: Any, segment: Any) -> LengthsInMemoryReader:
        return LengthsInMemoryReader(storage, segment)
