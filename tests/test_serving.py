"""End to end: the real gunicorn, configured by ``gunicorn.conf.py``, serving a real index.

Each test starts a server on a free loopback port, waits for ``/ready``, checks a search over
HTTP, and always stops the server with SIGTERM (in a ``finally``), expecting a clean exit.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, dict[str, str], Any]:
    """Status, headers (names lowercased) and JSON body of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, json.load(resp)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, json.load(exc)


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` from the repository; SIGTERM it on the way out, whatever happened."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_ready(process: subprocess.Popen[bytes], base: str, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited early:\n{log.read_text()}"
        try:
            status, _, body = get(base + "/ready")
        except (urllib.error.URLError, ConnectionError):
            status, body = 0, None
        if status == 200:
            return dict(body)
        time.sleep(0.2)
    raise AssertionError(f"/ready never answered 200:\n{log.read_text()}")


def server_env(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSE_")}
    return {**env, **variables}


def test_gunicorn_serves_the_index(sample_index: Path, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(
        PRESSE_INDEX_DIR=str(sample_index),
        PRESSE_BIND=f"127.0.0.1:{port}",
        PRESSE_WORKERS="2",
        PRESSE_CORS_ORIGINS="https://www.exemple.ma",
    )
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    with running(command, env, log) as process:
        ready = wait_ready(process, base, log)
        assert ready["documents"] > 0
        # Both workers warm up at start (post_worker_init), not on their first request.
        deadline = time.monotonic() + START_TIMEOUT_S
        while log.read_text().count("warmed up on generation") < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        status, headers, body = get(base + "/search?q=Maroc&per_page=3")
        assert status == 200
        assert headers["content-type"] == "application/json"
        assert headers["cache-control"].startswith("public, max-age=")
        assert body["total"] > 0 and len(body["hits"]) == 3

        status, _, body = get(base + "/nope")
        assert status == 404 and body["error"]["code"] == "not_found"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    output = log.read_text()
    assert output.count("warmed up on generation") == 2, output
    assert "serving generation" in output  # the application's own log joins gunicorn's
    assert '"GET /search?q=Maroc&per_page=3 HTTP/1.1" 200' in output


def test_serve_builds_an_index_then_serves_it(tmp_path: Path) -> None:
    """``scripts/serve`` on a machine with no index yet: it builds one from the sample corpus.

    It runs against the test's own environment through a stand-in virtualenv whose install stamp
    is current (so ``_env.sh`` has nothing to install) and whose python refuses ``-m pip``.
    """
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    real_bin = Path(sys.executable).parent
    for name, target in (("python", sys.executable), ("gunicorn", str(real_bin / "gunicorn"))):
        script = venv / "bin" / name
        script.write_text(
            "#!/usr/bin/env bash\n"
            'if [ "${1:-} ${2:-}" = "-m pip" ]; then echo "no pip in tests" >&2; exit 97; fi\n'
            f'exec "{target}" "$@"\n'
        )
        script.chmod(0o755)
    stamp = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    (venv / ".presse-installed").write_text(stamp + "\n")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    index_dir = tmp_path / "index"
    env = server_env(
        PRESSE_VENV=str(venv),
        PRESSE_INDEX_DIR=str(index_dir),
        PRESSE_BIND=f"127.0.0.1:{port}",
        PRESSE_WORKERS="1",
    )
    log = tmp_path / "serve.log"
    with running([str(REPO / "scripts" / "serve")], env, log) as process:
        ready = wait_ready(process, base, log)
        assert (index_dir / "CURRENT").read_text().strip() == ready["generation"]
        status, _, body = get(base + "/suggest?q=econ")
        assert status == 200 and "économie" in body["suggestions"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert "building one from data/sample/articles.jsonl" in log.read_text()
