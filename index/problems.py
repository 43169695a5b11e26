"""Notices that can repeat by the thousand, summarised: the first few in full, then a count.

A source with 10,000 repeated ids printed 10,000 notices, which buried the real errors of the
run. ``SummarisedNotices`` passes the first ``shown`` notices of one kind to the run's reporter,
counts the rest, and ``close()`` reports ``… and N more <kind>`` once. It knows nothing of the
index or of the kind of notice, so any stream of notices (repeated ids, unknown deletions) can
use it.
"""

from __future__ import annotations

from collections.abc import Callable

NoticeHandler = Callable[[str, str], None]
"""Reports one notice: ``(where, message)``, where is ``path:line``."""

SHOWN = 20
"""Notices of one kind shown in full: enough to see the pattern, few enough to read."""


class SummarisedNotices:
    """The first ``shown`` notices of one kind in full; then one line with how many more."""

    def __init__(self, report: NoticeHandler, kind: str, shown: int = SHOWN) -> None:
        self.report = report
        self.kind = kind
        self.shown = shown
        self.count = 0

    def add(self, where: str, message: str) -> None:
        self.count += 1
        if self.count <= self.shown:
            self.report(where, message)

    @property
    def hidden(self) -> int:
        return max(self.count - self.shown, 0)

    def close(self, where: str) -> None:
        """Report how many notices were not shown (nothing when all were)."""
        if self.hidden:
            self.report(where, f"… and {self.hidden:,} more {self.kind}")


def repeated_id(article_id: str, first: str, deleted: bool) -> str:
    """The notice for a record whose id an earlier record of the same source had."""
    outcome = "deleted by this record" if deleted else "keeping the last record"
    return f"id {article_id!r} repeated (first at {first}): {outcome}"
