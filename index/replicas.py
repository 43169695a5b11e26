"""The publisher's registry of replicas: their acknowledgements, and what ``prune`` must keep.

A replica tells its source, after each poll, which generation it serves and which it is
copying (``POST /replication/acks``, or a file written beside a directory source). Each ack
is one small file, replaced atomically::

    <root>/replicas/<name>.json   {"replica": name, "serving": id|null, "copying": id|null,
                                   "acked_at": iso}

Retention: a generation is kept while a known replica (one whose last ack is newer than the
timeout, ``PRESSE_REPLICA_TIMEOUT``) serves or copies it or an older one. Generation ids sort by
creation time, so that is every ready generation from the oldest one a live replica names. A
replica that stopped acking for longer than the timeout is forgotten: if it comes back copying
a generation pruned meanwhile, it gets a 404 and starts over from the new current one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from index.generations import IndexRoot, write_atomically

ACKS_DIR = "replicas"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_GENERATION = re.compile(r"[A-Za-z0-9-]{1,64}")


class BadAck(ValueError):
    """An acknowledgement that cannot be recorded; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Ack:
    """What one replica last said: the generation it serves, the one it copies, and when."""

    replica: str
    serving: str | None
    copying: str | None
    acked_at: datetime

    def holds(self) -> list[str]:
        return [g for g in (self.serving, self.copying) if g is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "replica": self.replica,
            "serving": self.serving,
            "copying": self.copying,
            "acked_at": self.acked_at.isoformat(timespec="seconds"),
        }


def valid_name(name: object) -> bool:
    """A replica name: letters, digits, ``_ . -``, 1-64 characters, not starting with a dot
    (it becomes a file name)."""
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def parse_ack(data: object, now: datetime | None = None) -> Ack:
    """The ack in a JSON body; ``BadAck`` names the field that is wrong."""
    if not isinstance(data, dict):
        raise BadAck("body", 'send a JSON object: {"replica", "serving", "copying"}')
    name = data.get("replica")
    if not valid_name(name):
        raise BadAck("replica", "replica must be 1-64 letters, digits or _ . - (no leading dot)")
    ids: dict[str, str | None] = {}
    for field in ("serving", "copying"):
        value = data.get(field)
        if value is not None and not (isinstance(value, str) and _GENERATION.fullmatch(value)):
            raise BadAck(field, f"{field} must be a generation id or null")
        ids[field] = value
    assert isinstance(name, str)
    return Ack(name, ids["serving"], ids["copying"], now or datetime.now(UTC))


def record(root: Path, ack: Ack) -> None:
    """Write ``ack`` as the replica's latest (atomically: prune may be reading it)."""
    folder = Path(root) / ACKS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / f"{ack.replica}.json", json.dumps(ack.to_dict()) + "\n")


def read_acks(root: Path) -> list[Ack]:
    """Every replica's latest ack; unreadable files are skipped (a replica acks again soon)."""
    folder = Path(root) / ACKS_DIR
    acks = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                at = datetime.fromisoformat(str(data["acked_at"]))
                ack = parse_ack(data, at if at.tzinfo else at.replace(tzinfo=UTC))
            except (OSError, ValueError, KeyError, TypeError):
                continue
            acks.append(ack)
    return acks


def held(root: IndexRoot, timeout_s: float, now: datetime | None = None) -> set[str]:
    """The ready generations of ``root`` that known replicas still need (see the module
    docstring); empty when no replica ever acked."""
    now = now or datetime.now(UTC)
    oldest_needed = [
        min(ack.holds())
        for ack in read_acks(root.path)
        if ack.holds() and now - ack.acked_at <= timedelta(seconds=timeout_s)
    ]
    if not oldest_needed:
        return set()
    floor = min(oldest_needed)
    return {g.id for g in root.ready_generations() if g.id >= floor}
