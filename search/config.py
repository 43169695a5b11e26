"""The service's settings: one frozen object, declared as data like the indexing side's.

``Settings`` holds what the search service needs (where the index is, how gunicorn listens,
CORS, caching, ranking's recency, the time budget, how often workers look for a new
generation). It uses ``index.config``'s mechanism: ``Settings.from_env()`` at the entry points
(``search.app.get_app()``, gunicorn's config, the benchmark scripts), keywords in tests. The
README's settings table is written from both sides' declarations (``settings_table``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from index.config import (
    INDEX_SETTINGS,
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


SERVE_SETTINGS: tuple[SettingSpec, ...] = (
    INDEX_SETTINGS[0],  # index_dir: both sides need it
    SettingSpec("bind", "PRESSE_BIND", str, "address gunicorn listens on, host:port"),
    SettingSpec("workers", "PRESSE_WORKERS", positive_int,
                "gunicorn worker processes",
                lambda v: isinstance(v, int) and v >= 1),
    SettingSpec("timeout_s", "PRESSE_TIMEOUT", positive_int,
                "seconds before gunicorn kills a stuck worker (the last line of defence)",
                lambda v: isinstance(v, int) and v >= 1),
    SettingSpec("cors_origins", "PRESSE_CORS_ORIGINS", parse_origins,
                "comma-separated site origins allowed to call the API from a browser"),
    SettingSpec("cache_max_age_s", "PRESSE_CACHE_MAX_AGE", int,
                "Cache-Control max-age, in seconds, of search answers",
                lambda v: isinstance(v, int) and v >= 0),
    SettingSpec("recency_weight", "PRESSE_RECENCY_WEIGHT", non_negative_float,
                "strength of the news-recency boost in relevance ranking (0 turns it off)",
                lambda v: v >= 0),
    SettingSpec("recency_half_life_days", "PRESSE_RECENCY_HALF_LIFE_DAYS", non_negative_float,
                "age, in days, at which the recency boost is worth half",
                lambda v: v > 0),
    SettingSpec("search_budget_ms", "PRESSE_SEARCH_BUDGET_MS", positive_int,
                "time budget of one search, in ms, after which it answers 503",
                lambda v: isinstance(v, int) and v >= 1),
    SettingSpec("refresh_interval_s", "PRESSE_REFRESH_INTERVAL", non_negative_float,
                "how often, in seconds, a worker checks for a new index generation",
                lambda v: v >= 0),
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


declared(Settings, SERVE_SETTINGS)

# Every setting once, the indexing side's first: the README's table.
SETTINGS: tuple[SettingSpec, ...] = (*INDEX_SETTINGS, *SERVE_SETTINGS[1:])
# How the README shows defaults that depend on the machine.
_DEFAULT_SHOWN = {"workers": "`2 × cores + 1`", "build_processes": "`cores`"}


def settings_table() -> str:
    """The README's table of settings, in Markdown, from both sides' declarations."""
    defaults = {**vars(IndexSettings()), **vars(Settings())}
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for spec in SETTINGS:
        value = defaults[spec.name]
        shown = _DEFAULT_SHOWN.get(spec.name)
        if shown is None:
            text = ", ".join(value) if isinstance(value, tuple) else str(value)
            shown = f"`{text}`" if text else "(none)"
        rows.append(f"| `{spec.env}` | {shown} | {spec.help} |")
    return "\n".join(rows)
