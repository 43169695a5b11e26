"""A replica's follower on real indexes: over HTTP (the publisher's app served from a thread)
and from a folder, hard links, resumed and corrupt parts, checksums, a publisher gone, a
rollback at the source, bounded ranges, and ``/ready``'s lag and 503.

The follower runs in this process, one poll at a time (``Follower.poll``); kills and gunicorn
are in ``test_replica_processes.py``, the publisher's routes and retention in
``test_publisher.py``.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import synthetic
from conftest import MakeClient
from replication_env import TOKEN, build_publisher, new_files, serving_publisher, update
from test_openapi import assert_documented

from index import replica_copy, replica_status, replicas
from index.build import full_build
from index.generations import IndexRoot
from index.manifest import read, verify
from index.replica import Follower, behind
from index.replica_copy import STAGING_DIR
from index.replica_sources import DirectorySource, HttpSource
from search.config import SETTINGS, MaxLag, Settings, parse_max_lag
from search.engine import Engine
from search.results import SearchRequest


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in SETTINGS:
        monkeypatch.delenv(spec.env, raising=False)


@pytest.fixture
def publisher(tmp_path: Path) -> IndexRoot:
    return build_publisher(tmp_path)


def follower(replica: Path, source: HttpSource | DirectorySource, **kw: float) -> Follower:
    return Follower(IndexRoot(replica), source, "r1", poll_s=0.05, **kw)  # type: ignore[arg-type]


def found(root: Path, query: str) -> set[str]:
    engine = Engine(Settings(index_dir=root, refresh_interval_s=0))
    try:
        return {h.id for h in engine.search(SearchRequest(query=query, per_page=50)).hits}
    finally:
        engine.close()


# --- the follower ---------------------------------------------------------------------------------


def test_over_http_a_replica_copies_a_build_then_only_an_updates_new_files(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    replica = tmp_path / "replica"
    with serving_publisher(publisher.path) as url:
        follow = follower(replica, HttpSource(url, TOKEN))
        follow.poll()
        first = publisher.current_id()
        assert IndexRoot(replica).current_id() == first
        total = sum(f.size for f in read(publisher.current().path).files)
        status = replica_status.read(replica)
        assert status is not None and status.error is None
        assert (status.serving, status.source_generation, status.behind_generations) == (
            first, first, 0)
        assert status.bytes_copied_last == total and status.bytes_linked_last == 0
        assert IndexRoot(replica).current().meta["replicated_from"] == url

        second = update(publisher, tmp_path, 1)
        follow.poll()
        assert IndexRoot(replica).current_id() == second
        added = new_files(publisher, first, second)
        status = replica_status.read(replica)
        assert status is not None
        print(f"\nupdate of one article: {status.bytes_copied_last:,} bytes copied "
              f"(its new files: {sum(added.values()):,}), {status.bytes_linked_last:,} linked")
        assert status.bytes_copied_last == sum(added.values())
        assert status.bytes_linked_last == total - read(
            publisher.generations_dir / first).toc.size
        old, new = IndexRoot(replica).generations_dir / first, IndexRoot(replica).current().path
        for entry in read(new).files:
            if entry.name not in added:  # the same file on disk, not a copy
                assert os.stat(old / entry.name).st_ino == os.stat(new / entry.name).st_ino
        verify(new, read(new))
    assert found(replica, "balafon") == {"maj-1"}
    assert not any((replica / STAGING_DIR).iterdir())
    acks = replicas.read_acks(publisher.path)
    assert [(a.replica, a.serving, a.copying) for a in acks] == [("r1", second, None)]


def test_from_a_folder_a_replica_copies_and_acks_beside_the_source(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    replica = tmp_path / "replica"
    follow = follower(replica, DirectorySource(publisher.path))
    follow.poll()
    first = publisher.current_id()
    second = update(publisher, tmp_path, 1)
    third = update(publisher, tmp_path, 2)
    follow.poll()
    status = replica_status.read(replica)
    assert status is not None and status.serving == third and status.error is None
    assert second != third
    assert status.bytes_copied_last == sum(new_files(publisher, first, third).values())
    assert found(replica, "balafon") == {"maj-1", "maj-2"}
    [ack] = replicas.read_acks(publisher.path)
    assert (ack.replica, ack.serving) == ("r1", third)


def test_behind_counts_the_sources_ready_generations_the_replica_lacks(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    source = DirectorySource(publisher.path)
    first = publisher.current_id()
    update(publisher, tmp_path, 1)
    update(publisher, tmp_path, 2)
    published = source.current()
    assert published is not None
    assert behind(first, published) == 2
    assert behind(None, published) == 3
    assert behind(published.generation, published) == 0


def test_a_corrupt_file_at_the_source_is_refused_and_the_replica_keeps_serving(
    publisher: IndexRoot, tmp_path: Path, make_client: MakeClient
) -> None:
    replica = tmp_path / "replica"
    with serving_publisher(publisher.path) as url:
        follow = follower(replica, HttpSource(url, TOKEN))
        follow.poll()
        first = publisher.current_id()
        second = update(publisher, tmp_path, 1)
        victim = max(new_files(publisher, first, second).items(), key=lambda item: item[1])[0]
        path = publisher.generations_dir / second / victim
        original = path.read_bytes()
        path.write_bytes(bytes([original[0] ^ 0xFF]) + original[1:])  # same size, one byte off
        follow.poll()
        status = replica_status.read(replica)
        assert status is not None and status.serving == first
        assert status.error is not None and victim in status.error
        assert "checksum mismatch" in status.error and second in status.error
        assert IndexRoot(replica).current_id() == first
        assert not (IndexRoot(replica).generations_dir / second).exists()
        assert found(replica, "balafon") == set()  # still the previous generation
        # /ready on the replica: behind by one, which PRESSE_MAX_LAG allows by default.
        client = make_client(Settings(index_dir=replica, replicate_from=url))
        resp = client.simulate_get("/ready")
        assert resp.status_code == 200, resp.json
        assert resp.json["replication"]["lag_generations"] == 1
        assert victim in resp.json["replication"]["error"]

        path.write_bytes(original)  # repaired at the source: taken after the retry delay
        follow._refused = None
        follow.poll()
        assert IndexRoot(replica).current_id() == second
        assert replica_status.read(replica).error is None  # type: ignore[union-attr]


def test_with_the_publisher_gone_the_replica_keeps_serving_and_stays_ready(
    publisher: IndexRoot, tmp_path: Path, make_client: MakeClient
) -> None:
    replica = tmp_path / "replica"
    with serving_publisher(publisher.path) as url:
        follow = follower(replica, HttpSource(url, TOKEN, timeout_s=2))
        follow.poll()
    follow.poll()  # the server is gone
    status = replica_status.read(replica)
    assert status is not None and status.serving == publisher.current_id()
    assert status.error is not None and "unreachable" in status.error
    client = make_client(Settings(index_dir=replica, replicate_from=url, max_lag=MaxLag(0, 0.0)))
    resp = client.simulate_get("/ready")
    assert resp.status_code == 200, resp.json
    assert resp.json["replication"]["lag_s"] == 0
    assert resp.json["documents"] == publisher.current().meta["documents"]


def test_a_wrong_token_is_reported_and_nothing_is_copied(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    replica = tmp_path / "replica"
    with serving_publisher(publisher.path) as url:
        follower(replica, HttpSource(url, "un-autre-jeton-0123456789")).poll()
    status = replica_status.read(replica)
    assert status is not None and status.serving is None
    assert status.error is not None and "401" in status.error
    assert IndexRoot(replica).current_id() is None


# --- /ready on a replica --------------------------------------------------------------------------


def test_ready_answers_503_past_the_max_lag_and_200_once_caught_up(
    publisher: IndexRoot, tmp_path: Path, make_client: MakeClient
) -> None:
    replica = tmp_path / "replica"
    follow = follower(replica, DirectorySource(publisher.path))
    follow.poll()
    first = publisher.current_id()
    update(publisher, tmp_path, 1)
    third = update(publisher, tmp_path, 2)
    # Behind by two: the first poll notices (and is refused: a file is missing at the source).
    victim = next(iter(new_files(publisher, first, third)))
    hidden = tmp_path / "hidden"
    os.rename(publisher.generations_dir / third / victim, hidden)
    follow.poll()
    assert IndexRoot(replica).current_id() == first

    def ready(max_lag: str) -> tuple[int, dict[str, object]]:
        client = make_client(Settings(index_dir=replica, replicate_from=str(publisher.path),
                                      max_lag=parse_max_lag(max_lag)))
        resp = client.simulate_get("/ready")
        return resp.status_code, resp.json

    client = make_client(Settings(index_dir=replica, replicate_from=str(publisher.path),
                                  max_lag=parse_max_lag("1")))
    assert_documented(client.simulate_get("/ready"), "/ready")
    status, body = ready("1")
    assert status == 503 and "2 generations behind" in str(body["unready"])
    assert body["replication"]["lag_generations"] == 2  # type: ignore[index]
    assert body["generation"] == first
    assert ready("2")[0] == 200
    status, body = ready("2,0s")  # seconds: behind since the poll above, so more than 0 s
    assert status == 503 and "s behind the source" in str(body["unready"])

    os.rename(hidden, publisher.generations_dir / third / victim)
    follow._refused = None
    follow.poll()
    status, body = ready("0,0s")
    assert status == 200, body
    assert_documented(make_client(Settings(index_dir=replica, replicate_from=str(
        publisher.path))).simulate_get("/ready"), "/ready")
    assert body["replication"] == {  # type: ignore[comparison-overlap]
        "source": str(publisher.path), "source_generation": third, "lag_generations": 0,
        "lag_s": 0.0, "last_success": body["replication"]["last_success"],  # type: ignore[index]
        "error": None}


def test_ready_answers_503_when_the_follower_stopped_writing_its_status(
    publisher: IndexRoot, tmp_path: Path, make_client: MakeClient
) -> None:
    replica = tmp_path / "replica"
    follower(replica, DirectorySource(publisher.path)).poll()
    settings = Settings(index_dir=replica, replicate_from=str(publisher.path))
    assert make_client(settings).simulate_get("/ready").status_code == 200
    status = replica_status.read(replica)
    assert status is not None
    long_ago = (datetime.now(UTC) - timedelta(seconds=60)).isoformat()
    replica_status.write(replica, status.__class__(**{**vars(status), "last_poll": long_ago}))
    resp = make_client(settings).simulate_get("/ready")
    assert resp.status_code == 503 and "not running" in resp.json["unready"]
    (replica / replica_status.FILENAME).unlink()
    resp = make_client(settings).simulate_get("/ready")
    assert resp.status_code == 503 and "no status" in resp.json["unready"]
    # Not a replica: no replication block, whatever files lie there.
    resp = make_client(Settings(index_dir=replica)).simulate_get("/ready")
    assert resp.status_code == 200 and "replication" not in resp.json


@pytest.mark.parametrize("text, expected", [("2", MaxLag(2, None)), ("60s", MaxLag(None, 60.0)),
                                            ("2,60s", MaxLag(2, 60.0)), ("0", MaxLag(0, None))])
def test_max_lag_reads_generations_seconds_or_both(text: str, expected: MaxLag) -> None:
    assert parse_max_lag(text) == expected


@pytest.mark.parametrize("text", ["", "deux", "2,3", "-1", "60m", "1s,2s"])
def test_a_bad_max_lag_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_max_lag(text)


def test_parts_left_by_a_killed_copy_are_resumed_not_fetched_again(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    replica = tmp_path / "replica"
    source = synthetic.write_jsonl(tmp_path / "other.jsonl", list(synthetic.articles(300, seed=9)))
    with serving_publisher(publisher.path) as url:
        follow = follower(replica, HttpSource(url, TOKEN))
        follow.poll()
        second = full_build(publisher, source, processes=1).generation  # every file new
        files = sorted(read(publisher.current().path).files, key=lambda f: f.size)
        whole, half = files[-1], files[-2]
        staging = replica / STAGING_DIR / second
        staging.mkdir(parents=True)
        # Killed after the last byte of one file (before its rename), and halfway through another.
        (staging / f"{whole.name}.part").write_bytes(
            (publisher.current().path / whole.name).read_bytes())
        data = (publisher.current().path / half.name).read_bytes()
        (staging / f"{half.name}.part").write_bytes(data[: len(data) // 2])
        (replica / STAGING_DIR / "20200101T000000000000Z-abcdef").mkdir()  # another's: removed
        follow.poll()
    status = replica_status.read(replica)
    assert status is not None and status.error is None and status.serving == second
    total = sum(f.size for f in files)
    assert status.bytes_copied_last == total - whole.size - len(data) // 2
    assert not any((replica / STAGING_DIR).iterdir())
    verify(IndexRoot(replica).current().path, read(IndexRoot(replica).current().path))


def test_a_corrupt_part_is_fetched_again_whole(publisher: IndexRoot, tmp_path: Path) -> None:
    replica = tmp_path / "replica"
    follow = follower(replica, DirectorySource(publisher.path))
    live = publisher.current()
    biggest = max(read(live.path).files, key=lambda f: f.size)
    staging = replica / STAGING_DIR / live.id
    staging.mkdir(parents=True)
    (staging / f"{biggest.name}.part").write_bytes(b"\xff" * (biggest.size // 2))
    follow.poll()
    status = replica_status.read(replica)
    assert status is not None and status.error is None and status.serving == live.id
    total = sum(f.size for f in read(live.path).files)
    # The bad half was resumed, failed its checksum, and the file was fetched again whole.
    assert status.bytes_copied_last == total - biggest.size // 2 + biggest.size


def test_a_rollback_at_the_source_is_followed_without_a_copy_unless_damaged(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    replica = tmp_path / "replica"
    follow = follower(replica, DirectorySource(publisher.path))
    follow.poll()
    first = publisher.current_id()
    second = update(publisher, tmp_path, 1)
    follow.poll()
    third = update(publisher, tmp_path, 2)
    follow.poll()
    assert IndexRoot(replica).current_id() == third
    publisher.rollback()
    follow.poll()
    status = replica_status.read(replica)
    assert status is not None and status.serving == second and status.error is None
    assert status.bytes_copied_last == 0 and status.bytes_linked_last == 0
    # The first generation's own file (its table of contents) damaged on the replica: the
    # rollback to it copies that file again, and links the rest.
    publisher.rollback()
    toc = read(IndexRoot(replica).generations_dir / first).toc
    path = IndexRoot(replica).generations_dir / first / toc.name
    path.write_bytes(b"\0" * toc.size)
    follow.poll()
    status = replica_status.read(replica)
    assert status is not None and status.serving == first and status.error is None
    assert status.bytes_copied_last == toc.size
    verify(IndexRoot(replica).current().path, read(IndexRoot(replica).current().path))


def test_a_killed_copy_of_a_generation_since_replaced_is_taken_over(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    replica = tmp_path / "replica"
    source = synthetic.write_jsonl(tmp_path / "other.jsonl", list(synthetic.articles(300, seed=9)))
    follow = follower(replica, DirectorySource(publisher.path))
    follow.poll()
    second = full_build(publisher, source, processes=1).generation
    files = sorted(read(publisher.current().path).files, key=lambda f: f.size)
    whole, half = files[-1], files[-2]
    staging = replica / STAGING_DIR / second  # as a kill in the middle of its copy leaves it
    staging.mkdir(parents=True)
    (staging / whole.name).write_bytes((publisher.current().path / whole.name).read_bytes())
    data = (publisher.current().path / half.name).read_bytes()
    (staging / f"{half.name}.part").write_bytes(data[: len(data) // 2])
    (staging / "MAIN_disparu.seg.part").write_bytes(b"rien")
    third = update(publisher, tmp_path, 1)  # the source moved on: the second plus one segment
    follow.poll()
    status = replica_status.read(replica)
    assert status is not None and status.error is None and status.serving == third
    total = sum(f.size for f in read(publisher.current().path).files)
    assert status.bytes_copied_last == total - whole.size - len(data) // 2
    assert not any((replica / STAGING_DIR).iterdir())
    current = IndexRoot(replica).current().path
    verify(current, read(current))
    assert not (current / "MAIN_disparu.seg.part").exists()


def test_files_are_asked_for_in_bounded_ranges(
    publisher: IndexRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A publisher's sync worker is killed past PRESSE_TIMEOUT: no request may ask for more
    # than RANGE_MAX bytes (made small here, so that the test's files need several).
    monkeypatch.setattr(replica_copy, "RANGE_MAX", 100_000)
    replica = tmp_path / "replica"
    seen: list[tuple[str, str]] = []
    with serving_publisher(publisher.path, seen=seen) as url:
        follower(replica, HttpSource(url, TOKEN)).poll()
    live = publisher.current()
    assert IndexRoot(replica).current_id() == live.id
    verify(IndexRoot(replica).current().path, read(IndexRoot(replica).current().path))
    biggest = max(read(live.path).files, key=lambda f: f.size)
    asked = [r for path, r in seen if path.endswith("/files/" + biggest.name)]
    assert len(asked) == -(-biggest.size // 100_000)  # ceil: one request per range
    assert asked[:2] == ["bytes=0-99999", "bytes=100000-199999"]
    starts_ends = [tuple(map(int, r.removeprefix("bytes=").split("-"))) for path, r in seen
                   if "/files/" in path]
    assert all(end - start + 1 <= 100_000 for start, end in starts_ends)


def test_a_throttled_copy_asks_for_ranges_it_fetches_in_about_ten_seconds() -> None:
    stop = threading.Event()
    assert replica_copy.Throttle(0.0, stop).span == replica_copy.RANGE_MAX
    assert replica_copy.Throttle(5.0, stop).span == 50_000_000  # 5 MB/s × 10 s
    assert replica_copy.Throttle(0.01, stop).span == replica_copy.CHUNK  # never below a read
    assert replica_copy.Throttle(0.0, stop).read_size == replica_copy.CHUNK
    assert replica_copy.Throttle(0.4, stop).read_size == 65536  # 0.16 s at 0.4 MB/s
    assert replica_copy.Throttle(5.0, stop).read_size == 500_000  # a tenth of a second


def test_a_copy_moved_in_but_not_switched_to_is_switched_to_without_a_copy(
    publisher: IndexRoot, tmp_path: Path
) -> None:
    # What a kill between the move into generations/ and the switch of CURRENT leaves.
    replica = tmp_path / "replica"
    source = DirectorySource(publisher.path)
    follower(replica, source).poll()
    first = publisher.current_id()
    second = update(publisher, tmp_path, 1)
    published = source.current()
    assert published is not None
    replica_copy.copy_generation(IndexRoot(replica), source, published)
    assert IndexRoot(replica).current_id() == first  # moved in, never named by CURRENT
    assert IndexRoot(replica).get(second) is not None
    follower(replica, source).poll()  # the restarted follower
    status = replica_status.read(replica)
    assert status is not None and status.serving == second and status.error is None
    assert status.bytes_copied_last == 0
    assert found(replica, "balafon") == {"maj-1"}
