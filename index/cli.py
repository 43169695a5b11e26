"""The admin's reindex command (``scripts/reindex``, ``presse-reindex``): argument parsing,
progress on stderr, the one-line summary, and exit statuses (0 done, 1 failed, 2 usage).

This is an entry point: it reads the settings from the environment (``--index-dir`` wins over
``PRESSE_INDEX_DIR``) and turns every expected failure into one line on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from index.articles import Problem
from index.build import BuildError, BuildReport, apply_update, full_build
from index.config import ConfigError, IndexSettings
from index.generations import GenerationError, IndexRoot
from index.sources import SourceError

EXAMPLES = """\
examples:
  full rebuild from a JSON Lines export (plain or .gz):
    scripts/reindex --source exports/articles.jsonl.gz
  full rebuild from a folder of scraped pages, or a WordPress export:
    scripts/reindex --source scraped/ --format pages
    scripts/reindex --source wordpress-export.xml
  add or replace some articles, and delete two (a new generation, sharing the live one's files):
    scripts/reindex --update --source today.jsonl --delete art-123 art-456
  go back to the previous generation (also undoes an --update):
    scripts/reindex --rollback
  rebuild from a source much smaller than the live index, on purpose:
    scripts/reindex --source first-week.jsonl --allow-shrink

The index root is PRESSE_INDEX_DIR (default var/index), or --index-dir.
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="reindex",
        description="Build or update the presse-search index from the site's articles.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--source", type=Path, help="JSONL(.gz) file, folder of pages, or WXR")
    parser.add_argument(
        "--format",
        choices=("jsonl", "pages", "wxr"),
        help="kind of source (default: from the file name)",
    )
    parser.add_argument("--index-dir", type=Path, help="index root (default: PRESSE_INDEX_DIR)")
    parser.add_argument(
        "--update",
        action="store_true",
        help="upsert into a copy of the live index instead of a full rebuild",
    )
    parser.add_argument(
        "--delete", nargs="+", metavar="ID", default=[], help="with --update: article ids to delete"
    )
    parser.add_argument(
        "--rollback", action="store_true", help="switch back to the previous generation"
    )
    parser.add_argument(
        "--max-errors",
        type=int,
        default=100,
        metavar="N",
        help="bad records to skip before giving up (default 100)",
    )
    parser.add_argument(
        "--allow-shrink",
        action="store_true",
        help="let a full build replace the live index even if it holds far "
        "fewer articles (PRESSE_MAX_SHRINK)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress and no summary")
    args = parser.parse_args(argv)
    if args.rollback and (args.source or args.update or args.delete):
        parser.error("--rollback takes no --source, --update or --delete")
    if args.allow_shrink and (args.update or args.rollback):
        parser.error("--allow-shrink goes with a full build")
    if args.delete and not args.update:
        parser.error("--delete works on the live index: add --update")
    if not args.rollback and not args.source and not args.delete:
        parser.error("--source is required (or --update --delete ID, or --rollback)")
    if args.max_errors < 0:
        parser.error("--max-errors must be at least 0")
    return args


class Progress:
    """Documents done, documents/s and ETA on stderr: a bar on a terminal, else a line every 5 s."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = done / elapsed
        if total and done <= total:
            eta = (total - done) / rate if rate else 0.0
            tail = f"{done:,}/{total:,} docs  {rate:,.0f} docs/s  ETA {_duration(eta)}"
        else:
            tail = f"{done:,} docs  {rate:,.0f} docs/s"
        if self.tty:
            width = 24
            filled = int(width * done / total) if total else 0
            bar = "#" * min(filled, width) + "." * (width - min(filled, width))
            self.stream.write(f"\r[{bar}] {tail}   ")
            self.stream.flush()
        elif time.monotonic() - self.last_line >= 5:
            self.last_line = time.monotonic()
            print(tail, file=self.stream, flush=True)

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def summary(report: BuildReport, update: bool) -> str:
    what = "updated" if update else "indexed"
    return (
        f"{what} {report.accepted:,} articles (skipped {report.skipped}, "
        f"replaced {report.replaced}, deleted {report.deleted}) in {report.seconds:.1f} s, "
        f"{report.docs_per_s:,.0f} docs/s; {report.documents:,} documents, "
        f"{'new files' if update else 'index'} {_size(report.size_bytes)}, "
        f"{report.segments} segment{'s' if report.segments != 1 else ''}"
        f"{f' ({report.merged} merged)' if report.merged else ''}, "
        f"generation {report.generation}"
    )


def run(args: argparse.Namespace, settings: IndexSettings, err: TextIO) -> int:
    root = IndexRoot(settings.index_dir)

    def report_problem(problem: Problem) -> None:
        print(problem, file=err, flush=True)

    progress = Progress(err) if not args.quiet else (lambda done, total: None)
    with root.lock("rollback" if args.rollback else "reindex", warn=err):
        if args.rollback:
            generation = root.rollback()
            if not args.quiet:
                print(
                    f"rolled back to generation {generation.id} "
                    f"({generation.meta.get('documents', '?')} documents)",
                    file=err,
                )
            return 0
        if args.update:
            report = apply_update(
                root,
                args.source,
                args.format,
                delete_ids=args.delete,
                max_errors=args.max_errors,
                memory_mb=settings.build_memory_mb,
                keep_generations=settings.keep_generations,
                replica_timeout_s=settings.replica_timeout_s,
                max_article_chars=settings.max_article_chars,
                on_problem=report_problem,
                progress=progress,
            )
        else:
            report = full_build(
                root,
                args.source,
                args.format,
                max_errors=args.max_errors,
                processes=settings.build_processes,
                memory_mb=settings.build_memory_mb,
                keep_generations=settings.keep_generations,
                replica_timeout_s=settings.replica_timeout_s,
                max_shrink=settings.max_shrink,
                allow_shrink=args.allow_shrink,
                max_article_chars=settings.max_article_chars,
                on_problem=report_problem,
                progress=progress,
            )
    if isinstance(progress, Progress):
        progress.finish()
    if not args.quiet:
        print(summary(report, args.update), file=err)
    return 0


def main(argv: Sequence[str] | None = None, err: TextIO | None = None) -> int:
    """Run the reindex command; returns the exit status (the console script exits with it)."""
    err = err or sys.stderr
    try:
        with contextlib.redirect_stderr(err):  # argparse writes usage errors to sys.stderr
            args = parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        settings = IndexSettings.from_env(index_dir=args.index_dir)
    except ConfigError as exc:
        print(f"reindex: error: {exc}", file=err)
        return 2
    try:
        return run(args, settings, err)
    except (BuildError, GenerationError, SourceError, OSError) as exc:
        print(f"reindex: error: {exc}", file=err)
    except KeyboardInterrupt:
        print("reindex: interrupted; the live index is untouched", file=err)
    except Exception as exc:  # a bug: one line for the admin, the traceback only on request
        print(f"reindex: error: unexpected {type(exc).__name__}: {exc}", file=err)
        if os.environ.get("PRESSE_DEBUG"):
            traceback.print_exc(file=err)
    return 1


if __name__ == "__main__":
    sys.exit(main())
