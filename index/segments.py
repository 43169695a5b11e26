"""Writing segments: a Whoosh segment and its serving image from one analysis pass.

``SegmentBuilder`` takes articles one by one. Each article is analysed once
(``index.tokens``); Whoosh receives the stemmed terms ready-made with the text to store, and the
image builder (``index.image``) receives the same tokens with their offsets and surface forms.
``finish`` writes Whoosh's segment (``MAIN_<segid>.seg``) and the image beside it
(``MAIN_<segid>.img``) and returns the segment, which a table of contents (TOC) then lists.

``write_segments`` spreads a stream of articles over several processes, each writing one
segment of its own (Whoosh's ``multisegment`` way: merging them at the end would eat the gain),
while this process reads the source. Workers die with a killed reindex (``PR_SET_PDEATHSIG``,
see ``index.processes``).

Whoosh is used here and in ``index.postings``, ``index.build``, ``index.manifest`` and
``search.segments``, nowhere else.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import queue
import shutil
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh.writing import SegmentWriter

from index.articles import Article
from index.codec import PresseCodec
from index.hitfields import SUFFIX as HIT_FIELDS_SUFFIX
from index.hitfields import HitFieldsBuilder
from index.image import SUFFIX, TEXT_FIELDS, ImageBuilder
from index.lexicon import LexiconBuilder
from index.phrases import PhraseIndexBuilder
from index.postings import add_document, check_schema, flush_segment
from index.processes import writer_processes_die_with_us
from index.schema import document_fields, keywords_of
from index.tokens import TextAnalyser

LEXICON_SUFFIX = ".lex"
PHRASES_SUFFIX = ".phr"
BATCH = 200  # articles sent to a worker at once: large enough to amortise the queue
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SegmentWriteError(Exception):
    """A worker that writes a segment failed; the message says why."""


def published_day(moment: datetime | None) -> float:
    """Days since 1970 (NaN when unknown), the image's date column."""
    if moment is None:
        return math.nan
    return (moment - EPOCH).total_seconds() / 86400.0


@dataclass
class WrittenSegment:
    """A finished segment: Whoosh's segment object, and the seq of each of its documents."""

    segment: Any
    seqs: list[int]
    ids: list[str]


class SegmentBuilder:
    """Writes one new segment of the Whoosh index ``ix`` (whose writer lock the caller holds,
    or which is a fresh generation that nobody else writes)."""

    def __init__(self, ix: Any, stemmer: str, memory_mb: int, writer: Any = None) -> None:
        self.writer = (
            writer
            if writer is not None
            else SegmentWriter(
                ix, _lk=False, limitmb=memory_mb, codec=PresseCodec(), compound=False
            )
        )
        self.analyser = TextAnalyser(stemmer)
        self.image = ImageBuilder()
        self.lexicon = LexiconBuilder()  # spelling: the segment's real words
        self.phrases = PhraseIndexBuilder()  # autocomplete: the phrases of its titles
        self.hit_fields = HitFieldsBuilder()  # what search hits show, unpickled
        self.seqs: list[int] = []
        check_schema(self.writer.schema, TEXT_FIELDS)

    def add(self, article: Article, seq: int) -> None:
        texts = {name: getattr(article, name) or "" for name in TEXT_FIELDS}
        tokens = {name: self.analyser.analyse(text) for name, text in texts.items()}
        doc = document_fields(article, seq)
        doc.update(texts)  # stored as written; their postings come from the image's token runs
        add_document(self.writer, doc, {name: len(tokens[name].terms) for name in TEXT_FIELDS})
        day = published_day(article.published)
        self.phrases.add_title(article.title, len(self.seqs), day)
        self.lexicon.add(s for name in TEXT_FIELDS for s in tokens[name].surfaces)
        self.image.add(article.id, tokens, keywords_of(article), day)
        self.hit_fields.add(doc)
        self.seqs.append(seq)

    def finish(self) -> WrittenSegment | None:
        """Write the segment and its image; None (and nothing written) if no article came."""
        writer = self.writer
        if not self.seqs:
            writer._close_segment()  # not cancel(): it would remove the shared temp folder
            return None
        segment = self.finalize_segment()
        self.save_beside(segment)
        # Not writer._tempstorage.destroy(): the writers of one build share that folder (Whoosh
        # names it after the index); write_segments removes it once they are all done.
        return WrittenSegment(segment, self.seqs, self.image.ids)

    def finalize_segment(self) -> Any:
        """Whoosh's ``writer._finalize_segment()``, with the text fields' postings written from
        the image's token runs (``index.postings``); the segment."""
        writer = self.writer
        flush_segment(writer, self.image.text_postings())
        writer._close_segment()
        writer._assemble_segment()
        return writer.get_segment()

    def save_beside(self, segment: Any) -> None:
        """Write what serves the segment beside Whoosh's files: the image, the lexicon, the
        phrase index and the hit fields (``MAIN_<segid>.img``, ``.lex``, ``.phr``, ``.hit``:
        listed, linked and cleaned up with the segment)."""
        folder = Path(self.writer.storage.folder)
        self.image.save(folder / segment.make_filename(SUFFIX))
        self.lexicon.build().save_file(folder / segment.make_filename(LEXICON_SUFFIX))
        self.phrases.build().save_file(folder / segment.make_filename(PHRASES_SUFFIX))
        self.hit_fields.save(folder / segment.make_filename(HIT_FIELDS_SUFFIX))

    def cancel(self) -> None:
        with contextlib.suppress(Exception):  # already closed: nothing to undo
            self.writer._close_segment()


def _worker(ix: Any, stemmer: str, memory_mb: int, jobs: Any, results: Any) -> None:
    try:
        builder = SegmentBuilder(ix, stemmer, memory_mb)
        while (batch := jobs.get()) is not None:
            for seq, article in batch:
                builder.add(article, seq)
        results.put(builder.finish())
    except BaseException:
        results.put(SegmentWriteError(traceback.format_exc(limit=4)))


def write_segments(
    ix: Any, items: Iterable[tuple[int, Article]], *, processes: int, stemmer: str, memory_mb: int
) -> list[WrittenSegment]:
    """Write ``(seq, article)`` items into new segments of ``ix``: one per process.

    With one process everything happens here. Raises ``SegmentWriteError`` if a worker fails or
    dies; whatever it wrote is left for the caller to remove with the generation.
    """
    try:
        return _write(ix, items, processes=processes, stemmer=stemmer, memory_mb=memory_mb)
    finally:
        shutil.rmtree(Path(ix.storage.folder) / f"{ix.indexname}.tmp", ignore_errors=True)


def _write(
    ix: Any, items: Iterable[tuple[int, Article]], *, processes: int, stemmer: str, memory_mb: int
) -> list[WrittenSegment]:
    if processes <= 1:
        builder = SegmentBuilder(ix, stemmer, memory_mb)
        try:
            for seq, article in items:
                builder.add(article, seq)
        except BaseException:
            builder.cancel()
            raise
        written = builder.finish()
        return [written] if written else []
    context = multiprocessing.get_context("fork")
    jobs: Any = context.Queue(maxsize=2 * processes)
    results: Any = context.Queue()
    with writer_processes_die_with_us():
        workers = [
            context.Process(
                target=_worker,
                name=f"presse-segment-{n}",
                args=(ix, stemmer, max(memory_mb // processes, 32), jobs, results),
                daemon=True,
            )
            for n in range(processes)
        ]
        for worker in workers:
            worker.start()
    try:
        for batch in _batches(items, BATCH):
            _put(jobs, batch, workers)
        for _ in workers:
            _put(jobs, None, workers)
        found: list[WrittenSegment] = []
        for _ in workers:
            result = _get(results, workers)
            if isinstance(result, SegmentWriteError):
                raise result
            if result is not None:
                found.append(result)
        for worker in workers:
            worker.join()
        return found
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
            worker.join()
        jobs.cancel_join_thread()
        jobs.close()
        results.close()


def _batches(items: Iterable[tuple[int, Article]], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_alive(workers: list[Any]) -> None:
    dead = [w for w in workers if w.exitcode not in (None, 0)]
    if dead:
        raise SegmentWriteError(f"a segment writer died (exit code {dead[0].exitcode})")


def _put(jobs: Any, item: Any, workers: list[Any]) -> None:
    while True:
        try:
            jobs.put(item, timeout=0.5)
            return
        except queue.Full:
            _check_alive(workers)


def _get(results: Any, workers: list[Any]) -> Any:
    while True:
        try:
            return results.get(timeout=0.5)
        except queue.Empty:
            _check_alive(workers)
            if all(w.exitcode is not None for w in workers):
                try:
                    return results.get(timeout=1.0)
                except queue.Empty:
                    raise SegmentWriteError(
                        "the segment writers stopped without an answer"
                    ) from None
