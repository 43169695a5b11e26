"""Reports on search analytics, for ``scripts/analytics`` and the admin page (issue 12).

Every report covers a ``Period`` (whole UTC days, ``start`` included, ``end`` excluded) and
groups queries by ``query_key`` (accents, case and word order ignored), showing one written
form of each. Clicks count when their ``query_id`` is that of a search of the period; a
click whose id matches no recorded search (forged, or from an answer a cache served) counts
for nothing.

- ``summary``: searches, clicks, click-through rate (share of searches with at least one
  click), mean click position, share of searches corrected, share with no result;
- ``top_queries``, ``no_result_queries``, ``no_click_queries`` (results but no click);
- ``series``: the summary by day or by ISO week;
- ``popular``: what readers see as "Recherches populaires": queries of the last days searched
  at least ``min_count`` times, with results and clicks (a rare query is never shown to others).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

By = Literal["day", "week"]
DEFAULT_DAYS = 7
POPULAR_DAYS = 7


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def start(self) -> float:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC).timestamp()

    @property
    def end(self) -> float:
        after = self.last + timedelta(days=1)
        return datetime(after.year, after.month, after.day, tzinfo=UTC).timestamp()

    def to_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def period(
    first: date | None = None,
    last: date | None = None,
    *,
    days: int = DEFAULT_DAYS,
    today: date | None = None,
) -> Period:
    """``first``..``last``; a missing end is today, a missing start ``days`` before the end."""
    last = last or today or datetime.now(UTC).date()
    first = first or last - timedelta(days=days - 1)
    if first > last:
        raise ValueError("from must not be after to")
    return Period(first, last)


# The searches of the period, each with its clicks (count and mean position), if any.
_SEARCHES = """
WITH s AS (SELECT query_id, at, query, query_key, total, corrected FROM searches
           WHERE at >= :start AND at < :end),
c AS (SELECT query_id, COUNT(*) AS n, AVG(position) AS pos FROM clicks
      WHERE query_id IN (SELECT query_id FROM s) GROUP BY query_id)
"""


def _ratio(part: float | None, whole: float | None) -> float | None:
    return round(float(part or 0) / float(whole), 4) if whole else None


def _summary_row(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    searches, clicked, clicks, position_sum, corrected, empty = (v or 0 for v in row)
    return {
        "searches": searches,
        "clicks": clicks,
        "ctr": _ratio(clicked, searches),
        "mean_click_position": _ratio(position_sum, clicks),
        "corrected_share": _ratio(corrected, searches),
        "no_result_share": _ratio(empty, searches),
    }


_SUMMARY_COLUMNS = """COUNT(*), SUM(c.n IS NOT NULL), SUM(c.n), SUM(c.n * c.pos),
    SUM(s.corrected), SUM(s.total = 0)"""


def summary(conn: sqlite3.Connection, span: Period) -> dict[str, Any]:
    row = conn.execute(
        f"{_SEARCHES} SELECT {_SUMMARY_COLUMNS} FROM s LEFT JOIN c USING (query_id)",
        {"start": span.start, "end": span.end},
    ).fetchone()
    return _summary_row(row)


def series(conn: sqlite3.Connection, span: Period, by: By = "day") -> list[dict[str, Any]]:
    """``summary`` per day (``2026-11-29``) or ISO week (``2026-W48``), oldest first."""
    # ISO week: the year and day-of-year of the week's Thursday (-3 days, then next Thursday).
    thursday = "s.at, 'unixepoch', '-3 days', 'weekday 4'"
    bucket = (
        "date(s.at, 'unixepoch')"
        if by == "day"
        else f"strftime('%Y', {thursday}) || '-W' || "
        f"printf('%02d', (strftime('%j', {thursday}) - 1) / 7 + 1)"
    )
    rows = conn.execute(
        f"{_SEARCHES} SELECT {bucket} AS bucket, {_SUMMARY_COLUMNS} FROM s "
        "LEFT JOIN c USING (query_id) GROUP BY bucket ORDER BY bucket",
        {"start": span.start, "end": span.end},
    ).fetchall()
    return [{by: row[0], **_summary_row(row[1:])} for row in rows]


def _queries(
    conn: sqlite3.Connection, span: Period, where: str, having: str, limit: int
) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"{_SEARCHES} SELECT MIN(s.query), COUNT(*), AVG(s.total), SUM(c.n IS NOT NULL) "
        f"FROM s LEFT JOIN c USING (query_id) WHERE {where} GROUP BY s.query_key "
        f"HAVING {having} ORDER BY COUNT(*) DESC, MIN(s.query) LIMIT :limit",
        {"start": span.start, "end": span.end, "limit": limit},
    ).fetchall()
    return [
        {
            "query": query,
            "searches": n,
            "mean_total": round(float(total or 0), 1),
            "ctr": _ratio(clicked, n),
        }
        for query, n, total, clicked in rows
    ]


def top_queries(conn: sqlite3.Connection, span: Period, limit: int = 20) -> list[dict[str, Any]]:
    return _queries(conn, span, "1", "1", limit)


def no_result_queries(
    conn: sqlite3.Connection, span: Period, limit: int = 20
) -> list[dict[str, Any]]:
    return _queries(conn, span, "s.total = 0", "1", limit)


def no_click_queries(
    conn: sqlite3.Connection, span: Period, limit: int = 20
) -> list[dict[str, Any]]:
    """Queries that found results but whose searches got no click at all."""
    return _queries(conn, span, "s.total > 0", "SUM(c.n IS NOT NULL) = 0", limit)


def report(
    conn: sqlite3.Connection, span: Period, *, by: By = "day", limit: int = 20
) -> dict[str, Any]:
    """Every report of the period, as the admin page and ``scripts/analytics --json`` show it."""
    return {
        "period": span.to_dict(),
        "summary": summary(conn, span),
        "series": series(conn, span, by),
        "top_queries": top_queries(conn, span, limit),
        "no_result_queries": no_result_queries(conn, span, limit),
        "no_click_queries": no_click_queries(conn, span, limit),
    }


def popular(
    conn: sqlite3.Connection,
    *,
    now: float,
    min_count: int,
    limit: int = 8,
    days: int = POPULAR_DAYS,
) -> list[str]:
    """Frequent recent queries that found results and got clicks, most searched first."""
    rows = conn.execute(
        "WITH s AS (SELECT query_id, query, query_key FROM searches "
        "           WHERE at >= :since AND total > 0) "
        "SELECT MIN(s.query) FROM s GROUP BY s.query_key "
        "HAVING COUNT(*) >= :min_count "
        "   AND SUM(s.query_id IN (SELECT query_id FROM clicks WHERE at >= :since)) > 0 "
        "ORDER BY COUNT(*) DESC, MIN(s.query) LIMIT :limit",
        {"since": now - days * 86_400.0, "min_count": min_count, "limit": limit},
    ).fetchall()
    return [row[0] for row in rows]
