"""Settings as data, and the indexing side's settings.

Every setting is declared once, as data (its field, environment variable, parser, help and
check), in a tuple of ``SettingSpec``; ``EnvSettings`` gives a frozen dataclass of them
``from_env()`` (which raises ``ConfigError`` naming the variable whose value is bad) and checks
every value, however it was built. Two sides use the mechanism: ``IndexSettings`` here (the
reindex command: where the index is, how to build it) and ``search.config.Settings`` (the
service). Only entry points read the environment: the reindex script, ``search.app.get_app()``,
gunicorn's config and the benchmark scripts; tests build the objects with keywords. The README's
table is written from both sides' declarations (``search.config.settings_table``).

Nothing here imports Falcon or Whoosh.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Self

from index.articles import MAX_ARTICLE_CHARS


class ConfigError(ValueError):
    """A setting read from the environment has a value that cannot be used."""


@dataclass(frozen=True)
class SettingSpec:
    """One setting: its field, its variable, how to parse it, what it means, what is valid."""

    name: str
    env: str
    parse: Callable[[str], Any]
    help: str
    check: Callable[[Any], bool] | None = None


class EnvSettings:
    """What a frozen settings dataclass gets from its ``SPECS``: ``from_env`` and checks."""

    SPECS: ClassVar[Sequence[SettingSpec]] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Read every declared variable that is set; keyword overrides win (e.g. from a CLI)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in cls.SPECS:
            raw = environ.get(spec.env)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[spec.name] = spec.parse(raw.strip())
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"{spec.env}={raw!r}: {exc} ({spec.help})") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_dir", Path(vars(self)["index_dir"]))  # str from tests
        for spec in self.SPECS:
            value = getattr(self, spec.name)
            if spec.check is not None and not spec.check(value):
                raise ConfigError(f"{spec.env}={value!r}: {spec.help}")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also rejects NaN
        raise ValueError("must be a number of at least 0")
    return value


def share(text: str) -> float:
    text = text.strip()
    value = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be a share between 0 and 1, or a percentage like 50%")
    return value


def replica_name(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", text):
        raise ValueError("must be 1-64 letters, digits or _ . - (it names a file)")
    return text


REPLICATION_POLL = SettingSpec(
    "replication_poll_s",
    "PRESSE_REPLICATION_POLL_S",
    non_negative_float,
    "how often, in seconds, a replica asks its source for a new generation",
    lambda v: v > 0,
)


def declared(settings: type, specs: Sequence[SettingSpec]) -> None:
    """Fail at import when a settings class and its declarations disagree."""
    assert {s.name for s in specs} == {f.name for f in fields(settings)}, "declare every setting"


INDEX_SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "index_dir",
        "PRESSE_INDEX_DIR",
        Path,
        "index root: holds generations/ and the CURRENT pointer",
    ),
    SettingSpec(
        "keep_generations",
        "PRESSE_KEEP_GENERATIONS",
        positive_int,
        "how many index generations to keep on disk (for rollback)",
        lambda v: isinstance(v, int) and v >= 1,
    ),
    SettingSpec(
        "build_processes",
        "PRESSE_BUILD_PROCESSES",
        positive_int,
        "processes that analyse articles during a reindex",
        lambda v: isinstance(v, int) and v >= 1,
    ),
    SettingSpec(
        "build_memory_mb",
        "PRESSE_BUILD_MEMORY_MB",
        positive_int,
        "memory, in MB, the index writer may use before spilling to disk",
        lambda v: isinstance(v, int) and v >= 16,
    ),
    SettingSpec(
        "max_shrink",
        "PRESSE_MAX_SHRINK",
        share,
        "share of the live index's articles a full build may lose before it is "
        "refused (--allow-shrink overrides)",
        lambda v: 0.0 <= v <= 1.0,
    ),
    SettingSpec(
        "max_article_chars",
        "PRESSE_MAX_ARTICLE_CHARS",
        positive_int,
        "longest article the reindexer accepts, in characters; a longer record is skipped",
        lambda v: isinstance(v, int) and v >= 1,
    ),
    SettingSpec(
        "replica_timeout_s",
        "PRESSE_REPLICA_TIMEOUT",
        non_negative_float,
        "seconds after its last ack that a replica is forgotten: until then, the generations "
        "it serves or copies are not pruned",
        lambda v: v >= 0,
    ),
    REPLICATION_POLL,
    SettingSpec(
        "replication_max_mbps",
        "PRESSE_REPLICATION_MAX_MBPS",
        non_negative_float,
        "a replica's copy speed limit, in MB/s, so that a copy leaves bandwidth to the "
        "searches (0: no limit)",
        lambda v: v >= 0,
    ),
    SettingSpec(
        "replica_name",
        "PRESSE_REPLICA_NAME",
        replica_name,
        "the name a replica acks under at its source (default: host name and a hash of the "
        "index root)",
    ),
    SettingSpec(
        "replication_token_file",
        "PRESSE_REPLICATION_TOKEN_FILE",
        Path,
        "file holding the publisher's token, for a replica (else PRESSE_REPLICATION_TOKEN)",
    ),
)


@dataclass(frozen=True, kw_only=True)
class IndexSettings(EnvSettings):
    """The reindex command's settings, with the defaults a fresh checkout runs with."""

    SPECS: ClassVar[Sequence[SettingSpec]] = INDEX_SETTINGS

    index_dir: Path = Path("var/index")
    keep_generations: int = 3
    build_processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    build_memory_mb: int = 512
    max_shrink: float = 0.5
    max_article_chars: int = MAX_ARTICLE_CHARS
    # Replication (docs/replication.md). An hour covers a replica restarted by hand.
    replica_timeout_s: float = 3600.0
    replication_poll_s: float = 1.0
    replication_max_mbps: float = 0.0
    replica_name: str | None = None  # None: host name and a hash of the index root
    replication_token_file: Path | None = None


declared(IndexSettings, INDEX_SETTINGS)
