"""The SQLite file of the editors' tools: search analytics, synonyms, pins and the audit trail.

One file (``Settings.analytics_path``) in WAL mode, written concurrently by every gunicorn
worker (analytics, from a background thread each) and by the admin routes and scripts. WAL lets
the readers (reports, each worker's look at the synonyms and pins) go on while one writer
commits. Nothing here is ever called on a reader's search path: a locked, full or corrupt file
must cost a search nothing (``search.analytics`` and ``search.editorial`` catch ``StorageError``
and carry on without it).

Tables::

    searches  one row per search answered: query_id, at (Unix seconds), query, query_key,
              filters (JSON), page, total, took_ms, corrected
    clicks    one row per click: at, query_id, article_id, position
    synonyms  id, kind ('set' or 'oneway'), terms (JSON list), expansions (JSON list)
    pins      id, query, query_key, article_id, rank, starts, ends (Unix seconds or NULL)
    audit     id, at, who, action, detail (JSON)
    meta      key -> value: the editorial version (bumped by every change), the last purge

No IP address, cookie or user agent is ever stored: the tables above are all there is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    query_id TEXT NOT NULL, at REAL NOT NULL, query TEXT NOT NULL, query_key TEXT NOT NULL,
    filters TEXT NOT NULL, page INTEGER NOT NULL, total INTEGER NOT NULL,
    took_ms REAL NOT NULL, corrected INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_at ON searches (at);
CREATE INDEX IF NOT EXISTS searches_query_id ON searches (query_id);
CREATE TABLE IF NOT EXISTS clicks (
    at REAL NOT NULL, query_id TEXT NOT NULL, article_id TEXT NOT NULL, position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clicks_at ON clicks (at);
CREATE INDEX IF NOT EXISTS clicks_query_id ON clicks (query_id);
CREATE TABLE IF NOT EXISTS synonyms (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('set', 'oneway')),
    terms TEXT NOT NULL, expansions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pins (
    id INTEGER PRIMARY KEY, query TEXT NOT NULL, query_key TEXT NOT NULL,
    article_id TEXT NOT NULL, rank INTEGER NOT NULL, starts REAL, ends REAL
);
CREATE INDEX IF NOT EXISTS pins_query_key ON pins (query_key);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

WRITER_BUSY_MS = 2000  # a background writer may wait this long for another worker's commit


class StorageError(Exception):
    """The analytics file cannot be used (locked, full, corrupt, removed or unreadable)."""


def connect(
    path: Path, *, busy_ms: int = WRITER_BUSY_MS, create: bool = True
) -> sqlite3.Connection:
    """A connection in WAL mode with the schema in place; ``StorageError`` if that fails.

    ``create=False`` opens an existing file only (a worker looking for synonyms must not create
    an empty file where the editors' one was removed).
    """
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
        conn = sqlite3.connect(
            uri, uri=True, timeout=busy_ms / 1000.0, isolation_level=None, check_same_thread=False
        )
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"cannot open {path}: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        if create:
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives a killed process (only a power cut may lose
            # the last commits), at a fraction of FULL's fsyncs.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(SCHEMA)
    except sqlite3.Error as exc:
        conn.close()
        raise StorageError(f"cannot use {path}: {exc}") from None
    return conn


@contextmanager
def opened(
    path: Path, *, busy_ms: int = WRITER_BUSY_MS, create: bool = True
) -> Iterator[sqlite3.Connection]:
    """``connect`` for one piece of work; the connection is closed on the way out, and any
    SQLite failure inside becomes ``StorageError``."""
    conn = connect(path, busy_ms=busy_ms, create=create)
    with closing(conn):
        try:
            yield conn
        except sqlite3.Error as exc:
            raise StorageError(f"{path}: {exc}") from None


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
