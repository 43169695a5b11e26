"""The newsroom's editorial configuration: synonyms and pins, stored beside the analytics.

``EditorialStore`` changes it (for the admin routes and ``scripts/admin``): every change is one
transaction that also writes an audit row (who, what, when) and a new random version in
``meta``. ``LiveEditorial`` is each worker's view: it looks at the version at most every
``refresh_interval_s`` (one indexed read of a small table) and reloads the rules when it
changed, so a change reaches every worker within ``PRESSE_REFRESH_INTERVAL`` with no reindex
and no restart. If the file is missing, locked or broken, a worker keeps what it had (nothing
at first) and logs one warning: searches go on, without synonyms and pins at worst.

Export and import use one JSON shape (``export_data``), which ``scripts/admin`` reads and writes.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from search.normalize import display_form, query_key
from search.pins import MAX_PINNED, Pin, iso
from search.storage import StorageError, opened, transaction
from search.synonyms import NO_SYNONYMS, SynonymError, SynonymRule, Synonyms, rule_from_dict

log = logging.getLogger("presse.search.editorial")

EXPORT_FORMAT = 1
READER_BUSY_MS = 0  # a worker never waits for the file: it keeps its rules and looks later
MAX_ARTICLE_ID_CHARS = 200


class EditorialError(ValueError):
    """A change the editor asked for that cannot be made; the message says why."""

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter


@dataclass(frozen=True)
class Editorial:
    """Synonyms and pins at one version."""

    version: str
    synonyms: Synonyms
    pins: tuple[Pin, ...]


NOTHING = Editorial("", NO_SYNONYMS, ())


def read_version(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = 'editorial_version'").fetchone()
    return str(row[0]) if row else ""


def read_editorial(conn: sqlite3.Connection) -> Editorial:
    version = read_version(conn)
    rules = tuple(
        SynonymRule(int(i), kind, tuple(json.loads(terms)), tuple(json.loads(expansions)))
        for i, kind, terms, expansions in conn.execute(
            "SELECT id, kind, terms, expansions FROM synonyms ORDER BY id"
        )
    )
    pins = tuple(
        Pin(int(i), q, key, article, int(rank), starts, ends)
        for i, q, key, article, rank, starts, ends in conn.execute(
            "SELECT id, query, query_key, article_id, rank, starts, ends FROM pins "
            "ORDER BY query_key, rank, id"
        )
    )
    # A version hash stands for the rules in the engine's answer cache (see Synonyms).
    return Editorial(version, Synonyms(version, rules), pins)


def parse_time(value: Any, parameter: str) -> float | None:
    """An ISO 8601 time (UTC when it gives no offset) as Unix seconds; None for null or ''."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EditorialError(f"{parameter} must be an ISO 8601 time", parameter=parameter)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise EditorialError(
            f"{parameter} must be an ISO 8601 time like 2026-06-12T20:00:00+01:00",
            parameter=parameter,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class EditorialStore:
    """Changes to synonyms and pins, each audited; used by the admin routes and scripts."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Editorial:
        with opened(self.path) as conn:
            return read_editorial(conn)

    def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        with opened(self.path) as conn:
            rows = conn.execute(
                "SELECT at, who, action, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [
            {"at": iso(at), "who": who, "action": action, "detail": json.loads(detail)}
            for at, who, action, detail in rows
        ]

    def add_synonym(self, data: Mapping[str, Any], who: str) -> SynonymRule:
        try:
            rule = rule_from_dict(data)
        except SynonymError as exc:
            raise EditorialError(str(exc), parameter="line") from None
        with opened(self.path) as conn, transaction(conn):
            rule_id = self._insert_rule(conn, rule)
            self._changed(conn, who, "synonym.add", {"id": rule_id, "line": rule.line})
        return SynonymRule(rule_id, rule.kind, rule.terms, rule.expansions)

    def delete_synonym(self, rule_id: int, who: str) -> bool:
        with opened(self.path) as conn, transaction(conn):
            row = conn.execute(
                "SELECT kind, terms, expansions FROM synonyms WHERE id = ?", (rule_id,)
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM synonyms WHERE id = ?", (rule_id,))
            rule = SynonymRule(
                rule_id, row[0], tuple(json.loads(row[1])), tuple(json.loads(row[2]))
            )
            self._changed(conn, who, "synonym.delete", {"id": rule_id, "line": rule.line})
        return True

    def add_pins(
        self,
        query: str,
        article_ids: Sequence[str],
        who: str,
        *,
        starts: float | None = None,
        ends: float | None = None,
    ) -> list[Pin]:
        """Pin ``article_ids`` (in that order) for ``query``, after its current pins."""
        key = query_key(query)
        if not key:
            raise EditorialError("query must hold at least one word", parameter="query")
        ids = list(dict.fromkeys(a.strip() for a in article_ids if a.strip()))
        if not ids or len(ids) > MAX_PINNED:
            raise EditorialError(f"give 1 to {MAX_PINNED} article ids", parameter="article_ids")
        if any(len(a) > MAX_ARTICLE_ID_CHARS or not a.isprintable() for a in ids):
            raise EditorialError(
                "an article id is too long or holds control characters", parameter="article_ids"
            )
        if starts is not None and ends is not None and ends <= starts:
            raise EditorialError("ends must come after starts", parameter="ends")
        shown = display_form(query)
        with opened(self.path) as conn, transaction(conn):
            pins = self._insert_pins(conn, shown, key, ids, starts, ends)
            self._changed(
                conn,
                who,
                "pin.add",
                {"query": shown, "article_ids": ids, "starts": iso(starts), "ends": iso(ends)},
            )
        return pins

    def delete_pin(self, pin_id: int, who: str) -> bool:
        with opened(self.path) as conn, transaction(conn):
            row = conn.execute(
                "SELECT query, article_id FROM pins WHERE id = ?", (pin_id,)
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM pins WHERE id = ?", (pin_id,))
            self._changed(
                conn, who, "pin.delete", {"id": pin_id, "query": row[0], "article_id": row[1]}
            )
        return True

    def export_data(self) -> dict[str, Any]:
        editorial = self.read()
        return {
            "format": EXPORT_FORMAT,
            "synonyms": [
                {"kind": r.kind, "terms": list(r.terms), "expansions": list(r.expansions)}
                for r in editorial.synonyms.rules
            ],
            "pins": [
                {
                    "query": p.query,
                    "article_id": p.article_id,
                    "rank": p.rank,
                    "starts": iso(p.starts),
                    "ends": iso(p.ends),
                }
                for p in editorial.pins
            ],
        }

    def import_data(self, data: Any, who: str) -> tuple[int, int]:
        """Replace every synonym and pin by those of ``data`` (the export shape), at once.

        Everything is checked before anything changes; returns (rules, pins) imported.
        """
        if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
            raise EditorialError(f'not an export of this tool (expected "format": {EXPORT_FORMAT})')
        rules: list[SynonymRule] = []
        for n, item in enumerate(data.get("synonyms") or [], 1):
            try:
                rules.append(rule_from_dict(item if isinstance(item, dict) else {}))
            except SynonymError as exc:
                raise EditorialError(f"synonyms[{n}]: {exc}") from None
        pins: list[tuple[str, str, str, int, float | None, float | None]] = []
        for n, item in enumerate(data.get("pins") or [], 1):
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("query"), str)
                or not isinstance(item.get("article_id"), str)
                or not query_key(item["query"])
                or not item["article_id"].strip()
            ):
                raise EditorialError(f"pins[{n}]: needs query and article_id")
            try:
                starts = parse_time(item.get("starts"), "starts")
                ends = parse_time(item.get("ends"), "ends")
            except EditorialError as exc:
                raise EditorialError(f"pins[{n}]: {exc.message}") from None
            rank = item.get("rank", n)
            pins.append(
                (
                    display_form(item["query"]),
                    query_key(item["query"]),
                    item["article_id"].strip(),
                    int(rank) if isinstance(rank, int) else n,
                    starts,
                    ends,
                )
            )
        with opened(self.path) as conn, transaction(conn):
            conn.execute("DELETE FROM synonyms")
            conn.execute("DELETE FROM pins")
            for rule in rules:
                self._insert_rule(conn, rule)
            conn.executemany(
                "INSERT INTO pins (query, query_key, article_id, rank, starts, ends)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                pins,
            )
            self._changed(conn, who, "import", {"synonyms": len(rules), "pins": len(pins)})
        return len(rules), len(pins)

    @staticmethod
    def _insert_rule(conn: sqlite3.Connection, rule: SynonymRule) -> int:
        cursor = conn.execute(
            "INSERT INTO synonyms (kind, terms, expansions) VALUES (?, ?, ?)",
            (
                rule.kind,
                json.dumps(list(rule.terms), ensure_ascii=False),
                json.dumps(list(rule.expansions), ensure_ascii=False),
            ),
        )
        return int(cursor.lastrowid or 0)

    @staticmethod
    def _insert_pins(
        conn: sqlite3.Connection,
        query: str,
        key: str,
        ids: list[str],
        starts: float | None,
        ends: float | None,
    ) -> list[Pin]:
        row = conn.execute(
            "SELECT COALESCE(MAX(rank), 0) FROM pins WHERE query_key = ?", (key,)
        ).fetchone()
        pins = []
        for offset, article_id in enumerate(ids, 1):
            rank = int(row[0]) + offset
            cursor = conn.execute(
                "INSERT INTO pins (query, query_key, article_id, rank, starts, ends) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (query, key, article_id, rank, starts, ends),
            )
            pins.append(Pin(int(cursor.lastrowid or 0), query, key, article_id, rank, starts, ends))
        return pins

    @staticmethod
    def _changed(
        conn: sqlite3.Connection, who: str, action: str, detail: Mapping[str, Any]
    ) -> None:
        conn.execute(
            "INSERT INTO audit (at, who, action, detail) VALUES (?, ?, ?, ?)",
            (time.time(), who, action, json.dumps(detail, ensure_ascii=False)),
        )
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('editorial_version', ?)", (secrets.token_hex(8),)
        )


class LiveEditorial:
    """One worker's synonyms and pins, looked up again at most every ``refresh_interval_s``."""

    def __init__(self, path: Path, refresh_interval_s: float) -> None:
        self.path = path
        self.refresh_interval_s = refresh_interval_s
        self._editorial = NOTHING
        self._checked_at = -float("inf")
        self._warned = False
        self._lock = threading.Lock()

    def current(self) -> Editorial:
        now = time.monotonic()
        if now - self._checked_at < self.refresh_interval_s:
            return self._editorial
        with self._lock:
            if now - self._checked_at >= self.refresh_interval_s:
                self._checked_at = now
                self._refresh()
        return self._editorial

    def reload(self) -> Editorial:
        """Read the file now (after this worker changed it, so the editor sees it at once)."""
        with self._lock:
            self._checked_at = time.monotonic()
            self._refresh()
        return self._editorial

    def _refresh(self) -> None:
        if not self.path.exists():
            self._editorial = NOTHING  # removed: nothing to apply (and nothing to warn about)
            return
        try:
            with opened(self.path, busy_ms=READER_BUSY_MS, create=False) as conn:
                if read_version(conn) != self._editorial.version:
                    self._editorial = read_editorial(conn)
        except (StorageError, sqlite3.Error, ValueError) as exc:
            if not self._warned:
                log.warning(
                    "synonyms and pins cannot be read from %s (%s); keeping the previous ones",
                    self.path,
                    exc,
                )
                self._warned = True
            return
        self._warned = False
