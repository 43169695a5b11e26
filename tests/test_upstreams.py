"""``deploy/nginx-replicas.conf`` and the ``/ready`` checker in front of real gunicorns.

Two plain gunicorns (one worker each) stand for replicas: one serves the sample index, the
other an index root with nothing in it yet, whose ``/search`` and ``/ready`` answer 503 (a
replica that has not copied its first generation). Debian's nginx runs the shipped replicas file
(its ADDRESS and UPSTREAMS lines set, per-address limits off: every client here is 127.0.0.1).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SAMPLE_CORPUS, BuildIndex
from conftest import loopback_get as get
from test_serving import free_port, running, server_env

from cluster.nginx import REPLICAS_CONF, NginxProcess, replicas_site
from cluster.upstreams import Checker, Replica, render, write_atomically

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("nginx_installed")]
DEPLOY_SINGLE = REPLICAS_CONF.with_name("nginx.conf")


def wait_answering(port: int, path: str, want: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = get(port, path)[0]
            if last == want:
                return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"127.0.0.1:{port}{path} never answered {want} (last: {last})")


@dataclass
class Setup:
    ready_port: int
    empty_port: int
    empty_root: Path
    empty_log: Path
    upstream_file: Path
    nginx: NginxProcess


@pytest.fixture(scope="module")
def setup(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    folder = tmp_path_factory.mktemp("upstreams")
    empty_root = folder / "empty-index"
    empty_root.mkdir()
    ports = free_port(), free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]

    def env(root: Path, port: int) -> dict[str, str]:
        return server_env(
            PRESSE_INDEX_DIR=str(root),
            PRESSE_BIND=f"127.0.0.1:{port}",
            PRESSE_WORKERS="1",
            PRESSE_REFRESH_INTERVAL="0.2",
        )

    logs = folder / "ready.log", folder / "empty.log"
    with (
        running(command, env(sample_index, ports[0]), logs[0]),
        running(command, env(empty_root, ports[1]), logs[1]),
    ):
        wait_answering(ports[0], "/ready", 200)
        wait_answering(ports[1], "/ready", 503)
        upstream_file = folder / "nginx" / "presse-upstreams.conf"
        upstream_file.parent.mkdir()
        write_atomically(upstream_file, render([Replica(f"127.0.0.1:{p}") for p in ports]))
        port = free_port()
        nginx = NginxProcess(
            folder / "nginx", port, replicas_site(f"127.0.0.1:{port}", upstream_file, limits=False)
        )
        nginx.start()
        try:
            nginx.wait_listening()
            yield Setup(ports[0], ports[1], empty_root, logs[1], upstream_file, nginx)
        finally:
            nginx.stop()


def searches_answered_by(log: Path) -> int:
    return len(re.findall(r'"GET /search\?q=maroc\S* HTTP/1.1" 503', log.read_text()))


def test_a_replica_answering_503_is_retried_on_another(setup: Setup) -> None:
    before = searches_answered_by(setup.empty_log)
    answers = [get(setup.nginx.port, f"/search?q=maroc&page={1 + k % 2}") for k in range(20)]
    assert [status for status, _, _ in answers] == [200] * 20
    assert all(json.loads(body)["total"] > 0 for _, _, body in answers)
    # nginx did send some of them to the empty replica first (round robin), and retried them.
    assert searches_answered_by(setup.empty_log) > before


def test_replication_and_admin_routes_never_go_through(setup: Setup) -> None:
    for path in ("/replication/current", "/replication/generations/x/files/y", "/admin/synonyms"):
        status, headers, body = get(setup.nginx.port, path)
        assert status == 404, path
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "not_found"
    assert "/replication" not in setup.empty_log.read_text()


def test_the_checker_takes_an_unready_replica_out_then_back(
    setup: Setup, build_index: BuildIndex
) -> None:
    addresses = [f"127.0.0.1:{setup.ready_port}", f"127.0.0.1:{setup.empty_port}"]
    status_file = setup.upstream_file.with_name("checker.json")
    checker = Checker(
        addresses,
        setup.upstream_file,
        setup.nginx.command("-s", "reload"),
        rise=1,
        fall=2,
        status_file=status_file,
    )
    assert not checker.check_once()  # one failure is not enough (fall=2): nothing to reload
    assert " down;" not in setup.upstream_file.read_text()
    assert checker.check_once()  # the second one is: rewritten, nginx reloaded
    text = setup.upstream_file.read_text()
    assert f"server 127.0.0.1:{setup.empty_port} max_fails=3 fail_timeout=5s down;" in text
    assert f"server 127.0.0.1:{setup.ready_port} max_fails=3 fail_timeout=5s;" in text
    status = json.loads(status_file.read_text())
    assert [r["up"] for r in status["replicas"]] == [True, False]
    assert status["replicas"][1]["status"] == 503
    assert not checker.check_once()  # unchanged: no reload

    time.sleep(1.0)  # the old nginx worker finishes; the new one has the new upstream
    before = searches_answered_by(setup.empty_log)
    for _ in range(10):
        assert get(setup.nginx.port, "/search?q=maroc")[0] == 200
    assert searches_answered_by(setup.empty_log) == before  # none went to the down replica

    # The empty replica gets an index (what a first copy does): ready, so back in at once.
    build_index(SAMPLE_CORPUS, setup.empty_root)
    wait_answering(setup.empty_port, "/ready", 200)
    assert checker.check_once()
    assert " down;" not in setup.upstream_file.read_text()
    assert checker.reloads == 2


def test_when_every_replica_is_unready_all_stay_in() -> None:
    replicas = [Replica("127.0.0.1:1", up=False), Replica("127.0.0.1:2", up=False)]
    text = render(replicas)
    assert " down;" not in text
    assert text.count("server 127.0.0.1:") == 2
    replicas[0].up = True
    assert render(replicas).count(" down;") == 1


def test_a_checker_against_replicas_that_do_not_answer_keeps_them_all(tmp_path: Path) -> None:
    upstream = tmp_path / "upstreams.conf"
    reloaded = tmp_path / "reloaded"
    checker = Checker(
        [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"],  # nothing listens there
        upstream,
        ["touch", str(reloaded)],
        fall=1,
        timeout=0.5,
    )
    assert checker.check_once()  # first write of the file, then the reload command
    assert reloaded.exists()
    assert [r.up for r in checker.replicas] == [False, False]
    assert " down;" not in upstream.read_text()


def _directives(text: str) -> list[str]:
    """The directive lines of an nginx file, without comments and blank lines."""
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines if line]


def test_the_replicas_file_keeps_every_limit_of_the_single_backend_file() -> None:
    single = _directives(DEPLOY_SINGLE.read_text(encoding="utf-8"))
    replicas = _directives(REPLICAS_CONF.read_text(encoding="utf-8"))
    # What differs on purpose: the upstream (a file the checker writes) and the retries.
    start, end = single.index("upstream presse_search {"), single.index("keepalive 16;") + 2
    single = single[:start] + single[end:]
    retries = ("proxy_next_upstream ", "proxy_next_upstream_tries ")
    missing = [line for line in single if line not in replicas and not line.startswith(retries)]
    assert missing == []
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in replicas
    assert "proxy_next_upstream_tries 3;" in replicas


def test_the_rendered_file_passes_nginx_t(tmp_path: Path) -> None:
    upstream = tmp_path / "presse-upstreams.conf"
    write_atomically(upstream, render([Replica("127.0.0.1:9"), Replica("127.0.0.1:10", up=False)]))
    for limits in (True, False):
        nginx = NginxProcess(
            tmp_path / f"n{limits}", 1, replicas_site("127.0.0.1:1", upstream, limits)
        )
        nginx.check()  # raises with nginx's message
        site = (tmp_path / f"n{limits}" / "presse-search.conf").read_text()
        assert ("limit_req zone=presse_req" in site) is limits
