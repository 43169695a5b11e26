"""Full builds and updates, each publishing a new generation; the live one is never written.

A **full build** streams the source once into new segments (one per process, see
``index.segments``), marks the documents of a repeated id deleted but its last record's, checks
the result (document count, a known article found by a query), refuses to shrink the index past
``max_shrink`` (a build from the wrong file), writes the manifest, marks the generation ready,
switches ``CURRENT`` and prunes old generations.

An **update** makes a new generation out of the live one: it hard-links the live generation's
files (segments never change), marks replaced and deleted articles in the new table of
contents, and writes one small segment with the upserted articles. When small segments pile up,
their live documents are written again into that new segment and the old ones are left out
(a merge costs the small segments, never the large ones). So every change can be rolled back,
a crash at any moment leaves the live generation whole, and the disk grows by the new segment.

Anything that goes wrong before the switch leaves the live generation as it was; the new folder
is removed. Problems with single records are reported through ``on_problem`` and skipped, up to
``max_errors``; past that, ``TooManyErrors``.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.index import TOC, clean_files
from whoosh.query import Term
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from index import manifest, replicas
from index.articles import MAX_ARTICLE_CHARS, Article, Deletion, Problem, Record
from index.codec import PresseCodec
from index.generations import IndexRoot, directory_size
from index.problems import SummarisedNotices, repeated_id
from index.schema import STEMMER, article_from_stored, build_schema
from index.segments import SegmentBuilder, WrittenSegment, write_segments
from index.sources import detect_format, read_source
from index.tokens import TextAnalyser

ProblemHandler = Callable[[Problem], None]
ProgressHandler = Callable[[int, int | None], None]

PROGRESS_EVERY_S = 0.5
# A segment under this share of the largest one is "small"; an update that would leave more than
# SMALL_SEGMENTS of them merges them all into its own new segment. With 135k articles a small
# segment is at most ~8k: rewriting them costs ~10 s only every six updates or so, and keeps a
# query's per-segment work to a handful of lookups.
SMALL_SHARE = 0.125
SMALL_SEGMENTS = 6


class BuildError(Exception):
    """The build could not finish; the live generation is untouched."""


class TooManyErrors(BuildError):
    """More bad records than ``--max-errors`` allows."""


class WouldShrink(BuildError):
    """A full build would leave the index with far fewer articles than the live one."""


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
    segments: int = 1
    merged: int = 0

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
            total: int = sum(
                chunk.count(needle) for chunk in iter(lambda: handle.read(1 << 20), b"")
            )
            return total
    except OSError:
        return None


def _with_progress(
    records: Iterable[Record], total: int | None, progress: ProgressHandler
) -> Iterator[Record]:
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
    replica_timeout_s: float = 3600.0,
    max_shrink: float = 0.5,
    allow_shrink: bool = False,
    stemmer: str = STEMMER,
    max_article_chars: int = MAX_ARTICLE_CHARS,
    on_problem: ProblemHandler = _ignore_problem,
    progress: ProgressHandler = _ignore_progress,
) -> BuildReport:
    """Build a new generation from ``source`` and make it live. Call with the lock held."""
    started = time.monotonic()
    fmt = fmt or detect_format(source)
    records = _with_progress(
        read_source(source, fmt, max_chars=max_article_chars), estimate_total(source, fmt), progress
    )
    root.remove_partial()
    gen_id, path = root.new_generation_dir()
    try:
        ix = whoosh_index.create_in(str(path), build_schema(stemmer))
        tally = _Tally(max_errors, on_problem)
        last_seq: dict[str, tuple[int, str, bool]] = {}  # id -> (seq, where, is_article)
        repeated: set[str] = set()
        repeats = SummarisedNotices(tally.notice, "repeated ids")

        def articles() -> Iterator[tuple[int, Article]]:
            for seq, record in enumerate(records):
                if isinstance(record, Problem):
                    tally.problem(record)
                    continue
                where = getattr(record, "where", "") or f"{source}: record {seq + 1}"
                if record.id in last_seq:
                    repeated.add(record.id)
                    repeats.add(
                        where,
                        repeated_id(
                            record.id, last_seq[record.id][1], isinstance(record, Deletion)
                        ),
                    )
                last_seq[record.id] = (seq, where, isinstance(record, Article))
                if isinstance(record, Article):
                    yield seq, record
            repeats.close(str(source))

        written = write_segments(
            ix, articles(), processes=processes, stemmer=stemmer, memory_mb=memory_mb
        )
        replaced, deleted = _keep_last_records(written, repeated, last_seq)
        accepted = sum(1 for _, _, is_article in last_seq.values() if is_article)
        if accepted == 0:
            # An empty or wholly broken source would otherwise go live as an empty index.
            raise BuildError(f"{source}: no article to index; the live index is untouched")
        _guard_shrink(root, accepted, max_shrink, allow_shrink)
        segments = [w.segment for w in written]
        TOC(ix.schema, segments, 1).write(ix.storage, manifest.INDEX_NAME)
        clean_files(ix.storage, manifest.INDEX_NAME, 1, segments)  # the empty TOC of create_in
        known = max(
            (item for item in last_seq.items() if item[1][2]),
            key=lambda item: item[1][0],
            default=None,
        )
        _check(path, accepted, known[0] if known else None)
        described = manifest.describe(path)
        manifest.write(path, described)
        root.mark_ready(
            path,
            {
                "generation": gen_id,
                "documents": accepted,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "source": str(source),
                "format": fmt,
                "stemmer": stemmer,
                "revision": 0,
                "segments": len(described.segments),
            },
        )
        root.switch(gen_id)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    root.prune(keep_generations, replicas.held(root, replica_timeout_s))
    return BuildReport(
        generation=gen_id,
        accepted=accepted,
        skipped=tally.skipped,
        replaced=replaced,
        deleted=deleted,
        documents=accepted,
        seconds=time.monotonic() - started,
        size_bytes=directory_size(path),
        segments=len(described.segments),
    )


def _keep_last_records(
    written: list[WrittenSegment], repeated: set[str], last_seq: dict[str, tuple[int, str, bool]]
) -> tuple[int, int]:
    """Mark deleted every document of a repeated id but its last record's (or all of them, if
    its last record was a deletion). Returns (documents replaced, ids deleted)."""
    replaced = 0
    deleted_ids: set[str] = set()
    if not repeated:
        return 0, 0
    for part in written:
        for local, (seq, article_id) in enumerate(zip(part.seqs, part.ids, strict=True)):
            if article_id not in repeated:
                continue
            keep_seq, _, is_article = last_seq[article_id]
            if seq != keep_seq:
                part.segment.delete_document(local)
                if is_article:
                    replaced += 1
                else:
                    deleted_ids.add(article_id)
    return replaced, len(deleted_ids)


def _guard_shrink(root: IndexRoot, accepted: int, max_shrink: float, allow: bool) -> None:
    try:
        live = root.current()
    except Exception:  # no live index (or a broken CURRENT): nothing to protect
        return
    before = int(live.meta.get("documents", 0) or 0)
    if not allow and before and accepted < before * (1.0 - max_shrink):
        raise WouldShrink(
            f"this build holds {accepted:,} articles and the live index {before:,}: it would "
            f"lose more than {max_shrink:.0%} of the archive (a wrong or broken source?). "
            "Nothing was changed; rerun with --allow-shrink if this is intended"
        )


def _check(path: Path, expected: int, known_id: str | None) -> None:
    """The new generation holds what was expected, and a query finds a known document."""
    ix = whoosh_index.open_dir(str(path))
    with ix.searcher() as searcher:
        count = searcher.doc_count()
        if count != expected:
            raise BuildError(
                f"check failed: the new index holds {count} documents, {expected} were expected"
            )
        if known_id is None:
            return
        docnum = next(iter(searcher.document_numbers(id=known_id)), None)
        if docnum is None:
            raise BuildError(f"check failed: article {known_id!r} is not in the new index")
        stored = searcher.stored_fields(docnum)
        analyser = TextAnalyser(stored_stemmer(ix))
        for field in ("title", "body"):
            terms = analyser.analyse(stored.get(field) or "").terms
            if terms:
                found = searcher.search(Term(field, terms[0]), limit=None, scored=False)
                if docnum not in {hit.docnum for hit in found}:
                    raise BuildError(
                        f"check failed: a query for {terms[0]!r} in {field} "
                        f"does not find article {known_id!r}"
                    )
                return


def stored_stemmer(ix: Any) -> str:
    """The stemmer the index's analyzer was built with (its schema is pickled in the TOC)."""
    chain = ix.schema["body"].analyzer
    return str(getattr(chain.items[-1], "stemmer", STEMMER))


def apply_update(
    root: IndexRoot,
    source: Path | None,
    fmt: str | None = None,
    *,
    delete_ids: Iterable[str] = (),
    max_errors: int = 100,
    memory_mb: int = 256,
    keep_generations: int = 3,
    replica_timeout_s: float = 3600.0,
    max_article_chars: int = MAX_ARTICLE_CHARS,
    on_problem: ProblemHandler = _ignore_problem,
    progress: ProgressHandler = _ignore_progress,
) -> BuildReport:
    """Publish a new generation: the live one with the articles of ``source`` upserted and
    ``delete_ids`` deleted. Call with the lock held."""
    started = time.monotonic()
    live = root.current()
    tally = _Tally(max_errors, on_problem)
    # Last record wins within one update too: keep them in order, by id. Updates are small.
    latest: dict[str, Article | Deletion] = {}
    if source is not None:
        fmt = fmt or detect_format(source)
        records = read_source(source, fmt, max_chars=max_article_chars)
        repeats = SummarisedNotices(tally.notice, "repeated ids")
        for record in _with_progress(records, None, progress):
            if isinstance(record, Problem):
                tally.problem(record)
                continue
            if record.id in latest:
                repeats.add(
                    record.where,
                    repeated_id(record.id, latest[record.id].where, isinstance(record, Deletion)),
                )
            latest.pop(record.id, None)
            latest[record.id] = record
        repeats.close(str(source))
    for article_id in delete_ids:
        latest.pop(article_id, None)
        latest[article_id] = Deletion(article_id, "--delete")

    before = manifest.read(live.path)
    root.remove_partial()
    gen_id, path = root.new_generation_dir()
    try:
        for entry in before.files:  # the live generation's files, shared, never written
            os.link(live.path / entry.name, path / entry.name)
        ix = whoosh_index.open_dir(str(path))
        writer = SegmentWriter(ix, limitmb=memory_mb, codec=PresseCodec(), compound=False)
        try:
            replaced = deleted = 0
            for record in latest.values():
                count = writer.delete_by_term("id", record.id)
                if isinstance(record, Article):
                    replaced += count
                elif count:
                    deleted += 1
                else:
                    tally.notice(
                        record.where, f"id {record.id!r} is not in the index: nothing to delete"
                    )
            builder = SegmentBuilder(ix, stored_stemmer(ix), memory_mb, writer=writer)
            upserts = [r for r in latest.values() if isinstance(r, Article)]
            for seq, article in enumerate(upserts):
                builder.add(article, seq)
            merged = _merge_small_segments(writer, builder, len(upserts))
            kept = [s for s in writer.segments if s.segment_id() not in merged]
            if builder.seqs:
                segment = builder.finalize_segment()
                builder.save_beside(segment)
                kept.append(segment)
            else:
                writer._close_segment()
            writer._commit_toc(kept)
            writer._finish()
        except BaseException:
            if not writer.is_closed:
                writer._finish()
            raise
        documents = sum(s.doc_count() for s in kept)
        _check(path, documents, upserts[-1].id if upserts else None)
        described = manifest.describe(path, known=before.files)
        manifest.write(path, described)
        meta = dict(live.meta) | {
            "generation": gen_id,
            "documents": documents,
            "parent": live.id,
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "revision": int(live.meta.get("revision", 0)) + 1,
            "segments": len(described.segments),
        }
        if source is not None:
            meta["update_source"] = str(source)
        root.mark_ready(path, meta)
        root.switch(gen_id)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    root.prune(keep_generations, replicas.held(root, replica_timeout_s))
    new_files = {f.name for f in described.files} - {f.name for f in before.files}
    return BuildReport(
        generation=gen_id,
        accepted=len(upserts),
        skipped=tally.skipped,
        replaced=replaced,
        deleted=deleted,
        documents=documents,
        seconds=time.monotonic() - started,
        size_bytes=sum((path / n).stat().st_size for n in new_files),
        segments=len(described.segments),
        merged=len(merged),
    )


def _merge_small_segments(writer: Any, builder: SegmentBuilder, adding: int) -> set[str]:
    """When small segments pile up, write their live documents into ``builder``'s segment.

    Returns the ids of the segments whose documents were taken (to be left out of the TOC).
    """
    segments = writer.segments
    if not segments:
        return set()
    largest = max(max(s.doc_count() for s in segments), adding)
    small = [s for s in segments if s.doc_count() < SMALL_SHARE * largest]
    if len(small) + 1 <= SMALL_SEGMENTS:
        return set()
    seq = len(builder.seqs)
    for segment in small:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            for docnum in range(segment.doc_count_all()):
                if not segment.is_deleted(docnum):
                    builder.add(article_from_stored(reader.stored_fields(docnum)), seq)
                    seq += 1
        finally:
            reader.close()
    return {s.segment_id() for s in small}
