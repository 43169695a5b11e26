"""Debian's nginx under a prefix of its own, and ``deploy/nginx-replicas.conf`` made runnable.

``main_config`` is the small top-level configuration every nginx started by the project uses
(pid, logs and temporary folders under one folder, one worker, no system file read);
``replicas_site`` is the shipped replicas file with its ADDRESS and UPSTREAMS lines set (and,
for a cluster on one machine, its per-address limits left out: every client of a test or a
benchmark is 127.0.0.1, so 20 requests/s per address would turn a load test into 429s).
``NginxProcess`` starts it, reloads it and stops it, whatever happened.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NGINX = Path("/usr/sbin/nginx")
REPLICAS_CONF = REPO / "deploy" / "nginx-replicas.conf"
UPSTREAM_NAME = "presse_search"


def main_config(folder: Path, site: Path) -> str:
    """nginx's top-level file: everything of its own under ``folder``, then ``site``."""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Run as root (a test machine's CI), nginx would hand its workers to "nobody", who cannot
    # enter a private temporary folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\ndaemon off;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n"
        f"    include {site};\n}}\n"
    )


def _set(pattern: str, replacement: str, text: str, what: str) -> str:
    text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count != 1:
        raise RuntimeError(f"{REPLICAS_CONF}: expected one {what} line to set, found {count}")
    return text


def replicas_site(listen: str, upstreams_file: Path, limits: bool = True) -> str:
    """``deploy/nginx-replicas.conf`` with its ADDRESS and UPSTREAMS lines set.

    ``limits=False`` leaves out the two per-address limit lines (their zones stay declared):
    the only change, made for clients that all share 127.0.0.1.
    """
    text = REPLICAS_CONF.read_text(encoding="utf-8")
    text = _set(r"^(\s*listen )80;$", rf"\g<1>{listen};", text, "'listen 80;'")
    text = _set(
        r"^include /etc/nginx/presse-upstreams\.conf;$",
        f"include {upstreams_file};",
        text,
        "'include /etc/nginx/presse-upstreams.conf;'",
    )
    if not limits:
        text = _set(r"^\s*limit_conn presse_conn \d+;\n", "", text, "limit_conn")
        text = _set(r"^\s*limit_req zone=presse_req .*;\n", "", text, "limit_req")
    return text


class NginxProcess:
    """nginx (``daemon off``) in its own process group, its files in ``folder``."""

    def __init__(self, folder: Path, port: int, site_text: str) -> None:
        if not NGINX.exists():
            raise RuntimeError(f"{NGINX} is missing (apt-get install nginx)")
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        site = folder / "presse-search.conf"
        site.write_text(site_text, encoding="utf-8")
        self.conf = folder / "nginx.conf"
        self.conf.write_text(main_config(folder, site), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *extra: str) -> list[str]:
        """nginx with this prefix and configuration; ``-s reload`` makes the reload command."""
        return [
            str(NGINX),
            "-e",
            str(self.folder / "error.log"),
            "-p",
            str(self.folder),
            "-c",
            str(self.conf),
            *extra,
        ]

    def check(self) -> None:
        """``nginx -t``: raises with nginx's own message when the configuration is wrong."""
        done = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{done.stderr}")

    def start(self) -> int:
        """Start nginx; returns its pid (also its process group)."""
        self.check()
        with (self.folder / "nginx.out").open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self.process.pid

    def wait_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"nginx exited with status {self.process.returncode}:\n" + self.error_log()
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not listen within {timeout:.0f} s:\n" + self.error_log())

    def error_log(self) -> str:
        try:
            return (self.folder / "error.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
