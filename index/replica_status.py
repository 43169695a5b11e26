"""A replica's status file, ``<root>/REPLICA.json``: written by the follower after each poll,
read by the service's ``/ready`` (which computes the lag from it).

::

    {"source": "http://127.0.0.1:8100", "name": "web-2", "source_generation": id|null,
     "serving": id|null, "behind_generations": 0, "behind_since": iso|null,
     "last_poll": iso, "last_success": iso|null, "error": str|null,
     "bytes_copied_last": int, "bytes_linked_last": int}

``behind_since`` is when the follower first saw a source generation it does not serve yet;
``lag_s`` is the time since then (0 when it serves the source's current generation). So a
publisher that is gone does not make a replica lag: nothing newer has been seen. ``last_poll``
ages only when the follower itself stops (dead, stuck): ``/ready`` treats a status older than
three poll intervals plus ``STALE_GRACE_S`` as a dead follower.

Nothing here imports Whoosh: the search side reads this module.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.generations import write_atomically

FILENAME = "REPLICA.json"
STALE_GRACE_S = 10.0  # a round may copy for a while before writing; 10 s covers a poll's GETs


@dataclass(frozen=True)
class ReplicaStatus:
    source: str
    name: str
    source_generation: str | None = None
    serving: str | None = None
    behind_generations: int = 0
    behind_since: str | None = None
    last_poll: str | None = None
    last_success: str | None = None
    error: str | None = None
    bytes_copied_last: int = 0
    bytes_linked_last: int = 0

    def lag_s(self, now: datetime) -> float:
        """Seconds since a newer source generation was first seen (0 when caught up)."""
        since = _moment(self.behind_since)
        return 0.0 if since is None else max((now - since).total_seconds(), 0.0)

    def age_s(self, now: datetime) -> float | None:
        """Seconds since the last poll, or None when there was none."""
        polled = _moment(self.last_poll)
        return None if polled is None else max((now - polled).total_seconds(), 0.0)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def write(root: Path, status: ReplicaStatus) -> None:
    write_atomically(Path(root) / FILENAME, json.dumps(asdict(status), indent=1) + "\n")


def read(root: Path) -> ReplicaStatus | None:
    """The status the follower wrote last, or None when there is none (or it is unreadable)."""
    try:
        data: Any = json.loads((Path(root) / FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    known = {f.name for f in fields(ReplicaStatus)}
    try:
        return ReplicaStatus(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return None


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
