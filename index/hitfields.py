"""The stored fields a search hit is made of, per segment, in flat arrays (``MAIN_<segid>.hit``).

A hit shows its article's id, title, url, sections, author and date, and its snippet is cut from
the body (or the summary). Whoosh, the index of record, stores them with the rest of the
document as one pickled, zlib-compressed record: reading a hit's fields from it cost ~40 µs
(file read, decompression, unpickling), 10-20% of an uncached search's time. This file holds
the same values written as they are, at build time beside the segment's image, and opened as a
memory map (``index.imagefile``): a hit's fields are one slice of the text and seven UTF-8
decodes (~4 µs), and the page cache holds them once for every worker.

Arrays: ``text`` (the UTF-8 of every field of every document, end to end, in ``FIELDS`` order),
``offsets`` (``len(FIELDS)`` + 1 per document, flattened: field ``f`` of document ``d`` is
``text[offsets[d * F + f] : offsets[d * F + f + 1]]``, with ``F = len(FIELDS)``; consecutive
documents share a bound), and ``published`` (microseconds since 1970, naive UTC as Whoosh stores
it; ``NO_DATE`` when unknown). Text is encoded with ``surrogatepass`` so that whatever Whoosh
could store (older generations hold lone surrogates) comes back as it was.

Segments written before this file existed have none: ``search.segments`` reads their fields
from Whoosh, and a merge writes the file for the segment it makes.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from index.imagefile import read_arrays, write_arrays

SUFFIX = ".hit"  # beside the segment's image: MAIN_<segid>.img and MAIN_<segid>.hit
FIELDS: tuple[str, ...] = ("id", "title", "url", "section", "author", "summary", "body")
NO_DATE = np.iinfo(np.int64).min
_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


class HitFieldsBuilder:
    """Collects the fields of a segment's documents as they are written, in the same order."""

    def __init__(self) -> None:
        self.text = bytearray()
        self.offsets: array[int] = array("q", [0])
        self.published: array[int] = array("q")

    def add(self, stored: Mapping[str, Any]) -> None:
        """Add the next document, from the values its Whoosh record stores
        (``index.schema.document_fields`` and the text fields): the same values by construction."""
        for name in FIELDS:
            self.text += (stored.get(name) or "").encode("utf-8", "surrogatepass")
            self.offsets.append(len(self.text))
        published = stored.get("published")  # a naive UTC datetime, as Whoosh stores it
        self.published.append(
            int(NO_DATE) if published is None else (published - _EPOCH) // _MICROSECOND
        )

    def save(self, path: Path) -> None:
        write_arrays(
            path,
            {
                "offsets": np.frombuffer(self.offsets, dtype=np.int64),
                "published": np.frombuffer(self.published, dtype=np.int64),
                "text": np.frombuffer(self.text, dtype=np.uint8),
            },
        )


class HitFields:
    """A segment's hit fields, opened read-only from its file."""

    def __init__(self, path: Path) -> None:
        arrays = read_arrays(path)
        self.text = arrays["text"]
        self.offsets = arrays["offsets"]
        self.published = arrays["published"]
        self.doc_count = len(self.published)

    def document(self, doc: int) -> dict[str, Any]:
        """The fields of document ``doc`` (the segment's number), keyed as Whoosh stores them;
        ``published`` is a naive UTC ``datetime`` or None."""
        width = len(FIELDS)
        bounds = self.offsets[doc * width : doc * width + width + 1].tolist()
        first = bounds[0]
        raw = self.text[first : bounds[-1]].tobytes()
        found: dict[str, Any] = {
            name: raw[bounds[i] - first : bounds[i + 1] - first].decode("utf-8", "surrogatepass")
            for i, name in enumerate(FIELDS)
        }
        moment = int(self.published[doc])
        found["published"] = None if moment == NO_DATE else _EPOCH + moment * _MICROSECOND
        return found
