"""``scripts/cluster up|down|status|reindex``: the command line over ``cluster.run``.

Exit status: 0 done, 1 the cluster failed (the message says why), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from cluster.processes import alive
from cluster.run import REPO, Cluster, ClusterError, http_get

EXAMPLES = """\
examples:
  scripts/cluster up --replicas 3 --source data/sample/articles.jsonl
  scripts/cluster status
  scripts/cluster reindex -- --source data/sample/articles.jsonl --update
  scripts/cluster down
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/cluster",
        description="A publisher, N read replicas and nginx in front, on this machine's "
        "loopback addresses (for development and tests).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument(
        "--dir",
        type=Path,
        default=REPO / "var" / "cluster",
        help="the cluster's folder (default: var/cluster in the repository)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", parents=[folder], help="start the cluster, wait until it answers")
    up.add_argument("--replicas", type=int, required=True, help="how many replicas")
    up.add_argument(
        "--source", type=Path, help="articles to build the publisher's index from, if it has none"
    )
    up.add_argument(
        "--base-port",
        type=int,
        default=8100,
        help="publisher on P, replica i on P+i, nginx on P+50 (default 8100)",
    )
    up.add_argument(
        "--workers", type=int, default=2, help="gunicorn workers per service (default 2)"
    )
    up.add_argument(
        "--rate-limits",
        action="store_true",
        help="keep nginx's per-address limits (off by default: every local client is 127.0.0.1)",
    )
    up.add_argument(
        "--check-interval", type=float, default=1.0, help="seconds between /ready checks"
    )
    sub.add_parser("down", parents=[folder], help="stop everything, even after a crash")
    sub.add_parser("status", parents=[folder], help="processes, generations, lag, upstreams")
    reindex = sub.add_parser(
        "reindex", parents=[folder], help="scripts/reindex on the publisher's root"
    )
    reindex.add_argument("args", nargs=argparse.REMAINDER, help="scripts/reindex's arguments")
    return parser


def status(cluster: Cluster) -> str:
    if not cluster.state.data.get("procs"):
        return f"no cluster running in {cluster.folder}"
    lines = [f"cluster in {cluster.folder}"]
    for proc in cluster.state.procs():
        state = "running" if alive(proc) else "NOT RUNNING"
        where = f"127.0.0.1:{proc.port}" if proc.port else ""
        detail = ""
        if proc.name == "publisher" or proc.name.startswith("replica-"):
            code, body = http_get(cluster.url(proc.name) + "/ready")
            try:
                ready = json.loads(body) if body else {}
            except ValueError:
                ready = {}
            detail = f"/ready {code}, generation {ready.get('generation', '-')}"
            replication = ready.get("replication")
            if isinstance(replication, dict):
                detail += (
                    f", lag {replication.get('lag_generations')} generation(s) / "
                    f"{replication.get('lag_s')} s"
                )
                if replication.get("error"):
                    detail += f", error: {replication['error']}"
        lines.append(f"  {proc.name:<10} pid {proc.pid:<7} {state:<11} {where:<16} {detail}")
    checker = cluster.folder / "checker.json"
    if checker.exists():
        data = json.loads(checker.read_text(encoding="utf-8"))
        lines.append(f"upstreams (checked {data['checked']}, {data['reloads']} reload(s)):")
        for r in data["replicas"]:
            lines.append(f"  {r['address']:<16} {'up' if r['up'] else 'DOWN':<5} {r['reason']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    cluster = Cluster(args.dir)
    try:
        if args.command == "up":
            cluster.up(
                args.replicas,
                args.source.resolve() if args.source else None,
                base_port=args.base_port,
                workers=args.workers,
                limits=args.rate_limits,
                checker_interval=args.check_interval,
            )
            print(
                f"cluster up: nginx on {cluster.url('nginx')}, publisher on "
                f"{cluster.url('publisher')}, {args.replicas} replica(s); logs in "
                f"{cluster.folder / 'logs'}"
            )
        elif args.command == "down":
            stopped = cluster.down()
            print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        elif args.command == "status":
            print(status(cluster))
        else:
            rest = [a for a in args.args if a != "--"] if args.args[:1] == ["--"] else args.args
            done = cluster.reindex(rest)
            sys.stdout.write(done.stdout)
            sys.stderr.write(done.stderr)
            return done.returncode
    except ClusterError as exc:
        print(f"scripts/cluster: {exc}", file=sys.stderr)
        return 1
    return 0
