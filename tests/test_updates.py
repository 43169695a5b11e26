"""Generations that share segments: updates as new generations, rollback, hard links, merges,
checksums, and the shrink guard — through the reindex command and the engine, on real indexes.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import synthetic
from conftest import MakeClient

from index import build as build_module
from index.build import apply_update, full_build
from index.cli import main
from index.generations import IndexRoot, directory_size
from index.manifest import CorruptGeneration, read, verify
from search.config import SETTINGS, Settings
from search.engine import Engine
from search.results import SearchRequest


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in SETTINGS:
        monkeypatch.delenv(spec.env, raising=False)


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def reindex(root: Path, *args: str | Path) -> tuple[int, str]:
    err = io.StringIO()
    status = main(["--index-dir", str(root), *map(str, args)], err=err)
    return status, err.getvalue()


@contextmanager
def engine_on(root: Path) -> Iterator[Engine]:
    engine = Engine(Settings(index_dir=root, refresh_interval_s=0))
    try:
        yield engine
    finally:
        engine.close()


def ids_for(engine: Engine, query: str) -> set[str]:
    return {hit.id for hit in engine.search(SearchRequest(query=query, per_page=100)).hits}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "index"
    source = synthetic.write_jsonl(tmp_path / "base.jsonl", list(synthetic.articles(400)))
    full_build(IndexRoot(root), source, processes=2)
    return root


TAJINE = {"id": "tajine", "title": "Le tajine aux pruneaux de Meknès",
          "body": "Une recette de tajine transmise par les grands-mères de Meknès."}


def test_rollback_right_after_an_update_restores_the_articles_as_they_were(
    archive: Path, tmp_path: Path
) -> None:
    first = list(synthetic.articles(4))[3]  # an article of the archive
    with engine_on(archive) as engine:
        before = engine.status()
        old_title = engine.search(SearchRequest(query=first["title"])).hits[0].title
        changed = dict(first, title="Titre remplacé par la mise à jour")
        status, err = reindex(archive, "--update", "--source",
                              write_jsonl(tmp_path / "u.jsonl", [changed, TAJINE]),
                              "--delete", "syn-00010")
        assert status == 0, err
        assert ids_for(engine, "tajine") == {"tajine"}
        assert engine.status().documents == before.documents  # +1 new, -1 deleted
        assert ids_for(engine, "remplacé") == {first["id"]}

        status, err = reindex(archive, "--rollback")
        assert status == 0, err
        assert engine.status().generation == before.generation
        assert ids_for(engine, "tajine") == set()
        assert ids_for(engine, "remplacé") == set()
        found = {h.id: h.title for h in engine.search(
            SearchRequest(query=first["title"], per_page=100)).hits}
        assert found[first["id"]] == old_title
        assert engine.similar("syn-00010").id == "syn-00010"  # back


def test_an_update_shares_the_live_files_and_grows_the_root_by_its_segment(
    archive: Path, tmp_path: Path
) -> None:
    live = IndexRoot(archive).current()
    before = directory_size(archive)
    report = apply_update(IndexRoot(archive), write_jsonl(tmp_path / "u.jsonl", [TAJINE]))
    new = IndexRoot(archive).current()
    shared = {f.name for f in read(live.path).files} & {f.name for f in read(new.path).files}
    segment_files = [n for n in shared if not n.endswith(".toc")]
    assert segment_files  # the archive's segments are in both generations...
    for name in segment_files:  # ...as one file on disk
        assert os.stat(live.path / name).st_ino == os.stat(new.path / name).st_ino
    # directory_size counts a hard link in every folder: measure the disk by inode instead.
    inodes = {p.stat().st_ino: p.stat().st_size for p in archive.rglob("*") if p.is_file()}
    grown = sum(inodes.values()) - (before if before else 0)
    assert grown < report.size_bytes + 64 * 1024, (grown, report.size_bytes)
    assert report.size_bytes < directory_size(live.path) / 5


def test_small_segments_are_merged_into_a_new_one(archive: Path, tmp_path: Path) -> None:
    root = IndexRoot(archive)
    segments = []
    for n in range(build_module.SMALL_SEGMENTS + 2):
        article = dict(TAJINE, id=f"tajine-{n}", title=f"Tajine numéro {n} de Meknès")
        report = apply_update(root, write_jsonl(tmp_path / f"u{n}.jsonl", [article]))
        segments.append(report.segments)
    assert max(segments) <= build_module.SMALL_SEGMENTS + 2  # two from the full build
    assert any(later < earlier for earlier, later in zip(segments, segments[1:], strict=False))
    with engine_on(archive) as engine:
        assert ids_for(engine, "tajine") == {f"tajine-{n}" for n in range(len(segments))}
        assert engine.status().documents == 400 + len(segments)


def test_a_corrupted_file_is_refused_and_the_previous_generation_keeps_serving(
    archive: Path, tmp_path: Path, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(Settings(index_dir=archive, refresh_interval_s=0))
    served = client.simulate_get("/ready").json["generation"]
    apply_update(IndexRoot(archive), write_jsonl(tmp_path / "u.jsonl", [TAJINE]))
    new = IndexRoot(archive).current()
    image = next(p for p in new.path.iterdir() if p.suffix == ".img"
                 and p.stat().st_nlink == 1)  # the update's own segment image
    data = bytearray(image.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit in the middle
    image.write_bytes(bytes(data))
    with pytest.raises(CorruptGeneration, match="checksum mismatch"):
        verify(new.path, read(new.path))

    with caplog.at_level(logging.ERROR, logger="presse.search"):
        search = client.simulate_get("/search", params={"q": "tajine"})
        ready = client.simulate_get("/ready")
    assert search.status_code == 200 and search.json["total"] == 0  # the old generation
    assert ready.status_code == 200 and ready.json["generation"] == served
    assert "checksum mismatch" in ready.json["problem"] and new.id in ready.json["problem"]
    assert any("checksum mismatch" in r.getMessage() for r in caplog.records)


def test_a_truncated_segment_is_refused_at_start_up(archive: Path, tmp_path: Path,
                                                    make_client: MakeClient) -> None:
    live = IndexRoot(archive).current()
    segment = next(p for p in live.path.iterdir() if p.suffix == ".pst")  # Whoosh's postings
    with open(segment, "r+b") as handle:
        handle.truncate(segment.stat().st_size // 2)
    resp = make_client(Settings(index_dir=archive)).simulate_get("/ready")
    assert resp.status_code == 503
    assert "bytes, the manifest says" in resp.json["error"]["message"]
    assert str(archive) not in resp.text


def test_the_shrink_guard_refuses_and_allow_shrink_accepts(archive: Path, tmp_path: Path) -> None:
    live = IndexRoot(archive).current_id()
    small = synthetic.write_jsonl(tmp_path / "small.jsonl", list(synthetic.articles(150)))
    status, err = reindex(archive, "--source", small)
    assert status == 1
    assert "150 articles and the live index 400" in err and "--allow-shrink" in err
    assert IndexRoot(archive).current_id() == live

    status, err = reindex(archive, "--source", small, "--allow-shrink")
    assert status == 0, err
    assert IndexRoot(archive).current().meta["documents"] == 150


def test_a_mostly_broken_source_does_not_replace_the_archive(
    archive: Path, tmp_path: Path
) -> None:
    lines = [json.dumps(a) for a in synthetic.articles(2)]
    lines += ['{"id": "x", "title": ""}'] * 50 + ["not json"] * 40
    source = tmp_path / "broken.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    live = IndexRoot(archive).current_id()
    status, err = reindex(archive, "--source", source)
    assert status == 1
    assert "2 articles and the live index 400" in err
    assert IndexRoot(archive).current_id() == live


def test_max_shrink_comes_from_the_environment(archive: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSE_MAX_SHRINK", "80%")
    small = synthetic.write_jsonl(tmp_path / "small.jsonl", list(synthetic.articles(150)))
    status, err = reindex(archive, "--source", small)
    assert status == 0, err
    monkeypatch.setenv("PRESSE_MAX_SHRINK", "lots")
    status, err = reindex(archive, "--source", small)
    assert status == 2 and "PRESSE_MAX_SHRINK" in err


@pytest.mark.parametrize("bad", ["", "../../../etc\n", "20990101T000000000000Z-abcdef\n"])
def test_rollback_from_a_broken_current_goes_to_the_newest_served_generation(
    archive: Path, tmp_path: Path, bad: str
) -> None:
    apply_update(IndexRoot(archive), write_jsonl(tmp_path / "u.jsonl", [TAJINE]))
    newest = IndexRoot(archive).current_id()
    (archive / "CURRENT").write_text(bad, encoding="utf-8")
    status, err = reindex(archive, "--update", "--source", tmp_path / "u.jsonl")
    assert status == 1 and ("CURRENT" in err or "no index" in err)  # an update needs a live one
    status, err = reindex(archive, "--rollback")
    assert status == 0, err
    assert IndexRoot(archive).current_id() == newest
    with engine_on(archive) as engine:
        assert ids_for(engine, "tajine") == {"tajine"}
