"""``bench cluster``: nginx in front of 1, 2, 3 read replicas, and a reindex while clients search.

``scripts/cluster``'s machinery starts a publisher (its index built from ``--source``), three
replicas and nginx with the ``/ready`` checker, in a temporary folder on free loopback ports.

1. Throughput: for n = 1, 2, 3 the checker is restarted over the first n replicas only (nginx
   then routes to those), and wrk sends, through nginx, never-repeated searches (no answer from
   a cache, as ``bench http``) and ``/health``, one after the other in an order that alternates,
   for ``--seconds`` each: the ratio of the two, within the same n, is the figure that survives
   a shared machine. With ``--repeat K``, K rounds, n going up then down; medians and ranges.
2. The run of issue 13: ``--clients`` connections search through nginx for ``--run-seconds``,
   and longer if the changes take longer (in wrk runs of up to 5 s, ``bench.replication.Load``),
   while the publisher runs one full reindex of ``--source`` then ``--updates`` one-article
   ``--update``s; every answer that is not a 2xx, and every socket error, counts as failed. For
   each change: the command's time, the bytes new to its generation, and per replica when it
   served it (after the command ended) and the bytes it copied and hard-linked.

Everything shares this machine's cores (2 here): n replicas add processes, not cores.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.collection import read_queries
from bench.common import Report, Table, fmt_num, fmt_spread, summarize
from bench.http import load, uncached_paths
from bench.memory import tree_memory
from bench.replication import Change, Load, apply_change, update_files
from cluster.run import Cluster, free_base_port

REPLICAS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", type=Path, required=True, help="articles (JSONL[.gz])")
    parser.add_argument("--queries", type=Path, required=True, help="query workload")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per service")
    parser.add_argument("--seconds", type=float, default=10.0, help="each throughput run")
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="before measuring")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections")
    parser.add_argument("--run-seconds", type=float, default=60.0, help="the reindex run")
    parser.add_argument("--clients", type=int, default=8, help="clients during the reindex run")
    parser.add_argument("--updates", type=int, default=5, help="--update runs after the reindex")
    parser.add_argument("--seed", type=int, default=13)


def _route_to(cluster: Cluster, n: int) -> None:
    """Restart the checker over replicas 1..n and wait until nginx's upstream lists them."""
    cluster.start_checker([f"replica-{i}" for i in range(1, n + 1)], interval=1.0)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = cluster.upstream_file.read_text(encoding="utf-8")
        if text.count("    server ") == n and " down;" not in text:
            time.sleep(1.5)  # nginx's new workers take over; the old ones finish
            return
        time.sleep(0.2)
    raise RuntimeError(f"the checker did not route to {n} replica(s):\n{text}")


def _throughput(
    cluster: Cluster, args: argparse.Namespace, paths: dict[str, Path]
) -> dict[str, list[dict[str, Any]]]:
    """n -> one {"search", "health"} pair of wrk runs per repeat; n goes 1, 2, 3 then 3, 2, 1."""
    base = cluster.url("nginx")
    results: dict[str, list[dict[str, Any]]] = {str(n): [] for n in range(1, REPLICAS + 1)}
    rng = random.Random(args.seed)
    client = "wrk" if shutil.which("wrk") else "python"
    for repeat in range(args.repeat):
        counts = list(range(1, REPLICAS + 1))
        for n in counts if repeat % 2 == 0 else counts[::-1]:
            _route_to(cluster, n)
            print(
                f"[cluster] repeat {repeat + 1}/{args.repeat}, {n} replica(s): warm-up, then "
                "/search and /health",
                file=sys.stderr,
                flush=True,
            )
            load(client, base, paths["search"], args.concurrency, args.warmup_seconds, 1)
            order = ["search", "health"] if (n + repeat) % 2 else ["health", "search"]
            results[str(n)].append(
                {
                    what: load(
                        client,
                        base,
                        paths[what],
                        args.concurrency,
                        args.seconds,
                        1,
                        offset=rng.randrange(50_000),
                    )
                    for what in order
                }
            )
    return results


def _reindex_run(
    cluster: Cluster, args: argparse.Namespace, paths: dict[str, Path], folder: Path
) -> tuple[dict[str, Any], list[Change], str]:
    _route_to(cluster, REPLICAS)
    updates = update_files(args.source, args.updates, folder / "updates")
    replicas = list(range(1, REPLICAS + 1))
    started = time.monotonic()
    searching = Load(cluster.url("nginx"), paths["search"], args.clients, args.run_seconds)
    time.sleep(2.0)
    changes = [
        apply_change(cluster, "full reindex", ["--source", str(args.source)], replicas, 120.0)
    ]
    # The updates share what is left of the run; if the reindex took all of it, they come one
    # every 2 s, and the clients go on searching until they are done.
    left = args.run_seconds - (time.monotonic() - started) - 3.0
    pause = max(2.0, left / max(args.updates, 1) - 1.0)
    for k, path in enumerate(updates, start=1):
        time.sleep(pause)
        changes.append(
            apply_change(
                cluster, f"update {k}", ["--source", str(path), "--update"], replicas, 60.0
            )
        )
    time.sleep(1.0)
    load_result = searching.join()
    return load_result, changes, searching.client


def run(args: argparse.Namespace) -> Report:
    queries = read_queries(args.queries)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        folder = Path(tmp)
        paths = {"search": folder / "search.paths", "health": folder / "health.paths"}
        paths["search"].write_text(
            "".join(p + "\n" for p in uncached_paths(queries, 100_000, rng)), encoding="utf-8"
        )
        paths["health"].write_text("/health\n", encoding="utf-8")
        cluster = Cluster(folder / "cluster")
        print(
            "[cluster] building the publisher's index and starting 3 replicas ...", file=sys.stderr
        )
        try:
            cluster.up(
                REPLICAS, args.source, base_port=free_base_port(REPLICAS), workers=args.workers
            )
            memory = {
                p.name: tree_memory(p.pid)[:2]
                for p in cluster.state.procs()
                if p.name.startswith("replica-")
            }
            throughput = _throughput(cluster, args, paths)
            run_load, changes, client = _reindex_run(cluster, args, paths, folder)
            load_after = [round(x, 2) for x in os.getloadavg()]
        finally:
            cluster.down()
    report = _report(args, throughput, run_load, changes, client, memory)
    report.results["load_average_after"] = load_after
    report.notes.append(
        f"Load average at the end of the run: {load_after} (at its start: see the machine); "
        "other work shared the machine, so compare rows of this run with each other."
    )
    return report


def _report(
    args: argparse.Namespace,
    throughput: dict[str, Any],
    run_load: dict[str, Any],
    changes: list[Change],
    client: str,
    memory: dict[str, tuple[int, int | None]],
) -> Report:
    rows = []
    summary: dict[str, dict[str, Any]] = {}
    for n, runs in throughput.items():
        summary[n] = {
            "health_rps": summarize([r["health"]["rps"] for r in runs]),
            "search_rps": summarize([r["search"]["rps"] for r in runs]),
            "search_p50_us": summarize([r["search"]["p50_us"] for r in runs]),
            "search_p99_us": summarize([r["search"]["p99_us"] for r in runs]),
            # within a repeat: the two runs were back to back, under the same load
            "over_health": summarize(
                [r["search"]["rps"] / r["health"]["rps"] for r in runs if r["health"]["rps"]]
            ),
        }
        s = summary[n]
        failed_n = sum(r[w]["non2xx"] + r[w]["socket_errors"] for r in runs for w in r)
        rows.append(
            [
                n,
                fmt_spread(s["health_rps"], 0),
                fmt_spread(s["search_rps"], 0),
                fmt_spread(s["search_p50_us"], 1, 1e-3),
                fmt_spread(s["search_p99_us"], 1, 1e-3),
                fmt_spread(s["over_health"], 3),
                fmt_num(failed_n, 0),
            ]
        )
    one = summary["1"]["search_rps"]["median"]
    scaling = {n: s["search_rps"]["median"] / one if one else None for n, s in summary.items()}
    failed = int(run_load["non2xx"]) + int(run_load["socket_errors"])
    change_rows = []
    for c in changes:
        copied = [v for v in c.copied.values() if v is not None]
        linked = [v for v in c.linked.values() if v is not None]
        change_rows.append(
            [
                c.label,
                fmt_num(c.command_s, 2),
                fmt_num(c.new_bytes / 1024, 0),
                fmt_num(max(copied) / 1024, 0) if copied else "–",
                fmt_num(max(linked) / 1024, 0) if linked else "–",
                fmt_num(c.slowest_s, 2) if c.slowest_s is not None else "never",
            ]
        )
    mem_mib = [rss / (1 << 20) for rss, _ in memory.values()]
    notes = [
        f"Each service: gunicorn with {args.workers} sync workers; nginx 1 worker; the checker "
        "polls /ready every second. Publisher, 3 replicas, nginx, the checker and wrk (1 "
        "thread) all share this machine's cores: with 2 cores, adding replicas adds processes "
        "that compete for the same CPU, so the rows show the cost of the extra hop and of "
        "spreading, not the gain of a replica on its own machine (that gain is the ratio of "
        "one replica's /search throughput to the machine it has, times the machines).",
        f"Every replica has {args.workers} sync workers: n replicas are {args.workers}n "
        "workers behind nginx, and on 2 cores a difference between rows is as much the "
        "number of workers and the other work on the machine as the replicas. "
        "Median search throughput with n replicas ÷ with 1: "
        + ", ".join(f"{n}: {v:.2f}" for n, v in scaling.items() if v is not None)
        + ".",
        "Replica memory after start (RSS of each replica's process tree): "
        + ", ".join(f"{v:,.0f} MiB" for v in mem_mib)
        + "; the serving images are memory-mapped, so workers of one replica share them.",
        f"Reindex run: {run_load['requests']:,} requests by {args.clients} {client} clients "
        f"in {run_load['duration_us'] / 1e6:.0f} s through nginx (at least "
        f"{args.run_seconds:g} s, and until the last update was served; {run_load['runs']} wrk "
        f"runs of up to 5 s), {failed} failed ({run_load['non2xx']} non-2xx, "
        f"{run_load['socket_errors']} socket errors); p99 {run_load['p99_us'] / 1000:.0f} ms "
        "(the worst run's).",
        "Served after: seconds from the end of the publisher's command until every replica's "
        "/ready named the new generation (the target is PRESSE_REFRESH_INTERVAL + 5 s = 6 s). "
        "Copied and linked: the most any replica fetched over HTTP and hard-linked from its "
        "previous generation for that change (REPLICA.json); new: the files of the generation "
        "that its predecessor did not have (for an update, its one new segment and TOC).",
    ]
    return Report(
        kind="cluster",
        title="Cluster: nginx in front of read replicas",
        description="scripts/cluster's publisher, 3 replicas, nginx (deploy/nginx-replicas.conf) "
        "and the /ready checker on one machine: throughput through nginx with 1, 2 and 3 "
        "replicas beside /health through nginx in the same run, then a full reindex and "
        "one-article updates on the publisher while clients search.",
        params={
            "source": str(args.source),
            "queries": str(args.queries),
            "workers": args.workers,
            "seconds": args.seconds,
            "concurrency": args.concurrency,
            "run_seconds": args.run_seconds,
            "clients": args.clients,
            "updates": args.updates,
            "repeat": args.repeat,
        },
        results={
            "throughput": throughput,
            "throughput_summary": summary,
            "scaling": scaling,
            "run": run_load,
            "failed": failed,
            "changes": [c.to_dict() for c in changes],
            "replica_memory": memory,
        },
        tables=[
            Table(
                f"Through nginx, wrk {args.concurrency} connections, {args.seconds:g} s per run, "
                f"{args.repeat} run(s): median (min–max)",
                [
                    "replicas",
                    "/health req/s",
                    "/search req/s",
                    "p50, ms",
                    "p99, ms",
                    "/search ÷ /health",
                    "failed",
                ],
                rows,
            ),
            Table(
                f"Reindex and {args.updates} updates while {args.clients} clients search for "
                f"{run_load['duration_us'] / 1e6:.0f} s: {failed} failed requests",
                ["change", "command s", "new KiB", "copied KiB", "linked KiB", "served after s"],
                change_rows,
            ),
        ],
        notes=notes,
    )
