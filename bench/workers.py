"""``bench workers``: gunicorn's ``sync`` against ``gthread`` workers, exposed directly to slow
clients and to normal load, and ``sync`` behind nginx (``deploy/nginx.conf``), in one run.

Each scenario starts its own gunicorn (``bench.http.Server``, ``gunicorn.conf.py`` with ``-k``
and ``--threads`` on the command line) on the given index, so a worker still stuck with a slow
client from one scenario cannot slow the next:

- no attack: a normal reader (one search at a time, ``bench.slow_clients.reader``) for
  ``--seconds``, then ``--concurrency`` clients as fast as they can (``bench.http.load``, never
  repeated requests, so no answer comes from a cache): requests/s and p50/p99;
- ``--slow`` connections sending one header byte per second, and the same normal reader
  meanwhile: how many of its requests were answered, and their p95 (a request that got no
  answer within ``--reader-timeout`` counts as that long).

The reader and the slow clients run in this process; the load client in its own processes. They
share the machine's cores with the server: compare rows of one run, not runs of two machines.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.common import Report, Table
from bench.http import Server, add_server_arguments, load, uncached_paths
from bench.proxy import Nginx
from bench.slow_clients import Answer, SlowClients, p95_ms, reader
from cluster.nginx import NGINX

# Words of everyday news searches, found in any French news archive.
QUERIES = [
    "maroc",
    "gouvernement",
    "économie",
    "football",
    "élections",
    "inflation taux",
    "banque centrale",
    "santé publique",
    "tourisme",
    "sécurité routière",
    "école",
    "président",
    "justice",
    "climat",
    "entreprises",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_server_arguments(parser)
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--slow", default="5,50", help="slow connections per attack scenario (default 5,50)"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="length of each measurement (default 10)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="clients of the load run")
    parser.add_argument(
        "--reader-timeout",
        type=float,
        default=10.0,
        help="seconds the reader waits for an answer (default 10)",
    )


@dataclass(frozen=True)
class Scenario:
    worker_class: str
    slow: int
    via_nginx: bool = False

    @property
    def label(self) -> str:
        where = "behind nginx" if self.via_nginx else "direct"
        attack = f"{self.slow} slow clients" if self.slow else "no attack"
        return f"{self.worker_class}, {where}, {attack}"


def scenarios(slow_counts: list[int]) -> list[Scenario]:
    found = [Scenario("sync", 0), Scenario("gthread", 0)]
    for count in slow_counts:
        found += [Scenario("sync", count), Scenario("gthread", count)]
    if NGINX.exists():
        found.append(Scenario("sync", max(slow_counts), via_nginx=True))
    return found


def _reader_figures(answers: list[Answer]) -> dict[str, Any]:
    ok = [a for a in answers if a.status == 200]
    return {
        "sent": len(answers),
        "answered": len(ok),
        "p50_ms": statistics.median(a.seconds for a in answers) * 1000 if answers else None,
        "p95_ms": p95_ms(answers),
        "worst_ms": max((a.seconds for a in answers), default=0.0) * 1000,
    }


def measure(
    scenario: Scenario,
    args: argparse.Namespace,
    folder: Path,
    paths_file: Path,
    reader_paths: list[str],
    repeat: int,
) -> dict[str, Any]:
    extra = ["-k", scenario.worker_class]
    if scenario.worker_class == "gthread":
        extra += ["--threads", str(args.threads)]
    server = Server(args.index_dir, args.workers, folder / "gunicorn.log", extra_args=extra)
    nginx: Nginx | None = None
    try:
        server.wait_ready()
        base, port = server.base, server.port
        if scenario.via_nginx:
            nginx = Nginx(f"127.0.0.1:{server.port}", folder / "nginx")
            nginx.wait_ready()
            base, port = nginx.base, nginx.port
        reader(base, reader_paths, 2.0)  # warm-up: posting lists into the workers' caches
        result: dict[str, Any] = {"scenario": scenario.label}
        slow = SlowClients("127.0.0.1", port, scenario.slow) if scenario.slow else None
        if slow is not None:
            slow.start()
        try:
            result["reader"] = _reader_figures(
                reader(base, reader_paths, args.seconds, timeout=args.reader_timeout)
            )
        finally:
            if slow is not None:
                result["slow_still_open"] = slow.stop()
        if not scenario.slow:
            runs = [
                load("python", base, paths_file, args.concurrency, args.seconds, 1, offset=k * 5000)
                for k in range(repeat)
            ]
            result["load"] = {
                "rps": statistics.median(r["rps"] for r in runs),
                "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
                "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
                "failed": sum(r["non2xx"] + r["socket_errors"] for r in runs),
                "runs": len(runs),
            }
        return result
    finally:
        if nginx is not None:
            nginx.stop()
        server.stop()


def _cell(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def run(args: argparse.Namespace) -> Report:
    slow_counts = [int(c) for c in str(args.slow).split(",") if c.strip()]
    rng = random.Random(14)
    reader_paths = [f"/search?q={quote(q)}" for q in QUERIES]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        paths_file = Path(tmp) / "search.paths"
        paths_file.write_text(
            "".join(p + "\n" for p in uncached_paths(QUERIES, 20_000, rng)), encoding="utf-8"
        )
        for k, scenario in enumerate(scenarios(slow_counts)):
            print(f"[workers] {scenario.label} ...", file=sys.stderr, flush=True)
            folder = Path(tmp) / f"s{k}"
            folder.mkdir()
            results.append(measure(scenario, args, folder, paths_file, reader_paths, args.repeat))
    reader_rows = [
        [
            r["scenario"],
            str(r["reader"]["sent"]),
            str(r["reader"]["answered"]),
            _cell(r["reader"]["p50_ms"]),
            _cell(r["reader"]["p95_ms"]),
            _cell(r["reader"]["worst_ms"]),
        ]
        for r in results
    ]
    load_rows = [
        [
            r["scenario"],
            _cell(r["load"]["rps"], 1),
            _cell(r["load"]["p50_ms"], 1),
            _cell(r["load"]["p99_ms"], 1),
            str(r["load"]["failed"]),
        ]
        for r in results
        if "load" in r
    ]
    return Report(
        kind="workers",
        title="gunicorn workers: sync vs gthread, slow clients and throughput",
        description=__doc__.split("\n\n")[0],
        params={
            "index_dir": str(args.index_dir),
            "workers": args.workers,
            "threads": args.threads,
            "slow": slow_counts,
            "seconds": args.seconds,
            "concurrency": args.concurrency,
            "reader_timeout_s": args.reader_timeout,
        },
        results={"scenarios": results},
        tables=[
            Table(
                "A normal reader (one search at a time, 0.1 s apart)",
                ["scenario", "sent", "answered 200", "p50 ms", "p95 ms", "worst ms"],
                reader_rows,
            ),
            Table(
                f"Throughput, {args.concurrency} clients, never-repeated searches",
                ["scenario", "requests/s", "p50 ms", "p99 ms", "failed"],
                load_rows,
            ),
        ],
        notes=[
            f"a reader's request unanswered after {args.reader_timeout:g} s counts as that "
            "long; slow clients send one header byte per second each"
        ],
    )
