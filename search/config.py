"""The service's settings: one frozen object, declared as data like the indexing side's.

``Settings`` holds what the search service needs (where the index is, how gunicorn listens,
CORS, caching, ranking's recency, the time budget, how often workers look for a new
generation). It uses ``index.config``'s mechanism: ``Settings.from_env()`` at the entry points
(``search.app.get_app()``, gunicorn's config, the benchmark scripts), keywords in tests. The
README's settings table is written from both sides' declarations (``settings_table``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from index.config import (
    INDEX_SETTINGS,
    REPLICATION_POLL,
    EnvSettings,
    IndexSettings,
    SettingSpec,
    declared,
    non_negative_float,
    positive_int,
)


def default_workers() -> int:
    """Gunicorn's usual advice: two workers per core, plus one."""
    return 2 * (os.cpu_count() or 1) + 1


def parse_origins(text: str) -> tuple[str, ...]:
    found = tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    for origin in found:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValueError(f"{origin!r} is not an origin like https://www.example.ma")
    return found


def parse_switch(text: str) -> bool:
    value = text.lower()
    if value in ("1", "on", "yes", "true"):
        return True
    if value in ("0", "off", "no", "false"):
        return False
    raise ValueError("must be on or off")


MIN_TOKEN_CHARS = 20  # a guessable admin token would make the backoff the only defence


def parse_admin_tokens(text: str) -> tuple[tuple[str, str], ...]:
    """``label:token`` pairs, comma-separated; the label names who made a change (audit)."""
    pairs = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        label, sep, token = item.rpartition(":")
        label = label.strip() if sep else "admin"
        if not re.fullmatch(r"[\w.@-]{1,40}", label):
            raise ValueError(f"the label {label!r} must be 1-40 letters, digits or . @ - _")
        if len(token) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"each token must be at least {MIN_TOKEN_CHARS} characters long "
                "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe())')"
            )
        pairs.append((label, token))
    return tuple(pairs)


def parse_section_labels(path: str) -> tuple[tuple[str, str], ...]:
    """The labels file: a JSON object of section slug -> label, both non-empty strings."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8") from None
    try:
        labels = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(labels, dict):
        raise ValueError("must hold a JSON object of section slug -> label")
    for slug, label in labels.items():
        if not isinstance(label, str) or not label.strip() or not slug.strip():
            raise ValueError(
                f"section {slug!r}: the label must be a non-empty string, got {label!r}"
            )
    return tuple(sorted((slug, label.strip()) for slug, label in labels.items()))


def parse_replication_token(text: str) -> str:
    if len(text) < MIN_TOKEN_CHARS:
        raise ValueError(
            f"must be at least {MIN_TOKEN_CHARS} characters long "
            "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe())')"
        )
    return text


@dataclass(frozen=True)
class MaxLag:
    """How far behind its source a replica may be and still be ready; None: no limit."""

    generations: int | None = 2
    seconds: float | None = 60.0

    def __str__(self) -> str:
        parts = [] if self.generations is None else [str(self.generations)]
        if self.seconds is not None:
            parts.append(f"{self.seconds:g}s")
        return ",".join(parts)


def parse_max_lag(text: str) -> MaxLag:
    """``2`` (generations), ``60s`` (seconds) or ``2,60s`` (both)."""
    generations: int | None = None
    seconds: float | None = None
    for part in (p.strip().lower() for p in text.split(",")):
        if re.fullmatch(r"\d+", part) and generations is None:
            generations = int(part)
        elif re.fullmatch(r"\d+(\.\d+)?s", part) and seconds is None:
            seconds = float(part[:-1])
        else:
            raise ValueError(
                "must be generations (2), seconds (60s) or both (2,60s), whole numbers at least 0"
            )
    return MaxLag(generations, seconds)


def labels_ok(value: Any) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) for s in pair)
        for pair in value
    )


SERVE_SETTINGS: tuple[SettingSpec, ...] = (
    INDEX_SETTINGS[0],  # index_dir: both sides need it
    SettingSpec("bind", "PRESSE_BIND", str, "address gunicorn listens on, host:port"),
    SettingSpec(
        "workers",
        "PRESSE_WORKERS",
        positive_int,
        "gunicorn worker processes",
        lambda v: isinstance(v, int) and v >= 1,
    ),
    SettingSpec(
        "timeout_s",
        "PRESSE_TIMEOUT",
        positive_int,
        "seconds before gunicorn kills a stuck worker (the last line of defence)",
        lambda v: isinstance(v, int) and v >= 1,
    ),
    SettingSpec(
        "cors_origins",
        "PRESSE_CORS_ORIGINS",
        parse_origins,
        "comma-separated site origins allowed to call the API from a browser",
    ),
    SettingSpec(
        "cache_max_age_s",
        "PRESSE_CACHE_MAX_AGE",
        int,
        "Cache-Control max-age, in seconds, of search answers",
        lambda v: isinstance(v, int) and v >= 0,
    ),
    SettingSpec(
        "recency_weight",
        "PRESSE_RECENCY_WEIGHT",
        non_negative_float,
        "strength of the news-recency boost in relevance ranking (0 turns it off)",
        lambda v: v >= 0,
    ),
    SettingSpec(
        "recency_half_life_days",
        "PRESSE_RECENCY_HALF_LIFE_DAYS",
        non_negative_float,
        "age, in days, at which the recency boost is worth half",
        lambda v: v > 0,
    ),
    SettingSpec(
        "search_budget_ms",
        "PRESSE_SEARCH_BUDGET_MS",
        positive_int,
        "time budget of one search, in ms, after which it answers 503",
        lambda v: isinstance(v, int) and v >= 1,
    ),
    SettingSpec(
        "refresh_interval_s",
        "PRESSE_REFRESH_INTERVAL",
        non_negative_float,
        "how often, in seconds, a worker checks for a new index generation",
        lambda v: v >= 0,
    ),
    SettingSpec(
        "analytics_db",
        "PRESSE_ANALYTICS_DB",
        Path,
        "SQLite file of search analytics, synonyms and pins (default: "
        "analytics.sqlite3 beside the index root)",
    ),
    SettingSpec(
        "analytics_enabled",
        "PRESSE_ANALYTICS",
        parse_switch,
        "on or off: record searches and clicks (no IP, cookie or user agent is stored)",
        lambda v: isinstance(v, bool),
    ),
    SettingSpec(
        "analytics_retention_days",
        "PRESSE_ANALYTICS_RETENTION_DAYS",
        positive_int,
        "days searches and clicks are kept; older rows are purged daily",
        lambda v: isinstance(v, int) and v >= 1,
    ),
    SettingSpec(
        "analytics_queue_size",
        "PRESSE_ANALYTICS_QUEUE",
        positive_int,
        "events a worker holds before writing them; beyond, events are dropped and counted",
        lambda v: isinstance(v, int) and v >= 1,
    ),
    SettingSpec(
        "popular_min_count",
        "PRESSE_POPULAR_MIN_COUNT",
        positive_int,
        "searches a query needs (in 7 days, with results and clicks) to be shown to "
        "readers as popular",
        lambda v: isinstance(v, int) and v >= 2,
    ),
    SettingSpec(
        "section_labels",
        "PRESSE_SECTION_LABELS",
        parse_section_labels,
        'JSON file of section labels, e.g. `{"societe/sante": "Santé"}` (a section '
        "without one shows its slug)",
        labels_ok,
    ),
    SettingSpec(
        "admin_tokens",
        "PRESSE_ADMIN_TOKEN",
        parse_admin_tokens,
        "label:token pairs, comma-separated, opening /admin; unset, every /admin path answers 404",
    ),
    SettingSpec(
        "replication_token",
        "PRESSE_REPLICATION_TOKEN",
        parse_replication_token,
        "bearer token opening /replication/... (the publisher), and the one a replica sends "
        "to its source; unset, every /replication path answers 404",
    ),
    SettingSpec(
        "replicate_from",
        "PRESSE_REPLICATE_FROM",
        str,
        "URL of a publisher, or path of its index root: the service is a replica of it "
        "(gunicorn starts the follower; see docs/replication.md)",
    ),
    REPLICATION_POLL,
    SettingSpec(
        "max_lag",
        "PRESSE_MAX_LAG",
        parse_max_lag,
        "a replica answers /ready with 503 when further behind its source: generations (2), "
        "seconds (60s), or both (2,60s)",
        lambda v: isinstance(v, MaxLag),
    ),
)


@dataclass(frozen=True, kw_only=True)
class Settings(EnvSettings):
    """The service's settings, with the defaults a fresh checkout runs with."""

    SPECS: ClassVar[Sequence[SettingSpec]] = SERVE_SETTINGS

    index_dir: Path = Path("var/index")
    bind: str = "127.0.0.1:8000"
    workers: int = field(default_factory=default_workers)
    timeout_s: int = 30
    cors_origins: tuple[str, ...] = ()
    cache_max_age_s: int = 60
    recency_weight: float = 0.1
    recency_half_life_days: float = 180.0
    search_budget_ms: int = 2000
    refresh_interval_s: float = 1.0
    # Editors' tools: analytics, synonyms and pins share one SQLite file.
    analytics_db: Path | None = None  # None: analytics.sqlite3 beside the index root
    analytics_enabled: bool = True
    analytics_retention_days: int = 90
    analytics_queue_size: int = 10_000
    popular_min_count: int = 5
    section_labels: tuple[tuple[str, str], ...] = ()  # (slug, label), from a JSON file
    # Never shown by repr(): settings objects end up in logs and tracebacks.
    admin_tokens: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # Replication (docs/replication.md).
    replication_token: str | None = field(default=None, repr=False)
    replicate_from: str | None = None
    replication_poll_s: float = 1.0
    max_lag: MaxLag = MaxLag()

    def __post_init__(self) -> None:
        if self.analytics_db is not None:
            object.__setattr__(self, "analytics_db", Path(self.analytics_db))
        super().__post_init__()

    @property
    def analytics_path(self) -> Path:
        """Where analytics, synonyms and pins are kept (a file beside the index root)."""
        if self.analytics_db is not None:
            return self.analytics_db
        return self.index_dir.parent / "analytics.sqlite3"


declared(Settings, SERVE_SETTINGS)

# Every setting once, the indexing side's first: the README's table.
SETTINGS: tuple[SettingSpec, ...] = (
    *INDEX_SETTINGS,
    *(spec for spec in SERVE_SETTINGS if spec not in INDEX_SETTINGS),
)
# How the README shows defaults that depend on the machine.
_DEFAULT_SHOWN = {
    "workers": "`2 × cores + 1`",
    "build_processes": "`cores`",
    "analytics_db": "(beside the index root)",
    "analytics_enabled": "`on`",
}


def settings_table() -> str:
    """The README's table of settings, in Markdown, from both sides' declarations."""
    defaults = {**vars(IndexSettings()), **vars(Settings())}
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for spec in SETTINGS:
        value = defaults[spec.name]
        shown = _DEFAULT_SHOWN.get(spec.name)
        if shown is None:
            text = (
                ", ".join(value)
                if isinstance(value, tuple)
                else ("" if value is None else str(value))
            )
            shown = f"`{text}`" if text else "(none)"
        rows.append(f"| `{spec.env}` | {shown} | {spec.help} |")
    return "\n".join(rows)
