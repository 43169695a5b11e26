"""The headers of every kind of answer, and error bodies that tell nothing of the internals.

Every answer — 200, 400, 404, 405, 500, 503, to GET, HEAD and OPTIONS — carries
``X-Content-Type-Options: nosniff`` and a JSON content type, and no ``Server`` header; no error
body holds a traceback, an exception's text or a path of the machine. Checked in process for each
kind of failure (a bug planted in every engine method, no index, a search past its budget, an
unreadable index root), then over real HTTP: gunicorn, configured by ``gunicorn.conf.py``, serving
``tests/broken_app.py`` (the real app with a bug in the similar-articles call) on an empty index
root, so that each status comes from the real stack.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from broken_app import SECRET, EveryMethodBroken
from conftest import REPO, MakeClient
from falcon.testing import Result
from test_serving import free_port, running, server_env

from search.config import Settings

LEAKS = (
    "Traceback",
    'File "',
    ".py",
    "site-packages",
    "RuntimeError",
    "Exception",
    "secret",
    "/srv",
    str(REPO),
    "/tmp",
)


def assert_safe(status: int, headers: dict[str, str], body: bytes, method: str = "GET") -> None:
    """``headers`` with lowercased names."""
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("content-type") == "application/json"
    assert "server" not in headers, headers["server"]
    if method == "HEAD" or method == "OPTIONS":
        assert body == b""
        return
    document: Any = json.loads(body)
    if status >= 400:
        assert set(document) == {"error"} and {"code", "message"} <= set(document["error"])
        text = body.decode("utf-8")
        for leak in LEAKS:
            assert leak not in text, (leak, text)


def check(resp: Result, status: int, method: str = "GET") -> None:
    assert resp.status_code == status, resp.text
    assert_safe(status, {k.lower(): v for k, v in resp.headers.items()}, resp.content, method)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/search?q=maroc", 200),
        ("HEAD", "/search?q=maroc", 200),
        ("OPTIONS", "/search", 200),
        ("GET", "/ready", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/search", 400),
        ("GET", "/search?q=maroc&page=0", 400),
        ("GET", "/nope", 404),
        ("HEAD", "/nope", 404),
        ("GET", "/articles/nope/similar", 404),
        ("POST", "/search", 405),
        ("DELETE", "/articles/x/similar", 405),
    ],
)
def test_headers_of_ordinary_answers(
    settings: Settings, make_client: MakeClient, method: str, path: str, status: int
) -> None:
    route, _, query = path.partition("?")
    check(make_client(settings).simulate_request(method, route, query_string=query), status, method)


@pytest.mark.parametrize(
    "path", ["/search?q=maroc", "/articles/x/similar", "/suggest?q=ma", "/ready"]
)
def test_a_bug_anywhere_is_a_500_that_tells_nothing(
    settings: Settings, make_client: MakeClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(settings, EveryMethodBroken(settings))
    route, _, query = path.partition("?")
    resp = client.simulate_get(route, query_string=query)
    check(resp, 500)
    assert resp.json["error"]["code"] == "internal_error"
    assert "Traceback" in caplog.text  # the log has it all


@pytest.mark.parametrize(
    "path", ["/ready", "/search?q=maroc", "/suggest?q=ma", "/articles/x/similar"]
)
def test_no_index_is_a_503_that_tells_nothing(
    tmp_path: Path, make_client: MakeClient, path: str
) -> None:
    client = make_client(Settings(index_dir=tmp_path / "index"))
    route, _, query = path.partition("?")
    check(client.simulate_get(route, query_string=query), 503)


def test_an_unreadable_index_root_is_a_503_that_names_no_path(
    sample_index: Path, tmp_path: Path, make_client: MakeClient
) -> None:
    root = tmp_path / "index"
    shutil.copytree(sample_index, root)
    settings = Settings(index_dir=root, refresh_interval_s=0)
    client = make_client(settings)
    check(client.simulate_get("/search", query_string="q=maroc"), 200)
    # Running as root, a chmod does not lock anything out: a file where the folder was does.
    shutil.rmtree(root)
    root.write_text("not a folder")
    # A worker that serves a generation goes on (its files are open); /ready says why, no path.
    check(client.simulate_get("/search", query_string="q=maroc"), 200)
    ready = client.simulate_get("/ready")
    check(ready, 200)
    assert str(root) not in ready.text and "index" in ready.json["problem"]
    resp = make_client(settings).simulate_get("/search", query_string="q=maroc")
    check(resp, 503)
    assert str(root) not in resp.text and "index" in resp.json["error"]["message"]


def test_a_search_past_its_budget_is_a_503_that_tells_nothing(
    sample_index: Path, make_client: MakeClient
) -> None:
    # Several words: scoring, facets and the proximity rerank take well over 1 ms.
    client = make_client(Settings(index_dir=sample_index, search_budget_ms=1))
    resp = client.simulate_get("/search", query_string="q=maroc+france+rabat+paris+accords")
    check(resp, 503)
    assert resp.json["error"]["code"] == "timeout"


# --- over real HTTP ----------------------------------------------------------------------------


def request(port: int, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers={"Origin": "https://www.exemple.ma"})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
def test_every_status_over_real_gunicorn(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(
        PRESSE_INDEX_DIR=str(tmp_path / "empty-index"),
        PRESSE_BIND=f"127.0.0.1:{port}",
        PRESSE_WORKERS="1",
        PRESSE_CORS_ORIGINS="https://www.exemple.ma",
    )
    log = tmp_path / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--pythonpath",
        "tests",
        "broken_app:get_app()",
    ]
    with running(command, env, log) as process:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if request(port, "GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        seen = set()
        for method, path, status in [
            ("GET", "/health", 200),
            ("HEAD", "/health", 200),
            ("OPTIONS", "/search", 200),
            ("GET", "/openapi.json", 200),
            ("GET", "/search", 400),
            ("GET", "/search?q=maroc&per_page=0", 400),
            ("GET", "/nope", 404),
            ("GET", "/search%FF", 404),
            ("POST", "/search", 405),
            ("PUT", "/ready", 405),
            ("GET", "/articles/x/similar", 500),
            ("GET", "/ready", 503),
            ("GET", "/search?q=maroc", 503),
        ]:
            got, headers, body = request(port, method, path)
            assert got == status, (method, path, body)
            assert_safe(got, headers, body, method)
            assert headers.get("access-control-allow-origin") == "https://www.exemple.ma"
            seen.add(got)
        assert seen == {200, 400, 404, 405, 500, 503}

        # A request gunicorn cannot parse never reaches the app; gunicorn's own error page has
        # no Server header and no version either.
        answer = raw_exchange(port, b"NOT HTTP AT ALL\r\n\r\n")
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith(b"http/1.1 400") and b"server:" not in head
        assert b"gunicorn/" not in answer.lower()

    output = log.read_text()
    assert SECRET in output and "Traceback" in output  # the log has what the reader does not


def test_the_server_header_patch_is_in_place() -> None:
    """gunicorn.conf.py strips ``Server`` by patching gunicorn: fail loudly if that breaks."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy; runpy.run_path('gunicorn.conf.py');"
            "from gunicorn.http import wsgi;"
            "print(wsgi.Response.default_headers.drops_server)",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env=server_env(),
    )
    assert result.stdout.strip() == "True"
