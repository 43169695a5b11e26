"""The serving image of one segment: everything the search hot path reads, in flat arrays.

It is written once, when its segment is written, from the same analysis pass that feeds Whoosh
(``index.tokens``), and never changed: generations that keep the segment keep its image (a hard
link). Workers open it as a memory map (``index.imagefile``), so the page cache holds one copy
for all of them and opening costs milliseconds. Document numbers are the segment's own (0…n-1,
Whoosh's order within the segment).

What it holds, per text field (``title``, ``summary``, ``body``):

- the term dictionary (sorted stems) and the postings: ``indptr`` into ``docs`` / ``tfs``;
- the field length of each document (kept tokens);
- a forward index: for each document, its tokens in order as term numbers, with the character
  span of each in the stored text (``fwd.*``). Phrases and proximity read a candidate's token
  run (positions are indexes into it); snippets read the spans of the matched terms instead of
  analysing the text again (as Lucene's UnifiedHighlighter reads offsets);

and for the whole document: the surface postings and lengths (unstemmed words, folded: exact
forms), the section and tag postings, the ids (with their sort order, to find a document by id)
and the publication day. (The segment's words as written, for spelling, and its title phrases,
for autocomplete, are in files of their own beside it: ``index.lexicon``, ``index.phrases``.)
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.imagefile import Strings, hash_slots, pack_strings, read_arrays, write_arrays
from index.tokens import Tokens

TEXT_FIELDS: tuple[str, ...] = ("title", "summary", "body")
KEYWORD_FIELDS: tuple[str, ...] = ("section", "tags")
SUFFIX = ".img"  # beside Whoosh's segment file: MAIN_<segid>.seg and MAIN_<segid>.img
_MAX_TF = 65535


class _Terms(dict[str, int]):
    """Term numbers in order of first sight, while a segment is being written: ``terms[t]``
    numbers a new term on first sight (``__missing__``), so numbering a document's tokens is one
    ``map`` in C (cProfile: a Python call per token was 8% of a one-process build)."""

    def __missing__(self, term: str) -> int:
        number = self[term] = len(self)
        return number

    def sorted(self) -> tuple[list[str], np.ndarray]:
        """The terms sorted, and for each first-sight number its sorted number."""
        terms = list(self)
        order = sorted(range(len(terms)), key=terms.__getitem__)
        rank = np.empty(len(terms), dtype=np.int32)
        rank[np.asarray(order, dtype=np.int64)] = np.arange(len(terms), dtype=np.int32)
        return [terms[i] for i in order], rank


def _inverted(
    term_of_token: np.ndarray, lengths: np.ndarray, n_terms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Postings (indptr, docs, tfs) from each document's run of term numbers."""
    n_docs = max(len(lengths), 1)
    doc_of_token = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    keys, tfs = np.unique(
        term_of_token.astype(np.int64) * n_docs + doc_of_token, return_counts=True
    )
    terms = keys // n_docs
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=n_terms), out=indptr[1:])
    return indptr, (keys % n_docs).astype(np.int32), np.minimum(tfs, _MAX_TF).astype(np.uint16)


class TextPostings:
    """One text field's token runs (term numbers in term order), from which
    ``index.postings`` writes Whoosh's postings."""

    def __init__(self, terms: list[str], tokens: np.ndarray, lengths: np.ndarray) -> None:
        self.terms = terms  # sorted (code-point order is UTF-8 byte order: Whoosh's order)
        self.tokens = tokens  # each document's tokens, end to end, as numbers into ``terms``
        self.lengths = lengths  # tokens per document


class _FieldBuilder:
    def __init__(self, forward: bool) -> None:
        self.terms = _Terms()
        self.forward = forward
        self.tokens: array[int] = array("i")
        self.starts: array[int] = array("i")
        self.ends: array[int] = array("i")
        self.lengths: array[int] = array("i")
        self._numbered: TextPostings | None = None

    def add(self, words: Sequence[str], tokens: Tokens | None) -> None:
        self.tokens.extend(map(self.terms.__getitem__, words))
        self.lengths.append(len(words))
        if self.forward and tokens is not None:
            self.starts.extend(tokens.starts)
            self.ends.extend(tokens.ends)

    def numbered(self) -> TextPostings:
        """The sorted terms, and the tokens numbered in that order (worked out once)."""
        if self._numbered is None:
            terms, rank = self.terms.sorted()
            lengths = (
                np.frombuffer(self.lengths, dtype=np.int32)
                if self.lengths
                else np.zeros(0, np.int32)
            )
            tokens = (
                rank[np.frombuffer(self.tokens, dtype=np.int32)]
                if self.tokens
                else np.zeros(0, np.int32)
            )
            self._numbered = TextPostings(terms, tokens, lengths)
        return self._numbered

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        numbered = self.numbered()
        terms, tokens, lengths = numbered.terms, numbered.tokens, numbered.lengths
        indptr, docs, tfs = _inverted(tokens, lengths, len(terms))
        blob, offsets = pack_strings(terms)
        out = {
            f"{prefix}.terms": blob,
            f"{prefix}.term_offsets": offsets,
            f"{prefix}.term_slots": hash_slots(terms),
            f"{prefix}.indptr": indptr,
            f"{prefix}.docs": docs,
            f"{prefix}.tfs": tfs,
            f"{prefix}.lengths": lengths,
        }
        if self.forward:
            fwd_indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
            np.cumsum(lengths, out=fwd_indptr[1:])
            out |= {
                f"{prefix}.fwd_indptr": fwd_indptr,
                f"{prefix}.fwd_terms": tokens,
                f"{prefix}.fwd_starts": np.frombuffer(self.starts, dtype=np.int32),
                f"{prefix}.fwd_ends": np.frombuffer(self.ends, dtype=np.int32),
            }
        return out


class ImageBuilder:
    """Collects the image of a segment as its documents are written, in the same order."""

    def __init__(self) -> None:
        self.fields = {name: _FieldBuilder(forward=True) for name in TEXT_FIELDS}
        self.surface = _FieldBuilder(forward=False)
        self.keywords = {name: _FieldBuilder(forward=False) for name in KEYWORD_FIELDS}
        self.ids: list[str] = []
        self.published: array[float] = array("d")

    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        article_id: str,
        texts: Mapping[str, Tokens],
        keywords: Mapping[str, Sequence[str]],
        published_day: float,
    ) -> None:
        folded: list[str] = []
        for name, builder in self.fields.items():
            tokens = texts[name]
            builder.add(tokens.terms, tokens)
            folded.extend(tokens.folded)
        self.surface.add(folded, None)
        for name, builder in self.keywords.items():
            builder.add(list(dict.fromkeys(keywords.get(name, ()))), None)
        self.ids.append(article_id)
        self.published.append(published_day)

    def text_postings(self) -> dict[str, TextPostings]:
        """Each text field's token runs, for Whoosh's postings (``index.postings``)."""
        return {name: builder.numbered() for name, builder in self.fields.items()}

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        for name, builder in self.fields.items():
            arrays |= builder.arrays(name)
        arrays |= self.surface.arrays("surface")
        for name, builder in self.keywords.items():
            arrays |= builder.arrays(name)
        blob, offsets = pack_strings(self.ids)
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        arrays |= {
            "ids": blob,
            "id_offsets": offsets,
            "id_order": np.asarray(order, dtype=np.int32),
            "published": np.frombuffer(self.published, dtype=np.float64)
            if self.published
            else np.zeros(0, np.float64),
        }
        write_arrays(path, arrays)


@dataclass(frozen=True)
class Postings:
    """One field's inverted and (for text fields) forward index, in one segment."""

    terms: Strings
    indptr: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray
    fwd_indptr: np.ndarray | None = None
    fwd_terms: np.ndarray | None = None
    fwd_starts: np.ndarray | None = None
    fwd_ends: np.ndarray | None = None

    def lookup(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The documents holding ``term`` and its frequencies in them."""
        number = self.terms.find(term)
        if number < 0:
            return _EMPTY_DOCS, _EMPTY_TFS
        start, end = self.indptr[number], self.indptr[number + 1]
        return self.docs[start:end], self.tfs[start:end]

    def doc_frequency(self, number: int) -> int:
        return int(self.indptr[number + 1] - self.indptr[number])

    def runs(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The token runs of ``docs`` end to end, and for each token the index in ``docs`` of
        the document it belongs to."""
        assert self.fwd_indptr is not None and self.fwd_terms is not None
        starts = self.fwd_indptr[docs]
        lengths = self.fwd_indptr[docs + 1] - starts
        total = int(lengths.sum())
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        where = offsets + np.arange(total, dtype=np.int64)
        return self.fwd_terms[where], np.repeat(np.arange(len(docs)), lengths)

    def tokens(self, doc: int) -> slice:
        """Where document ``doc``'s tokens are in the forward arrays."""
        assert self.fwd_indptr is not None
        return slice(int(self.fwd_indptr[doc]), int(self.fwd_indptr[doc + 1]))


_EMPTY_DOCS = np.zeros(0, dtype=np.int32)
_EMPTY_TFS = np.zeros(0, dtype=np.uint16)


class SegmentImage:
    """A segment's image, opened read-only from its file."""

    def __init__(self, path: Path) -> None:
        arrays = read_arrays(path)
        self.path = path

        def field(prefix: str) -> Postings:
            extra = {}
            if f"{prefix}.fwd_indptr" in arrays:
                extra = {
                    k: arrays[f"{prefix}.{k}"]
                    for k in ("fwd_indptr", "fwd_terms", "fwd_starts", "fwd_ends")
                }
            terms = Strings(
                arrays[f"{prefix}.terms"],
                arrays[f"{prefix}.term_offsets"],
                arrays[f"{prefix}.term_slots"],
            )
            return Postings(
                terms,
                arrays[f"{prefix}.indptr"],
                arrays[f"{prefix}.docs"],
                arrays[f"{prefix}.tfs"],
                arrays[f"{prefix}.lengths"],
                **extra,
            )

        self.fields = {name: field(name) for name in TEXT_FIELDS}
        self.surface = field("surface")
        self.keywords = {name: field(name) for name in KEYWORD_FIELDS}
        self.ids = Strings(arrays["ids"], arrays["id_offsets"])
        self.id_order = arrays["id_order"]
        self.published = arrays["published"]
        self.doc_count = len(self.ids)

    def docnum(self, article_id: str) -> int:
        """The document number of ``article_id`` in this segment (the last one), or -1."""
        key = article_id.encode("utf-8")
        order, ids = self.id_order, self.ids
        lo, hi = 0, len(order)
        while lo < hi:
            mid = (lo + hi) // 2
            if ids.raw(int(order[mid])) < key:
                lo = mid + 1
            else:
                hi = mid
        found = -1
        while lo < len(order) and ids.raw(int(order[lo])) == key:
            found = max(found, int(order[lo]))
            lo += 1
        return found
