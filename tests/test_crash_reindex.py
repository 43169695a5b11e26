"""Kill -9 the reindex at several points; and a second reindex while one runs.

The reindex runs as the admin runs it (``python -m index.cli``, in its own session, two indexing
processes) on a synthetic JSON Lines source, against a copy of the synthetic index (the live
generation, ``SYNTHETIC_ARTICLES`` documents). It is killed with SIGKILL:

full rebuild
  1. reading the source: as soon as its new generation folder appears (polled);
  2. writing the new generation: as soon as it reports progress (polled), segment files on disk;
  3. after the check, before ``READY``: ``IndexRoot.mark_ready`` kills the process;
  4. after ``READY``, before the switch of ``CURRENT``: ``IndexRoot.switch`` kills the process;
incremental update (in place, in the live generation)
  5. reading the update's source: as soon as it reports progress (polled);
  6. writing into the live generation, before the commit: Whoosh's ``commit`` kills the process;
  7. committed, before ``READY`` records the new revision: ``mark_ready`` kills the process.

Points 3, 4, 6 and 7 last microseconds, too short to hit by polling: a few lines given to
``python -c`` replace one method with a SIGKILL of the process itself — the same death as a kill
from outside, at an exact point, with no hook in the code under test.

After each kill: ``CURRENT`` is unchanged and names a ready generation; an engine opened before
(a worker) and a fresh one both answer from the previous generation with its document count; the
next reindex takes the stale lock over (with a warning naming the dead pid) and removes what the
dead one left partial; the last one of each series succeeds without any manual clean-up.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import synthetic
from conftest import REPO, SYNTHETIC_ARTICLES
from test_serving import server_env

from index.generations import IndexRoot
from search.config import Settings
from search.engine import Engine
from search.results import SearchRequest

pytestmark = pytest.mark.slow

WAIT_S = 120.0
NEW_WORD = "zellijacinq"


def reindex_command(*args: str, die_in: str | None = None) -> list[str]:
    """The reindex command; with ``die_in="module:Class.method"`` (or ``"module:function"``)
    that method or function kills it."""
    if die_in is None:
        return [sys.executable, "-m", "index.cli", *args]
    module, _, attribute = die_in.partition(":")
    owner, _, method = attribute.rpartition(".")
    target = (f"getattr(importlib.import_module({module!r}), {owner!r})" if owner
              else f"importlib.import_module({module!r})")
    code = (
        "import importlib, os, signal, sys\n"
        f"owner = {target}\n"
        f"setattr(owner, {method!r}, lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))\n"
        "from index.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return [sys.executable, "-c", code, *args]


class Reindex:
    """One reindex process, in its own session so that its indexing processes can be found."""

    def __init__(self, command: list[str], log: Path) -> None:
        self.log = log
        self.output = log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            env=server_env(PRESSE_BUILD_PROCESSES="2"),
            start_new_session=True,
        )
        self.pid = self.process.pid

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not condition():
            assert self.process.poll() is None, f"reindex ended before {what}:\n{self.stderr()}"
            assert time.monotonic() < deadline, f"never saw {what}:\n{self.stderr()}"
            time.sleep(0.002)

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def finish(self) -> int:
        try:
            return self.process.wait(timeout=WAIT_S)
        finally:
            self.output.close()

    def leftovers(self, grace_s: float = 3.0) -> list[int]:
        """Processes of this reindex's session still alive ``grace_s`` after it ended; killed."""
        deadline = time.monotonic() + grace_s
        while (alive := session_members(self.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in alive:
            os.kill(pid, signal.SIGKILL)
        return alive


def session_members(sid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state not in ("Z", "X"):
            members.append(int(entry.name))
    return members


@contextmanager
def reindex(command: list[str], log: Path) -> Iterator[Reindex]:
    run = Reindex(command, log)
    try:
        yield run
    finally:
        if run.process.poll() is None:
            run.kill()
        run.finish()
        run.leftovers(grace_s=0)


def generations(root: Path) -> set[str]:
    folder = root / "generations"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


class Service:
    """The service's view: an engine opened before the crash (a worker) and a fresh one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.worker = Engine(Settings(index_dir=root, refresh_interval_s=0))
        self.worker.warm_up()

    def assert_serves(self, generation: str, documents: int, word: str = "port") -> None:
        assert IndexRoot(self.root).current().id == generation  # CURRENT names a ready one
        fresh = Engine(Settings(index_dir=self.root, refresh_interval_s=0))
        try:
            for engine in (self.worker, fresh):
                status = engine.status()
                assert (status.generation, status.documents) == (generation, documents)
                assert engine.search(SearchRequest(query=word)).total > 0
        finally:
            fresh.close()

    def close(self) -> None:
        self.worker.close()


@pytest.fixture
def live(synthetic_index: Path, tmp_path: Path) -> Iterator[tuple[Path, Service]]:
    root = tmp_path / "index"
    shutil.copytree(synthetic_index, root)
    service = Service(root)
    yield root, service
    service.close()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reindex-sources")
    big = list(synthetic.articles(SYNTHETIC_ARTICLES + 200, seed=11))
    update = [dict(a, title=f"{a['title']} {NEW_WORD}") for a in big[:100]]
    return {
        "big": synthetic.write_jsonl(folder / "big.jsonl", big),
        "small": synthetic.write_jsonl(folder / "small.jsonl", big[:500]),
        "update": synthetic.write_jsonl(folder / "update.jsonl", update),
    }


def progress_reported(run: Reindex) -> bool:
    return re.search(r"\d docs ", run.stderr()) is not None


def test_kill_9_during_a_full_rebuild(
    live: tuple[Path, Service],
    sources: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, service = live
    before = IndexRoot(root).current().id
    service.assert_serves(before, SYNTHETIC_ARTICLES)
    args = ["--index-dir", str(root)]
    leftovers: dict[str, list[int]] = {}
    dead_pid: int | None = None
    partial: str | None = None

    def took_over(run: Reindex) -> None:
        """``run`` took over the lock of the last killed reindex and removed its partial work."""
        if dead_pid is not None:
            assert f"taking over a stale lock left by pid {dead_pid}" in run.stderr()
        if partial is not None:
            assert partial not in generations(root), "the partial generation was not removed"

    def after_kill(run: Reindex, point: str) -> None:
        nonlocal dead_pid
        assert run.finish() == -signal.SIGKILL, run.stderr()
        took_over(run)
        leftovers[point] = run.leftovers()
        service.assert_serves(before, SYNTHETIC_ARTICLES)
        dead_pid = run.pid

    # 1. reading the source
    known = generations(root)
    with reindex(
        reindex_command("--source", str(sources["big"]), *args), tmp_path / "1.log"
    ) as run:
        run.wait_for(lambda: generations(root) - known, "a new generation folder")
        run.kill()
        after_kill(run, "reading the source")
    (partial,) = generations(root) - known
    assert IndexRoot(root).get(partial) is None  # partial: no READY

    # 2. writing the new generation
    known = generations(root)
    with reindex(
        reindex_command("--source", str(sources["big"]), *args), tmp_path / "2.log"
    ) as run:
        run.wait_for(lambda: progress_reported(run), "progress")
        run.kill()
        after_kill(run, "writing the new generation")
    (partial,) = generations(root) - known
    assert IndexRoot(root).get(partial) is None
    assert any(
        p.suffix in (".trm", ".pst", ".seg") for p in (root / "generations" / partial).iterdir()
    )

    # 3. segments and TOC written, before the manifest
    known = generations(root)
    command = reindex_command(
        "--source", str(sources["small"]), *args, "--allow-shrink",
        die_in="index.manifest:describe",
    )
    with reindex(command, tmp_path / "3.log") as run:
        after_kill(run, "segments written, before the manifest")
    (partial,) = generations(root) - known
    assert IndexRoot(root).get(partial) is None

    # 4. checked, before READY
    known = generations(root)
    command = reindex_command(
        "--source", str(sources["small"]), *args, "--allow-shrink",
        die_in="index.generations:IndexRoot.mark_ready",
    )
    with reindex(command, tmp_path / "4.log") as run:
        after_kill(run, "after the check, before READY")
    (partial,) = generations(root) - known
    assert IndexRoot(root).get(partial) is None

    # 5. READY, before the switch: a complete generation that never went live
    known = generations(root)
    command = reindex_command(
        "--source", str(sources["small"]), *args, "--allow-shrink",
        die_in="index.generations:IndexRoot.switch",
    )
    with reindex(command, tmp_path / "5.log") as run:
        after_kill(run, "after READY, before the switch")
    (never_live,) = generations(root) - known
    assert IndexRoot(root).get(never_live) is not None
    assert (root / "CURRENT").read_text().strip() == before
    partial = None

    # The next reindex: no manual clean-up (and the shrink guard still guards).
    with reindex(
        reindex_command("--source", str(sources["small"]), *args), tmp_path / "6.log"
    ) as run:
        assert run.finish() == 1, run.stderr()
        assert "500 articles and the live index 3,000" in run.stderr()
        took_over(run)
    dead_pid = None  # that refused run took the lock over and released it
    with reindex(
        reindex_command("--source", str(sources["small"]), *args, "--allow-shrink"),
        tmp_path / "7.log",
    ) as run:
        assert run.finish() == 0, run.stderr()
        took_over(run)
    after = IndexRoot(root).current().id
    assert after not in (before, never_live)
    # Never served, so no rollback target: the next reindex removed it (its LIVE marker missing).
    assert never_live not in generations(root)
    service.assert_serves(after, 500)
    assert all(IndexRoot(root).get(g) is not None for g in generations(root)), "partial left"

    with capsys.disabled():
        print(
            f"\ncrash points (full rebuild): {len(leftovers)}; processes left running by the "
            f"killed reindex: { {k: len(v) for k, v in leftovers.items()} }; "
            f"ready generation that never went live removed by the next reindex: "
            f"{never_live not in generations(root)}"
        )


def test_kill_9_during_an_update(
    live: tuple[Path, Service],
    sources: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, service = live
    before = IndexRoot(root).current()
    args = ["--update", "--index-dir", str(root)]
    dead_pid: int | None = None
    points = 0

    def after_kill(run: Reindex) -> None:
        nonlocal dead_pid, points
        assert run.finish() == -signal.SIGKILL, run.stderr()
        assert run.leftovers() == []
        if dead_pid is not None:
            assert f"taking over a stale lock left by pid {dead_pid}" in run.stderr()
        dead_pid = run.pid
        points += 1
        assert IndexRoot(root).current().id == before.id
        service.assert_serves(before.id, SYNTHETIC_ARTICLES)
        assert service.worker.search(SearchRequest(query=NEW_WORD)).total == 0

    # 6. reading the update's source
    with reindex(
        reindex_command("--source", str(sources["big"]), *args), tmp_path / "1.log"
    ) as run:
        run.wait_for(lambda: progress_reported(run), "progress")
        run.kill()
        after_kill(run)

    # 7-11: at each step of publishing the new generation
    for n, die_in in enumerate(("os:link", "whoosh.writing:SegmentWriter._commit_toc",
                                "index.manifest:describe", "index.generations:IndexRoot.mark_ready",
                                "index.generations:IndexRoot.switch"), 2):
        command = reindex_command("--source", str(sources["update"]), *args, die_in=die_in)
        with reindex(command, tmp_path / f"{n}.log") as run:
            after_kill(run)

    # The next update: no manual clean-up, nothing lost or duplicated, and every engine sees it.
    with reindex(
        reindex_command("--source", str(sources["update"]), *args), tmp_path / "9.log"
    ) as run:
        assert run.finish() == 0, run.stderr()
        assert f"taking over a stale lock left by pid {dead_pid}" in run.stderr()
    after = IndexRoot(root).current()
    assert after.id != before.id and after.meta["parent"] == before.id
    service.assert_serves(after.id, SYNTHETIC_ARTICLES, word=NEW_WORD)
    assert service.worker.search(SearchRequest(query=NEW_WORD)).total == 100
    assert all(IndexRoot(root).get(g) is not None for g in generations(root)), "partial left"

    # And it can be undone.
    with reindex(reindex_command("--rollback", "--index-dir", str(root)),
                 tmp_path / "10.log") as run:
        assert run.finish() == 0, run.stderr()
    service.assert_serves(before.id, SYNTHETIC_ARTICLES)
    assert service.worker.search(SearchRequest(query=NEW_WORD)).total == 0
    with capsys.disabled():
        print(f"\ncrash points (update): {points}")


def test_a_killed_rebuild_leaves_no_process_behind(
    live: tuple[Path, Service], sources: dict[str, Path], tmp_path: Path
) -> None:
    root, _ = live
    command = reindex_command("--source", str(sources["big"]), "--index-dir", str(root))
    with reindex(command, tmp_path / "reindex.log") as run:
        run.wait_for(lambda: progress_reported(run), "progress")
        run.kill()
        run.finish()
        assert run.leftovers(grace_s=5.0) == []


# --- one writer at a time ----------------------------------------------------------------------


def lock_text(root: Path) -> str:
    try:
        return (root / "LOCK").read_text()
    except FileNotFoundError:
        return ""


SECOND = {
    "rebuild": ["--source", "{big}"],
    "update": ["--update", "--source", "{update}"],
    "delete": ["--update", "--delete", "syn-00001"],
    "rollback": ["--rollback"],
}


def test_a_second_reindex_exits_at_once_naming_the_first(
    live: tuple[Path, Service], sources: dict[str, Path], tmp_path: Path
) -> None:
    root, service = live
    before = generations(root)
    first_args = ["--source", str(sources["big"]), "--index-dir", str(root)]
    with reindex(reindex_command(*first_args), tmp_path / "first.log") as first:
        first.wait_for(lambda: f'"pid": {first.pid}' in lock_text(root), "the lock")
        # All at once: one after the other, the Python start-ups alone (a second each) could
        # outlast the first reindex on a fast machine, and the test would prove nothing.
        started = time.monotonic()
        seconds = {
            kind: subprocess.Popen(
                reindex_command(
                    *[a.format(big=sources["big"], update=sources["update"]) for a in second],
                    "--index-dir", str(root),
                ),
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=server_env(),
            )
            for kind, second in SECOND.items()
        }
        for kind, process in seconds.items():
            _, stderr = process.communicate(timeout=WAIT_S)
            elapsed = time.monotonic() - started
            assert process.returncode == 1, (kind, stderr)
            assert re.fullmatch(
                rf"reindex: error: another reindex is running \(pid {first.pid}, started "
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00\)\n",
                stderr,
            ), (kind, stderr)
            assert elapsed < 10, f"{kind}: took {elapsed:.1f} s to give up"
        assert first.process.poll() is None, first.stderr()  # the first one runs on
        assert first.finish() == 0, first.stderr()
        assert "stale lock" not in first.stderr()
    current = IndexRoot(root).current()
    assert current.id not in before and current.meta["documents"] == SYNTHETIC_ARTICLES + 200
    service.assert_serves(current.id, SYNTHETIC_ARTICLES + 200)
