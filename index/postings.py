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
``Positions.encode``), length statistics and blocks. cProfile, one process, 8,000 articles: the
Whoosh side of the build went from 34 s to … of 63 s (see docs/index-v2.md, "Build").
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
    lengths = text.lengths.astype(np.int64)
    n_docs = max(len(lengths), 1)
    doc_of_token = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    position = np.arange(len(doc_of_token), dtype=np.int64) - starts[doc_of_token]
    keys = text.tokens.astype(np.int64) * n_docs + doc_of_token
    order = np.argsort(keys, kind="stable")  # by term, then document, then position
    keys = keys[order]
    position = position[order]
    first = np.ones(len(keys), dtype=bool)  # a posting's first token
    first[1:] = keys[1:] != keys[:-1]
    posting_starts = np.flatnonzero(first)
    # Each posting's positions as deltas (Whoosh's encoding): the first position itself.
    deltas = position.copy()
    deltas[1:] -= position[:-1]
    deltas[posting_starts] = position[posting_starts]
    posting_keys = keys[posting_starts]
    terms_of_posting = posting_keys // n_docs
    docs = (posting_keys % n_docs).tolist()
    tfs = np.diff(np.append(posting_starts, len(keys)))
    # The length Whoosh reads back for a document is its one-byte approximation.
    quantised = np.array(
        [byte_to_length(length_to_byte(int(v))) for v in range(int(lengths.max(initial=0)) + 1)],
        dtype=np.int64,
    )
    doc_lengths = quantised[lengths][posting_keys % n_docs].tolist()
    weights = tfs.astype(np.float64).tolist()
    values = _position_values(field.format, deltas.tolist(), posting_starts.tolist(), tfs.tolist())
    term_bounds = np.searchsorted(terms_of_posting, np.arange(len(text.terms) + 1)).tolist()

    fieldwriter.start_field(name, field)
    limit = fieldwriter._codec._blocklimit
    for number, term in enumerate(text.terms):
        lo, hi = term_bounds[number], term_bounds[number + 1]
        if lo == hi:
            continue
        fieldwriter.start_term(term.encode("utf-8"))
        postwriter = fieldwriter._postwriter
        for block in range(lo, hi, limit):
            if block > lo:
                postwriter._write_block()  # Whoosh writes a full block when the next posting comes
            end = min(block + limit, hi)
            postwriter._ids = array("I", docs[block:end])
            block_weights = weights[block:end]
            postwriter._weights = array("f", block_weights)
            postwriter._values = values[block:end]
            postwriter._maxweight = max(block_weights)
            block_lengths = doc_lengths[block:end]
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
