"""The publisher's side of replication, on real indexes: the ``/replication`` routes (off
without a token, 401 with a wrong one, manifests, files and ranges, traversal refused, acks) and
retention (``prune`` keeps what replicas serve or copy, until they ack a newer one or time out).
The replica's side: ``test_replica.py``; with real processes: ``test_replica_processes.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import MakeClient
from replication_env import TOKEN, build_publisher, update

from index import replicas
from index.generations import IndexRoot
from index.manifest import read
from search.config import SETTINGS, Settings

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in SETTINGS:
        monkeypatch.delenv(spec.env, raising=False)


@pytest.fixture
def publisher(tmp_path: Path) -> IndexRoot:
    return build_publisher(tmp_path)


# --- the publisher's routes ----------------------------------------------------------------------


def test_without_a_token_there_is_no_replication_route(
    publisher: IndexRoot, make_client: MakeClient
) -> None:
    client = make_client(Settings(index_dir=publisher.path))
    for path in ("/replication/current", f"/replication/generations/{publisher.current_id()}"):
        resp = client.simulate_get(path, headers=AUTH)
        assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    assert client.simulate_post("/replication/acks", json={}, headers=AUTH).status_code == 404


def test_a_wrong_or_missing_token_gets_a_json_401(
    publisher: IndexRoot, make_client: MakeClient
) -> None:
    client = make_client(Settings(index_dir=publisher.path, replication_token=TOKEN))
    for headers in ({}, {"Authorization": "Bearer " + TOKEN[:-1] + "x"},
                    {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}):
        resp = client.simulate_get("/replication/current", headers=headers)
        assert resp.status_code == 401, headers
        assert resp.json["error"]["code"] == "unauthorized"
        assert resp.headers["cache-control"] == "no-store"
    name = read(publisher.current().path).toc.name
    resp = client.simulate_get(
        f"/replication/generations/{publisher.current_id()}/files/{name}")
    assert resp.status_code == 401
    assert resp.content != (publisher.current().path / name).read_bytes()


def test_the_manifest_and_the_files_are_served_with_ranges(
    publisher: IndexRoot, make_client: MakeClient
) -> None:
    client = make_client(Settings(index_dir=publisher.path, replication_token=TOKEN))
    live = publisher.current()
    resp = client.simulate_get("/replication/current", headers=AUTH)
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    assert resp.json["generation"] == live.id
    assert resp.json["meta"]["documents"] == live.meta["documents"]
    assert resp.json["manifest"] == json.loads((live.path / "MANIFEST.json").read_text())
    assert resp.json["generations"] == [live.id]
    same = client.simulate_get(f"/replication/generations/{live.id}", headers=AUTH)
    assert same.json == resp.json

    # No site's page may read it, whatever PRESSE_CORS_ORIGINS allows for the public API.
    cors = make_client(Settings(index_dir=publisher.path, replication_token=TOKEN,
                                cors_origins=("https://www.exemple.ma",)))
    for method in ("GET", "OPTIONS"):
        answer = cors.simulate_request(method, "/replication/current", headers=AUTH | {
            "Origin": "https://www.exemple.ma", "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in answer.headers, method
    assert "access-control-allow-origin" in cors.simulate_get(
        "/health", headers={"Origin": "https://www.exemple.ma"}).headers

    biggest = max(read(live.path).files, key=lambda f: f.size)
    data = (live.path / biggest.name).read_bytes()
    url = f"/replication/generations/{live.id}/files/{biggest.name}"
    whole = client.simulate_get(url, headers=AUTH)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-length"] == str(len(data))
    assert whole.headers["cache-control"] == "no-store"
    tail = client.simulate_get(url, headers=AUTH | {"Range": "bytes=1000-"})
    assert tail.status_code == 206 and tail.content == data[1000:]
    assert tail.headers["content-range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    middle = client.simulate_get(url, headers=AUTH | {"Range": "bytes=10-19"})
    assert middle.status_code == 206 and middle.content == data[10:20]
    beyond = client.simulate_get(url, headers=AUTH | {"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("name", ["..%2F..%2FCURRENT", "..", "READY", "MANIFEST.json", "LIVE",
                                  "%2Fetc%2Fpasswd", "MAIN_inconnu.seg"])
def test_only_files_the_manifest_lists_are_served(
    publisher: IndexRoot, make_client: MakeClient, name: str
) -> None:
    client = make_client(Settings(index_dir=publisher.path, replication_token=TOKEN))
    live_id = publisher.current_id()
    resp = client.simulate_get(f"/replication/generations/{live_id}/files/{name}", headers=AUTH)
    assert resp.status_code == 404, resp.text
    assert resp.json["error"]["code"] == "not_found"
    for gen in ("..", "..%2F..", "inconnue"):
        assert client.simulate_get(f"/replication/generations/{gen}",
                                   headers=AUTH).status_code == 404


def test_acks_are_recorded_and_bad_ones_name_their_field(
    publisher: IndexRoot, make_client: MakeClient
) -> None:
    client = make_client(Settings(index_dir=publisher.path, replication_token=TOKEN))
    live_id = publisher.current_id()
    resp = client.simulate_post("/replication/acks", headers=AUTH,
                                json={"replica": "web-2", "serving": live_id, "copying": None})
    assert resp.status_code == 204
    [ack] = replicas.read_acks(publisher.path)
    assert (ack.replica, ack.serving, ack.copying) == ("web-2", live_id, None)
    for body, field in (({"replica": "../x", "serving": None}, "replica"),
                        ({"replica": "web-2", "serving": "a/b"}, "serving"),
                        ({"replica": "web-2", "copying": 3}, "copying"),
                        ([1, 2], "body")):
        resp = client.simulate_post("/replication/acks", headers=AUTH, json=body)
        assert resp.status_code == 400 and resp.json["error"]["parameter"] == field, body
    resp = client.simulate_post("/replication/acks", headers=AUTH, body=b"{nope")
    assert resp.status_code == 400 and resp.json["error"]["parameter"] == "body"
    assert [a.replica for a in replicas.read_acks(publisher.path)] == ["web-2"]


# --- retention ------------------------------------------------------------------------------------


def ack(root: IndexRoot, serving: str | None, copying: str | None = None,
        age_s: float = 0.0) -> None:
    at = datetime.now(UTC) - timedelta(seconds=age_s)
    replicas.record(root.path, replicas.Ack("r1", serving, copying, at))


def test_prune_keeps_what_a_replica_serves_until_it_acks_a_newer_one(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    first = publisher.current_id()
    assert first is not None
    ack(publisher, serving=first)
    second = update(publisher, tmp_path, 1, keep=1)
    third = update(publisher, tmp_path, 2, keep=1)
    ids = [g.id for g in publisher.ready_generations()]
    assert ids == [first, second, third]  # the replica serves the first: it and newer are kept
    ack(publisher, serving=second, copying=third)
    fourth = update(publisher, tmp_path, 3, keep=1)
    assert [g.id for g in publisher.ready_generations()] == [second, third, fourth]
    ack(publisher, serving=fourth)
    fifth = update(publisher, tmp_path, 4, keep=1)
    assert [g.id for g in publisher.ready_generations()] == [fourth, fifth]


def test_a_copying_replica_holds_its_generation_and_a_silent_one_is_forgotten(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    first = publisher.current_id()
    ack(publisher, serving=None, copying=first)
    second = update(publisher, tmp_path, 1, keep=1, timeout_s=60)
    assert [g.id for g in publisher.ready_generations()] == [first, second]
    ack(publisher, serving=None, copying=first, age_s=120)  # silent for two minutes
    third = update(publisher, tmp_path, 2, keep=1, timeout_s=60)
    assert [g.id for g in publisher.ready_generations()] == [third]


def test_without_replicas_prune_keeps_as_before(publisher: IndexRoot, tmp_path: Path) -> None:
    update(publisher, tmp_path, 1, keep=1)
    assert [g.id for g in publisher.ready_generations()] == [publisher.current_id()]
    (publisher.path / replicas.ACKS_DIR).mkdir()
    (publisher.path / replicas.ACKS_DIR / "r9.json").write_text("{pas du json")
    update(publisher, tmp_path, 2, keep=1)
    assert [g.id for g in publisher.ready_generations()] == [publisher.current_id()]
