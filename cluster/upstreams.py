"""The health checker nginx lacks: polls each replica's ``/ready`` and rewrites nginx's upstream.

Debian's nginx only checks passively (a replica that fails requests is skipped for a while); it
cannot see that a replica which still answers is minutes behind the publisher, or has no index
yet. This process, run beside nginx (``deploy/presse-upstreams.service``; ``scripts/cluster``
starts one), asks every replica's ``GET /ready`` each ``--interval`` seconds, and writes the
upstream file that ``deploy/nginx-replicas.conf`` includes, with the unready replicas marked
``down``; when the file changes, it runs the reload command (``nginx -s reload``: nginx starts
new workers with the new file and lets the old ones finish their requests, so no request is
lost). It writes the file atomically (temporary file, rename) so that nginx never reads half.

- A replica goes ``down`` after ``--fall`` failed checks in a row and comes back after
  ``--rise`` good ones (a single slow answer does not make nginx reload).
- ``/ready`` answering 200 is ready; anything else (503 with its reason, no answer within
  ``--timeout``) is not.
- When every replica is unready, all are kept in: a stale result beats no result, and nginx's
  own retries still skip the ones that fail outright.

``--status-file`` receives a JSON summary after each round (``scripts/cluster status`` shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

UPSTREAM_NAME = "presse_search"
SERVER_OPTIONS = "max_fails=3 fail_timeout=5s"  # passive checks, as in deploy/nginx.conf


@dataclass
class Replica:
    """One replica's address and what the checker knows of it."""

    address: str  # host:port
    up: bool = True
    streak: int = 0  # checks in a row that disagreed with ``up``
    last_status: int | None = None
    last_reason: str = "not checked yet"
    last_body: dict[str, Any] = field(default_factory=dict)


def render(replicas: Sequence[Replica]) -> str:
    """The upstream block for nginx: every replica, the unready ones ``down`` — unless none is
    ready, then none is ``down``."""
    anyone_up = any(r.up for r in replicas)
    lines = [
        "# Written by the presse-search health checker (cluster/upstreams.py); do not edit:",
        "# it is rewritten when a replica's /ready changes.",
        f"upstream {UPSTREAM_NAME} {{",
    ]
    for r in replicas:
        down = " down" if anyone_up and not r.up else ""
        lines.append(f"    server {r.address} {SERVER_OPTIONS}{down};")
    if not anyone_up:
        lines.append("    # every replica is unready: all kept, a stale answer beats none")
    lines += ["    keepalive 16;", "}", ""]
    return "\n".join(lines)


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def probe(address: str, timeout: float) -> tuple[int | None, str, dict[str, Any]]:
    """``GET /ready``: (status or None, a one-line reason, the JSON body if any)."""
    url = f"http://{address}/ready"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status, raw = int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            status, raw = int(exc.code), exc.read()
    except (OSError, urllib.error.URLError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"no answer: {reason}", {}
    try:
        body = json.loads(raw)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if status == 200:
        return status, "ready", body
    error = body.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    message = message or raw[:200].decode("utf-8", "replace")
    return status, f"{status}: {message}", body


class Checker:
    """The checking loop; ``check_once`` is one round (what the tests drive)."""

    def __init__(
        self,
        addresses: Sequence[str],
        upstream_file: Path,
        reload_command: Sequence[str],
        *,
        rise: int = 2,
        fall: int = 2,
        timeout: float = 2.0,
        status_file: Path | None = None,
    ) -> None:
        if not addresses:
            raise ValueError("at least one replica is needed")
        self.replicas = [Replica(a) for a in addresses]
        self.upstream_file = upstream_file
        self.reload_command = list(reload_command)
        self.rise, self.fall, self.timeout = rise, fall, timeout
        self.status_file = status_file
        self.reloads = 0
        self._pool = ThreadPoolExecutor(max_workers=min(len(addresses), 16))

    def check_once(self) -> bool:
        """Probe every replica, update their states, rewrite and reload if the file changed.

        Returns whether nginx was reloaded.
        """
        results = list(self._pool.map(lambda r: probe(r.address, self.timeout), self.replicas))
        for replica, (status, reason, body) in zip(self.replicas, results, strict=True):
            replica.last_status, replica.last_reason, replica.last_body = status, reason, body
            ready = status == 200
            if ready == replica.up:
                replica.streak = 0
                continue
            replica.streak += 1
            if replica.streak >= (self.rise if ready else self.fall):
                replica.up, replica.streak = ready, 0
                log(f"{replica.address} is now {'up' if ready else 'down'} ({reason})")
        reloaded = self.apply()
        self.write_status()
        return reloaded

    def apply(self) -> bool:
        """Write the upstream file if it differs from what is there; reload nginx if so."""
        text = render(self.replicas)
        try:
            if self.upstream_file.read_text(encoding="utf-8") == text:
                return False
        except OSError:
            pass
        write_atomically(self.upstream_file, text)
        if not any(r.up for r in self.replicas):
            log("every replica is unready: keeping them all in (stale beats none)")
        done = subprocess.run(self.reload_command, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            # The file is written; the next change retries. nginx keeps its last good config.
            log(f"reload failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
            return False
        self.reloads += 1
        log(f"nginx reloaded: {sum(r.up for r in self.replicas)}/{len(self.replicas)} up")
        return True

    def write_status(self) -> None:
        if self.status_file is None:
            return
        data = {
            "checked": datetime.now(UTC).isoformat(timespec="seconds"),
            "reloads": self.reloads,
            "replicas": [
                {
                    "address": r.address,
                    "up": r.up,
                    "status": r.last_status,
                    "reason": r.last_reason,
                    "generation": r.last_body.get("generation"),
                }
                for r in self.replicas
            ],
        }
        write_atomically(self.status_file, json.dumps(data, indent=1) + "\n")

    def run(self, interval: float, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.check_once()
            except Exception as exc:  # keep checking: a dead checker freezes nginx's view
                log(f"check failed: {exc!r}")
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
        self._pool.shutdown()


def log(message: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"[{stamp}] presse-upstreams: {message}", flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cluster.upstreams",
        description="Poll each replica's /ready; keep nginx's upstream file to the ready ones.",
    )
    parser.add_argument(
        "--replica",
        action="append",
        required=True,
        metavar="HOST:PORT",
        help="a replica's address (repeat for each)",
    )
    parser.add_argument(
        "--upstream-file",
        type=Path,
        required=True,
        help="the file deploy/nginx-replicas.conf includes (UPSTREAMS)",
    )
    parser.add_argument(
        "--reload-command",
        default="nginx -s reload",
        help="run after the file changed (default: 'nginx -s reload')",
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds /ready may take")
    parser.add_argument("--rise", type=int, default=2, help="good checks to come back up")
    parser.add_argument("--fall", type=int, default=2, help="failed checks to go down")
    parser.add_argument("--status-file", type=Path, help="a JSON summary after each round")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.interval <= 0 or args.timeout <= 0 or args.rise < 1 or args.fall < 1:
        print("presse-upstreams: --interval/--timeout > 0, --rise/--fall >= 1", file=sys.stderr)
        return 2
    checker = Checker(
        args.replica,
        args.upstream_file,
        shlex.split(args.reload_command),
        rise=args.rise,
        fall=args.fall,
        timeout=args.timeout,
        status_file=args.status_file,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log(f"checking {len(args.replica)} replica(s) every {args.interval:g} s")
    checker.run(args.interval, stop)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
