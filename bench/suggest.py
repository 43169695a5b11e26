"""``bench suggest``: the search box's API in process — ``/suggest`` and typo-tolerant search.

On a built index (``--index-dir``), one fresh ``search.engine.Engine`` per pass (empty caches),
warmed up on items that are not measured, then one call per item:

- ``suggest``: ``Engine.autocomplete(prefix, limit=8)``, what ``/suggest`` answers (words,
  phrase completions, articles), on prefixes of the workload's queries cut inside their last
  word (``coupe du mo``), half of them one word, a quarter folded;
- ``suggest, words only``: ``Engine.suggest(prefix, limit=8)`` on the same prefixes, the
  ``/suggest`` of before (the baseline, in the same run);
- ``search, typo``: ``SearchRequest(query=q)`` where one word of 5 letters or more of a workload
  query has one typo (a letter dropped, doubled, swapped or replaced), so the correction is
  looked for and, when it finds clearly more, run;
- ``search, typo, correct=false``: the same queries as typed (the baseline).

``--repeat K`` runs K passes; the table shows the median (min–max) of their percentiles.
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.collection import read_queries
from bench.common import Report, Table, fmt_num, percentile, summarize
from bench.workload import fold

OPS = ("suggest", "suggest, words only", "search, typo", "search, typo, correct=false")
TARGET_P95_MS = {"suggest": 10.0}  # issue 10
WARMUP_ITEMS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index-dir", type=Path, required=True, help="a built index root (CURRENT + generations/)"
    )
    parser.add_argument(
        "--queries",
        type=Path,
        required=True,
        help="query workload (JSONL with 'text', or one query per line)",
    )
    parser.add_argument(
        "--limit-queries",
        type=int,
        metavar="N",
        help="measure at most N items of each kind (default: every query)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed for prefixes and typos")


def typed_prefixes(queries: list[str], count: int, rng: random.Random) -> list[str]:
    """Prefixes as a reader types them: a query cut inside its last word (at least two of its
    letters kept), half of them of one word, a quarter without accents."""
    single = [q for q in queries if len(q.split()) == 1 and len(q) >= 2]
    several = [q for q in queries if len(q.split()) > 1]
    out: list[str] = []
    for n in range(count):
        pool = single if (n % 2 == 0 and single) or not several else several
        query = rng.choice(pool)
        head, _, last = query.rpartition(" ")
        cut = rng.randint(min(2, len(last)), len(last))
        prefix = f"{head} {last[:cut]}" if head else last[:cut]
        out.append(fold(prefix) if rng.random() < 0.25 else prefix)
    return out


def typo(word: str, rng: random.Random) -> str:
    """``word`` with one typo: a letter dropped, doubled, swapped with the next, or replaced."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(string.ascii_lowercase.replace(word[i], "")) + word[i + 1 :]


def typo_queries(queries: list[str], count: int, rng: random.Random) -> list[str]:
    """Workload queries with one typo in one of their words of 5 letters or more."""
    usable = [q for q in queries if any(len(w) >= 5 and w.isalpha() for w in q.split())]
    out: list[str] = []
    for _ in range(count if usable else 0):
        words = rng.choice(usable).split()
        long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        i = rng.choice(long)
        words[i] = typo(words[i], rng)
        out.append(" ".join(words))
    return out


def _measure(call: Callable[[Any], Any], items: list[Any]) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _calls(engine: Any, request: Any) -> dict[str, Callable[[Any], Any]]:
    return {
        "suggest": lambda p: engine.autocomplete(p, limit=8),
        "suggest, words only": lambda p: engine.suggest(p, limit=8),
        "search, typo": lambda q: engine.search(request(query=q)),
        "search, typo, correct=false": lambda q: engine.search(request(query=q, correct=False)),
    }


def run(args: argparse.Namespace) -> Report:
    from search.config import Settings
    from search.engine import Engine
    from search.results import SearchRequest

    queries = read_queries(args.queries)
    rng = random.Random(args.seed)
    n = min(args.limit_queries or len(queries), len(queries))
    prefixes = typed_prefixes(queries, n + WARMUP_ITEMS, rng)
    typos = typo_queries(queries, n + WARMUP_ITEMS, rng)
    items = {
        "suggest": prefixes[:n],
        "suggest, words only": prefixes[:n],
        "search, typo": typos[:n],
        "search, typo, correct=false": typos[:n],
    }
    warm = {
        "suggest": prefixes[n:],
        "suggest, words only": prefixes[n:],
        "search, typo": typos[n:],
        "search, typo, correct=false": typos[n:],
    }
    settings = Settings.from_env(index_dir=args.index_dir)
    passes: dict[str, list[dict[str, float]]] = {op: [] for op in OPS}
    corrected = 0
    for _ in range(args.repeat):
        engine = Engine(settings)
        try:
            engine.warm_up()
            calls = _calls(engine, SearchRequest)
            for op in OPS:
                _measure(calls[op], warm[op])
            for op in OPS:
                ordered = sorted(_measure(calls[op], items[op]))
                passes[op].append(
                    {
                        "p50": percentile(ordered, 50),
                        "p95": percentile(ordered, 95),
                        "p99": percentile(ordered, 99),
                    }
                )
            corrected = sum(
                engine.search(SearchRequest(query=q)).corrected_query is not None
                for q in items["search, typo"]
            )
            with_phrases = sum(
                bool(engine.autocomplete(p, limit=8).completions) for p in items["suggest"]
            )
        finally:
            engine.close()
    summary = {
        op: {stat: summarize([p[stat] for p in passes[op]]) for stat in ("p50", "p95", "p99")}
        for op in OPS
    }
    rows = []
    for op in OPS:
        cells = [op, str(len(items[op]))]
        for stat in ("p50", "p95", "p99"):
            s = summary[op][stat]
            cell = fmt_num(s["median"], 2)
            if s["n"] > 1:
                cell += f" ({fmt_num(s['min'], 2)}–{fmt_num(s['max'], 2)})"
            cells.append(cell)
        target = TARGET_P95_MS.get(op)
        p95 = summary[op]["p95"]["median"]
        cells.append(f"≤ {target:g} ms: {'yes' if p95 <= target else 'NO'}" if target else "")
        rows.append(cells)
    ratio = {
        "suggest": summary["suggest"]["p95"]["median"]
        / max(summary["suggest, words only"]["p95"]["median"], 1e-9),
        "search": summary["search, typo"]["p95"]["median"]
        / max(summary["search, typo, correct=false"]["p95"]["median"], 1e-9),
    }
    table = Table(
        f"Search box API in process, ms, {args.repeat} pass(es), each with a fresh engine: "
        "median (min–max) over passes",
        ["operation", "calls/pass", "p50", "p95", "p99", "p95 target"],
        rows,
    )
    notes = [
        f"p95 ratios in the same run: /suggest with phrases {ratio['suggest']:.2f}x the "
        f"words-only suggest; a typo search {ratio['search']:.2f}x the same query with "
        "correct=false.",
        f"{corrected} of {len(items['search, typo'])} typo queries were answered with a "
        f"corrected query; {with_phrases} of {len(items['suggest'])} prefixes got phrase "
        "completions.",
    ]
    return Report(
        kind="suggest",
        title="Search box API: /suggest and typo-tolerant search",
        description="In-process latency of Engine.autocomplete (what /suggest answers) beside "
        "the words-only suggest, and of searches with one typo, corrected or as typed.",
        params={
            "index_dir": str(args.index_dir),
            "queries": str(args.queries),
            "limit_queries": args.limit_queries,
            "repeat": args.repeat,
            "seed": args.seed,
        },
        results={
            "passes": passes,
            "summary": summary,
            "ratios_p95": ratio,
            "corrected": corrected,
            "with_phrases": with_phrases,
        },
        tables=[table],
        notes=notes,
    )
