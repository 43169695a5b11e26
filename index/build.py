"""Full and incremental builds of the index, each all-or-nothing for the live generation.

A full build streams the source once into a new generation (several analysing processes when
``build_processes`` > 1), then makes the repeated ids keep their last record, checks the result
(document count, a known document found by a query), marks it ready, switches ``CURRENT`` to it and
prunes old generations. Anything that goes wrong before the switch (too many bad records, a crash,
a source without a single article, a failed check) leaves the live generation as it was and the
new folder is removed.

An incremental update upserts and deletes in the live generation, in one Whoosh commit: searchers
see all of it after their next refresh, or none of it if the update fails.

Problems with single records are reported through ``on_problem`` and skipped, up to
``max_errors``; past that, ``TooManyErrors``.
"""

from __future__ import annotations

import ctypes
import gzip
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.query import Term

from index.analysis import analyze
from index.articles import Article, Deletion, Problem, Record
from index.codec import PresseCodec
from index.generations import IndexRoot, directory_size
from index.lexicon import lexicon_of_counts
from index.phrases import PhraseIndexBuilder
from index.schema import STEMMER, build_schema, document_fields, surface_text
from index.sources import detect_format, read_source
from index.surface import FILENAME as SURFACE_FILE
from index.surface import SurfaceIndex, SurfaceIndexBuilder

ProblemHandler = Callable[[Problem], None]
ProgressHandler = Callable[[int, int | None], None]

PROGRESS_EVERY_S = 0.5


class BuildError(Exception):
    """The build could not finish; the live generation is untouched."""


class TooManyErrors(BuildError):
    """More bad records than ``--max-errors`` allows."""


@dataclass(frozen=True)
class BuildReport:
    """What a build or update did, for the one-line summary and the benchmarks."""

    generation: str
    accepted: int
    skipped: int
    replaced: int
    deleted: int
    documents: int
    seconds: float
    size_bytes: int

    @property
    def docs_per_s(self) -> float:
        return self.accepted / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"docs_per_s": round(self.docs_per_s, 1)}


def _ignore_problem(problem: Problem) -> None:
    pass


def _ignore_progress(done: int, total: int | None) -> None:
    pass


class _Tally:
    """Counts bad records, reports them, and stops the run past the limit."""

    def __init__(self, max_errors: int, on_problem: ProblemHandler) -> None:
        self.max_errors = max_errors
        self.on_problem = on_problem
        self.skipped = 0

    def problem(self, problem: Problem) -> None:
        self.skipped += 1
        self.on_problem(problem)
        if self.skipped > self.max_errors:
            raise TooManyErrors(
                f"stopped after {self.skipped} bad records (--max-errors {self.max_errors}); "
                "the live index is untouched"
            )

    def notice(self, where: str, message: str) -> None:
        # Not an error, but the user must hear of it (a repeated id, an unknown deletion).
        self.on_problem(Problem(where, message))


def estimate_total(source: Path, fmt: str | None = None) -> int | None:
    """A cheap count of the records in ``source``, for the progress ETA (None if unknown)."""
    fmt = fmt or detect_format(source)
    try:
        if fmt == "pages":
            return sum(1 for p in source.iterdir() if p.suffix == ".txt")
        opener: Any = gzip.open if source.suffix == ".gz" else open
        with opener(source, "rb") as handle:
            needle = b"\n" if fmt == "jsonl" else b"<item>"
            total: int = sum(chunk.count(needle)
                             for chunk in iter(lambda: handle.read(1 << 20), b""))
            return total
    except OSError:
        return None


def _with_progress(records: Iterable[Record], total: int | None,
                   progress: ProgressHandler) -> Iterator[Record]:
    done = 0
    last = time.monotonic()
    for record in records:
        yield record
        done += 1
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S:
            progress(done, total)
            last = now
    progress(done, total)


def full_build(
    root: IndexRoot,
    source: Path,
    fmt: str | None = None,
    *,
    max_errors: int = 100,
    processes: int = 1,
    memory_mb: int = 256,
    keep_generations: int = 3,
    stemmer: str = STEMMER,
    on_problem: ProblemHandler = _ignore_problem,
    progress: ProgressHandler = _ignore_progress,
) -> BuildReport:
    """Build a new generation from ``source`` and make it live. Call with the lock held."""
    started = time.monotonic()
    fmt = fmt or detect_format(source)
    records = _with_progress(read_source(source, fmt), estimate_total(source, fmt), progress)
    root.remove_partial()
    gen_id, path = root.new_generation_dir()
    try:
        ix = whoosh_index.create_in(str(path), build_schema(stemmer))
        tally = _Tally(max_errors, on_problem)
        last_seq: dict[str, tuple[int, str, bool]] = {}  # id -> (seq, where, is_article)
        repeated: set[str] = set()
        surface = SurfaceIndexBuilder()
        phrases = PhraseIndexBuilder()  # issue 10: autocomplete (numbered as the surface table)
        surface_seqs: list[int] = []  # the seq of each article of the surface table
        writer = _writer(ix, processes, memory_mb)
        try:
            with _writer_processes_die_with_us():
                for seq, record in enumerate(records):
                    if isinstance(record, Problem):
                        tally.problem(record)
                        continue
                    where = getattr(record, "where", "") or f"{source}: record {seq + 1}"
                    if record.id in last_seq:
                        repeated.add(record.id)
                        outcome = ("keeping the last record" if isinstance(record, Article)
                                   else "deleted by this record")
                        tally.notice(where, f"id {record.id!r} repeated (first at "
                                            f"{last_seq[record.id][1]}): {outcome}")
                    if isinstance(record, Article):
                        writer.add_document(**document_fields(record, seq))
                        number = surface.add(record.id, surface_text(record))
                        phrases.add_title(record.title, number, _day(record.published))
                        surface_seqs.append(seq)
                    last_seq[record.id] = (seq, where, isinstance(record, Article))
                writer.commit()
        except BaseException:
            _cancel(writer)
            raise
        replaced, deleted = _keep_last_records(ix, repeated, last_seq)
        accepted = sum(1 for _, _, is_article in last_seq.values() if is_article)
        if accepted == 0:
            # An empty or wholly broken source would otherwise go live as an empty index.
            raise BuildError(f"{source}: no article to index; the live index is untouched")
        known = max((item for item in last_seq.items() if item[1][2]),
                    key=lambda item: item[1][0], default=None)
        _check(ix, accepted, known[0] if known else None)
        kept = np.array([last_seq[i][0] == seq for i, seq in zip(surface.ids, surface_seqs,
                                                                  strict=True)], dtype=bool)
        table = surface.table(kept)
        table.save(path / SURFACE_FILE)
        # issue 10: the lexicon (spelling) and the phrases of the titles (autocomplete).
        lexicon_of_counts(table.terms, table.doc_freqs()).save(path)
        phrases.save(path, kept)
        size = directory_size(path)
        root.mark_ready(path, {
            "generation": gen_id,
            "documents": accepted,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": str(source),
            "format": fmt,
            "stemmer": stemmer,
            "revision": 0,
        })
        root.switch(gen_id)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    root.prune(keep_generations)
    return BuildReport(
        generation=gen_id, accepted=accepted, skipped=tally.skipped, replaced=replaced,
        deleted=deleted, documents=accepted, seconds=time.monotonic() - started, size_bytes=size,
    )


# Whoosh's writer processes wait on their job queue for ever if the reindex that started them is
# killed (kill -9 gives it no chance to stop them). While a multi-process writer runs, children
# forked by this process ask the kernel to kill them when their parent dies (Linux).
_PR_SET_PDEATHSIG = 1
_arm_for_parent: int | None = None  # the pid whose children must die with it, while writing


def _die_with_parent() -> None:
    if _arm_for_parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != _arm_for_parent:  # the parent died before the line above
        os._exit(1)


os.register_at_fork(after_in_child=_die_with_parent)


@contextmanager
def _writer_processes_die_with_us() -> Iterator[None]:
    global _arm_for_parent
    _arm_for_parent = os.getpid()
    try:
        yield
    finally:
        _arm_for_parent = None


def _writer(ix: Any, processes: int, memory_mb: int) -> Any:
    if processes > 1:
        # Several segments instead of one merged at the end: the final merge would eat the gain
        # of the extra processes (see WHOOSH-NOTES). The engine reads every segment.
        return ix.writer(procs=processes, multisegment=True, limitmb=memory_mb,
                         codec=PresseCodec())
    return ix.writer(limitmb=memory_mb, codec=PresseCodec())


def _cancel(writer: Any) -> None:
    """Cancel a writer, and stop the indexing processes of a multi-process one.

    Whoosh's ``MpWriter.cancel()`` only sets a flag on the parent's copies of its processes: the
    real ones would wait on their job queue for ever (holding the interpreter at exit), or die
    with a traceback when the generation folder is removed under them.
    """
    tasks = getattr(writer, "tasks", [])
    for task in tasks:
        task.terminate()
    for task in tasks:
        task.join()
    if tasks:
        writer.jobqueue.cancel_join_thread()
    writer.cancel()


def _keep_last_records(ix: Any, repeated: set[str],
                       last_seq: dict[str, tuple[int, str, bool]]) -> tuple[int, int]:
    """Delete every document of a repeated id but its last record's (or all, if it was deleted).

    Whoosh cannot delete documents of the segment it is still writing, so this runs after the
    commit, on the few repeated ids only. Returns (documents replaced, ids deleted).
    """
    if not repeated:
        return 0, 0
    stale = []
    replaced = deleted = 0
    with ix.searcher() as searcher:
        for article_id in repeated:
            keep_seq, _, is_article = last_seq[article_id]
            docnums = [d for d in searcher.document_numbers(id=article_id)
                       if searcher.stored_fields(d).get("seq") != keep_seq]
            stale.extend(docnums)
            if is_article:
                replaced += len(docnums)
            elif docnums:
                deleted += 1
    writer = ix.writer(codec=PresseCodec())
    try:
        for docnum in stale:
            writer.delete_document(docnum)
        writer.commit(merge=False)
    except BaseException:
        writer.cancel()
        raise
    return replaced, deleted


def _check(ix: Any, expected: int, known_id: str | None) -> None:
    """The new generation holds what was accepted, and a query finds a known document."""
    with ix.searcher() as searcher:
        count = searcher.doc_count()
        if count != expected:
            raise BuildError(f"check failed: the new index holds {count} documents, "
                             f"{expected} were accepted")
        if known_id is None:
            return
        docnum = next(iter(searcher.document_numbers(id=known_id)), None)
        if docnum is None:
            raise BuildError(f"check failed: article {known_id!r} is not in the new index")
        stored = searcher.stored_fields(docnum)
        for field in ("title", "body"):
            terms = analyze(searcher.schema[field].analyzer, stored.get(field) or "")
            if terms:
                found = searcher.search(Term(field, terms[0]), limit=None, scored=False)
                if docnum not in {hit.docnum for hit in found}:
                    raise BuildError(f"check failed: a query for {terms[0]!r} in {field} "
                                     f"does not find article {known_id!r}")
                return


def _day(moment: datetime | None) -> float:
    """Days since 1970 (NaN if unknown): how the phrase index orders articles, newest first."""
    return moment.timestamp() / 86400.0 if moment is not None else float("nan")


def _load_surface(path: Path) -> SurfaceIndex:
    try:
        return SurfaceIndex.load(path / SURFACE_FILE)
    except FileNotFoundError:  # a generation built before the surface table existed
        return SurfaceIndexBuilder().table()


def update_live(
    root: IndexRoot,
    source: Path | None,
    fmt: str | None = None,
    *,
    delete_ids: Iterable[str] = (),
    max_errors: int = 100,
    memory_mb: int = 256,
    on_problem: ProblemHandler = _ignore_problem,
    progress: ProgressHandler = _ignore_progress,
) -> BuildReport:
    """Upsert the articles of ``source`` and delete ids in the live generation, in one commit."""
    started = time.monotonic()
    live = root.current()
    tally = _Tally(max_errors, on_problem)
    # Last record wins within one update too: keep them in order, by id. Updates are small.
    latest: dict[str, Article | Deletion] = {}
    if source is not None:
        fmt = fmt or detect_format(source)
        for record in _with_progress(read_source(source, fmt), None, progress):
            if isinstance(record, Problem):
                tally.problem(record)
                continue
            if record.id in latest:
                tally.notice(getattr(record, "where", str(source)),
                             f"id {record.id!r} repeated: keeping the last record")
            latest.pop(record.id, None)
            latest[record.id] = record
    for article_id in delete_ids:
        latest.pop(article_id, None)
        latest[article_id] = Deletion(article_id, "--delete")

    ix = whoosh_index.open_dir(str(live.path))
    surface = _load_surface(live.path).updated(
        [(r.id, surface_text(r)) for r in latest.values() if isinstance(r, Article)],
        [r.id for r in latest.values() if isinstance(r, Deletion)],
    )
    # issue 10: the lexicon before the commit, so that no worker sees a new word in the postings
    # that its lexicon lacks (and "corrects" it). Titles of updated articles reach the phrase
    # index at the next full build; Index v2 gives each update its own segment.
    lexicon_of_counts(surface.terms, surface.doc_freqs()).save(live.path)
    upserted = deleted = 0
    writer = ix.writer(limitmb=memory_mb, codec=PresseCodec())
    try:
        for seq, record in enumerate(latest.values()):
            if isinstance(record, Article):
                writer.update_document(**document_fields(record, seq))
                upserted += 1
            elif writer.delete_by_term("id", record.id):
                deleted += 1
            else:
                tally.notice(record.where,
                             f"id {record.id!r} is not in the index: nothing to delete")
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    surface.save(live.path / SURFACE_FILE)
    with ix.searcher() as searcher:
        documents = searcher.doc_count()
    meta = dict(live.meta)
    meta.update(documents=documents, revision=int(meta.get("revision", 0)) + 1,
                updated_at=datetime.now(UTC).isoformat(timespec="seconds"))
    root.mark_ready(live.path, meta)
    return BuildReport(
        generation=live.id, accepted=upserted, skipped=tally.skipped, replaced=0,
        deleted=deleted, documents=documents, seconds=time.monotonic() - started,
        size_bytes=directory_size(live.path),
    )
