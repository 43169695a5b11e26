"""The reindex command (``index.cli.main``): exit statuses, messages on stderr, the index it leaves.

Every run goes through ``main([...], err=stream)`` on a real index root under ``tmp_path``.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from index.cli import main
from index.generations import IndexRoot
from search.config import SETTINGS

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "tests" / "data" / "sources"
SAMPLE = REPO / "data" / "sample" / "articles.jsonl"

SUMMARY = re.compile(
    r"^(?P<what>indexed|updated) (?P<accepted>\d+) articles \(skipped (?P<skipped>\d+), "
    r"replaced (?P<replaced>\d+), deleted (?P<deleted>\d+)\) in [\d.]+ s, [\d,]+ docs/s; "
    r"(?P<documents>[\d,]+) documents, (?:index|new files) [\d.,]+ MB, "
    r"(?P<segments>\d+) segments?(?: \((?P<merged>\d+) merged\))?, generation (?P<generation>\S+)$"
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings come from the environment: none of the runner's may leak in."""
    for spec in SETTINGS:
        monkeypatch.delenv(spec.env, raising=False)
    monkeypatch.setenv("PRESSE_BUILD_PROCESSES", "1")


class Run:
    """One finished ``main`` call: its status and what it wrote on stderr."""

    def __init__(self, argv: Sequence[str], err: io.StringIO | None = None) -> None:
        self.stream = err if err is not None else io.StringIO()
        self.status = main(list(argv), err=self.stream)
        self.err = self.stream.getvalue()
        self.lines = self.err.splitlines()

    def summary(self) -> re.Match[str]:
        match = SUMMARY.match(self.lines[-1])
        assert match, self.err
        return match


def reindex(root: Path, *args: str | Path) -> Run:
    return Run(["--index-dir", str(root), *map(str, args)])


def live_ids(root: Path) -> set[str]:
    ix = whoosh_index.open_dir(str(IndexRoot(root).current().path))
    with ix.searcher() as searcher:
        return {fields["id"] for fields in searcher.all_stored_fields()}


def generations(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "generations").iterdir())


def write_jsonl(path: Path, *records: dict[str, object] | str) -> Path:
    lines = (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def assert_one_line_failure(run: Run, status: int, reason: str) -> None:
    assert run.status == status, run.err
    assert "Traceback" not in run.err
    assert run.lines[-1].startswith("reindex: error: "), run.err
    assert "unexpected" not in run.lines[-1]  # the wording of the bug branch
    assert reason in run.lines[-1]


# --- full builds --------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "fmt", "accepted", "skipped", "bad"), [
    ("articles.jsonl", "jsonl", 7, 9, ["articles.jsonl:6: title: missing",
                                       "articles.jsonl:9: not JSON"]),
    ("pages", "pages", 4, 2, ["005_sans-corps.txt: body: missing",
                              "006_latin1.txt:1: not valid UTF-8"]),
    ("export.wxr.xml", "wxr", 4, 1, ["export.wxr.xml:161: title: empty"]),
])
def test_a_full_build_from_each_kind_of_source(
    tmp_path: Path, source: str, fmt: str, accepted: int, skipped: int, bad: list[str]
) -> None:
    run = reindex(tmp_path, "--source", SOURCES / source)

    assert run.status == 0, run.err
    summary = run.summary()
    assert (summary["what"], int(summary["accepted"]), int(summary["skipped"])) == (
        "indexed", accepted, skipped)
    assert summary["generation"] == IndexRoot(tmp_path).current_id()
    assert int(summary["documents"]) == len(live_ids(tmp_path)) == accepted
    for fragment in bad:
        assert any(line.startswith(str(SOURCES / source)) and fragment in line
                   for line in run.lines), (fragment, run.err)
    assert IndexRoot(tmp_path).current().meta["format"] == fmt


def test_format_names_a_source_whatever_its_name(tmp_path: Path) -> None:
    source = tmp_path / "export-du-jour.txt"
    source.write_bytes((SOURCES / "export.wxr.xml").read_bytes())
    run = reindex(tmp_path / "index", "--source", source, "--format", "wxr")
    assert run.status == 0, run.err
    assert live_ids(tmp_path / "index") == {"101", "102", "103", "104"}


def test_a_gzipped_jsonl_source(tmp_path: Path) -> None:
    source = tmp_path / "articles.jsonl.gz"
    source.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    run = reindex(tmp_path / "index", "--source", source, "--max-errors", "0")
    assert run.status == 0, run.err
    assert int(run.summary()["accepted"]) == 42 == len(live_ids(tmp_path / "index"))


def test_a_repeated_id_is_announced_and_counted(tmp_path: Path) -> None:
    run = reindex(tmp_path, "--source", SOURCES / "articles.jsonl")
    assert [line for line in run.lines if "'art-001' repeated" in line]
    assert int(run.summary()["replaced"]) == 1


def test_a_deleted_record_is_counted_in_the_summary(tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "a.jsonl",
        {"id": "a", "title": "Le Sahara en images", "body": "Une exposition à Rabat."},
        {"id": "b", "title": "La saison des dattes", "body": "Erfoud fête la récolte."},
        {"id": "a", "deleted": True},
    )
    run = reindex(tmp_path / "index", "--source", source)
    assert run.status == 0, run.err
    assert (int(run.summary()["accepted"]), int(run.summary()["deleted"])) == (1, 1)
    assert live_ids(tmp_path / "index") == {"b"}


def test_the_index_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESSE_INDEX_DIR", str(tmp_path / "from-env"))
    run = Run(["--source", str(SOURCES / "pages")])
    assert run.status == 0, run.err
    assert IndexRoot(tmp_path / "from-env").current_id() == run.summary()["generation"]


# --- failures -----------------------------------------------------------------------------------


@pytest.fixture
def built(tmp_path: Path) -> Path:
    root = tmp_path / "index"
    assert reindex(root, "--source", SOURCES / "export.wxr.xml").status == 0
    return root


def test_too_many_errors_exit_1_and_leave_the_live_index(built: Path) -> None:
    before = IndexRoot(built).current_id(), live_ids(built), generations(built)

    run = reindex(built, "--source", SOURCES / "articles.jsonl", "--max-errors", "2")

    assert_one_line_failure(run, 1, "stopped after 3 bad records (--max-errors 2)")
    assert (IndexRoot(built).current_id(), live_ids(built), generations(built)) == before


def test_a_build_that_dies_at_line_3_leaves_the_live_index(built: Path, tmp_path: Path) -> None:
    before = IndexRoot(built).current_id(), live_ids(built), generations(built)
    source = write_jsonl(
        tmp_path / "b.jsonl",
        {"id": "x", "title": "Le port de Nador", "body": "Nador West Med ouvre en 2026."},
        {"id": "y", "title": "Les cèdres du Moyen Atlas", "body": "Ifrane replante."},
        '{"id": "z", "title": ',
        {"id": "w", "title": "Le train Al Boraq", "body": "Tanger-Casablanca en 2 h 10."},
    )
    run = reindex(built, "--source", source, "--max-errors", "0")

    assert_one_line_failure(run, 1, "--max-errors 0")
    assert f"{source}:3: not JSON" in run.err
    assert (IndexRoot(built).current_id(), live_ids(built), generations(built)) == before


def test_a_missing_source_exits_1_with_one_line(tmp_path: Path) -> None:
    run = reindex(tmp_path, "--source", tmp_path / "absent.jsonl")
    assert_one_line_failure(run, 1, "absent.jsonl: no such file or directory")
    assert len(run.lines) == 1


def test_an_unknown_source_format_exits_1_with_one_line(tmp_path: Path) -> None:
    source = tmp_path / "articles.csv"
    source.write_text("id,title,body\n1,Titre,Corps\n", encoding="utf-8")
    run = reindex(tmp_path / "index", "--source", source)
    assert_one_line_failure(run, 1, "unknown source format")
    assert len(run.lines) == 1
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_a_format_that_does_not_fit_the_source_exits_1(tmp_path: Path) -> None:
    run = reindex(tmp_path, "--source", SOURCES / "pages", "--format", "jsonl")
    assert_one_line_failure(run, 1, "format jsonl expects a file")


def test_a_bad_setting_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSE_KEEP_GENERATIONS", "zero")
    run = reindex(tmp_path, "--source", SOURCES / "pages")
    assert run.status == 2
    assert run.lines == [run.lines[0]] and "PRESSE_KEEP_GENERATIONS" in run.lines[0]


@pytest.mark.parametrize(("argv", "reason"), [
    ([], "--source is required"),
    (["--update"], "--source is required"),
    (["--rollback", "--source", "x.jsonl"], "--rollback takes no --source"),
    (["--rollback", "--update"], "--rollback takes no"),
    (["--delete", "art-001"], "--delete works on the live index: add --update"),
    (["--source", "x.jsonl", "--max-errors", "-1"], "--max-errors must be at least 0"),
    (["--source", "x.jsonl", "--max-errors", "beaucoup"], "invalid int value"),
    (["--source", "x.csv", "--format", "csv"], "invalid choice"),
    (["--sauce", "x.jsonl"], "unrecognized arguments"),
])
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str], reason: str) -> None:
    run = reindex(tmp_path, *argv)
    assert run.status == 2
    assert run.lines[0].startswith("usage: reindex")
    assert run.lines[-1].startswith("reindex: error: ") and reason in run.lines[-1], run.err
    assert not (tmp_path / "generations").exists()


def test_help_exits_0_and_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    run = Run(["--help"])
    out = capsys.readouterr().out
    assert run.status == 0
    assert "scripts/reindex --source exports/articles.jsonl.gz" in out
    assert "scripts/reindex --update --source today.jsonl --delete" in out
    assert "--max-errors N" in out


# --- the lock -----------------------------------------------------------------------------------

HOLDER = """
import sys, time
from index.generations import IndexRoot
with IndexRoot(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def lock_holder(built: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(built)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline() == "locked\n"
        yield proc
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


@pytest.mark.parametrize("argv", [
    ["--source", str(SOURCES / "pages")],
    ["--update", "--delete", "101"],
    ["--rollback"],
])
def test_a_second_reindex_exits_1_at_once(
    built: Path, lock_holder: subprocess.Popen[str], argv: list[str]
) -> None:
    before = IndexRoot(built).current_id(), live_ids(built), generations(built)
    started = time.monotonic()

    run = reindex(built, *argv)

    assert time.monotonic() - started < 5
    assert lock_holder.poll() is None
    assert_one_line_failure(run, 1, f"another reindex is running (pid {lock_holder.pid}, started ")
    assert re.search(r"started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00\)$", run.lines[-1])
    assert (IndexRoot(built).current_id(), live_ids(built), generations(built)) == before


def test_a_stale_lock_is_taken_over_with_a_warning(built: Path) -> None:
    stale = {"pid": 999_999_999, "started": "2024-03-01T02:00:00+00:00", "purpose": "reindex"}
    (built / "LOCK").write_text(json.dumps(stale), encoding="utf-8")

    run = reindex(built, "--source", SOURCES / "pages")

    assert run.status == 0, run.err
    assert run.lines[0].startswith("warning: taking over a stale lock left by pid 999999999")
    assert live_ids(built) == {f.stem for f in (SOURCES / "pages").glob("00[1-4]_*.txt")}
    assert (built / "LOCK").read_text(encoding="utf-8") == ""  # released


# --- generations: switch, pruning, rollback -----------------------------------------------------


def test_each_build_switches_current_to_a_new_ready_generation(built: Path) -> None:
    first = IndexRoot(built).current_id()
    run = reindex(built, "--source", SOURCES / "pages")
    second = IndexRoot(built).current().id
    assert second != first and second == run.summary()["generation"]
    assert IndexRoot(built).current().meta["documents"] == 4
    assert generations(built) == sorted([first, second])


def test_keep_generations_prunes_old_ones(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSE_KEEP_GENERATIONS", "2")
    ids = [IndexRoot(built).current_id()]
    for _ in range(3):
        ids.append(reindex(built, "--source", SOURCES / "pages").summary()["generation"])
    assert generations(built) == ids[-2:]


def test_three_generations_are_kept_by_default(built: Path) -> None:
    for _ in range(3):
        assert reindex(built, "--source", SOURCES / "pages").status == 0
    assert len(generations(built)) == 3


def test_rollback_goes_back_to_the_previous_generation(built: Path) -> None:
    first = IndexRoot(built).current_id()
    reindex(built, "--source", SOURCES / "pages")

    run = reindex(built, "--rollback")

    assert run.status == 0, run.err
    assert run.lines == [f"rolled back to generation {first} (4 documents)"]
    assert IndexRoot(built).current_id() == first
    assert live_ids(built) == {"101", "102", "103", "104"}


def test_rollback_without_an_older_generation_exits_1(built: Path) -> None:
    current = IndexRoot(built).current_id()
    run = reindex(built, "--rollback")
    assert run.status == 1
    assert run.lines == [f"reindex: error: no generation older than {current} to roll back to"]
    assert IndexRoot(built).current_id() == current


def test_rollback_without_any_index_exits_1(tmp_path: Path) -> None:
    assert_one_line_failure(reindex(tmp_path, "--rollback"), 1, "no index has been built yet")


# --- incremental updates ------------------------------------------------------------------------


def test_update_upserts_changed_and_new_articles(built: Path, tmp_path: Path) -> None:
    gen_id = IndexRoot(built).current_id()
    source = write_jsonl(
        tmp_path / "u.jsonl",
        {"id": "104", "title": "Botola Pro : le derby de Casablanca rejoué à Marrakech",
         "body": "La Ligue a déplacé le match au Grand Stade de Marrakech.", "section": "Sport"},
        {"id": "200", "title": "Ifrane sous la neige", "body": "Les routes de l'Atlas coupées."},
    )
    run = reindex(built, "--update", "--source", source)

    assert run.status == 0, run.err
    summary = run.summary()
    assert (summary["what"], summary["accepted"], summary["documents"]) == ("updated", "2", "5")
    assert summary["generation"] == IndexRoot(built).current_id() != gen_id
    assert summary["replaced"] == "1"
    ix = whoosh_index.open_dir(str(IndexRoot(built).current().path))
    with ix.searcher() as searcher:
        titles = {f["id"]: f["title"] for f in searcher.all_stored_fields()}
    assert titles["104"].endswith("rejoué à Marrakech")
    assert titles["200"] == "Ifrane sous la neige"
    meta = IndexRoot(built).current().meta
    assert (meta["revision"], meta["documents"]) == (1, 5)


def test_update_delete_removes_and_reports_unknown_ids(built: Path) -> None:
    run = reindex(built, "--update", "--delete", "101", "999")

    assert run.status == 0, run.err
    assert "--delete: id '999' is not in the index: nothing to delete" in run.lines
    assert run.summary()["deleted"] == "1"
    assert live_ids(built) == {"102", "103", "104"}
    meta = IndexRoot(built).current().meta
    assert (meta["revision"], meta["documents"]) == (1, 3)


def test_update_without_an_index_exits_1(tmp_path: Path) -> None:
    run = reindex(tmp_path, "--update", "--delete", "101")
    assert_one_line_failure(run, 1, "no index has been built yet")


# --- progress and quiet -------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_plain_stream_is_lines(tmp_path: Path) -> None:
    run = reindex(tmp_path, "--source", SAMPLE)
    assert run.status == 0, run.err
    # The first report is printed, then one every 5 s: on a slow machine it may not be the last.
    progress = [line for line in run.lines[:-1] if "docs/s" in line]
    assert progress
    assert all(re.fullmatch(r"\d+/42 docs  [\d,]+ docs/s  ETA \d+:\d\d", line)
               for line in progress), progress
    assert "\r" not in run.err


def test_progress_on_a_terminal_is_a_bar(tmp_path: Path) -> None:
    run = Run(["--index-dir", str(tmp_path), "--source", str(SAMPLE)], err=Terminal())
    assert run.status == 0, run.err
    assert "\r[########################] 42/42 docs" in run.err
    assert SUMMARY.match(run.lines[-1])


def test_quiet_prints_nothing_on_success(tmp_path: Path) -> None:
    run = reindex(tmp_path, "--source", SAMPLE, "--quiet")
    assert (run.status, run.err) == (0, "")
    assert len(live_ids(tmp_path)) == 42


def test_quiet_still_reports_bad_records_and_failures(tmp_path: Path) -> None:
    run = reindex(tmp_path, "--source", SOURCES / "pages", "--quiet")
    assert run.status == 0
    assert len(run.lines) == 2 and all(str(SOURCES / "pages") in line for line in run.lines)
    failed = reindex(tmp_path, "--rollback", "--quiet")
    assert_one_line_failure(failed, 1, "no generation older than")
