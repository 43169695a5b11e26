"""Whoosh's postings of the text fields, written in bulk from the analysis pass's token runs.

Handed a list of terms, Whoosh's ``SegmentWriter`` indexes a text field one posting at a time in
Python: it counts positions per term (``Positions.word_values``), puts a tuple per posting into
its sorting pool (which spills to disk and merges runs past ``limitmb``), and at the end feeds the
codec one ``add_posting`` call per posting, looking up the document's length each time. With a
one-pass analysis that work is redundant: the serving image already holds every document's token
run as term numbers (``index.image``). So ``add_document`` here gives Whoosh only what it cannot
get elsewhere for the text fields (stored text, field length) and indexes the other fields the
usual way; ``flush_segment`` then writes the text fields' postings from the token runs, sorted
once with numpy, block by block through Whoosh's own W3 postings writer, and the other fields'
postings from Whoosh's pool, in field-name order as ``SegmentWriter`` would.

The segment's files are the ones Whoosh would have written, byte for byte (tests/test_postings.py
compares them): same terms, document numbers, weights, position values (Whoosh's own
``Positions.encode``), length statistics and blocks. One process, the first 8,000 articles of
the shared corpus: 334 -> 499 docs/s; under cProfile, Whoosh's share of the build went from
34.0 s (add_document 17.8, the flush 16.2) of 63.0 to 11.8 s (2.3 + 9.5) of 33.6. With no text
postings in Whoosh's pool any more, it no longer spills and merges runs on a large build either.
"""

from __future__ import annotations

import itertools
import operator
from array import array
from collections.abc import Mapping
from typing import Any

import numpy as np
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

from index.image import TextPostings

# Postings turned into Python objects (document, weight, length, value: ~150 bytes) at a time.
# All of a worker's body postings at once took ~2 GB on the corpus x4.
CHUNK = 1 << 16


def add_document(writer: Any, fields: Mapping[str, Any], text_lengths: Mapping[str, int]) -> None:
    """``writer.add_document(**fields)`` in Whoosh's own order, except that the fields named in
    ``text_lengths`` are not indexed: only their stored value (``fields[name]``) and their
    length are recorded; ``flush_segment`` writes their postings."""
    writer._check_state()
    perdocwriter = writer.perdocwriter
    schema = writer.schema
    docnum = writer.docnum
    add_post = writer.pool.add
    perdocwriter.start_doc(docnum)
    try:
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = text_lengths.get(fieldname)
            if length is None:
                length = 0
                if field.indexed:
                    scorable = field.scorable
                    for tbytes, freq, weight, vbytes in field.index(value):
                        weight *= 1.0  # Whoosh's field boost: it makes every weight a float
                        if scorable:
                            length += freq
                        add_post((fieldname, tbytes, docnum, weight, vbytes))
            perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
    except Exception:
        perdocwriter.cancel_doc()
        raise
    perdocwriter.finish_doc()
    writer._added = True
    writer.docnum += 1


def check_schema(schema: Any, text_fields: tuple[str, ...]) -> None:
    """``add_document`` leaves out what our schema does not use (term vectors, spelling fields,
    boosts); refuse a schema that would need them rather than write a different segment."""
    for name, field in schema.items():
        if field.vector or field.separate_spelling():
            raise ValueError(f"field {name!r}: term vectors and spelling fields are not written")
    for name in text_fields:
        if schema[name].format.field_boost != 1.0 or schema[name].column_type:
            raise ValueError(f"text field {name!r}: a boost or a column is not written")


def flush_segment(writer: Any, texts: Mapping[str, TextPostings]) -> None:
    """``writer._flush_segment()``, with the postings of ``texts`` written from their runs."""
    writer.perdocwriter.close()
    lengths = writer.per_document_reader()
    fieldwriter = writer.fieldwriter
    schema = writer.schema
    groups = itertools.groupby(writer.pool.iter_postings(), key=operator.itemgetter(0))
    pending = next(groups, None)
    names = {name for name, postings in texts.items() if len(postings.tokens)}
    for name in sorted(names | writer.pool.fieldnames):
        if name in names:
            _write_field(fieldwriter, name, schema[name], texts[name])
        else:
            assert pending is not None and pending[0] == name
            fieldwriter.add_postings(schema, lengths, pending[1])
            pending = next(groups, None)
    fieldwriter.close()
    lengths.close()


def _write_field(fieldwriter: Any, name: str, field: Any, text: TextPostings) -> None:
    """All the postings of one text field, term by term, block by block."""
    n_tokens = len(text.tokens)
    doc_of_token = np.repeat(np.arange(len(text.lengths), dtype=np.int32), text.lengths)
    starts = np.zeros(len(text.lengths) + 1, dtype=np.int64)
    np.cumsum(text.lengths, out=starts[1:])
    position = (np.arange(n_tokens, dtype=np.int64) - starts[doc_of_token]).astype(np.int32)
    # Stable: within a term, tokens keep the runs' order (by document, then position).
    order = np.argsort(text.tokens, kind="stable")
    term_sorted = text.tokens[order]
    doc_sorted = doc_of_token[order]
    position = position[order]
    del order, doc_of_token
    first = np.ones(n_tokens, dtype=bool)  # a posting's first token
    first[1:] = (term_sorted[1:] != term_sorted[:-1]) | (doc_sorted[1:] != doc_sorted[:-1])
    posting_starts = np.flatnonzero(first)
    # Each posting's positions as deltas (Whoosh's encoding): the first position itself.
    deltas = position.copy()
    deltas[1:] -= position[:-1]
    deltas[posting_starts] = position[posting_starts]
    posting_terms = term_sorted[posting_starts]
    posting_docs = doc_sorted[posting_starts]
    del term_sorted, doc_sorted, position, first
    tfs = np.diff(np.append(posting_starts, n_tokens))
    # The length Whoosh reads back for a document is its one-byte approximation.
    quantised = np.array(
        [byte_to_length(length_to_byte(v)) for v in range(int(text.lengths.max(initial=0)) + 1)],
        dtype=np.int64,
    )
    posting_lengths = quantised[text.lengths][posting_docs]
    term_bounds = np.searchsorted(posting_terms, np.arange(len(text.terms) + 1)).tolist()

    fieldwriter.start_field(name, field)
    limit = fieldwriter._codec._blocklimit
    chunk_lo = chunk_hi = 0
    docs: list[int] = []
    weights: list[float] = []
    lengths: list[int] = []
    values: list[bytes] = []
    for number, term in enumerate(text.terms):
        lo, hi = term_bounds[number], term_bounds[number + 1]
        if lo == hi:
            continue
        if hi > chunk_hi:  # the next postings as Python objects, a bounded number at a time
            chunk_lo, chunk_hi = lo, max(hi, lo + CHUNK)
            docs = posting_docs[chunk_lo:chunk_hi].tolist()
            weights = tfs[chunk_lo:chunk_hi].astype(np.float64).tolist()
            lengths = posting_lengths[chunk_lo:chunk_hi].tolist()
            first_token = int(posting_starts[chunk_lo])
            last_token = int(posting_starts[chunk_hi]) if chunk_hi < len(tfs) else n_tokens
            values = _position_values(
                field.format,
                deltas[first_token:last_token].tolist(),
                (posting_starts[chunk_lo:chunk_hi] - first_token).tolist(),
                tfs[chunk_lo:chunk_hi].tolist(),
            )
        fieldwriter.start_term(term.encode("utf-8"))
        postwriter = fieldwriter._postwriter
        for block in range(lo - chunk_lo, hi - chunk_lo, limit):
            if block > lo - chunk_lo:
                postwriter._write_block()  # Whoosh writes a full block when the next posting comes
            end = min(block + limit, hi - chunk_lo)
            postwriter._ids = array("I", docs[block:end])
            block_weights = weights[block:end]
            postwriter._weights = array("f", block_weights)
            postwriter._values = values[block:end]
            postwriter._maxweight = max(block_weights)
            block_lengths = lengths[block:end]
            postwriter._minlength = min(block_lengths)
            postwriter._maxlength = max(block_lengths)
        fieldwriter.finish_term()
    fieldwriter.finish_field()


def _position_values(fmt: Any, deltas: list[int], starts: list[int], tfs: list[int]) -> list[bytes]:
    """Each posting's value as ``Positions.encode`` makes it, from its position deltas.

    Most postings hold one position: the pickled part of their value is remembered by position.
    Each value is still a new ``bytes`` object, as Whoosh's are: pickle writes an object met
    twice in a block as a back-reference, so sharing one would change the block's bytes.
    """
    encode = fmt.encode
    one = pack_uint(1)
    single: dict[int, bytes] = {}
    values: list[bytes] = []
    append = values.append
    for start, tf in zip(starts, tfs, strict=True):
        if tf == 1:
            delta = deltas[start]
            pickled = single.get(delta)
            if pickled is None:
                pickled = single[delta] = encode([delta])[len(one) :]
            append(one + pickled)
        else:
            # encode() takes positions and makes the deltas; give it the positions back.
            append(encode(list(itertools.accumulate(deltas[start : start + tf]))))
    return values
