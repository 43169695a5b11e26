"""Child processes of a reindex die with it.

A reindex forks processes that write segments. If the reindex is killed (kill -9 gives it no
chance to stop them), they would wait on their job queue for ever, or write into a generation
folder that the next run removes. While ``writer_processes_die_with_us()`` is active, children
forked by this process ask the kernel to kill them when their parent dies (Linux).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_PR_SET_PDEATHSIG = 1
_arm_for_parent: int | None = None  # the pid whose children must die with it, while writing


def _die_with_parent() -> None:
    if _arm_for_parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != _arm_for_parent:  # the parent died before the line above
        os._exit(1)


os.register_at_fork(after_in_child=_die_with_parent)


@contextmanager
def writer_processes_die_with_us() -> Iterator[None]:
    """Children forked inside this block are killed by the kernel when this process dies."""
    global _arm_for_parent
    _arm_for_parent = os.getpid()
    try:
        yield
    finally:
        _arm_for_parent = None
