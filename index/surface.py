"""The surface-form index of a generation: each unstemmed word, the articles that hold it and
how often — for exact-form ranking, autocomplete and "did you mean".

It lives beside the Whoosh index as ``surface.npz``, a compressed-sparse-row table written with
numpy, rather than as a Whoosh field: indexing the text a second time through Whoosh's posting
machinery cost 40% of the build (see the note on issue 2), while counting words into arrays
costs a few percent. Articles are numbered in the order the build met them and named by id
(the search engine maps ids to Whoosh document numbers when it opens a generation), so the
table does not depend on how Whoosh's writer processes split the documents.

Layout of ``surface.npz``: ``terms`` and ``ids`` (newline-joined UTF-8), ``indptr`` (where each
term's postings start), ``docs`` (article numbers), ``tfs`` (frequencies), ``lengths`` (words per
article). Terms are sorted; a term's postings are sorted by article number.
"""

from __future__ import annotations

import os
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.analysis import analyze, surface_analyzer

FILENAME = "surface.npz"
_MAX_TF = 65535


def _join(strings: Iterable[str]) -> np.ndarray:
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def _split(blob: np.ndarray) -> list[str]:
    text = blob.tobytes().decode("utf-8")
    return text.split("\n") if text else []


class SurfaceIndexBuilder:
    """Counts the surface words of articles as a build meets them."""

    def __init__(self, analyzer: Any = None) -> None:
        self.analyzer = analyzer if analyzer is not None else surface_analyzer()
        self.ids: list[str] = []
        self.lengths = array("i")
        self._postings: dict[str, tuple[array[int], array[int]]] = {}

    def add(self, article_id: str, text: str) -> int:
        """Count ``text`` as the words of a new article; returns its article number."""
        number = len(self.ids)
        words = analyze(self.analyzer, text)
        self.ids.append(article_id)
        self.lengths.append(len(words))
        postings = self._postings
        for word, count in Counter(words).items():
            found = postings.get(word)
            if found is None:
                found = postings[word] = (array("i"), array("H"))
            found[0].append(number)
            found[1].append(min(count, _MAX_TF))
        return number

    def table(self, keep: np.ndarray | None = None) -> SurfaceIndex:
        """The finished table; ``keep[n]`` False drops article ``n`` (a replaced record)."""
        terms = sorted(self._postings)
        docs_parts, tf_parts, counts = [], [], []
        for term in terms:
            docs, tfs = self._postings[term]
            docs_array = np.frombuffer(docs, dtype=np.int32)
            tfs_array = np.frombuffer(tfs, dtype=np.uint16)
            if keep is not None:
                kept = keep[docs_array]
                docs_array, tfs_array = docs_array[kept], tfs_array[kept]
            docs_parts.append(docs_array)
            tf_parts.append(tfs_array)
            counts.append(len(docs_array))
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return SurfaceIndex(
            terms=terms,
            ids=list(self.ids),
            indptr=indptr,
            docs=np.concatenate(docs_parts) if docs_parts else np.zeros(0, np.int32),
            tfs=np.concatenate(tf_parts) if tf_parts else np.zeros(0, np.uint16),
            lengths=np.frombuffer(self.lengths, dtype=np.int32).copy(),
        ).without_empty_terms()


@dataclass(frozen=True)
class SurfaceIndex:
    """The table itself; see the module docstring."""

    terms: list[str]
    ids: list[str]
    indptr: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray

    def doc_freqs(self) -> np.ndarray:
        return np.diff(self.indptr)

    def postings(self, term_number: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.indptr[term_number], self.indptr[term_number + 1]
        return self.docs[start:end], self.tfs[start:end]

    def without_empty_terms(self) -> SurfaceIndex:
        freqs = self.doc_freqs()
        if freqs.all():
            return self
        kept = np.flatnonzero(freqs)
        indptr = np.zeros(len(kept) + 1, dtype=np.int64)
        np.cumsum(freqs[kept], out=indptr[1:])
        return SurfaceIndex([self.terms[i] for i in kept], self.ids, indptr, self.docs,
                            self.tfs, self.lengths)

    def updated(self, articles: Iterable[tuple[str, str]], removed: Iterable[str]) -> SurfaceIndex:
        """A new table without ``removed`` ids, and with ``articles`` (id, text) added or
        replaced. Article numbers of the old table are kept; new articles are numbered after."""
        articles = list(articles)
        gone = set(removed) | {article_id for article_id, _ in articles}
        keep = np.array([i not in gone for i in self.ids], dtype=bool)
        term_of = np.repeat(np.arange(len(self.terms)), self.doc_freqs())
        kept = keep[self.docs] if len(self.docs) else np.zeros(0, dtype=bool)
        builder = SurfaceIndexBuilder()
        builder.ids = list(self.ids)
        builder.lengths = array("i", self.lengths.tolist())
        for article_id, text in articles:
            builder.add(article_id, text)
        fresh = builder.table()
        fresh_of = np.repeat(np.arange(len(fresh.terms)), fresh.doc_freqs())
        terms = sorted(set(self.terms) | set(fresh.terms))
        number = {term: n for n, term in enumerate(terms)}
        old_map = np.array([number[t] for t in self.terms], dtype=np.int64)
        new_map = np.array([number[t] for t in fresh.terms], dtype=np.int64)
        all_terms = np.concatenate([old_map[term_of[kept]] if len(term_of) else term_of,
                                    new_map[fresh_of] if len(fresh_of) else fresh_of])
        all_docs = np.concatenate([self.docs[kept], fresh.docs])
        all_tfs = np.concatenate([self.tfs[kept], fresh.tfs])
        order = np.lexsort((all_docs, all_terms))
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(all_terms, minlength=len(terms)), out=indptr[1:])
        return SurfaceIndex(terms, fresh.ids, indptr, all_docs[order].astype(np.int32),
                            all_tfs[order].astype(np.uint16), fresh.lengths).without_empty_terms()

    def save(self, path: Path) -> None:
        """Write the table to ``path`` atomically (readers see the old file or the new one)."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, terms=_join(self.terms), ids=_join(self.ids),
                                indptr=self.indptr, docs=self.docs, tfs=self.tfs,
                                lengths=self.lengths)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> SurfaceIndex:
        with np.load(path, allow_pickle=False) as data:
            return cls(terms=_split(data["terms"]), ids=_split(data["ids"]),
                       indptr=data["indptr"], docs=data["docs"], tfs=data["tfs"],
                       lengths=data["lengths"])
