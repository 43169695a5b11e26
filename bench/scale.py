"""``bench scale --factor K``: the service on the corpus ×K, as an archive grows.

It writes the corpus K times over (copy k > 0 of an article gets the id ``<id>~x<k>``), then:

1. **build**: our full build (all cores), the same with one process, and plain Whoosh
   (``bench.baseline``), each in a child process, in the same run (``--skip-baselines`` builds
   ours only);
2. **in-process**: opening the generation (first open, checksums included; then again, as a
   worker does for the files it has already checked), and ``search`` (10 hits, snippets, facets)
   and ``similar`` latency over distinct requests;
3. **HTTP**: gunicorn as deployed, ``/search`` latency for one client over distinct requests,
   then each worker's memory after them (USS: its own pages; PSS: its share of the mapped
   files), and uncached throughput beside ``/health`` in the same wrk run (every request a
   distinct cache key: see ``bench.http.uncached_paths``);
4. **update**: ``scripts/reindex --update`` of one article while a client searches: the command's
   time, the time until every worker serves the article (50 answers in a row find it), and the
   slowest search meanwhile; then ``--rollback``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from bench.collection import read_queries
from bench.common import REPO, Report, Table, fmt_num, percentile
from bench.http import Server, load, uncached_paths
from bench.indexing import build_in_child
from bench.memory import tree_pids

# gunicorn.conf.py's post_worker_init logs "worker <pid>: warmed up on generation … in <N> ms".
_WARMED_IN = re.compile(r"warmed up on generation .* in (\d+) ms")
DISTINCT_SEARCHES = 1000
SIMILAR_REQUESTS = 300
ALL_SERVING_IN_A_ROW = 50


def _span(values: list[float]) -> str:
    return f"{fmt_num(min(values), 0)} / {fmt_num(max(values), 0)}" if values else "—"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, required=True, help="JSON Lines corpus (.gz ok)")
    parser.add_argument("--factor", type=int, default=1, help="copies of the corpus (default 1)")
    parser.add_argument("--queries", type=Path, required=True, help="query workload (JSONL)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the setting)")
    parser.add_argument("--seconds", type=float, default=15.0, help="each wrk run (default 15)")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument(
        "--skip-baselines",
        action="store_true",
        help="build ours only (no single-process and plain Whoosh builds)",
    )
    parser.add_argument(
        "--builds-only",
        action="store_true",
        help="stop after the builds (no serving measures): to compare build speeds",
    )
    parser.add_argument(
        "--work-dir", type=Path, help="keep the corpus and index there (reused when present)"
    )
    parser.add_argument("--seed", type=int, default=7)


def multiply(source: Path, factor: int, target: Path) -> int:
    """Write ``source`` ``factor`` times into ``target``, ids made unique; the record count."""
    opener: Any = gzip.open if source.suffix == ".gz" else open
    count = 0
    with opener(source, "rt", encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    with target.open("w", encoding="utf-8") as out:
        for copy in range(factor):
            for line in lines:
                if copy:
                    record = json.loads(line)
                    record["id"] = f"{record['id']}~x{copy}"
                    line = json.dumps(record, ensure_ascii=False) + "\n"
                out.write(line)
                count += 1
    return count


def _stats(times_ms: list[float]) -> dict[str, float]:
    ordered = sorted(times_ms)
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "max": ordered[-1],
        "n": len(ordered),
    }


def _memory(pid: int) -> dict[str, int]:
    """USS (private pages) and PSS of one process, in bytes."""
    found = {"uss": 0, "pss": 0, "rss": 0}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Private_Clean", "Private_Dirty"):
            found["uss"] += int(rest.split()[0]) * 1024
        elif name == "Pss":
            found["pss"] = int(rest.split()[0]) * 1024
        elif name == "Rss":
            found["rss"] = int(rest.split()[0]) * 1024
    return found


def _get_ms(url: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.loads(response.read())
    return (time.perf_counter() - started) * 1000.0, body


def in_process(root: Path, queries: list[str], rng: random.Random) -> dict[str, Any]:
    from index.generations import IndexRoot
    from search.config import Settings
    from search.engine import Engine
    from search.lifecycle import Served
    from search.ranking import RankingConfig
    from search.results import SearchRequest

    generation = IndexRoot(root).current()
    opens = []
    for _ in range(3):  # the first also checks every file; the others as a worker re-opening
        started = time.perf_counter()
        Served(generation, RankingConfig()).close()
        opens.append((time.perf_counter() - started) * 1000.0)
    engine = Engine(Settings.from_env(index_dir=root, refresh_interval_s=3600.0))
    engine.warm_up()
    paths = uncached_paths(queries, DISTINCT_SEARCHES + 100, rng)
    requests = []
    for path in paths:
        text, _, day = path.removeprefix("/search?q=").partition("&from=")
        requests.append(SearchRequest(query=unquote(text), date_from=date.fromisoformat(day)))
    for request in requests[:100]:  # warm-up, not measured
        engine.search(request)
    search_ms = []
    for request in requests[100:]:
        started = time.perf_counter()
        engine.search(request)
        search_ms.append((time.perf_counter() - started) * 1000.0)
    reader = engine.lifecycle.current().reader
    picked = rng.sample(range(reader.n_docs), min(SIMILAR_REQUESTS, reader.n_docs))
    ids = [reader.article_id(d) for d in picked]
    similar_ms = []
    for article_id in ids:
        started = time.perf_counter()
        engine.similar(article_id)
        similar_ms.append((time.perf_counter() - started) * 1000.0)
    engine.close()
    return {
        "open_first_ms": opens[0],
        "open_again_ms": statistics.median(opens[1:]),
        "search": _stats(search_ms),
        "similar": _stats(similar_ms),
    }


def over_http(
    root: Path, queries: list[str], args: argparse.Namespace, tmp: Path, rng: random.Random
) -> dict[str, Any]:
    server = Server(root, args.workers, tmp / "gunicorn.log")
    try:
        ready_s = server.wait_ready()
        time.sleep(1.0)
        workers = [p for p in tree_pids(server.process.pid) if p != server.process.pid]
        opened = [line for line in server.log_tail(200).splitlines() if "warmed up" in line]
        paths = uncached_paths(queries, DISTINCT_SEARCHES + 50, rng)
        latencies = [_get_ms(server.base + p)[0] for p in paths]
        memory = {str(pid): _memory(pid) for pid in workers}
        files = {name: tmp / f"{name}.paths" for name in ("health", "uncached")}
        files["health"].write_text("/health\n", encoding="utf-8")
        files["uncached"].write_text(
            "".join(p + "\n" for p in uncached_paths(queries, 200_000, rng)), encoding="utf-8"
        )
        client = "wrk" if shutil.which("wrk") else "python"
        runs: dict[str, list[float]] = {"health": [], "uncached": []}
        for repeat in range(args.repeat):
            for name in ("health", "uncached") if repeat % 2 == 0 else ("uncached", "health"):
                result = load(
                    client,
                    server.base,
                    files[name],
                    args.concurrency,
                    args.seconds,
                    2,
                    offset=rng.randrange(150_000),
                )
                runs[name].append(result["rps"])
        ratios = [u / h for u, h in zip(runs["uncached"], runs["health"], strict=True)]
        update = _update(server, root, tmp)
        return {
            "ready_s": ready_s,
            "workers": len(workers),
            "open_log": opened,
            "warm_up_ms": [float(m) for line in opened for m in _WARMED_IN.findall(line)],
            "search": _stats(latencies[50:]),
            "memory": memory,
            "client": client,
            "rps": runs,
            "ratio": statistics.median(ratios),
            "update": update,
        }
    finally:
        server.stop()


def _update(server: Server, root: Path, tmp: Path) -> dict[str, Any]:
    word = "zqxbenchscale"
    source = tmp / "one.jsonl"
    source.write_text(
        json.dumps(
            {
                "id": "bench-scale-update",
                "title": f"Article de mise à jour {word}",
                "body": f"Un article publié pendant la mesure, avec le mot {word}.",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    stop = threading.Event()
    during: list[float] = []

    def reader() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            during.append(
                _get_ms(
                    f"{server.base}/search?q=maroc&from=1000-01-{1 + n % 28:02d}&page={1 + n % 3}"
                )[0]
            )

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "index.cli",
            "--update",
            "--quiet",
            "--source",
            str(source),
            "--index-dir",
            str(root),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    command_s = time.monotonic() - started
    if done.returncode:
        stop.set()
        raise RuntimeError(f"the update failed: {done.stderr[-500:]}")
    in_a_row = 0
    while in_a_row < ALL_SERVING_IN_A_ROW and time.monotonic() - started < 120:
        # A distinct page size each time: never an answer from a worker's cache.
        _, body = _get_ms(f"{server.base}/search?q={quote(word)}&per_page={1 + in_a_row}")
        in_a_row = in_a_row + 1 if body["total"] == 1 else 0
    all_serving_s = time.monotonic() - started
    switches = [
        line
        for line in server.log_tail(400).splitlines()
        if "serving generation" in line or "refused" in line
    ]
    time.sleep(0.5)
    stop.set()
    thread.join()
    subprocess.run(
        [sys.executable, "-m", "index.cli", "--rollback", "--quiet", "--index-dir", str(root)],
        cwd=REPO,
        check=True,
    )
    return {
        "command_s": command_s,
        "all_serving_s": all_serving_s,
        "all_serving_after_command_s": all_serving_s - command_s,
        "slowest_search_ms": max(during, default=0.0),
        "searches_meanwhile": len(during),
        "switch_log": switches[-12:],
    }


def run(args: argparse.Namespace) -> Report:
    queries = read_queries(args.queries)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        work = args.work_dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        corpus = work / f"corpus-x{args.factor}.jsonl"
        if not corpus.exists():
            print(f"[scale] writing the corpus x{args.factor} ...", file=sys.stderr, flush=True)
            multiply(args.corpus, args.factor, corpus)
        builds: dict[str, Any] = {}
        root = work / f"index-x{args.factor}"
        systems = ["ours"] if args.skip_baselines else ["ours", "ours-1", "baseline"]
        for system in systems:
            if system == "ours" and (root / "CURRENT").exists():
                continue
            print(f"[scale] building {system} ...", file=sys.stderr, flush=True)
            folder = root if system == "ours" else work / f"build-{system}"
            builds[system] = build_in_child(system, corpus, folder)
            builds[system].pop("rss_timeline", None)
            if folder != root:
                shutil.rmtree(folder, ignore_errors=True)
            print(
                f"[scale]   {system}: {builds[system]['docs_per_s']:,.0f} docs/s",
                file=sys.stderr,
                flush=True,
            )
        if args.builds_only:
            return _report(args, builds, {}, {})
        print("[scale] in-process latency ...", file=sys.stderr, flush=True)
        local = in_process(root, queries, rng)
        print("[scale] over HTTP ...", file=sys.stderr, flush=True)
        http = over_http(root, queries, args, Path(scratch), rng)
    return _report(args, builds, local, http)


def _report(
    args: argparse.Namespace, builds: dict[str, Any], local: dict[str, Any], http: dict[str, Any]
) -> Report:
    mib = 1 << 20
    tables = []
    if builds:
        ours = builds.get("ours", {}).get("docs_per_s")
        rows = [
            [
                name,
                fmt_num(b["docs_per_s"], 0),
                fmt_num(b["seconds"], 1),
                fmt_num((b.get("peak_rss_bytes") or 0) / mib, 0),
                fmt_num(ours / b["docs_per_s"], 2) if ours and b["docs_per_s"] else "—",
            ]
            for name, b in builds.items()
        ]
        tables.append(
            Table(
                f"Full build, corpus x{args.factor}",
                ["build", "docs/s", "seconds", "peak RSS MiB", "ours ÷ this"],
                rows,
            )
        )
    if not http:  # --builds-only
        return Report(
            kind="scale",
            title=f"Scale: the corpus x{args.factor}, builds only",
            description="Full builds of the corpus copied K times (bench/scale.py).",
            params={"factor": args.factor, "builds_only": True},
            results={"builds": builds},
            tables=tables,
        )
    memory = http["memory"].values()
    tables.append(
        Table(
            f"Serving, corpus x{args.factor}",
            ["measure", "value"],
            [
                [
                    "open a generation, first (checksums) / again, ms",
                    f"{fmt_num(local['open_first_ms'], 0)} / {fmt_num(local['open_again_ms'], 1)}",
                ],
                [
                    "a worker's start (warm-up, opening included), min / max ms",
                    _span(http.get("warm_up_ms", [])),
                ],
                [
                    "in-process search p50 / p95 ms",
                    f"{fmt_num(local['search']['p50'])} / {fmt_num(local['search']['p95'])}",
                ],
                [
                    "in-process similar p50 / p95 ms",
                    f"{fmt_num(local['similar']['p50'])} / {fmt_num(local['similar']['p95'])}",
                ],
                [
                    "HTTP search p50 / p95 ms (1 client)",
                    f"{fmt_num(http['search']['p50'])} / {fmt_num(http['search']['p95'])}",
                ],
                [
                    f"worker USS after {DISTINCT_SEARCHES} searches, max MiB",
                    fmt_num(max(m["uss"] for m in memory) / mib, 0),
                ],
                ["worker PSS, max MiB", fmt_num(max(m["pss"] for m in memory) / mib, 0)],
                ["worker RSS, max MiB", fmt_num(max(m["rss"] for m in memory) / mib, 0)],
                [
                    f"uncached /search ÷ /health ({http['client']}, {args.concurrency} conn.)",
                    fmt_num(http["ratio"], 3),
                ],
                ["update of one article: command s", fmt_num(http["update"]["command_s"], 2)],
                [
                    "  every worker serving it, s after the command",
                    fmt_num(http["update"]["all_serving_after_command_s"], 2),
                ],
                ["  slowest search meanwhile, ms", fmt_num(http["update"]["slowest_search_ms"], 0)],
            ],
        )
    )
    return Report(
        kind="scale",
        title=f"Scale: the corpus x{args.factor}",
        description="Build, memory, latency, throughput and update visibility on the corpus "
        "copied K times (bench/scale.py).",
        params={
            "factor": args.factor,
            "workers": http["workers"],
            "seconds": args.seconds,
            "concurrency": args.concurrency,
            "repeat": args.repeat,
        },
        results={"builds": builds, "in_process": local, "http": http},
        tables=tables,
    )
