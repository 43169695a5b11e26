"""``bench query``: in-process latency of search, similar articles and suggest.

The index is built once with our real indexer into a temporary folder (or ``--index-dir`` reuses
a built index root). Each pass then opens a fresh ``search.engine.Engine`` (its caches of
postings and answers start empty), runs ``warm_up()`` and a few calls of each kind on items that
are NOT measured afterwards, and times one call per item:

- search: every workload query, as the site asks it (``SearchRequest(query=q)``: first page of
  10, relevance order, snippets, facets, total);
- similar: ``similar(id, limit=5)`` on ids drawn (seeded) from the index's own ``id`` terms;
- suggest: ``suggest(prefix, limit=8)`` on prefixes (2–6 characters) of the workload's words,
  a quarter of them without accents.

``--repeat K`` runs K such passes, each an independent measurement of items the engine has not
seen; the table shows the median (min–max) of their p50/p95/p99. After the first pass the same
items are asked again of the same engine ("asked again"): the cost of a repeated request, served
from the engine's caches.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.collection import read_queries
from bench.common import Report, Table, fmt_num, percentile, summarize
from bench.indexing import limited_copy
from bench.workload import fold

OPS = ("search", "similar", "suggest")
TARGET_P95_MS = {"search": 50.0, "similar": 50.0, "suggest": 10.0}  # issue 3
WARMUP_ITEMS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        required=True,
        help="JSON Lines corpus to build the index from (unless --index-dir)",
    )
    parser.add_argument(
        "--queries",
        type=Path,
        required=True,
        help="query workload (JSONL with 'text', or one query per line)",
    )
    parser.add_argument(
        "--index-dir",
        type=Path,
        help="reuse this index root (CURRENT + generations/) instead of building",
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="build from the first N records of the corpus only"
    )
    parser.add_argument(
        "--limit-queries",
        type=int,
        metavar="N",
        help="measure at most N items of each kind (default: every query)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed for ids and prefixes")


def index_ids(index_root: Path) -> list[str]:
    """Every article id in the live generation of ``index_root`` (from the ``id`` terms)."""
    from whoosh import index as whoosh_index

    from index.generations import IndexRoot

    ix = whoosh_index.open_dir(str(IndexRoot(index_root).current().path))
    with ix.reader() as reader:
        return sorted(term.decode("utf-8") for term in reader.lexicon("id"))


def prefixes(queries: list[str], count: int, rng: random.Random) -> list[str]:
    """Prefixes of 2–6 characters of the workload's words, a quarter of them folded."""
    words = sorted({w for q in queries for w in q.split() if sum(c.isalpha() for c in w) >= 3})
    out: list[str] = []
    if not words:
        return out
    for _ in range(count):
        word = rng.choice(words)
        size = rng.randint(2, min(6, len(word)))
        prefix = word[:size]
        out.append(fold(prefix) if rng.random() < 0.25 else prefix)
    return out


def _measure(call: Callable[[Any], Any], items: list[Any]) -> tuple[list[float], list[str]]:
    times: list[float] = []
    errors: list[str] = []
    for item in items:
        started = time.perf_counter()
        try:
            call(item)
        except Exception as exc:  # a benchmark reports engine failures, it does not stop on them
            errors.append(f"{item!r}: {type(exc).__name__}: {exc}")
        times.append((time.perf_counter() - started) * 1000)
    return times, errors


def _calls(engine: Any, request: Any) -> dict[str, Callable[[Any], Any]]:
    return {
        "search": lambda q: engine.search(request(query=q)),
        "similar": lambda i: engine.similar(i, limit=5),
        "suggest": lambda p: engine.suggest(p, limit=8),
    }


def _stats(times_ms: list[float]) -> dict[str, float]:
    ordered = sorted(times_ms)
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "mean": sum(ordered) / len(ordered),
        "max": ordered[-1],
        "n": len(ordered),
    }


def run(args: argparse.Namespace) -> Report:
    from index.config import IndexSettings
    from search.config import Settings
    from search.engine import Engine
    from search.results import SearchRequest

    queries = read_queries(args.queries)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        build: dict[str, Any] | None = None
        root = args.index_dir
        if root is None:
            from index.build import full_build
            from index.generations import IndexRoot

            source = limited_copy(args.corpus, args.limit, Path(tmp)) if args.limit else args.corpus
            root = Path(tmp) / "index"
            build_settings = IndexSettings.from_env(index_dir=root)
            print("[query] building the index ...", file=sys.stderr, flush=True)
            report = full_build(
                IndexRoot(root),
                source,
                processes=build_settings.build_processes,
                memory_mb=build_settings.build_memory_mb,
            )
            build = report.to_dict()
        settings = Settings.from_env(index_dir=root)
        ids = index_ids(root)

        n = min(args.limit_queries or len(queries), len(queries))
        measured_queries = queries[:n]
        # Warm-up items are never measured afterwards: held-out workload queries, or, when the
        # whole workload is measured, pairs of its queries (texts the engine has not seen).
        warm_queries = (
            queries[n : n + WARMUP_ITEMS]
            or [f"{a} {b}" for a, b in zip(queries[::2], queries[1::2], strict=False)][
                :WARMUP_ITEMS
            ]
        )
        warm_n = min(WARMUP_ITEMS, len(ids) // 4)
        picked_ids = rng.sample(ids, min(len(ids), n + warm_n))
        warm_ids, measured_ids = picked_ids[:warm_n], picked_ids[warm_n:]
        all_prefixes = prefixes(queries, n + 3 * WARMUP_ITEMS, rng)
        measured_prefixes = all_prefixes[:n]
        warm_prefixes = [p for p in all_prefixes[n:] if p not in set(measured_prefixes)]

        items = {"search": measured_queries, "similar": measured_ids, "suggest": measured_prefixes}
        warm_items = {"search": warm_queries, "similar": warm_ids, "suggest": warm_prefixes}
        passes: dict[str, list[dict[str, float]]] = {op: [] for op in OPS}
        again: dict[str, dict[str, float]] = {}
        samples: dict[str, list[float]] = {op: [] for op in OPS}
        errors: dict[str, list[str]] = {op: [] for op in OPS}
        warm_up_times: list[float] = []
        totals: list[int] = []
        empty = 0
        for repeat in range(args.repeat):
            # A fresh engine per pass: its caches (postings, answers) start empty, so every pass
            # is an independent cold measurement, not a replay of the previous one.
            engine = Engine(settings)
            try:
                started = time.perf_counter()
                engine.warm_up()
                warm_up_times.append(time.perf_counter() - started)
                calls = _calls(engine, SearchRequest)
                for op in OPS:
                    _measure(calls[op], warm_items[op])
                for op in OPS:
                    print(
                        f"[query] pass {repeat + 1}/{args.repeat}: {op} x {len(items[op])}",
                        file=sys.stderr,
                        flush=True,
                    )
                    times, errs = _measure(calls[op], items[op])
                    passes[op].append(_stats(times))
                    samples[op].extend(times)
                    if repeat == 0:
                        errors[op] = errs
                if repeat == 0:
                    # The same items asked again of the same engine: what a popular query costs.
                    for op in OPS:
                        times, _ = _measure(calls[op], items[op])
                        again[op] = _stats(times)
                    for q in measured_queries[: min(100, len(measured_queries))]:
                        try:
                            result = engine.search(SearchRequest(query=q))
                        except Exception:
                            continue
                        totals.append(result.total)
                        empty += result.total == 0
            finally:
                engine.close()
        warm_up_s = statistics.median(warm_up_times)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    summary = {
        op: {
            stat: summarize([p[stat] for p in passes[op]])
            for stat in ("p50", "p95", "p99", "mean", "max")
        }
        for op in OPS
    }
    rows = []
    for op in OPS:
        cells = [op, str(len(items[op]))]
        for stat in ("p50", "p95", "p99", "mean"):
            s = summary[op][stat]
            cell = fmt_num(s["median"], 2)
            if s["n"] > 1:
                cell += f" ({fmt_num(s['min'], 2)}–{fmt_num(s['max'], 2)})"
            cells.append(cell)
        cells.append(f"{fmt_num(again[op]['p50'], 2)} / {fmt_num(again[op]['p95'], 2)}")
        target = TARGET_P95_MS[op]
        p95 = summary[op]["p95"]["median"]
        cells.append(f"< {target:g} ms: {'yes' if p95 < target else 'NO'}")
        cells.append(str(len(errors[op])))
        rows.append(cells)
    table = Table(
        f"In-process latency, ms, {args.repeat} pass(es), each with a fresh engine: "
        "median (min–max) over passes",
        [
            "operation",
            "calls/pass",
            "p50",
            "p95",
            "p99",
            "mean",
            "asked again: p50 / p95",
            "p95 target",
            "errors",
        ],
        rows,
    )
    notes = [
        f"Each pass opens a fresh Engine (empty caches), runs warm_up() (median "
        f"{warm_up_s:.2f} s) and a few unmeasured calls, then asks every item once: the "
        "figures are for items the engine has not seen. 'Asked again' repeats the items on the "
        "same engine (first pass only): what a repeated, popular request costs with the "
        "engine's caches.",
        f"Peak RSS of the benchmark process {rss_mib:,.0f} MiB; {len(ids):,} articles in the "
        "index.",
    ]
    if totals:
        ordered = sorted(totals)
        notes.append(
            f"search: a query matches {percentile(ordered, 50):,.0f} articles at the "
            f"median, {percentile(ordered, 95):,.0f} at p95; {empty} of "
            f"{len(totals)} sampled queries found nothing."
        )
    for op in OPS:
        if errors[op]:
            notes.append(f"{op}: {len(errors[op])} calls failed, e.g. {errors[op][0]}")

    plots = {"latency": lambda path: _plot_latency(path, samples)}
    return Report(
        kind="query",
        title="In-process latency: search, similar, suggest",
        description="Latency of the real Engine's search (first page of 10 with snippets, "
        "facets and total), similar (5) and suggest (8), after a warm-up.",
        params={
            "corpus": str(args.corpus),
            "queries": str(args.queries),
            "index_dir": str(args.index_dir) if args.index_dir else None,
            "limit": args.limit,
            "limit_queries": args.limit_queries,
            "repeat": args.repeat,
            "seed": args.seed,
        },
        results={
            "passes": passes,
            "asked_again": again,
            "summary": summary,
            "build": build,
            "warm_up_s": warm_up_times,
            "articles": len(ids),
            "errors": {op: errors[op][:20] for op in OPS},
            "error_counts": {op: len(errors[op]) for op in OPS},
            "peak_rss_mib": rss_mib,
            "match_counts_sample": totals,
        },
        tables=[table],
        notes=notes,
        plots=plots,
    )


def _plot_latency(path: Path, samples: dict[str, list[float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    for op, times in samples.items():
        if not times:
            continue
        ordered = sorted(times)
        share = [(i + 1) / len(ordered) for i in range(len(ordered))]
        ax.plot(ordered, share, label=f"{op} (n={len(ordered)})")
    for target in TARGET_P95_MS.values():
        ax.axvline(target, linestyle=":", linewidth=0.8, color="grey")
    ax.axhline(0.95, linestyle="--", linewidth=0.8, color="grey")
    ax.set_xscale("log")
    ax.set_xlabel("latency, ms (log scale); dotted: p95 targets")
    ax.set_ylabel("share of calls at or under")
    ax.set_title("In-process latency distribution")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
