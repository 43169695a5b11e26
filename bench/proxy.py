"""nginx in front of a gunicorn, configured by ``deploy/nginx.conf``, for tests and benchmarks.

``Nginx(upstream, folder)`` runs Debian's nginx (``/usr/sbin/nginx``) on a free loopback port
with everything of its own under ``folder``: a small main configuration (pid, logs, temporary
paths, one worker) that includes a copy of ``deploy/nginx.conf`` whose two ``ADDRESS`` lines
(the upstream gunicorn, the listening address) are set, and nothing else changed. No system
configuration is read or touched. ``stop()`` ends it, whatever happened.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.common import REPO
from bench.http import free_port
from cluster.nginx import NginxProcess

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


class Nginx(NginxProcess):
    """nginx on ``127.0.0.1:<port>`` in front of ``upstream`` (host:port); files in ``folder``;
    started at once (``cluster.nginx.NginxProcess`` runs it)."""

    def __init__(self, upstream: str, folder: Path) -> None:
        port = free_port()
        super().__init__(folder, port, site_config(upstream, f"127.0.0.1:{port}"))
        self.start()

    def wait_ready(self, timeout: float = 20.0) -> None:
        self.wait_listening(timeout)
