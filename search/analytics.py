"""Search analytics off the request path: a bounded queue per worker and a background writer.

A search or a click becomes a small frozen event, put on this worker's queue without waiting
(``Recorder.record``); when the queue is full the event is dropped and counted, never waited for.
One daemon thread per worker takes events off the queue and writes them in batches (one
transaction each, at most ``BATCH_SIZE`` events or ``FLUSH_INTERVAL_S`` old), so a ``kill -9``
loses at most what was queued and the batch being written, and never leaves a half-written
batch (SQLite's WAL). The same thread purges rows older than the retention once a day (one
worker does it: the last purge is recorded in the file).

A locked, full, corrupt or vanished file turns analytics off for ``RETRY_AFTER_S`` with one
logged warning (events meanwhile are dropped and counted); searches never notice. The queue and
the thread are created on first use in each process, so nothing crosses gunicorn's fork.

Recorded, and nothing else: the normalised query (``search.normalize``), the filters, the page,
the total, ``took_ms``, whether the query was corrected, the random ``query_id`` the answer
carries; and for clicks the query id, the article id and the position. No IP address, cookie
or user agent.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.normalize import display_form, query_key
from search.storage import StorageError, connect, transaction

log = logging.getLogger("presse.search.analytics")

BATCH_SIZE = 500  # events per transaction: one commit costs ~1 ms in WAL mode, a row ~5 µs
FLUSH_INTERVAL_S = 0.5  # the oldest queued event waits at most this long to be written
RETRY_AFTER_S = 60.0  # after a failure, analytics stays off this long before trying again
PURGE_EVERY_S = 86_400.0
QUERY_ID_BYTES = 16  # 32 hex characters: unguessable, so clicks cannot be forged onto others'


def new_query_id() -> str:
    return secrets.token_hex(QUERY_ID_BYTES)


@dataclass(frozen=True)
class SearchEvent:
    query_id: str
    at: float
    query: str
    query_key: str
    filters: str
    page: int
    total: int
    took_ms: float
    corrected: bool


@dataclass(frozen=True)
class ClickEvent:
    at: float
    query_id: str
    article_id: str
    position: int


Event = SearchEvent | ClickEvent


def search_event(
    query_id: str,
    query: str,
    filters: Mapping[str, Any],
    page: int,
    answer: Mapping[str, Any],
    at: float | None = None,
) -> SearchEvent:
    """The event of one answered search; ``answer`` is the JSON answer (``corrected_query``
    is set in it when the engine searched a corrected query instead of the typed one)."""
    shown = display_form(query)
    return SearchEvent(
        query_id=query_id,
        at=time.time() if at is None else at,
        query=shown,
        query_key=query_key(shown, displayed=True),
        filters=json.dumps(
            {k: v for k, v in filters.items() if v}, ensure_ascii=False, sort_keys=True, default=str
        ),
        page=page,
        total=int(answer.get("total") or 0),
        took_ms=float(answer.get("took_ms") or 0.0),
        corrected=bool(answer.get("corrected_query")),
    )


def write_events(conn: sqlite3.Connection, events: Sequence[Event]) -> None:
    """Write ``events`` in one transaction: all of them or none."""
    searches = [
        (
            e.query_id,
            e.at,
            e.query,
            e.query_key,
            e.filters,
            e.page,
            e.total,
            e.took_ms,
            int(e.corrected),
        )
        for e in events
        if isinstance(e, SearchEvent)
    ]
    clicks = [
        (e.at, e.query_id, e.article_id, e.position) for e in events if isinstance(e, ClickEvent)
    ]
    with transaction(conn):
        if searches:
            conn.executemany("INSERT INTO searches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", searches)
        if clicks:
            conn.executemany("INSERT INTO clicks VALUES (?, ?, ?, ?)", clicks)


def purge(conn: sqlite3.Connection, retention_days: int, now: float) -> int:
    """Delete rows older than the retention, at most once a day across every process.

    Returns how many rows went (0 when another process purged within the day).
    """
    with transaction(conn):
        row = conn.execute("SELECT value FROM meta WHERE key = 'purged_at'").fetchone()
        if row is not None and now - float(row[0]) < PURGE_EVERY_S:
            return 0
        cutoff = now - retention_days * 86_400.0
        removed = conn.execute("DELETE FROM searches WHERE at < ?", (cutoff,)).rowcount
        removed += conn.execute("DELETE FROM clicks WHERE at < ?", (cutoff,)).rowcount
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('purged_at', ?)", (repr(now),))
    return removed


@dataclass
class RecorderStats:
    """This process's counts since it started."""

    written: int = 0
    dropped: int = 0  # queue full, or analytics off after a failure
    failures: int = 0


class Recorder:
    """One worker's analytics: ``record()`` never blocks and never raises."""

    def __init__(
        self,
        path: Path,
        *,
        queue_size: int,
        retention_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.queue_size = queue_size
        self.retention_days = retention_days
        self.clock = clock
        self.stats = RecorderStats()
        self._pid: int | None = None
        self._queue: queue.Queue[Event | None] = queue.Queue(queue_size)
        self._thread: threading.Thread | None = None
        self._off_until = 0.0
        self._conn_file: tuple[int, int] | None = None
        self._start_lock = threading.Lock()

    def record(self, event: Event) -> None:
        """Queue ``event`` for writing, or drop and count it (queue full, analytics off)."""
        if self._pid != os.getpid():
            self._start()
        if time.monotonic() < self._off_until:
            self.stats.dropped += 1
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.stats.dropped += 1

    @property
    def enabled(self) -> bool:
        return time.monotonic() >= self._off_until

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event is written or dropped (tests, shutdown)."""
        if self._thread is None:
            return True
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._queue.unfinished_tasks

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the thread."""
        thread = self._thread
        if thread is None or self._pid != os.getpid():
            return
        self._queue.put(None)
        thread.join(timeout)
        self._thread = None
        self._pid = None

    def _start(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # A fresh queue and thread in this process (a queue inherited through fork may hold
            # a lock taken by a thread that does not exist here).
            self._queue = queue.Queue(self.queue_size)
            self._thread = threading.Thread(target=self._run, name="analytics-writer", daemon=True)
            self._pid = os.getpid()
            self._thread.start()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        next_purge = 0.0
        try:
            while True:
                batch, stop = self._next_batch()
                try:
                    if batch:
                        conn = self._write(conn, batch)
                    if conn is not None and time.monotonic() >= next_purge:
                        next_purge = time.monotonic() + 3600.0  # look hourly; purge daily
                        conn = self._purge(conn)
                except Exception:  # a bug here must not end analytics for the worker's life
                    log.exception("analytics: %d events lost", len(batch))
                    self.stats.dropped += len(batch)
                    if conn is not None:
                        conn.close()
                        conn = None
                for _ in range(len(batch) + stop):
                    self._queue.task_done()
                if stop:
                    return
        finally:
            if conn is not None:
                conn.close()

    def _next_batch(self) -> tuple[list[Event], bool]:
        # The writer sleeps, then drains what came meanwhile. Waiting on the queue instead woke
        # this thread at every search, and the hand-over of the interpreter lock cost the
        # request ~0.8 ms (cProfile, 700 uncached searches on the shared corpus).
        batch: list[Event] = []
        while True:
            while len(batch) < BATCH_SIZE:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    return batch, True
                batch.append(item)
            if batch:
                return batch, False
            time.sleep(FLUSH_INTERVAL_S / 5)

    def _write(
        self, conn: sqlite3.Connection | None, batch: list[Event]
    ) -> sqlite3.Connection | None:
        if time.monotonic() < self._off_until:
            self.stats.dropped += len(batch)
            return conn
        try:
            if conn is not None and self._file_id() != self._conn_file:
                conn.close()  # the file was removed or replaced: write to the new one
                conn = None
            if conn is None:
                conn = connect(self.path)
                self._conn_file = self._file_id()
            write_events(conn, batch)
        except (StorageError, sqlite3.Error, OSError) as exc:
            self._fail(conn, len(batch), exc)
            return None
        self.stats.written += len(batch)
        return conn

    def _file_id(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_dev, stat.st_ino)

    def _purge(self, conn: sqlite3.Connection) -> sqlite3.Connection | None:
        try:
            removed = purge(conn, self.retention_days, self.clock())
        except (sqlite3.Error, OSError) as exc:
            self._fail(conn, 0, exc)
            return None
        if removed:
            log.info("analytics: purged %d rows older than %d days", removed, self.retention_days)
        return conn

    def _fail(self, conn: sqlite3.Connection | None, lost: int, exc: BaseException) -> None:
        self.stats.failures += 1
        self.stats.dropped += lost
        self._off_until = time.monotonic() + RETRY_AFTER_S
        log.warning(
            "analytics off for %.0f s: %s is unusable (%s); searches go on, %d events dropped",
            RETRY_AFTER_S,
            self.path,
            exc,
            lost,
        )
        if conn is not None:
            conn.close()
        return None
