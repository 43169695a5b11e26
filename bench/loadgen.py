"""A small HTTP load generator, the fallback of ``bench http`` when ``wrk`` is not installed.

Run as its own process, never inside the server
(``python -m bench.loadgen URL PATHS_FILE CONCURRENCY SECONDS [OFFSET]``): it forks one process
per core, each driving its share of the ``CONCURRENCY`` clients as threads with keep-alive
connections (``http.client``), cycling over the request paths of ``PATHS_FILE`` from line
``OFFSET``. It prints one line ``BENCH_JSON {...}`` with the same keys as the wrk script.
Being Python, it needs CPU of its own: on a small machine it is a weaker load than wrk, and it
measures a little of itself in the latency; ``bench http`` says so when it uses it.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import sys
import threading
import time
from urllib.parse import urlsplit


def _client(
    host: str,
    port: int,
    paths: list[str],
    start: int,
    deadline: float,
    out: list[tuple[float, int]],
    errors: list[str],
) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    i = start
    while time.monotonic() < deadline:
        path = paths[i % len(paths)]
        i += 1
        began = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            out.append(((time.perf_counter() - began) * 1e6, response.status))
            if response.getheader("connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.close()


def _process(
    args: tuple[str, int, list[str], int, int, int, float],
) -> tuple[list[tuple[float, int]], list[str]]:
    host, port, paths, clients, first_client, offset, deadline = args
    out: list[tuple[float, int]] = []
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=_client,
            args=(host, port, paths, offset + (first_client + k) * 7919, deadline, out, errors),
        )
        for k in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out, errors


def run(
    url: str, paths: list[str], concurrency: int, seconds: float, offset: int = 0
) -> dict[str, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    procs = max(1, min(concurrency, os.cpu_count() or 1))
    shares = [concurrency // procs + (1 if k < concurrency % procs else 0) for k in range(procs)]
    started = time.monotonic()
    deadline = started + seconds
    jobs = [
        (host, port, paths, share, sum(shares[:k]), offset, deadline)
        for k, share in enumerate(shares)
    ]
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        results = pool.map(_process, jobs)
    duration = time.monotonic() - started
    samples = [s for out, _ in results for s in out]
    errors = [e for _, errs in results for e in errs]
    latencies = sorted(s[0] for s in samples)

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else 0.0
        )

    return {
        "requests": len(samples),
        "duration_us": duration * 1e6,
        "bytes": 0,
        "non2xx": sum(1 for _, status in samples if not 200 <= status <= 299),
        "errors_connect": 0,
        "errors_read": len(errors),
        "errors_write": 0,
        "errors_timeout": 0,
        "p50_us": pct(50),
        "p90_us": pct(90),
        "p99_us": pct(99),
        "mean_us": sum(latencies) / len(latencies) if latencies else 0.0,
        "max_us": latencies[-1] if latencies else 0.0,
    }


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6):
        sys.exit("usage: python -m bench.loadgen URL PATHS_FILE CONCURRENCY SECONDS [OFFSET]")
    with open(sys.argv[2], encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    start = int(sys.argv[5]) if len(sys.argv) == 6 else 0
    print(
        "BENCH_JSON "
        + json.dumps(run(sys.argv[1], lines, int(sys.argv[3]), float(sys.argv[4]), start))
    )
