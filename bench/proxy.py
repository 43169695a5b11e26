"""nginx in front of a gunicorn, configured by ``deploy/nginx.conf``, for tests and benchmarks.

``Nginx(upstream, folder)`` runs Debian's nginx (``/usr/sbin/nginx``) on a free loopback port
with everything of its own under ``folder``: a small main configuration (pid, logs, temporary
paths, one worker) that includes a copy of ``deploy/nginx.conf`` whose two ``ADDRESS`` lines
(the upstream gunicorn, the listening address) are set, and nothing else changed. No system
configuration is read or touched. ``stop()`` ends it, whatever happened.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.common import REPO
from bench.http import free_port
from cluster.nginx import NGINX, main_config

DEPLOY_CONF = REPO / "deploy" / "nginx.conf"


def site_config(upstream: str, listen: str) -> str:
    """``deploy/nginx.conf`` with its two ADDRESS lines set; the rest exactly as shipped."""
    text = DEPLOY_CONF.read_text(encoding="utf-8")
    text, upstreams = re.subn(
        r"(?m)^(\s*server )127\.0\.0\.1:8000( .*;)$", rf"\g<1>{upstream}\g<2>", text
    )
    text, listens = re.subn(r"(?m)^(\s*listen )80;$", rf"\g<1>{listen};", text)
    if (upstreams, listens) != (1, 1):
        raise RuntimeError(
            f"{DEPLOY_CONF}: expected one upstream server 127.0.0.1:8000 line and "
            "one 'listen 80;' line to set"
        )
    return text


class Nginx:
    """nginx on ``127.0.0.1:<port>`` in front of ``upstream`` (host:port); files in ``folder``."""

    def __init__(self, upstream: str, folder: Path) -> None:
        if not NGINX.exists():
            raise RuntimeError(f"{NGINX} is missing (apt-get install nginx)")
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        site = folder / "presse-search.conf"
        site.write_text(site_config(upstream, f"127.0.0.1:{self.port}"), encoding="utf-8")
        conf = folder / "nginx.conf"
        conf.write_text(main_config(folder, site), encoding="utf-8")
        self._log = (folder / "nginx.out").open("wb")
        self.process = subprocess.Popen(
            [str(NGINX), "-e", str(folder / "error.log"), "-p", str(folder), "-c", str(conf)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
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
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
