"""Soak run: minutes of steady load on gunicorn, with the resident memory of each worker sampled.

``scripts/soak INDEX_DIR [--seconds 600] [--interval 30] [--clients 8] [--workers 2]``

Starts gunicorn with ``gunicorn.conf.py`` on a free loopback port over ``INDEX_DIR`` (an index
root, as built by ``scripts/reindex``), then keeps ``--clients`` threads sending requests for
``--seconds``: searches of one to three real words of the index (found through ``/suggest``, a
quarter typed without accents), a few pages deep at times, some ``/suggest`` and some
``/articles/{id}/similar``. Every ``--interval`` seconds it prints one line: the RSS of each
worker (``VmRSS`` from ``/proc``), the requests answered and failed so far, and the latency
percentiles of the last interval. At the end it reports each worker's growth from the first sample
after ``--warm-up`` to the last one, and exits 1 if a worker grew more than ``--max-growth`` per
cent, failed requests happened, or a worker was replaced (a crash, or a timeout kill).

``--json FILE`` also writes the samples and the summary, for the issue note. Only the standard
library is used, so a soak can run on the production machine itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from bench.http import Server

REPO = Path(__file__).resolve().parents[1]

# Beginnings of words of the news; /suggest turns them into words the index really holds.
SEED_PREFIXES = [
    "maro",
    "econ",
    "gouv",
    "poli",
    "spor",
    "cult",
    "soci",
    "rabat",
    "casa",
    "tang",
    "fes",
    "marr",
    "agri",
    "ener",
    "tour",
    "educ",
    "sant",
    "empl",
    "clim",
    "tran",
    "just",
    "cine",
    "musi",
    "port",
    "banq",
    "infl",
    "croi",
    "inve",
    "expo",
    "eau",
    "sech",
    "elec",
    "parl",
    "mini",
    "refo",
    "fina",
    "budg",
    "entr",
    "indu",
    "comm",
    "sala",
    "syndi",
    "etud",
    "univ",
    "foot",
    "athl",
    "festi",
    "patri",
    "immo",
    "prix",
    "dirh",
    "euro",
    "afri",
    "mond",
    "diplo",
]


@dataclass
class Sample:
    at_s: float
    rss_mb: dict[int, float]
    requests: int
    failed: int
    p50_ms: float | None
    p99_ms: float | None


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def record(self, seconds: float, ok: bool, what: str) -> None:
        with self.lock:
            self.requests += 1
            self.latencies.append(seconds)
            if not ok:
                self.failed += 1
                if len(self.failures) < 20:
                    self.failures.append(what)

    def take_latencies(self) -> list[float]:
        with self.lock:
            taken, self.latencies = self.latencies, []
        return taken


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the master's children."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == master:
                pids.append(int(entry.name))
    return sorted(pids)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


# What the load falls back on when the index offers few words for the prefixes above.
FALLBACK_WORDS = [
    "maroc",
    "économie",
    "gouvernement",
    "élections",
    "santé",
    "éducation",
    "football",
    "eau",
    "sécheresse",
    "tourisme",
    "emploi",
    "inflation",
    "budget",
    "festival",
    "port",
    "énergie",
]


def vocabulary(port: int) -> list[str]:
    """Real words of the index, from ``/suggest`` on the seed prefixes."""
    words: set[str] = set()
    for prefix in SEED_PREFIXES:
        status, body = get(port, "/suggest?" + urlencode({"q": prefix, "limit": 20}))
        if status == 200:
            words.update(w for w in json.loads(body)["suggestions"] if " " not in w)
    if len(words) < 20:
        words.update(FALLBACK_WORDS)
    return sorted(words)


class Client(threading.Thread):
    def __init__(
        self, port: int, words: list[str], stats: Stats, stop: threading.Event, seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.words, self.stats, self.stop = port, words, stats, stop
        self.rng = random.Random(seed)
        self.ids: list[str] = []

    def next_path(self) -> str:
        roll = self.rng.random()
        if roll < 0.1 and self.ids:
            return f"/articles/{quote(self.rng.choice(self.ids), safe='')}/similar"
        if roll < 0.25:
            word = self.rng.choice(self.words)
            return "/suggest?" + urlencode({"q": word[: self.rng.randint(2, max(2, len(word)))]})
        query = " ".join(self.rng.sample(self.words, self.rng.randint(1, 3)))
        if self.rng.random() < 0.25:
            query = strip_accents(query)
        page = 1 if self.rng.random() < 0.8 else self.rng.randint(2, 5)
        return "/search?" + urlencode({"q": query, "page": page})

    def run(self) -> None:
        while not self.stop.is_set():
            path = self.next_path()
            started = time.monotonic()
            try:
                status, body = get(self.port, path)
                if status == 200:
                    answer = json.loads(body)  # a broken body counts as a failure too
            except (OSError, ValueError) as exc:
                self.stats.record(time.monotonic() - started, False, f"{path}: {exc!r}")
                continue
            ok = status == 200 or (status == 404 and "/similar" in path)
            self.stats.record(time.monotonic() - started, ok, f"{path}: {status}")
            if status == 200 and path.startswith("/search") and len(self.ids) < 500:
                self.ids.extend(hit["id"] for hit in answer["hits"])


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="soak",
        description=__doc__.split("\n\n")[0],
        epilog="example: scripts/soak var/index --seconds 600 --json docs/bench-results/soak.json",
    )
    parser.add_argument("index_dir", type=Path, help="index root (holds CURRENT)")
    parser.add_argument("--seconds", type=float, default=600.0, help="length of the load (600)")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between samples (30)")
    parser.add_argument(
        "--warm-up",
        type=float,
        default=60.0,
        help="growth is measured from the first sample after this (60)",
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--max-growth",
        type=float,
        default=10.0,
        help="per cent of RSS growth per worker after warm-up that fails (10)",
    )
    parser.add_argument("--json", type=Path, help="write samples and summary here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.index_dir / "CURRENT").is_file():
        print(
            f"soak: {args.index_dir} holds no index (no CURRENT); build one with scripts/reindex",
            file=sys.stderr,
        )
        return 2
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"soak-gunicorn-{os.getpid()}.log"
    server = Server(
        args.index_dir, args.workers, log_path, extra_args=("--access-logfile", "/dev/null")
    )
    try:
        return soak(args, server.port, server.process, log_path)
    finally:
        server.stop()


def soak(
    args: argparse.Namespace, port: int, server: subprocess.Popen[bytes], log_path: Path
) -> int:
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            print(f"soak: gunicorn exited; see {log_path}", file=sys.stderr)
            return 1
        try:
            status, body = get(port, "/ready")
            if status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            print(f"soak: /ready never answered 200; see {log_path}", file=sys.stderr)
            return 1
        time.sleep(0.2)
    ready = json.loads(body)
    words = vocabulary(port)
    workers = worker_pids(server.pid)
    print(
        f"soak: generation {ready['generation']} ({ready['documents']:,} documents), "
        f"{len(workers)} workers {workers}, {args.clients} clients, {len(words)} words, "
        f"{args.seconds:.0f} s, a sample every {args.interval:.0f} s",
        flush=True,
    )

    stats, stop = Stats(), threading.Event()
    clients = [Client(port, words, stats, stop, seed) for seed in range(args.clients)]
    started = time.monotonic()
    for client in clients:
        client.start()
    samples: list[Sample] = []
    seen_workers = set(workers)
    try:
        while True:
            now = time.monotonic() - started
            wait = min(args.interval, args.seconds - now)
            if wait <= 0:
                break
            time.sleep(wait)
            current = worker_pids(server.pid)
            seen_workers.update(current)
            rss = {pid: rss_mb(pid) for pid in current}
            latencies = stats.take_latencies()
            sample = Sample(
                round(time.monotonic() - started, 1),
                rss,
                stats.requests,
                stats.failed,
                percentile(latencies, 0.5),
                percentile(latencies, 0.99),
            )
            samples.append(sample)
            print(
                f"{sample.at_s:7.1f} s  RSS "
                + "  ".join(f"{p}:{m:6.1f} MB" for p, m in rss.items())
                + f"  requests {sample.requests:,} failed {sample.failed}"
                + f"  p50 {sample.p50_ms or 0:.1f} ms p99 {sample.p99_ms or 0:.1f} ms",
                flush=True,
            )
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=120)

    summary = summarise(args, samples, stats, workers, seen_workers)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"summary": summary, "samples": [asdict(s) for s in samples]},
                indent=2,
                ensure_ascii=False,
            )
        )
    ok = summary["within_target"] and stats.failed == 0 and not summary["workers_replaced"]
    return 0 if ok else 1


def summarise(
    args: argparse.Namespace,
    samples: list[Sample],
    stats: Stats,
    workers: list[int],
    seen_workers: set[int],
) -> dict[str, Any]:
    after_warm_up = [s for s in samples if s.at_s >= args.warm_up] or samples[-1:]
    growth: dict[str, Any] = {}
    if after_warm_up:
        first, last = after_warm_up[0], samples[-1]
        for pid in workers:
            if pid in first.rss_mb and pid in last.rss_mb:
                start_mb, end_mb = first.rss_mb[pid], last.rss_mb[pid]
                growth[str(pid)] = {
                    "rss_after_warm_up_mb": round(start_mb, 1),
                    "rss_at_end_mb": round(end_mb, 1),
                    "peak_mb": round(max(s.rss_mb.get(pid, 0.0) for s in samples), 1),
                    "growth_pct": round(100 * (end_mb - start_mb) / start_mb, 2),
                }
    elapsed = samples[-1].at_s if samples else 0.0
    latencies = [s.p99_ms for s in samples if s.p99_ms is not None]
    medians = [s.p50_ms for s in samples if s.p50_ms is not None]
    worst = max((g["growth_pct"] for g in growth.values()), default=0.0)
    return {
        "seconds": elapsed,
        "warm_up_s": args.warm_up,
        "clients": args.clients,
        "requests": stats.requests,
        "requests_per_s": round(stats.requests / elapsed, 1) if elapsed else None,
        "failed": stats.failed,
        "failures": stats.failures,
        "p50_ms_median_of_intervals": round(statistics.median(medians), 1) if medians else None,
        "p99_ms_worst_interval": round(max(latencies), 1) if latencies else None,
        "workers": growth,
        "worst_growth_pct": worst,
        "max_growth_pct": args.max_growth,
        "within_target": worst <= args.max_growth,
        "workers_replaced": sorted(seen_workers - set(workers)),
    }


if __name__ == "__main__":
    sys.exit(main())
