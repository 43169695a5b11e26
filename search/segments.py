"""Reading one generation: its segments' serving images and hit fields (Whoosh for older ones).

The only module of ``search/`` that imports Whoosh. ``GenerationReader`` checks the
generation's manifest (``index.manifest.verify``: a file missing, truncated or changed is
refused before anything is mapped), opens each segment's image and hit fields
(``index.hitfields``) as memory maps — Whoosh's reader for the stored fields of a segment
written before hit fields existed — and numbers documents across segments in the manifest's
order (``base`` of a segment + its own number), as Whoosh's multi-segment reader does.

Everything else the engine reads comes from the images, as numpy views of the page cache: no
posting list, position or length is copied into the worker's heap until a query asks for it,
and then only that slice. Per generation, a worker keeps a few arrays of one value per document
(the live mask, lengths, dates: ~1 MB for 135k articles) and the section postings.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from index import manifest
from index.analysis import surface_analyzer
from index.codec import PresseCodec
from index.generations import Generation
from index.hitfields import SUFFIX as HIT_FIELDS_SUFFIX
from index.hitfields import HitFields
from index.image import SUFFIX, TEXT_FIELDS, Postings, SegmentImage
from index.lexicon import Lexicon
from index.phrases import PhraseIndex
from index.segments import LEXICON_SUFFIX, PHRASES_SUFFIX

Docs = tuple[np.ndarray, np.ndarray]  # (document numbers int32, term frequencies float32)
EMPTY: Docs = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


@dataclass(frozen=True)
class Segment:
    """One segment of the generation: its image and where its documents start."""

    image: SegmentImage
    base: int
    deleted: frozenset[int]


@dataclass(frozen=True)
class TokenRun:
    """The tokens of one field of one document: term numbers (of its segment) and spans."""

    terms: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    field: Postings

    def numbers(
        self, terms: tuple[str, ...], known: dict[tuple[int, tuple[str, ...]], list[int]]
    ) -> list[int]:
        """This segment's numbers for ``terms``, remembered in ``known`` for the next document
        of the same segment and field (a query looks them up once, not once per document)."""
        key = (id(self.field), terms)
        found = known.get(key)
        if found is None:
            found = known[key] = [self.field.terms.find(t) for t in terms]
        return found


class GenerationReader:
    """An opened generation; see the module docstring."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        described = manifest.read(generation.path)
        manifest.verify(generation.path, described)
        self.segments: list[Segment] = []
        base = 0
        for entry in described.segments:
            image = SegmentImage(generation.path / f"{entry.id}{SUFFIX}")
            if image.doc_count != entry.documents:
                raise manifest.CorruptGeneration(
                    f"{generation.id}/{entry.id}{SUFFIX}: {image.doc_count} documents, the "
                    f"manifest says {entry.documents}"
                )
            self.segments.append(Segment(image, base, frozenset(entry.deleted)))
            base += entry.documents
        self.n_docs = base
        self.live = np.ones(base, dtype=bool)
        for segment in self.segments:
            if segment.deleted:
                self.live[segment.base + np.fromiter(segment.deleted, dtype=np.int64)] = False
        self.documents = int(self.live.sum())
        self._bases = np.array([s.base for s in self.segments], dtype=np.int64)
        self._base_list = self._bases.tolist()  # one document: bisect, 5x faster than numpy
        self.published = self._column(lambda image: image.published, np.float64)
        known = self.published[~np.isnan(self.published) & self.live]
        self.newest_day = float(known.max()) if len(known) else 0.0
        self.lengths = {
            name: self._column(lambda image, n=name: image.fields[n].lengths, np.float32)
            for name in TEXT_FIELDS
        }
        self.surface_lengths = self._column(lambda image: image.surface.lengths, np.float32)
        self.sections = self.keyword_values("section")
        # Spelling and autocomplete: each segment's lexicon and title phrases, mmapped.
        self.lexicons = [
            Lexicon.open_file(generation.path / f"{e.id}{LEXICON_SUFFIX}")
            for e in described.segments
        ]
        self.phrases = [
            PhraseIndex.open_file(generation.path / f"{e.id}{PHRASES_SUFFIX}")
            for e in described.segments
        ]
        # The fields of hits come from each segment's hit-fields file (``index.hitfields``);
        # Whoosh serves them for a segment written before that file existed, through the
        # segment's per-document reader only: its term dictionaries are never read here (the
        # images have their own), and its files are read on demand, never copied into the
        # worker's heap.
        storage = FileStorage(str(generation.path))
        toc = TOC.read(storage, manifest.INDEX_NAME)
        if [s.segment_id() for s in toc.segments] != [e.id for e in described.segments]:
            raise manifest.CorruptGeneration(
                f"{generation.id}: the manifest does not list the "
                "segments of Whoosh's table of contents"
            )
        self._schema = toc.schema
        self._hit_fields: list[HitFields | None] = []
        self._stored: list[Any] = []
        for entry, segment in zip(described.segments, toc.segments, strict=True):
            name = f"{entry.id}{HIT_FIELDS_SUFFIX}"
            if any(f.name == name for f in entry.files):
                fields = HitFields(generation.path / name)
                if fields.doc_count != entry.documents:
                    raise manifest.CorruptGeneration(
                        f"{generation.id}/{name}: {fields.doc_count} documents, the manifest "
                        f"says {entry.documents}"
                    )
                self._hit_fields.append(fields)
                self._stored.append(None)
                continue
            reader = PresseCodec().per_document_reader(storage, segment)
            if segment.doc_count_all():
                # Open the stored-fields file now (Whoosh opens it on first use): a generation
                # removed from disk while served then keeps answering from the open file.
                reader.stored_fields(0)
            self._hit_fields.append(None)
            self._stored.append(reader)

    def close(self) -> None:
        for reader in self._stored:
            if reader is not None:
                reader.close()

    def analyzers(self) -> tuple[Any, Any]:
        """The (stemmed, surface) analyzers that made this generation's terms: the stemmed
        one is pickled in its schema, so queries are analysed as its documents were."""
        return self._schema["body"].analyzer, surface_analyzer()

    def _column(self, values: Any, dtype: Any) -> np.ndarray:
        out = np.zeros(self.n_docs, dtype=dtype)
        for segment in self.segments:
            column = values(segment.image)
            out[segment.base : segment.base + len(column)] = column
        return out

    def keyword_values(self, field: str) -> dict[str, np.ndarray]:
        """Each value of a keyword field (``section``, ``tags``) and its live documents."""
        found: dict[str, list[np.ndarray]] = {}
        for segment in self.segments:
            postings = segment.image.keywords[field]
            for number in range(len(postings.terms)):
                start, end = postings.indptr[number], postings.indptr[number + 1]
                found.setdefault(postings.terms[number], []).append(
                    postings.docs[start:end].astype(np.int64) + segment.base
                )
        out = {}
        for value, parts in found.items():
            docs = np.concatenate(parts)
            docs = docs[self.live[docs]]
            if len(docs):
                out[value] = docs
        return out

    # --- postings ---

    def _postings(self, which: Iterator[tuple[Segment, Postings]], term: str) -> Docs:
        id_parts, tf_parts = [], []
        for segment, postings in which:
            docs, tfs = postings.lookup(term)
            if len(docs):
                id_parts.append(docs + np.int32(segment.base) if segment.base else docs)
                tf_parts.append(tfs)
        if not id_parts:
            return EMPTY
        ids = np.concatenate(id_parts) if len(id_parts) > 1 else id_parts[0]
        tfs = np.concatenate(tf_parts) if len(tf_parts) > 1 else tf_parts[0]
        if self.documents == self.n_docs:  # nothing deleted (a full build): nothing to drop
            return ids, tfs.astype(np.float32)
        keep = self.live[ids]
        return ids[keep], tfs[keep].astype(np.float32)

    def postings(self, field: str, term: str) -> Docs:
        """Live documents holding the stem ``term`` in ``field``, with its frequencies."""
        if field in TEXT_FIELDS:
            return self._postings(((s, s.image.fields[field]) for s in self.segments), term)
        return self._postings(((s, s.image.keywords[field]) for s in self.segments), term)

    def surface_postings(self, form: str) -> Docs:
        """Live documents holding the unstemmed, folded ``form`` (``economie``)."""
        return self._postings(((s, s.image.surface) for s in self.segments), form)

    def doc_frequency(self, field: str, term: str) -> int:
        """How many documents hold ``term`` in ``field`` (deleted ones included: the count
        comes from the term dictionaries, without reading postings)."""
        total = 0
        for segment in self.segments:
            postings = segment.image.fields[field]
            number = postings.terms.find(term)
            if number >= 0:
                total += postings.doc_frequency(number)
        return total

    # --- documents ---

    def locate(self, docnum: int) -> tuple[Segment, int]:
        index = bisect_right(self._base_list, docnum) - 1
        segment = self.segments[index]
        return segment, docnum - segment.base

    def docnum(self, article_id: str) -> int | None:
        """The live document of ``article_id``, or None."""
        for segment in reversed(self.segments):  # the newest segment holds the newest version
            local = segment.image.docnum(article_id)
            if local >= 0 and local not in segment.deleted:
                return segment.base + local
        return None

    def article_id(self, docnum: int) -> str:
        segment, local = self.locate(docnum)
        return segment.image.ids[local]

    def by_segment(
        self, docnums: np.ndarray, field: str
    ) -> Iterator[tuple[np.ndarray, np.ndarray, Postings]]:
        """For each segment holding some of ``docnums`` (sorted): the indexes of those in
        ``docnums``, their numbers in the segment, and the segment's ``field``."""
        segment_of = np.searchsorted(self._bases, docnums, side="right") - 1
        for index in np.unique(segment_of).tolist():
            rows = np.flatnonzero(segment_of == index)
            segment = self.segments[index]
            yield rows, docnums[rows] - segment.base, segment.image.fields[field]

    def tokens(self, field: str, docnum: int) -> TokenRun:
        segment, local = self.locate(docnum)
        postings = segment.image.fields[field]
        run = postings.tokens(local)
        assert postings.fwd_terms is not None
        assert postings.fwd_starts is not None and postings.fwd_ends is not None
        return TokenRun(
            postings.fwd_terms[run], postings.fwd_starts[run], postings.fwd_ends[run], postings
        )

    def stored(self, docnum: int) -> dict[str, Any]:
        """What a hit shows of document ``docnum``: ``id``, ``title``, ``url``, ``section``,
        ``author``, ``summary``, ``body`` and ``published`` (a naive UTC datetime) — a field
        may be missing or empty when the article has none."""
        index = bisect_right(self._base_list, docnum) - 1
        local = docnum - self.segments[index].base
        fields = self._hit_fields[index]
        if fields is not None:
            return fields.document(local)
        return dict(self._stored[index].stored_fields(local))
