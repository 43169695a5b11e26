"""The index root (``index.generations``): layout, atomic switch, rollback, clean-up, the lock.

Generations are real folders under ``tmp_path``; the lock is contended by real processes (a child
Python that takes ``IndexRoot.lock()`` and sleeps), since an flock cannot be faked honestly.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from index.build import full_build
from index.generations import (
    GenerationError,
    IndexRoot,
    ReindexRunning,
    read_meta,
    write_atomically,
)

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO / "tests" / "data" / "sources" / "pages"

RUNNING = re.compile(r"^another reindex is running \(pid (\d+), started (\S+)\)$")


def ready(root: IndexRoot, documents: int = 1) -> str:
    """A new generation marked ready (not live): enough for everything but searching it."""
    gen_id, path = root.new_generation_dir()
    root.mark_ready(path, {"generation": gen_id, "documents": documents, "revision": 0})
    return gen_id


def partial(root: IndexRoot) -> str:
    gen_id, path = root.new_generation_dir()
    (path / "MAIN_half.seg").write_bytes(b"\0" * 64)
    return gen_id


def listing(root: IndexRoot) -> list[str]:
    return sorted(p.name for p in root.generations_dir.iterdir())


# --- layout and reading -------------------------------------------------------------------------


def test_a_full_build_lays_out_the_root(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    full_build(root, PAGES)

    (gen_dir,) = root.generations_dir.iterdir()
    assert (tmp_path / "CURRENT").read_text(encoding="utf-8") == gen_dir.name + "\n"
    assert json.loads((gen_dir / "READY").read_text(encoding="utf-8"))["documents"] == 4
    assert whoosh_index.exists_in(str(gen_dir))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT", "generations"]


def test_an_empty_root_has_no_current_generation(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "nowhere")
    assert root.current_id() is None
    assert root.ready_generations() == []
    with pytest.raises(GenerationError, match="no index has been built yet"):
        root.current()


def test_current_names_a_missing_generation(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    (tmp_path / "CURRENT").write_text("20240101T000000000000Z-abcdef\n", encoding="utf-8")
    with pytest.raises(GenerationError, match="which is missing"):
        root.current()


def test_generation_ids_sort_by_creation(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    ids = [ready(root) for _ in range(5)]
    assert ids == sorted(ids)
    assert [g.id for g in root.ready_generations()] == ids


@pytest.mark.parametrize("name", ["..", "../..", "", "a/b", ".hidden"])
def test_get_refuses_names_that_are_not_generation_ids(tmp_path: Path, name: str) -> None:
    root = IndexRoot(tmp_path / "index")
    for folder in (tmp_path, root.path, root.generations_dir):  # what ".." could reach
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "READY").write_text(json.dumps({"documents": 1}), encoding="utf-8")
    assert root.get(name) is None


def test_a_partial_generation_is_not_ready(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    gen_id = partial(root)
    assert root.get(gen_id) is None
    assert root.ready_generations() == []


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", '"ready"'])
def test_an_unreadable_ready_marker_means_partial(tmp_path: Path, text: str) -> None:
    (tmp_path / "READY").write_text(text, encoding="utf-8")
    assert read_meta(tmp_path) is None


# --- the switch ---------------------------------------------------------------------------------


def test_switch_makes_a_ready_generation_live_atomically(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    first, second = ready(root), ready(root)
    root.switch(first)
    root.switch(second)

    assert root.current().id == second
    assert root.current().meta["generation"] == second
    # Written beside and renamed over: no temporary file is left in the root.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT", "generations"]


def test_switch_refuses_a_partial_generation(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    live = ready(root)
    root.switch(live)
    unfinished = partial(root)

    with pytest.raises(GenerationError, match="not ready"):
        root.switch(unfinished)
    assert root.current_id() == live


def test_write_atomically_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "CURRENT"
    target.write_text("a very long previous content\n", encoding="utf-8")
    inode = target.stat().st_ino
    write_atomically(target, "court\n")
    assert target.read_text(encoding="utf-8") == "court\n"
    assert target.stat().st_ino != inode  # a new file renamed over, not rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["CURRENT"]


# --- rollback -----------------------------------------------------------------------------------


def test_rollback_goes_back_one_generation_at_a_time(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    ids = [ready(root) for _ in range(3)]
    for gen_id in ids:  # each went live in turn, as successive reindexes do
        root.switch(gen_id)

    assert root.rollback().id == ids[1]
    assert root.current_id() == ids[1]
    assert root.rollback().id == ids[0]
    with pytest.raises(GenerationError, match=f"no generation older than {ids[0]}"):
        root.rollback()
    assert root.current_id() == ids[0]


def test_rollback_skips_partial_generations(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    old = ready(root)
    root.switch(old)
    partial(root)
    new = ready(root)
    root.switch(new)
    assert root.rollback().id == old


def test_a_generation_that_never_went_live_is_no_rollback_target_and_is_cleaned_up(
    tmp_path: Path,
) -> None:
    # A reindex killed between its check (READY) and its switch leaves a ready generation that
    # was never served: rollback must not go there, and the next reindex removes it.
    root = IndexRoot(tmp_path)
    old = ready(root)
    root.switch(old)
    never = ready(root)
    new = ready(root)
    root.switch(new)
    assert root.rollback().id == old
    root.switch(new)
    assert never in root.remove_partial()
    assert [g.id for g in root.ready_generations()] == [old, new]


def test_rollback_without_any_index_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="no index has been built yet"):
        IndexRoot(tmp_path).rollback()


# --- clean-up -----------------------------------------------------------------------------------


def test_remove_partial_removes_only_unready_folders(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    old = ready(root)
    root.switch(old)
    dead = partial(root)
    live = ready(root)
    root.switch(live)

    assert root.remove_partial() == [dead]
    assert listing(root) == [old, live]


def test_remove_partial_on_an_empty_root(tmp_path: Path) -> None:
    assert IndexRoot(tmp_path).remove_partial() == []


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    ids = [ready(root) for _ in range(5)]
    root.switch(ids[-1])

    assert root.prune(3) == ids[:2]
    assert listing(root) == ids[2:]


def test_prune_always_keeps_the_live_generation(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    ids = [ready(root) for _ in range(4)]
    root.switch(ids[0])  # e.g. after rollbacks

    assert root.prune(1) == ids[1:3]
    assert listing(root) == [ids[0], ids[3]]
    assert root.current_id() == ids[0]


def test_prune_leaves_partial_generations_to_remove_partial(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    running = partial(root)
    ids = [ready(root) for _ in range(3)]
    root.switch(ids[-1])
    root.prune(1)
    assert listing(root) == sorted([running, ids[-1]])


# --- the lock -----------------------------------------------------------------------------------

HOLDER = """
import sys, time
from index.generations import IndexRoot
with IndexRoot(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(60)
"""

HOLDER_WITH_CHILD = """
import multiprocessing, sys, time
from index.generations import IndexRoot

def nap(started):
    started.set()
    time.sleep(60)

with IndexRoot(sys.argv[1]).lock():
    fork = multiprocessing.get_context("fork")
    started = fork.Event()
    child = fork.Process(target=nap, args=(started,))
    child.start()
    started.wait(10)
    print(child.pid, flush=True)
    time.sleep(60)
"""


@contextmanager
def holder(root: Path, script: str = HOLDER) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A separate Python process holding the lock of ``root``; yields it and its first line."""
    proc = subprocess.Popen([sys.executable, "-c", script, str(root)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line, "the lock holder died before taking the lock"
        yield proc, line
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_lock_names_its_holder_and_is_released(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "index")  # created by lock()
    with root.lock(purpose="rollback"):
        holder_info = json.loads(root.lock_file.read_text(encoding="utf-8"))
        assert holder_info["pid"] == os.getpid()
        assert holder_info["purpose"] == "rollback"
        datetime.fromisoformat(holder_info["started"])
    assert root.lock_file.read_text(encoding="utf-8") == ""
    warnings = io.StringIO()
    with root.lock(warn=warnings):
        pass
    assert warnings.getvalue() == ""


def test_the_lock_is_released_when_the_body_fails(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    with pytest.raises(RuntimeError), root.lock():
        raise RuntimeError("build failed")
    with root.lock():
        pass


def test_a_held_lock_is_refused_at_once_naming_the_holder(tmp_path: Path) -> None:
    with holder(tmp_path) as (proc, _):
        started = time.monotonic()
        with pytest.raises(ReindexRunning) as caught, IndexRoot(tmp_path).lock():
            pytest.fail("the lock was taken twice")
        assert time.monotonic() - started < 2
        match = RUNNING.match(str(caught.value))
        assert match, str(caught.value)
        assert int(match[1]) == proc.pid
        datetime.fromisoformat(match[2])
        assert proc.poll() is None


def test_the_lock_of_a_killed_process_is_taken_over_with_a_warning(tmp_path: Path) -> None:
    with holder(tmp_path) as (proc, _):
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        warnings = io.StringIO()
        with IndexRoot(tmp_path).lock(warn=warnings):
            assert json.loads((tmp_path / "LOCK").read_text())["pid"] == os.getpid()
    assert f"taking over a stale lock left by pid {proc.pid}" in warnings.getvalue()
    assert "that reindex did not finish, and no process holds the lock now" in warnings.getvalue()


def test_a_stale_lock_file_is_taken_over_with_a_warning(tmp_path: Path) -> None:
    stale = {"pid": 999_999_999, "started": "2024-03-01T02:00:00+00:00", "purpose": "reindex"}
    (tmp_path / "LOCK").write_text(json.dumps(stale), encoding="utf-8")
    warnings = io.StringIO()
    with IndexRoot(tmp_path).lock(warn=warnings):
        pass
    assert warnings.getvalue() == (
        "warning: taking over a stale lock left by pid 999999999 "
        "(started 2024-03-01T02:00:00+00:00): that reindex did not finish, "
        "and no process holds the lock now\n"
    )


def test_a_lock_left_by_pid_1_is_not_called_no_longer_running(tmp_path: Path) -> None:
    # pid 1 always runs (and any pid may run again as something else): say only what is known.
    (tmp_path / "LOCK").write_text('{"pid": 1, "started": "2024-03-01T02:00:00+00:00"}')
    warnings = io.StringIO()
    with IndexRoot(tmp_path).lock(warn=warnings):
        pass
    assert "left by pid 1 " in warnings.getvalue()
    assert "no longer running" not in warnings.getvalue()
    assert "no process holds the lock now" in warnings.getvalue()


@pytest.mark.parametrize("content", [
    b"\xff\xfe\x00garbage \xc3\x28",  # invalid UTF-8
    b'{"pid": "1\\nreindex: done", "started": "\\u001b[2J"}',  # a message meant to mislead
    b'{"pid": true, "started": 5}',
    b"[1, 2]",
    b"",
])
def test_any_bytes_in_a_free_lock_are_taken_over(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "LOCK").write_bytes(content)
    warnings = io.StringIO()
    with IndexRoot(tmp_path).lock(warn=warnings):
        assert json.loads((tmp_path / "LOCK").read_text())["pid"] == os.getpid()
    assert warnings.getvalue() == ""
    assert (tmp_path / "LOCK").read_bytes() == b""


@pytest.mark.parametrize(("link", "refusal"), [
    (os.symlink, "LOCK is a symbolic link .*remove it and run again"),
    (os.link, "LOCK is not a plain file of its own"),
])
def test_a_linked_lock_is_refused_and_the_other_file_kept(
    tmp_path: Path, link: Callable[[Path, Path], None], refusal: str
) -> None:
    # Taking the lock truncates LOCK: through a link, that emptied another file.
    target = tmp_path / "precious.txt"
    target.write_text("données importantes\n", encoding="utf-8")
    root = tmp_path / "index"
    root.mkdir()
    link(target, root / "LOCK")

    with pytest.raises(GenerationError, match=refusal), IndexRoot(root).lock():
        pass

    assert target.read_text(encoding="utf-8") == "données importantes\n"


def test_forked_children_do_not_keep_the_lock_after_their_parent_dies(tmp_path: Path) -> None:
    # What Whoosh's indexing processes are: if the reindex is killed, they must not hold its lock.
    with holder(tmp_path, HOLDER_WITH_CHILD) as (proc, child_pid):
        try:
            with pytest.raises(ReindexRunning), IndexRoot(tmp_path).lock():
                pass
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            warnings = io.StringIO()
            with IndexRoot(tmp_path).lock(warn=warnings):
                pass
            assert f"stale lock left by pid {proc.pid}" in warnings.getvalue()
        finally:
            os.kill(int(child_pid), signal.SIGKILL)
