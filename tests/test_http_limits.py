"""The edges of HTTP itself: what gunicorn refuses before the app runs answers the API's JSON
error shape, the request-line limit fits the documented 500-character ``q``, and a CORS preflight
allows only the headers the API uses.

Gunicorn-level checks run the real gunicorn (``gunicorn.conf.py``) on the sample index, over
loopback, with raw sockets where the request must be malformed.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import SITE_ORIGIN
from falcon.testing import TestClient
from test_serving import free_port, running, server_env, wait_ready

from search.cors import ALLOWED_HEADERS

FOUR_BYTES = "\U00020000"  # a CJK letter: 4 bytes in UTF-8, 12 once %-encoded


def test_a_preflight_allows_only_the_headers_the_api_uses(client: TestClient) -> None:
    resp = client.simulate_options("/search", headers={
        "Origin": SITE_ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-evil, authorization, accept"})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == SITE_ORIGIN
    assert resp.headers["access-control-allow-headers"] == ALLOWED_HEADERS
    allowed = resp.headers["access-control-allow-headers"].lower()
    assert "x-evil" not in allowed and "authorization" not in allowed and "*" not in allowed


def test_a_preflight_without_requested_headers_gets_no_wildcard(client: TestClient) -> None:
    resp = client.simulate_options("/suggest", headers={
        "Origin": SITE_ORIGIN, "Access-Control-Request-Method": "GET"})
    assert resp.headers["access-control-allow-headers"] == ALLOWED_HEADERS


def exchange(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer: status, headers (lowercased names), body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def get(port: int, target: str, extra: str = "") -> tuple[int, dict[str, str], bytes]:
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n"
    return exchange(port, request.encode("latin-1"))


def assert_json_error(answer: tuple[int, dict[str, str], bytes], status: int, code: str) -> None:
    got, headers, body = answer
    assert got == status, body
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert "server" not in headers
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"]


@pytest.mark.slow
def test_gunicorn_limits_answer_json_and_fit_the_q_limit(
    sample_index: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = server_env(PRESSE_INDEX_DIR=str(sample_index), PRESSE_BIND=f"127.0.0.1:{port}",
                     PRESSE_WORKERS="1")
    log = tmp_path / "gunicorn.log"
    with running([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env, log) as proc:
        wait_ready(proc, f"http://127.0.0.1:{port}", log)

        # The documented limit is reachable with the widest characters, with every filter.
        longest = quote(FOUR_BYTES * 500)
        filters = "&page=2&per_page=100&section=%C3%89conomie&tag=sant%C3%A9" \
                  "&from=2020-01-01&to=2024-12-31&sort=date"
        status, _, body = get(port, f"/search?q={longest}{filters}")
        assert status == 200, body
        assert json.loads(body)["query"] == FOUR_BYTES * 500
        # One more character is the app's 400 naming q, not gunicorn's 414.
        status, _, body = get(port, f"/search?q={quote(FOUR_BYTES * 501)}")
        assert status == 400 and json.loads(body)["error"]["parameter"] == "q"

        assert_json_error(get(port, "/search?q=" + "a" * 9000), 414, "uri_too_long")
        assert_json_error(get(port, "/search?q=maroc", f"X-Big: {'b' * 9000}\r\n"), 431,
                          "request_header_fields_too_large")
        assert_json_error(exchange(port, b"NOT HTTP AT ALL\r\n\r\n"), 400, "bad_request")
        answer = exchange(port, b"GET /search?q=\x00\xff HTTP/1.1\r\nHost: x\r\n\r\n")
        assert_json_error(answer, 400, "bad_request")
        assert b"\\u0000" not in answer[2] and b"NOT HTTP" not in answer[2]  # nothing echoed
