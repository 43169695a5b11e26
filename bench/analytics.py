"""``bench analytics``: what recording searches costs a reader — uncached ``/search`` throughput
with analytics on and off, in the same run (issue 12 asks for at least 0.95×).

Two gunicorn servers (``bench.http.Server``) on the same index, one with ``PRESSE_ANALYTICS=on``
(a fresh SQLite file in a temporary folder), one with ``off``; only one is under load at a time,
in an order that alternates from one repeat to the next, each after the same warm-up. The load
is the never-repeated ``/search`` requests of ``bench http`` (each a different cache key), so
every request runs a real search and queues a real event. The ratio on/off is taken within
each repeat; the median is the figure. After a graceful stop, the rows in the file are counted
against the searches answered (what the queue dropped, if anything, shows there).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.collection import read_queries
from bench.common import Report, Table, fmt_num, summarize
from bench.http import Server, load, uncached_paths

TARGET_RATIO = 0.95


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, required=True, help="a built index root")
    parser.add_argument(
        "--queries",
        type=Path,
        required=True,
        help="query workload (JSONL with 'text', or one query per line)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections (default 4)")
    parser.add_argument("--seconds", type=float, default=10.0, help="each run (default 10)")
    parser.add_argument("--warmup-seconds", type=float, default=4.0)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=12)


def record_cost_us(folder: Path, events: int = 20_000) -> dict[str, Any]:
    """In-process cost, per search, of what the resource adds: building the event and queueing
    it (the writer thread running meanwhile), in microseconds; medians of 5 rounds."""
    import time

    from search.analytics import Recorder, new_query_id, search_event

    answer = {"total": 12, "took_ms": 8.5, "corrected_query": None}
    recorder = Recorder(folder / "cost.sqlite3", queue_size=events * 2, retention_days=90)
    rounds = []
    try:
        for _ in range(5):
            started = time.perf_counter()
            for n in range(events // 5):
                recorder.record(
                    search_event(
                        new_query_id(), f"taux directeur {n}", {"section": ["Économie"]}, 1, answer
                    )
                )
            rounds.append((time.perf_counter() - started) / (events // 5) * 1e6)
        recorder.flush(60)
    finally:
        recorder.close()
    return {
        "per_search_us": summarize(rounds),
        "written": recorder.stats.written,
        "dropped": recorder.stats.dropped,
    }


def wsgi_ratio(
    index_dir: Path, paths: list[str], folder: Path, rounds: int, per_round: int = 40
) -> dict[str, Any]:
    """Uncached searches through the app in this process (no HTTP, no other process), analytics
    on and off, alternating every ``per_round`` requests: seconds per search of each round and
    the on/off throughput ratio of each pair of rounds."""
    import time

    from falcon.testing import TestClient

    from search.app import create_app
    from search.config import Settings
    from search.engine import Engine
    from search.newsroom import Newsroom

    apps: dict[str, tuple[TestClient, Engine, Newsroom]] = {}
    for name, enabled in (("on", True), ("off", False)):
        settings = Settings(
            index_dir=index_dir,
            analytics_enabled=enabled,
            analytics_db=folder / f"wsgi-{name}.sqlite3",
        )
        engine, newsroom = Engine(settings), Newsroom(settings)
        engine.warm_up()
        apps[name] = (TestClient(create_app(settings, engine, newsroom)), engine, newsroom)
    per_search: dict[str, list[float]] = {"on": [], "off": []}
    cursor = 0
    try:
        for name in apps:  # warm-up: posting lists into each engine's cache
            for path in paths[:per_round]:
                apps[name][0].simulate_get(path)
        cursor = per_round
        for round_ in range(rounds):
            for name in ("on", "off") if round_ % 2 == 0 else ("off", "on"):
                chunk = paths[cursor : cursor + per_round]
                cursor += per_round
                started = time.perf_counter()
                for path in chunk:
                    assert apps[name][0].simulate_get(path).status_code == 200
                per_search[name].append((time.perf_counter() - started) / len(chunk))
    finally:
        for _, engine, newsroom in apps.values():
            newsroom.close()
            engine.close()
    ratios = [off / on for on, off in zip(per_search["on"], per_search["off"], strict=True)]
    return {
        "ratio": summarize(ratios),
        "ratios": ratios,
        "ms_per_search": {k: summarize([t * 1e3 for t in v]) for k, v in per_search.items()},
    }


def _rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM searches").fetchone()[0])
    finally:
        conn.close()


def run(args: argparse.Namespace) -> Report:
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    queries = read_queries(args.queries)
    rng = random.Random(args.seed)
    count = max(20_000, int(args.seconds * 1_000 * (args.repeat * 2 + 2)))
    runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        folder = Path(tmp)
        paths = folder / "uncached.paths"
        paths.write_text(
            "".join(p + "\n" for p in uncached_paths(queries, count, rng)), encoding="utf-8"
        )
        warm = folder / "warm.paths"
        warm.write_text("".join(f"/search?q={quote(q)}\n" for q in queries), encoding="utf-8")
        db = folder / "analytics.sqlite3"
        servers = {
            "on": Server(
                args.index_dir,
                args.workers,
                folder / "on.log",
                env={"PRESSE_ANALYTICS": "on", "PRESSE_ANALYTICS_DB": str(db)},
            ),
            "off": Server(
                args.index_dir,
                args.workers,
                folder / "off.log",
                env={
                    "PRESSE_ANALYTICS": "off",
                    "PRESSE_ANALYTICS_DB": str(folder / "unused.sqlite3"),
                },
            ),
        }
        try:
            for name, server in servers.items():
                server.wait_ready()
                print(f"[analytics] warming up analytics {name} ...", file=sys.stderr, flush=True)
                load(
                    client,
                    server.base,
                    warm,
                    args.concurrency,
                    args.warmup_seconds,
                    args.wrk_threads,
                )
            for repeat in range(args.repeat):
                order = ["on", "off"] if repeat % 2 == 0 else ["off", "on"]
                for name in order:
                    print(
                        f"[analytics] repeat {repeat + 1}/{args.repeat}: analytics {name}, "
                        f"{args.seconds:g} s",
                        file=sys.stderr,
                        flush=True,
                    )
                    runs[name].append(
                        load(
                            client,
                            servers[name].base,
                            paths,
                            args.concurrency,
                            args.seconds,
                            args.wrk_threads,
                            offset=rng.randrange(count),
                        )
                    )
            tracebacks = sum(s.log_tail(100_000).count("Traceback") for s in servers.values())
        finally:
            for server in servers.values():
                server.stop()  # SIGTERM: the workers write their queues on the way out
        recorded = _rows(db) if db.exists() else 0
        cost = record_cost_us(folder)
        print("[analytics] in process (WSGI, no HTTP) ...", file=sys.stderr, flush=True)
        in_process = wsgi_ratio(
            args.index_dir,
            uncached_paths(queries, 40 * (2 * args.repeat * 4 + 2), rng),
            folder,
            rounds=args.repeat * 4,
        )
    ratios = [
        on["rps"] / off["rps"]
        for on, off in zip(runs["on"], runs["off"], strict=True)
        if off["rps"]
    ]
    ratio = summarize(ratios)
    answered = sum(r["requests"] - r["non2xx"] for r in runs["on"])
    rows = []
    for name in ("off", "on"):
        rps = summarize([r["rps"] for r in runs[name]])
        rows.append(
            [
                f"analytics {name}",
                fmt_num(rps["median"], 0),
                f"{fmt_num(rps['min'], 0)}–{fmt_num(rps['max'], 0)}",
                fmt_num(summarize([r["p50_us"] for r in runs[name]])["median"] / 1e3, 1),
                fmt_num(summarize([r["p99_us"] for r in runs[name]])["median"] / 1e3, 1),
                fmt_num(sum(r["non2xx"] for r in runs[name]), 0),
            ]
        )
    verdict = ">=" if ratio["median"] is not None and ratio["median"] >= TARGET_RATIO else "BELOW"
    table = Table(
        f"Uncached /search, {args.workers} workers, c={args.concurrency}, {client}, "
        f"{args.seconds:g} s x {args.repeat}: median (min–max)",
        ["server", "requests/s", "range", "p50, ms", "p99, ms", "non-2xx"],
        rows,
    )
    notes = [
        f"Throughput with analytics on / off, per repeat: "
        f"{', '.join(f'{r:.3f}' for r in ratios)}; median {ratio['median']:.3f} "
        f"({verdict} {TARGET_RATIO}).",
        f"Searches answered with analytics on (after the warm-up): {answered:,}; rows in the "
        f"file after a graceful stop, warm-up included: {recorded:,}.",
        f"{tracebacks} tracebacks in the servers' logs. Client and servers share the machine's "
        "cores; only one server is under load at a time.",
        f"In process, what a search pays for analytics (building the event, queueing it, the "
        f"writer thread running): {cost['per_search_us']['median']:.1f} µs per search (median "
        f"of 5 rounds of 4,000; {cost['written']:,} written, {cost['dropped']} dropped).",
        f"In process, through the app (falcon.testing, no HTTP, no other process), never-"
        f"repeated searches, analytics on and off alternating every 40 searches "
        f"({args.repeat * 4} pairs): throughput on/off median "
        f"{in_process['ratio']['median']:.3f} (min {in_process['ratio']['min']:.3f}, max "
        f"{in_process['ratio']['max']:.3f}); ms per search: on "
        f"{in_process['ms_per_search']['on']['median']:.1f}, off "
        f"{in_process['ms_per_search']['off']['median']:.1f}.",
    ]
    return Report(
        kind="analytics",
        title="Analytics: uncached /search throughput, on vs off",
        description="Two gunicorn servers on one index, analytics on and off, loaded in turn "
        "with never-repeated searches.",
        params={
            "index_dir": str(args.index_dir),
            "queries": str(args.queries),
            "workers": args.workers,
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup_seconds,
            "client": client,
            "repeat": args.repeat,
            "seed": args.seed,
        },
        results={
            "runs": runs,
            "ratios": ratios,
            "ratio": ratio,
            "answered_on": answered,
            "rows_recorded": recorded,
            "tracebacks": tracebacks,
            "record_cost": cost,
            "in_process": in_process,
        },
        tables=[table],
        notes=notes,
    )
