"""The ``scripts/bench`` command line: sub-commands, the global options, printing and saving.

Every sub-command returns a ``bench.common.Report``; this module prints its tables, and with
``--out FILE`` writes it as JSON (with the command line, the machine, the date) and draws its
figures as PNGs next to it (``<stem>-<name>.png``). ``--out`` of ``queries`` is the workload
file it generates (its report goes beside it, ``<stem>.json``), and ``--out`` of ``report`` the
page it writes (default docs/benchmarks.md).
Exit status: 0 done, 1 the benchmark failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import (
    analytics,
    cluster,
    hostile,
    http,
    indexing,
    keystrokes,
    latency,
    relevance,
    report,
    scale,
    similar,
    suggest,
    workers,
    workload,
)
from bench.collection import CollectionError
from bench.common import Report, machine

COMMANDS = {
    "relevance": (relevance, "nDCG@10, MRR@10, Recall@100, MAP@100 on an evaluation collection"),
    "index": (indexing, "full build: docs/s, wall time, peak RSS, size, beside plain Whoosh"),
    "queries": (workload, "generate a workload of short news queries from corpus titles"),
    "query": (latency, "in-process latency p50/p95/p99 of search, similar and suggest"),
    "http": (http, "gunicorn under load (wrk): requests/s, p50/p99, beside /health"),
    "typing": (keystrokes, "keystroke to rendered results on the search page, headless Chromium"),
    "similar": (similar, "similar articles: shared sections/tags, same-story rate, vs more_like"),
    "scale": (scale, "the corpus xK: build, worker memory, latency, throughput, update"),
    "workers": (workers, "gunicorn sync vs gthread workers: slow clients, throughput, nginx"),
    "hostile": (hostile, "costliest queries' wall time; a normal reader under 5 attackers"),
    "analytics": (analytics, "uncached /search throughput with analytics on vs off (>= 0.95x)"),
    "suggest": (suggest, "search box API: /suggest p50/p95/p99, and typo-tolerant search"),
    "cluster": (cluster, "nginx over 1-3 replicas vs /health; reindex + updates under 8 clients"),
    "report": (report, "regenerate docs/benchmarks.md from the JSON reports"),
}

EXAMPLES = """\
examples:
  scripts/bench relevance --collection ../shared/eval/piaf --baseline \\
      --out docs/bench-results/relevance.json
  scripts/bench index --corpus ../shared/corpus/orangesum-fr-news.jsonl.gz \\
      --out docs/bench-results/index.json
  scripts/bench queries --corpus ../shared/corpus/orangesum-fr-news.jsonl.gz \\
      --out docs/bench-results/queries.jsonl
  scripts/bench --repeat 3 query --corpus ../shared/corpus/orangesum-fr-news.jsonl.gz \\
      --queries docs/bench-results/queries.jsonl --out docs/bench-results/query.json
  scripts/bench --repeat 3 typing --url http://127.0.0.1:8000 --count 20 \\
      --out docs/bench-results/typing.json
  scripts/bench http --index-dir var/index --queries docs/bench-results/queries.jsonl \\
      --concurrency 8 --seconds 20 --out docs/bench-results/http.json
  scripts/bench scale --factor 4 --corpus ../shared/corpus/orangesum-fr-news.jsonl.gz \\
      --queries docs/bench-results/queries.jsonl --out docs/bench-results/scale-x4.json
  scripts/bench workers --index-dir var/index --out docs/bench-results/workers.json
  scripts/bench hostile --index-dir var/index --out docs/bench-results/hostile.json
  scripts/bench --repeat 5 analytics --index-dir var/index \\
      --queries docs/bench-results/queries.jsonl --out docs/bench-results/analytics.json
  scripts/bench --repeat 3 suggest --index-dir var/index \\
      --queries docs/bench-results/queries.jsonl --out docs/bench-results/suggest.json
  scripts/bench cluster --source var/slice-5k.jsonl --queries docs/bench-results/queries.jsonl \\
      --out docs/bench-results/cluster.json
  scripts/bench report
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench",
        description="Benchmarks and relevance evaluation of presse-search.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Global options, accepted before or after the sub-command.
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="K",
        help="run the measurement K times; report the median and spread",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the JSON report there (and PNG figures next to it)",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--repeat",
        type=int,
        default=argparse.SUPPRESS,
        metavar="K",
        help="run the measurement K times; report the median and spread",
    )
    common.add_argument(
        "--out",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="write the JSON report there (and PNG figures next to it)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        child = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        module.add_arguments(child)
    return parser


def _figures(report_obj: Report, out: Path) -> list[str]:
    if not report_obj.plots:
        return []
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(
            "bench: matplotlib is not installed (pip install -e '.[bench]'): no figures",
            file=sys.stderr,
        )
        return []
    names = []
    for suffix, draw in report_obj.plots.items():
        path = out.with_name(f"{out.stem}-{suffix}.png")
        draw(path)
        names.append(path.name)
    return names


def save(
    report_obj: Report, out: Path, argv: Sequence[str], seconds: float, host: dict[str, Any]
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "kind": report_obj.kind,
        "title": report_obj.title,
        "description": report_obj.description,
        "command": "scripts/bench " + shlex.join(argv),
        "machine": host,
        "seconds": round(seconds, 1),
        "params": report_obj.params,
        "results": report_obj.results,
        "tables": [t.to_dict() for t in report_obj.tables],
        "notes": report_obj.notes,
        "figures": _figures(report_obj, out),
    }
    out.write_text(
        json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.repeat < 1:
        print("bench: error: --repeat must be at least 1", file=sys.stderr)
        return 2
    module, _ = COMMANDS[args.command]
    host = machine()  # before the run: the load average then is what the run competed with
    started = time.monotonic()
    try:
        result = module.run(args)
    except (CollectionError, OSError, RuntimeError) as exc:
        print(f"bench {args.command}: error: {exc}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - started
    print(result.to_text())
    out = args.out
    if args.command == "queries":  # --out is the workload; its report goes beside it
        out = out.with_name(
            f"{out.stem}.json" if out.suffix != ".json" else f"{out.stem}-report.json"
        )
    if out is not None and args.command != "report":
        save(result, out, argv, seconds, host)
        print(f"\nreport written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
