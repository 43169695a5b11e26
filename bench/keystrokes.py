"""``bench typing``: the time from the last keystroke to the results on screen, in a real browser.

Playwright drives Debian's Chromium (headless) on the search page (``GET /``) of a running service
(``--url``) or of one started here on ``--index-dir`` (gunicorn, as ``bench http`` starts it). For
each of ``--count`` queries of the workload, the box is emptied and the query typed key by key,
``--delay`` ms apart (100 ms: a steady typist); the page reports, with its
``presse-search:rendered`` event, when the results for the whole query are on screen and how long
after the last keystroke, measured in the page with ``performance.now()``. The report gives the
median, p95 and maximum over the queries, with ``--repeat`` runs giving medians and spreads.

The floor is the page's debounce (150 ms: it waits for a pause in typing before it asks); what
is above it is the request, the search, the answer and the rendering. Queries shorter than two
characters are skipped (the page does not search them as they are typed).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.collection import read_queries
from bench.common import REPO, Report, Table, fmt_num, percentile, summarize

DEFAULT_QUERIES = REPO / "docs" / "bench-results" / "queries.jsonl"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEBOUNCE_MS = 150  # widget.js's DEBOUNCE_MS: the floor of every figure here
RENDER_TIMEOUT_MS = 15_000

# Keeps every "rendered" event of the page, for the script to read.
RECORD = """() => {
  window.__renders = [];
  document.addEventListener("presse-search:rendered", (event) => {
    window.__renders.push(event.detail);
  });
}"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="base URL of a running service, e.g. http://127.0.0.1:8000")
    where.add_argument(
        "--index-dir", type=Path, help="start gunicorn on this index root (a free loopback port)"
    )
    parser.add_argument(
        "--queries",
        type=Path,
        default=DEFAULT_QUERIES,
        help="workload: JSON Lines with a 'text' key, or one query per line "
        f"(default: {DEFAULT_QUERIES.relative_to(REPO)})",
    )
    parser.add_argument("--count", type=int, default=20, help="queries typed per run (20)")
    parser.add_argument("--delay", type=float, default=100, help="ms between keystrokes (100)")
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers with --index-dir"
    )
    parser.add_argument(
        "--chromium", type=Path, default=CHROMIUM, help=f"Chromium to drive ({CHROMIUM})"
    )


@contextmanager
def service(args: argparse.Namespace) -> Iterator[str]:
    """The base URL: ``--url`` as given, or a gunicorn started on ``--index-dir`` (and stopped)."""
    if args.url:
        yield args.url.rstrip("/")
        return
    from bench.http import Server

    with tempfile.TemporaryDirectory(prefix="bench-typing-") as tmp:
        server = Server(args.index_dir, args.workers, Path(tmp) / "gunicorn.log")
        try:
            server.wait_ready()
            yield server.base
        finally:
            server.stop()


def type_queries(page: Any, queries: Sequence[str], delay: float) -> list[float]:
    """Types each query into the page's box; the ms from its last keystroke to its results."""
    times = []
    for query in queries:
        page.fill("#q", "")
        page.wait_for_timeout(DEBOUNCE_MS * 2)  # the emptied box settles (no results shown)
        page.evaluate("window.__renders = []")
        page.type("#q", query, delay=delay)
        page.wait_for_function(
            "q => window.__renders.some((r) => r.query === q)",
            arg=query,
            timeout=RENDER_TIMEOUT_MS,
        )
        shown = page.evaluate("q => window.__renders.filter((r) => r.query === q)", query)
        times.append(float(shown[-1]["sinceKeystroke"]))
    return times


def measure(base: str, queries: Sequence[str], args: argparse.Namespace) -> list[list[float]]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise RuntimeError("playwright is not installed: pip install -e '.[browser]'") from exc
    if not args.chromium.exists():
        raise RuntimeError(f"{args.chromium} is missing: apt-get install -y chromium")
    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(args.chromium), args=CHROMIUM_ARGS)
        try:
            for _ in range(args.repeat):
                context = browser.new_context(
                    viewport={"width": 1366, "height": 768}, locale="fr-FR"
                )
                page = context.new_page()
                page.add_init_script(f"({RECORD})()")
                page.goto(base + "/")
                runs.append(type_queries(page, queries, args.delay))
                context.close()
        finally:
            browser.close()
    return runs


def run(args: argparse.Namespace) -> Report:
    if args.count < 1:
        raise RuntimeError("--count must be at least 1")
    queries = [q.strip() for q in read_queries(args.queries) if len(q.strip()) >= 2]
    queries = queries[: args.count]
    with service(args) as base:
        runs = measure(base, queries, args)
    stats = {
        name: summarize([pick(sorted(times)) for times in runs])
        for name, pick in (
            ("p50", lambda t: percentile(t, 50)),
            ("p95", lambda t: percentile(t, 95)),
            ("max", lambda t: t[-1]),
        )
    }
    rows = [
        [
            name,
            fmt_num(stats[name]["median"], 0),
            fmt_num(stats[name]["min"], 0),
            fmt_num(stats[name]["max"], 0),
        ]
        for name in ("p50", "p95", "max")
    ]
    every = [t for times in runs for t in times]
    slowest = max(range(len(queries)), key=lambda i: statistics.median(r[i] for r in runs))
    return Report(
        kind="typing",
        title="Keystroke to rendered results (search page, headless Chromium)",
        description=__doc__ or "",
        params={
            "url": args.url,
            "index_dir": str(args.index_dir) if args.index_dir else None,
            "queries": str(args.queries),
            "count": len(queries),
            "delay_ms": args.delay,
            "repeat": args.repeat,
            "debounce_ms": DEBOUNCE_MS,
        },
        results={
            "ms": stats,
            "per_query_ms": {q: [r[i] for r in runs] for i, q in enumerate(queries)},
        },
        tables=[
            Table(
                f"ms from the last keystroke to the results on screen, {len(queries)} queries "
                f"typed {args.delay:.0f} ms apart, {args.repeat} run(s) (median, min, max of runs)",
                ["", "median", "min", "max"],
                rows,
            )
        ],
        notes=[
            f"the floor is the debounce, {DEBOUNCE_MS} ms; {len(every)} measurements",
            f"slowest query: {queries[slowest]!r}",
        ],
    )
