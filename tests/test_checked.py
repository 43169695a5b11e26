"""The checksums one process records for the others (index.checked): a worker that opens a
generation another process has checked only stats its files, unless a file changed since or was
hashed too soon after it was written to be trusted."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from conftest import SAMPLE_CORPUS, BuildIndex

from index import checked, manifest
from index.generations import IndexRoot
from index.manifest import CorruptGeneration


@pytest.fixture
def generation(build_index: BuildIndex, tmp_path: Path) -> Path:
    return IndexRoot(build_index(SAMPLE_CORPUS, tmp_path / "index")).current().path


def age(folder: Path, seconds: float) -> None:
    """Make every file of ``folder`` look written ``seconds`` ago."""
    then = time.time() - seconds
    for path in folder.iterdir():
        os.utime(path, (then, then))


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files this process hashes from now on, as a new process (its own
    memory of checked files empty) would."""
    names: list[str] = []
    real = manifest.sha256_of

    def counting(path: Path) -> str:
        names.append(path.name)
        return real(path)

    monkeypatch.setattr(manifest, "sha256_of", counting)
    monkeypatch.setattr(manifest, "_checked", {})
    return names


def as_a_new_process(monkeypatch: pytest.MonkeyPatch, hashed: list[str]) -> None:
    monkeypatch.setattr(manifest, "_checked", {})
    hashed.clear()


def test_a_second_process_reads_the_record_instead_of_hashing(
    generation: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    described = manifest.read(generation)
    age(generation, 60)
    manifest.verify(generation, described)
    assert sorted(hashed) == sorted(f.name for f in described.files)
    record = json.loads((generation / checked.RECORD).read_text(encoding="utf-8"))
    assert set(record) == {f.name for f in described.files}

    as_a_new_process(monkeypatch, hashed)
    manifest.verify(generation, described)
    assert hashed == []


def test_a_file_changed_after_the_record_is_hashed_again_and_refused(
    generation: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    described = manifest.read(generation)
    age(generation, 60)
    manifest.verify(generation, described)
    image = next(p for p in generation.iterdir() if p.suffix == ".img")
    data = bytearray(image.read_bytes())
    data[len(data) // 2] ^= 0xFF
    image.write_bytes(bytes(data))

    as_a_new_process(monkeypatch, hashed)
    with pytest.raises(CorruptGeneration, match=f"{image.name}: checksum mismatch"):
        manifest.verify(generation, described)
    assert hashed[-1] == image.name


def test_files_hashed_right_after_they_were_written_are_not_trusted(
    generation: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    described = manifest.read(generation)
    now = time.time()
    for path in generation.iterdir():
        os.utime(path, (now, now))  # written "just now": a later write could keep this time
    manifest.verify(generation, described)

    as_a_new_process(monkeypatch, hashed)
    manifest.verify(generation, described)
    assert sorted(hashed) == sorted(f.name for f in described.files)


def test_an_unreadable_record_only_costs_the_hashing(
    generation: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    described = manifest.read(generation)
    age(generation, 60)
    (generation / checked.RECORD).write_bytes(b"\xff{ not json")
    manifest.verify(generation, described)
    assert len(hashed) == len(described.files)

    as_a_new_process(monkeypatch, hashed)
    manifest.verify(generation, described)  # the record was rewritten whole
    assert hashed == []


def test_a_refused_generation_leaves_no_record(
    generation: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    described = manifest.read(generation)
    age(generation, 60)
    segment = next(p for p in generation.iterdir() if p.suffix == ".pst")
    segment.write_bytes(b"\x00" * segment.stat().st_size)  # same size, other bytes
    with pytest.raises(CorruptGeneration, match="checksum mismatch"):
        manifest.verify(generation, described)
    assert not (generation / checked.RECORD).exists()
