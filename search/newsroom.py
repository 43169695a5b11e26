"""Everything the editors' tools need in one worker, built from the settings (issue 12).

``Newsroom`` bundles this process's analytics ``Recorder`` (None when ``PRESSE_ANALYTICS=off``),
its ``LiveEditorial`` view of synonyms and pins, the ``EditorialStore`` the admin routes change,
the ``AdminGuard`` (None without ``PRESSE_ADMIN_TOKEN``: the admin routes are then not even
routed) and the cached "Recherches populaires". ``create_app`` takes one; tests build their
own over a file in ``tmp_path`` and ``close()`` it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from search.admin_auth import AdminGuard
from search.analytics import Event, Recorder
from search.config import Settings
from search.editorial import Editorial, EditorialStore, LiveEditorial
from search.reports import popular
from search.storage import StorageError, opened

log = logging.getLogger("presse.search.newsroom")

POPULAR_TTL_S = 300.0  # the list changes slowly; /popular answers are cacheable as long
POPULAR_KEPT = 20


class PopularQueries:
    """The "Recherches populaires" of this worker, read from analytics at most every TTL."""

    def __init__(self, path: Path, min_count: int, ttl_s: float = POPULAR_TTL_S) -> None:
        self.path = path
        self.min_count = min_count
        self.ttl_s = ttl_s
        self._queries: list[str] = []
        self._read_at = -float("inf")
        self._lock = threading.Lock()

    def get(self, limit: int) -> list[str]:
        if time.monotonic() - self._read_at >= self.ttl_s:
            with self._lock:
                if time.monotonic() - self._read_at >= self.ttl_s:
                    self._read_at = time.monotonic()
                    self._queries = self._read()
        return self._queries[:limit]

    def _read(self) -> list[str]:
        if not self.path.exists():
            return []
        try:
            with opened(self.path, busy_ms=0, create=False) as conn:
                return popular(conn, now=time.time(), min_count=self.min_count, limit=POPULAR_KEPT)
        except (StorageError, sqlite3.Error) as exc:
            log.warning("popular queries cannot be read from %s (%s)", self.path, exc)
            return self._queries


class Newsroom:
    """Analytics, synonyms, pins and admin access of one worker."""

    def __init__(self, settings: Settings) -> None:
        path = settings.analytics_path
        self.recorder: Recorder | None = None
        if settings.analytics_enabled:
            self.recorder = Recorder(
                path,
                queue_size=settings.analytics_queue_size,
                retention_days=settings.analytics_retention_days,
            )
        self.editorial = LiveEditorial(path, settings.refresh_interval_s)
        self.store = EditorialStore(path)
        self.guard = AdminGuard(settings.admin_tokens) if settings.admin_tokens else None
        self.popular = PopularQueries(path, settings.popular_min_count)

    def record(self, event: Event) -> None:
        if self.recorder is not None:
            self.recorder.record(event)

    def current(self) -> Editorial:
        return self.editorial.current()

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
