"""A publisher, N replicas, nginx and the health checker on this machine (``scripts/cluster``).

Layout of ``DIR`` (default ``var/cluster``), ports from ``P`` (default 8100), loopback only:

- ``publisher/index``: the publisher's root, built from ``--source`` when it holds no index;
  gunicorn (``gunicorn.conf.py``) on ``127.0.0.1:P`` with ``PRESSE_REPLICATION_TOKEN`` read from
  ``DIR/token`` (generated, mode 600; never written in the state file);
- ``replica-i/index``, i = 1..N: ``scripts/replica --from http://127.0.0.1:P`` on
  ``127.0.0.1:P+i``, each on its own root, with the token file;
- ``nginx/``: nginx on ``127.0.0.1:P+50`` from ``deploy/nginx-replicas.conf``, its upstream
  file ``nginx/presse-upstreams.conf`` kept by the checker (``cluster.upstreams``), whose
  summary is ``checker.json``;
- ``logs/``: one log per process; ``cluster.json``: the state (``cluster.processes``).

The service processes get the caller's ``PRESSE_*`` settings (poll interval, maximum lag,
workers...) except the ones the cluster sets; replicas never get the token in their
environment (they would publish too) nor an admin token.
"""

from __future__ import annotations

import os
import random
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from cluster.nginx import NginxProcess, replicas_site
from cluster.processes import (
    Proc,
    State,
    adopt,
    alive,
    is_ours,
    reap_exited,
    spawn,
    start_ticks,
    stop_group,
)
from cluster.upstreams import Replica, render, write_atomically

REPO = Path(__file__).resolve().parent.parent
NGINX_OFFSET = 50
# Never inherited by a cluster process: the cluster sets them per process, or must not set them.
PRIVATE_ENV = (
    "PRESSE_INDEX_DIR",
    "PRESSE_BIND",
    "PRESSE_REPLICATION_TOKEN",
    "PRESSE_REPLICATE_FROM",
    "PRESSE_ADMIN_TOKEN",
)
# Order of ``down``: the front first, so no request reaches a stopped backend through it.
STOP_ORDER = ("checker", "nginx")


class ClusterError(RuntimeError):
    """The cluster could not be started or reached; the message says why."""


def http_get(url: str, timeout: float = 2.0) -> tuple[int | None, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), exc.read()
    except (OSError, urllib.error.URLError):
        return None, b""


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(replicas: int, tries: int = 200) -> int:
    """A base port P, below the kernel's ephemeral range, with P..P+replicas and P+50 free.

    Below it because the ports a busy machine's outgoing connections hold (or keep in TIME_WAIT
    after a load test: 20,000 of them on this machine) come from that range, odd ones first, and
    refuse a bind, even a checked one a moment later.
    """
    rng = random.Random()
    for _ in range(tries):
        base = rng.randrange(20_000, 32_000 - NGINX_OFFSET)
        if all(port_free(p) for p in [*range(base, base + replicas + 1), base + NGINX_OFFSET]):
            return base
    raise ClusterError(f"no free range of loopback ports found in {tries} tries")


class Cluster:
    """A cluster's folder and state; ``up``/``down`` and what the tests and the bench need."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        state = State.load(self.folder)
        self.state = state if state is not None else State(self.folder)

    # --- layout ---------------------------------------------------------------------------

    @property
    def base_port(self) -> int:
        return int(self.state.data["base_port"])

    @property
    def replicas(self) -> int:
        return int(self.state.data["replicas"])

    @property
    def token_file(self) -> Path:
        return self.folder / "token"

    @property
    def publisher_root(self) -> Path:
        return self.folder / "publisher" / "index"

    def replica_root(self, i: int) -> Path:
        return self.folder / f"replica-{i}" / "index"

    def url(self, name: str) -> str:
        """``publisher``, ``replica-i`` or ``nginx`` -> its base URL."""
        if name == "publisher":
            return f"http://127.0.0.1:{self.base_port}"
        if name == "nginx":
            return f"http://127.0.0.1:{self.base_port + NGINX_OFFSET}"
        return f"http://127.0.0.1:{self.base_port + int(name.removeprefix('replica-'))}"

    @property
    def upstream_file(self) -> Path:
        return self.folder / "nginx" / "presse-upstreams.conf"

    def _env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k not in PRIVATE_ENV}
        return {**base, **extra}

    # --- up -------------------------------------------------------------------------------

    def up(
        self,
        replicas: int,
        source: Path | None,
        base_port: int = 8100,
        workers: int = 2,
        limits: bool = False,
        checker_interval: float = 1.0,
    ) -> None:
        """Start everything and wait until nginx answers through ready replicas."""
        if not 1 <= replicas < NGINX_OFFSET:
            raise ClusterError(f"--replicas must be between 1 and {NGINX_OFFSET - 1}")
        if any(is_ours(p) for p in self.state.procs()):
            raise ClusterError(f"a cluster is running in {self.folder}: scripts/cluster down first")
        ports = [base_port + i for i in range(replicas + 1)] + [base_port + NGINX_OFFSET]
        busy = [p for p in ports if not port_free(p)]
        if busy:
            raise ClusterError(f"port(s) {busy} on 127.0.0.1 are in use (--base-port)")
        self.state = State(
            self.folder,
            {"base_port": base_port, "replicas": replicas, "workers": workers, "procs": {}},
        )
        self.state.save()
        try:
            self._start(replicas, source, workers, limits, checker_interval)
        except BaseException:
            self.down()
            raise

    def _start(
        self,
        replicas: int,
        source: Path | None,
        workers: int,
        limits: bool,
        checker_interval: float,
    ) -> None:
        if not self.token_file.exists():
            self.token_file.touch(mode=0o600)
            self.token_file.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
        os.chmod(self.token_file, 0o600)
        if not (self.publisher_root / "CURRENT").exists():
            if source is None:
                raise ClusterError(f"{self.publisher_root} holds no index: give --source FILE")
            self.publisher_root.mkdir(parents=True, exist_ok=True)
            done = self.reindex(["--source", str(source), "--quiet"])
            if done.returncode != 0:
                raise ClusterError(
                    f"building the publisher's index failed:\n{done.stdout}{done.stderr}"
                )
        self.start_publisher()
        self.wait_ready("publisher")
        for i in range(1, replicas + 1):
            self.start_replica(i)
        for i in range(1, replicas + 1):
            self.wait_ready(f"replica-{i}", timeout=180.0)
        names = [f"replica-{i}" for i in range(1, replicas + 1)]
        self.start_nginx(limits)
        self.start_checker(names, checker_interval)

    def _gunicorn_argv(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]

    def start_publisher(self) -> None:
        token = self.token_file.read_text(encoding="utf-8").strip()
        env = {
            "PRESSE_INDEX_DIR": str(self.publisher_root),
            "PRESSE_BIND": f"127.0.0.1:{self.base_port}",
            "PRESSE_WORKERS": str(self.state.data["workers"]),
        }
        self._spawn("publisher", self._gunicorn_argv(), env, {"PRESSE_REPLICATION_TOKEN": token})

    def start_replica(self, i: int, extra_env: dict[str, str] | None = None) -> None:
        self.replica_root(i).mkdir(parents=True, exist_ok=True)
        argv = [
            "bash",
            str(REPO / "scripts" / "replica"),
            "--from",
            self.url("publisher"),
            "--index-dir",
            str(self.replica_root(i)),
            "--name",
            f"replica-{i}",
            "--token-file",
            str(self.token_file),
        ]
        env = {
            "PRESSE_INDEX_DIR": str(self.replica_root(i)),
            "PRESSE_BIND": f"127.0.0.1:{self.base_port + i}",
            "PRESSE_WORKERS": str(self.state.data["workers"]),
            "PRESSE_VENV": sys.prefix,  # the scripts' _env.sh: this very environment
            **(extra_env or {}),
        }
        self._spawn(f"replica-{i}", argv, env)

    def start_nginx(self, limits: bool) -> None:
        port = self.base_port + NGINX_OFFSET
        folder = self.folder / "nginx"
        folder.mkdir(parents=True, exist_ok=True)
        replicas = [Replica(f"127.0.0.1:{self.base_port + i}") for i in range(1, self.replicas + 1)]
        write_atomically(self.upstream_file, render(replicas))  # all up until first checked
        nginx = NginxProcess(
            folder, port, replicas_site(f"127.0.0.1:{port}", self.upstream_file, limits=limits)
        )
        pid = nginx.start()
        if nginx.process is not None:
            adopt(nginx.process)
        self.state.record(
            Proc(
                "nginx", pid, start_ticks(pid), nginx.command(), {}, str(folder / "nginx.out"), port
            )
        )
        nginx.wait_listening()
        self.state.data["reload_command"] = nginx.command("-s", "reload")
        self.state.save()

    def start_checker(self, names: Sequence[str], interval: float = 1.0) -> None:
        """(Re)start the health checker over the replicas ``names``; nginx follows its file."""
        if "checker" in self.state.data["procs"]:
            stop_group(self.state.proc("checker"))
            self.state.forget("checker")
        argv = [sys.executable, "-m", "cluster.upstreams"]
        for name in names:
            argv += ["--replica", self.url(name).removeprefix("http://")]
        argv += [
            "--upstream-file",
            str(self.upstream_file),
            "--reload-command",
            shlex.join(self.state.data["reload_command"]),
            "--interval",
            f"{interval:g}",
            "--status-file",
            str(self.folder / "checker.json"),
        ]
        self._spawn("checker", argv, {})

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str], secret: dict[str, str] | None = None
    ) -> None:
        port = int(env["PRESSE_BIND"].rsplit(":", 1)[1]) if "PRESSE_BIND" in env else None
        full = {**self._env(**env), **(secret or {})}
        log = self.folder / "logs" / f"{name}.log"
        self.state.record(spawn(name, argv, full, env, log, REPO, port))

    def restart(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        """Start ``name`` again (after a kill); a replica with ``extra_env`` added."""
        if name == "publisher":
            self.start_publisher()
        elif name.startswith("replica-"):
            self.start_replica(int(name.removeprefix("replica-")), extra_env)
        else:
            raise ClusterError(f"cannot restart {name!r} alone")

    def wait_ready(self, name: str, timeout: float = 90.0) -> None:
        """Until ``name``'s /ready answers 200; fails early if its process died."""
        proc = self.state.proc(name)
        deadline = time.monotonic() + timeout
        last: tuple[int | None, bytes] = (None, b"")
        while time.monotonic() < deadline:
            if not alive(proc):
                raise ClusterError(f"{name} exited while starting:\n{self.log_tail(name)}")
            last = http_get(self.url(name) + "/ready")
            if last[0] == 200:
                return
            time.sleep(0.2)
        raise ClusterError(
            f"{name} not ready within {timeout:.0f} s (last: {last[0]} {last[1][:300]!r}):\n"
            + self.log_tail(name)
        )

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            text = Path(self.state.proc(name).log).read_text(encoding="utf-8", errors="replace")
        except (OSError, RuntimeError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # --- while it runs -------------------------------------------------------------------

    def reindex(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """``scripts/reindex ARGS`` on the publisher's root (a full build or an ``--update``)."""
        argv = [sys.executable, "-m", "index.cli", "--index-dir", str(self.publisher_root), *args]
        # From the caller's folder: the paths in ARGS are relative to it.
        return subprocess.run(argv, env=self._env(), capture_output=True, text=True, timeout=3600)

    def kill(self, name: str, sig: int) -> None:
        """Send ``sig`` to ``name``'s whole group (a crash, for the tests)."""
        proc = self.state.proc(name)
        if is_ours(proc):
            os.killpg(proc.pid, sig)

    # --- down ------------------------------------------------------------------------------

    def down(self) -> list[str]:
        """Stop every recorded process group (front first); returns the names stopped."""
        procs = {p.name: p for p in self.state.procs()}
        order = [n for n in STOP_ORDER if n in procs]
        order += sorted(n for n in procs if n not in STOP_ORDER and n != "publisher")
        order += ["publisher"] if "publisher" in procs else []
        stopped = []
        for name in order:
            if is_ours(procs[name]):
                stop_group(procs[name])
                stopped.append(name)
            self.state.forget(name)
        reap_exited()  # the ones killed before (a test's crash) too
        return stopped
