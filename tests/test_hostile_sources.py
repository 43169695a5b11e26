"""Hostile and broken sources through the reindex command: each is a skipped record with
``path:line: reason`` (or a clean refusal), never a crash, a hang or a partial article.

Text that is not valid Unicode, dates out of range once in UTC, articles over
``PRESSE_MAX_ARTICLE_CHARS``, lines too long to read, and pages folders holding symlinks out of
the folder, FIFOs and devices. Runs go through ``index.cli.main`` (or the command in a
subprocess, where a hang must fail the test instead of blocking it) on real index roots.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_reindex_cli import SOURCES, live_ids, reindex
from whoosh import index as whoosh_index

from index.config import IndexSettings
from index.generations import IndexRoot
from search.config import SETTINGS

REPO = Path(__file__).resolve().parents[1]
GOOD = {"id": "bon", "title": "Un article correct", "body": "Le port de Dakhla s'agrandit."}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in SETTINGS:
        monkeypatch.delenv(spec.env, raising=False)
    monkeypatch.setenv("PRESSE_BUILD_PROCESSES", "1")


def write_jsonl(path: Path, *records: dict[str, object] | str) -> Path:
    # ASCII JSON: lone surrogates become \ud800 escapes, exactly as a broken exporter writes them.
    lines = (r if isinstance(r, str) else json.dumps(r) for r in records)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def stored(root: Path, article_id: str) -> dict[str, object]:
    ix = whoosh_index.open_dir(str(IndexRoot(root).current().path))
    with ix.searcher() as searcher:
        return dict(searcher.document(id=article_id) or {})


# --- text that is not valid Unicode -------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("title", "titre \ud800 cassé",
     "title: not valid Unicode: lone surrogate U+D800 at character 7"),
    ("body", "corps \udfff", "body: not valid Unicode: lone surrogate U+DFFF at character 7"),
    ("summary", "chapeau \ufffe", "summary: not valid Unicode: noncharacter U+FFFE"),
    ("author", "\ufdd0Auteur", "author: not valid Unicode: noncharacter U+FDD0 at character 1"),
    ("tags", ["santé", "x\U0010ffff"], "tags: not valid Unicode: noncharacter U+10FFFF"),
    ("section", "Éco\ud83d", "section: not valid Unicode: lone surrogate U+D83D"),
    ("id", "art-\udc00", "id: not valid Unicode: lone surrogate U+DC00 at character 5"),
])
def test_text_that_is_not_unicode_is_a_skipped_record(
    tmp_path: Path, field: str, value: object, reason: str
) -> None:
    bad = {"id": "casse", "title": "Un titre", "body": "Un corps.", field: value}
    source = write_jsonl(tmp_path / "a.jsonl", GOOD, bad)

    run = reindex(tmp_path / "index", "--source", source)

    assert run.status == 0, run.err
    assert f"{source}:2: {reason}" in run.err
    assert live_ids(tmp_path / "index") == {"bon"}
    assert run.summary()["skipped"] == "1"


def test_a_lone_surrogate_in_an_update_id_skips_that_record_only(tmp_path: Path) -> None:
    root = tmp_path / "index"
    assert reindex(root, "--source", write_jsonl(tmp_path / "a.jsonl", GOOD)).status == 0
    update = write_jsonl(tmp_path / "u.jsonl", {**GOOD, "id": "x\ud800"}, {**GOOD, "id": "neuf"})

    run = reindex(root, "--update", "--source", update)

    assert run.status == 0, run.err
    assert f"{update}:1: id: not valid Unicode: lone surrogate U+D800" in run.err
    assert live_ids(root) == {"bon", "neuf"}


def test_a_valid_pair_and_controls_are_kept_or_repaired(tmp_path: Path) -> None:
    record = {"id": "ok", "title": "Fête \ud83c\udf89 du\x00trône\x0b\x85fin",
              "body": "Ligne\tune\nligne deux.\x1f"}
    run = reindex(tmp_path / "index", "--source", write_jsonl(tmp_path / "a.jsonl", record))

    assert run.status == 0, run.err
    fields = stored(tmp_path / "index", "ok")
    assert fields["title"] == "Fête 🎉 du trône fin"  # the pair is one emoji; controls are spaces
    assert fields["body"] == "Ligne une ligne deux."


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                                  "0001-01-01T00:30:00+01:00"])
def test_a_date_out_of_range_in_utc_is_a_skipped_record(tmp_path: Path, date: str) -> None:
    source = write_jsonl(tmp_path / "a.jsonl", GOOD, {**GOOD, "id": "loin", "published": date})

    run = reindex(tmp_path / "index", "--source", source)

    assert run.status == 0, run.err
    assert f"{source}:2: published: date '{date}' is out of range once converted to UTC" in run.err
    assert "unexpected" not in run.err
    assert live_ids(tmp_path / "index") == {"bon"}


# --- article size -------------------------------------------------------------------------------


def test_the_default_limit_is_200000_characters() -> None:
    assert IndexSettings().max_article_chars == 200_000


def test_an_article_over_the_limit_is_skipped_with_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESSE_MAX_ARTICLE_CHARS", "1000")
    under = {**GOOD, "id": "court", "body": "mot " * 200}
    over = {**GOOD, "id": "long", "body": "mot " * 300}
    source = write_jsonl(tmp_path / "a.jsonl", under, over)

    run = reindex(tmp_path / "index", "--source", source)

    assert run.status == 0, run.err
    size = len("Un article correct") + len(("mot " * 300).strip())
    assert (f"{source}:2: article of {size:,} characters, over the limit of 1,000 "
            "(PRESSE_MAX_ARTICLE_CHARS): skipped") in run.err
    assert live_ids(tmp_path / "index") == {"court"}


def test_a_line_too_long_to_be_an_article_is_skipped_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESSE_MAX_ARTICLE_CHARS", "100")  # lines up to 1,200 bytes are read
    huge = {**GOOD, "id": "énorme", "padding": "x" * 50_000}
    source = write_jsonl(tmp_path / "a.jsonl", huge, {**GOOD, "id": "après"}, huge)

    run = reindex(tmp_path / "index", "--source", source)

    assert run.status == 0, run.err
    assert f"{source}:1: record of 50," in run.err
    assert "over the limit of 1,200 (12 × PRESSE_MAX_ARTICLE_CHARS): skipped unread" in run.err
    assert f"{source}:3: record of 50," in run.err  # line numbers survive the skipped line
    assert live_ids(tmp_path / "index") == {"après"}


# --- a folder of pages --------------------------------------------------------------------------


def pages_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pages"
    folder.mkdir()
    for page in SOURCES.joinpath("pages").glob("00[1-2]_*.txt"):
        (folder / page.name).write_bytes(page.read_bytes())
    return folder


def run_reindex_command(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A subprocess, with a timeout: a FIFO used to hang the reindex for ever.
    return subprocess.run([sys.executable, "-m", "index.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_pages_folder_reads_only_its_own_regular_files(tmp_path: Path) -> None:
    folder = pages_folder(tmp_path)
    os.symlink("/etc/passwd", folder / "passwd.txt")
    os.symlink("/dev/zero", folder / "zero.txt")
    os.mkfifo(folder / "x.txt")
    (folder / "dossier.txt").mkdir()
    os.symlink(folder / "001_dakhla-port-atlantique.txt", folder / "lien-interne.txt")
    outside = tmp_path / "secret.txt"
    outside.write_text("Rubrique\n\nSecret\n\nMot de passe nologin", encoding="utf-8")
    os.symlink(outside, folder / "secret.txt")
    root = tmp_path / "index"

    done = run_reindex_command(["--index-dir", str(root), "--source", str(folder)],
                               dict(os.environ, PRESSE_BUILD_PROCESSES="1"))

    assert done.returncode == 0, done.stderr
    for name in ("passwd.txt", "zero.txt", "secret.txt"):
        assert f"{folder / name}: points outside the pages folder: skipped" in done.stderr
    assert f"{folder / 'x.txt'}: not a regular file (a FIFO): skipped" in done.stderr
    assert f"{folder / 'dossier.txt'}: not a regular file (a folder): skipped" in done.stderr
    assert live_ids(root) == {"001_dakhla-port-atlantique", "002_rentree-universitaire",
                              "lien-interne"}
    assert "skipped 5" in done.stderr.splitlines()[-1]


def test_a_page_over_the_size_cap_is_skipped_unread(tmp_path: Path) -> None:
    folder = pages_folder(tmp_path)
    (folder / "gros.txt").write_bytes(b"Rubrique\n\nTitre\n\n" + b"mot " * 2000)
    root = tmp_path / "index"

    done = run_reindex_command(["--index-dir", str(root), "--source", str(folder)],
                               dict(os.environ, PRESSE_BUILD_PROCESSES="1",
                                    PRESSE_MAX_ARTICLE_CHARS="500"))

    assert done.returncode == 0, done.stderr
    assert (f"{folder / 'gros.txt'}: page of 8,017 bytes, over the limit of 6,000 "
            "(12 × PRESSE_MAX_ARTICLE_CHARS): skipped unread") in done.stderr
    assert live_ids(root) == {"001_dakhla-port-atlantique", "002_rentree-universitaire"}


def test_a_record_problem_names_where_it_is_in_json(tmp_path: Path) -> None:
    # The same reasons reach --update too, with the line of the record.
    root = tmp_path / "index"
    assert reindex(root, "--source", write_jsonl(tmp_path / "a.jsonl", GOOD)).status == 0
    late = {**GOOD, "published": "9999-12-31T23:59:59-14:00"}
    update = write_jsonl(tmp_path / "u.jsonl", json.dumps(late))

    run = reindex(root, "--update", "--source", update)

    assert run.status == 0, run.err
    assert f"{update}:1: published: date '9999-12-31T23:59:59-14:00' is out of range" in run.err


# --- repeated ids, and the lock, through the command --------------------------------------------


def test_repeated_ids_in_an_update_name_their_lines_and_are_summarised(tmp_path: Path) -> None:
    root = tmp_path / "index"
    assert reindex(root, "--source", write_jsonl(tmp_path / "a.jsonl", GOOD)).status == 0
    records = [{**GOOD, "id": f"r{i % 25}", "title": f"Version {i}"} for i in range(50)]
    update = write_jsonl(tmp_path / "u.jsonl", *records, {**GOOD, "title": "Nouveau titre"})

    run = reindex(root, "--update", "--source", update)

    assert run.status == 0, run.err
    notices = [line for line in run.lines if " repeated (first at " in line]
    assert len(notices) == 20
    assert notices[0] == (f"{update}:26: id 'r0' repeated (first at {update}:1): "
                          "keeping the last record")
    assert f"{update}: … and 5 more repeated ids" in run.lines
    summary = run.summary()
    assert (summary["accepted"], summary["replaced"]) == ("26", "1")  # "bon" was replaced
    assert stored(root, "r3")["title"] == "Version 28"


def test_repeated_ids_in_a_full_build_are_summarised_too(tmp_path: Path) -> None:
    records = [{**GOOD, "id": f"r{i % 3}"} for i in range(30)]
    source = write_jsonl(tmp_path / "a.jsonl", *records)

    run = reindex(tmp_path / "index", "--source", source)

    assert run.status == 0, run.err
    assert sum(" repeated (first at " in line for line in run.lines) == 20
    assert f"{source}: … and 7 more repeated ids" in run.lines
    assert f"{source}:4: id 'r0' repeated (first at {source}:1)" in run.err


def test_a_lock_of_invalid_utf8_does_not_block_the_reindex(tmp_path: Path) -> None:
    root = tmp_path / "index"
    root.mkdir()
    (root / "LOCK").write_bytes(b"\xff\xfe pid \xc3\x28")

    run = reindex(root, "--source", write_jsonl(tmp_path / "a.jsonl", GOOD))

    assert run.status == 0, run.err
    assert live_ids(root) == {"bon"}


def test_a_lock_symlinked_to_a_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    root = tmp_path / "index"
    root.mkdir()
    precious = tmp_path / "precious.conf"
    precious.write_text("à garder\n", encoding="utf-8")
    os.symlink(precious, root / "LOCK")

    run = reindex(root, "--source", write_jsonl(tmp_path / "a.jsonl", GOOD))

    assert run.status == 1
    assert run.lines == [f"reindex: error: {root / 'LOCK'} is a symbolic link (to "
                         f"'{precious}'); refusing to write through it: remove it and run again"]
    assert precious.read_text(encoding="utf-8") == "à garder\n"
