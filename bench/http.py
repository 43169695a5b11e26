"""``bench http``: the real service under load — gunicorn started for real, driven from outside.

The server is ``gunicorn -c gunicorn.conf.py`` from the repository, exactly as deployed, with
``PRESSE_INDEX_DIR``, ``PRESSE_BIND`` (a free loopback port) and ``PRESSE_WORKERS`` in its
environment, in a process group of its own: whatever happens, the ``finally`` kills that group.
The load comes from another process: Debian's ``wrk`` with ``bench/http.lua`` (which cycles over
the workload's ``/search?q=…`` paths and counts non-2xx answers), or, when wrk is missing, the
Python client of ``bench.loadgen`` (weaker; the report says which one ran).

For each concurrency, measured the same way, in an order that alternates from one repeat to the
next, after a warm-up that is not measured:

- ``/health``: the framework's floor (no index access);
- ``/search`` cycling over the workload: after a few seconds every answer is in the workers'
  result caches (the cost of a site's popular queries);
- ``/search`` never repeated: the same queries, each request with a different ``from`` date
  before any article (so the same answer), hence never an answer from a cache (the cost of a
  query the worker has not seen; posting lists stay cached, as in production).

The ratio of requests/s to ``/health``'s, within a repeat, is the figure issue 3 targets
(>= 30 %). Client and server share this machine's cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.collection import read_queries
from bench.common import REPO, Report, Table, fmt_num, summarize
from bench.memory import tree_memory

LUA = Path(__file__).with_name("http.lua")
TARGET_SHARE = 0.30  # issue 3: search throughput at least 30 % of /health's


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """``--index-dir`` and ``--workers``: what every benchmark that starts a ``Server`` takes."""
    parser.add_argument(
        "--index-dir",
        type=Path,
        required=True,
        help="a built index root (CURRENT + generations/) for the server",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="gunicorn workers (default: the setting's default, 2 x cores + 1)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_server_arguments(parser)
    parser.add_argument(
        "--queries",
        type=Path,
        required=True,
        help="query workload (JSONL with 'text', or one query per line)",
    )
    parser.add_argument(
        "--concurrency", default="8", help="concurrent connections; several as 1,8,16 (default 8)"
    )
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="length of each measured run (default 20)"
    )
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=5.0,
        help="unmeasured load before measuring (default 5)",
    )
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator (default: wrk if installed)",
    )
    parser.add_argument("--seed", type=int, default=11, help="seed for the never-repeated requests")
    parser.add_argument(
        "--wrk-threads",
        type=int,
        default=1,
        help="wrk threads (default 1: leaves the cores to the server)",
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _gunicorn() -> str:
    beside = Path(sys.executable).parent / "gunicorn"
    if beside.exists():
        return str(beside)
    found = shutil.which("gunicorn")
    if not found:
        raise RuntimeError("gunicorn is not installed in this environment")
    return found


def _get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")


class Server:
    """gunicorn in its own process group; ``stop()`` always ends the whole group."""

    def __init__(
        self,
        index_dir: Path,
        workers: int | None,
        log: Path,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        env = dict(
            os.environ,
            PRESSE_INDEX_DIR=str(index_dir.resolve()),
            PRESSE_BIND=f"127.0.0.1:{self.port}",
            **(env or {}),
        )
        if workers:
            env["PRESSE_WORKERS"] = str(workers)
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [_gunicorn(), "-c", "gunicorn.conf.py", *extra_args],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90.0) -> float:
        """Seconds until /ready answers 200 (the workers open the index at start)."""
        started = time.monotonic()
        last = "no answer"
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with status {self.process.returncode}:\n" + self.log_tail()
                )
            try:
                status, body = _get(self.base + "/ready")
                if status == 200:
                    return time.monotonic() - started
                last = f"{status} {body[:300]}"
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.25)
        raise RuntimeError(
            f"gunicorn did not answer /ready with 200 within {timeout:.0f} s (last answer: {last})"
        )

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        else:
            # the master is gone; make sure no orphaned worker of its group survives
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


def load(
    client: str,
    url: str,
    paths_file: Path,
    concurrency: int,
    seconds: float,
    wrk_threads: int,
    offset: int = 0,
) -> dict[str, Any]:
    """One measured run; the JSON line of the wrk script or of bench.loadgen.

    ``offset`` is where in the paths file the run starts, so that successive runs over a file
    of never-repeated requests do not replay each other.
    """
    if client == "wrk":
        threads = max(1, min(wrk_threads, concurrency))
        command = [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(concurrency),
            "-d",
            f"{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            url,
            "--",
            str(paths_file),
            str(offset),
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "bench.loadgen",
            url,
            str(paths_file),
            str(concurrency),
            str(seconds),
            str(offset),
        ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(
            f"{command[0]} failed (exit {done.returncode}): {(done.stderr or done.stdout)[-1500:]}"
        )
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    duration = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / duration if duration else 0.0
    result["socket_errors"] = sum(
        result[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout")
    )
    return result


def uncached_paths(queries: list[str], count: int, rng: random.Random) -> list[str]:
    """``count`` search requests that are all different cache keys but the same work.

    Each is a workload query with a ``from`` date between 1000 and 1999: every article is
    newer, so the answer is the unfiltered one, but no two requests share an answer in the
    engine's result cache (which a cycling workload of a few hundred queries would otherwise
    fill in seconds). The date filter itself is one comparison over an array of dates.
    """
    days = list(range(count))
    rng.shuffle(days)
    start = date(1000, 1, 1)
    return [
        f"/search?q={quote(queries[i % len(queries)])}&from={start + timedelta(days=day)}"
        for i, day in enumerate(days)
    ]


ENDPOINTS = {
    "health": "/health",
    "search": "/search (workload, repeats)",
    "search-uncached": "/search (never repeated)",
}
MAX_UNCACHED_PATHS = 300_000  # 1000-01-01 plus this many days is still before any article


def run(args: argparse.Namespace) -> Report:
    if not (REPO / "gunicorn.conf.py").exists():
        raise SystemExit("bench http: gunicorn.conf.py is not in the repository yet")
    levels = [int(c) for c in str(args.concurrency).split(",") if c.strip()]
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    queries = read_queries(args.queries)
    rng = random.Random(args.seed)
    notes: list[str] = []
    if client == "python":
        notes.append(
            "wrk was not found (or --client python): the load came from bench.loadgen, "
            "a multiprocess Python client, which is weaker than wrk and shares the "
            "CPU with the server; treat absolute figures as a lower bound."
        )

    # Enough never-repeated requests that runs starting at random lines rarely overlap.
    n_uncached = min(
        MAX_UNCACHED_PATHS, max(10_000, int(args.seconds * 2_000 * len(levels) * args.repeat))
    )
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        paths = {name: Path(tmp) / f"{name}.paths" for name in ENDPOINTS}
        paths["health"].write_text("/health\n", encoding="utf-8")
        paths["search"].write_text(
            "".join(f"/search?q={quote(q)}\n" for q in queries), encoding="utf-8"
        )
        paths["search-uncached"].write_text(
            "".join(p + "\n" for p in uncached_paths(queries, n_uncached, rng)),
            encoding="utf-8",
        )
        server = Server(args.index_dir, args.workers, Path(tmp) / "gunicorn.log")
        try:
            ready_s = server.wait_ready()
            print(
                f"[http] gunicorn ready on {server.base} after {ready_s:.1f} s; warming up "
                f"({client}, {args.warmup_seconds:g} s) ...",
                file=sys.stderr,
                flush=True,
            )
            if args.warmup_seconds > 0:
                load(
                    client,
                    server.base,
                    paths["search"],
                    max(levels),
                    args.warmup_seconds,
                    args.wrk_threads,
                )
            for concurrency in levels:
                results[str(concurrency)] = {name: [] for name in ENDPOINTS}
                for repeat in range(args.repeat):
                    order = list(ENDPOINTS)
                    if repeat % 2:
                        order.reverse()
                    for endpoint in order:
                        print(
                            f"[http] c={concurrency} repeat {repeat + 1}/{args.repeat}: "
                            f"{endpoint} for {args.seconds:g} s",
                            file=sys.stderr,
                            flush=True,
                        )
                        results[str(concurrency)][endpoint].append(
                            load(
                                client,
                                server.base,
                                paths[endpoint],
                                concurrency,
                                args.seconds,
                                args.wrk_threads,
                                offset=rng.randrange(n_uncached),
                            )
                        )
            rss, pss, procs = tree_memory(server.process.pid)
            log_text = server.log_tail(100_000)
        finally:
            server.stop()
    workers_seen = procs - 1
    tracebacks = log_text.count("Traceback")
    notes.append(
        "/search (workload, repeats) cycles over the workload's queries: after a few seconds "
        "every answer is in the workers' result caches, as for a site's popular queries. "
        "/search (never repeated) sends the same queries with a different, harmless `from` "
        "date each time, so no answer comes from a cache: the cost of a query not seen "
        "before (posting lists stay cached, as they would in production)."
    )
    notes.append(
        f"gunicorn: {workers_seen} workers (PRESSE_WORKERS="
        f"{args.workers or 'default'}), ready after {ready_s:.1f} s; memory of the "
        f"server tree after the runs: RSS {rss / (1 << 20):,.0f} MiB"
        + (f", PSS {pss / (1 << 20):,.0f} MiB" if pss else "")
        + f"; {tracebacks} tracebacks in its log."
    )
    notes.append(
        "Latency is measured by the client from sending a request to reading its "
        "answer, per connection, with no correction for coordinated omission; gunicorn's "
        "sync workers close the connection after each answer, so it includes connecting. "
        "Client and server share the machine's cores."
    )

    def cell(stat: dict[str, Any], digits: int, scale: float = 1.0) -> str:
        text = fmt_num(stat["median"] * scale, digits)
        if stat["n"] > 1:
            text += (
                f" ({fmt_num(stat['min'] * scale, digits)}–{fmt_num(stat['max'] * scale, digits)})"
            )
        return text

    summary: dict[str, dict[str, dict[str, Any]]] = {}
    rows = []
    for level, by_endpoint in results.items():
        summary[level] = {}
        for endpoint in ENDPOINTS:
            runs = by_endpoint[endpoint]
            summary[level][endpoint] = {
                key: summarize([r[key] for r in runs])
                for key in ("rps", "p50_us", "p99_us", "non2xx", "socket_errors", "requests")
            }
            if endpoint != "health":
                # Ratios within a repeat: the two runs were back to back, under the same load.
                shares = [
                    s["rps"] / h["rps"]
                    for s, h in zip(runs, by_endpoint["health"], strict=True)
                    if h["rps"]
                ]
                summary[level][endpoint]["over_health"] = summarize(shares)
        for endpoint in ENDPOINTS:
            s = summary[level][endpoint]
            verdict = ""
            if "over_health" in s and s["over_health"]["median"] is not None:
                share = s["over_health"]["median"]
                verdict = f"{share:.1%} ({'>=' if share >= TARGET_SHARE else 'BELOW'} 30 %)"
            rows.append(
                [
                    level,
                    ENDPOINTS[endpoint],
                    cell(s["rps"], 0),
                    cell(s["p50_us"], 1, 1e-3),
                    cell(s["p99_us"], 1, 1e-3),
                    fmt_num(sum(r["non2xx"] for r in by_endpoint[endpoint]), 0),
                    fmt_num(sum(r["socket_errors"] for r in by_endpoint[endpoint]), 0),
                    verdict,
                ]
            )
    table = Table(
        f"HTTP: gunicorn ({workers_seen} workers), {client}, {args.seconds:g} s per "
        f"run, {args.repeat} run(s): median (min–max)",
        [
            "concurrency",
            "endpoint",
            "requests/s",
            "p50, ms",
            "p99, ms",
            "non-2xx",
            "socket errors",
            "requests/s vs /health",
        ],
        rows,
    )
    plots = {}
    if len(levels) > 1:
        plots["throughput"] = lambda path: _plot_throughput(path, summary)
    return Report(
        kind="http",
        title="HTTP: gunicorn under load",
        description="The real service (gunicorn.conf.py) on a loopback port: /search with the "
        "query workload, repeated and never repeated, beside /health; the load comes from a "
        "separate process.",
        params={
            "index_dir": str(args.index_dir),
            "queries": str(args.queries),
            "workers": args.workers,
            "workers_seen": workers_seen,
            "concurrency": levels,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup_seconds,
            "client": client,
            "wrk_threads": args.wrk_threads,
            "repeat": args.repeat,
            "seed": args.seed,
        },
        results={
            "runs": results,
            "summary": summary,
            "ready_s": ready_s,
            "port": server.port,
            "server_exit_status": server.process.returncode,
            "server_rss_bytes": rss,
            "server_pss_bytes": pss,
            "tracebacks_in_log": tracebacks,
        },
        tables=[table],
        notes=notes,
        plots=plots,
    )


def _plot_throughput(path: Path, summary: dict[str, dict[str, dict[str, Any]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = sorted(summary, key=int)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for endpoint, label in ENDPOINTS.items():
        ax.plot(
            [int(c) for c in levels],
            [summary[c][endpoint]["rps"]["median"] for c in levels],
            marker="o",
            label=label,
        )
    ax.set_xlabel("concurrent connections")
    ax.set_yscale("log")
    ax.set_ylabel("requests/s (log scale)")
    ax.set_title("Throughput against concurrency")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
