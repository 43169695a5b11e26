"""The one settings object of presse-search, and how it is read from the environment.

Every setting is declared once, as data (environment variable, default, parser, help), in
``SETTINGS``; the README's table is written from the same declarations. ``Settings`` is frozen and
built with keywords, so tests write ``Settings(index_dir=tmp_path)``. Only the entry points (the
reindex script, ``search.app.get_app()``, gunicorn's config, the benchmark scripts) call
``Settings.from_env()``, which raises ``ConfigError`` naming the variable whose value is bad.

The module lives in ``index/`` because ``index`` is the package everything else builds on; it
imports nothing from Falcon or Whoosh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting read from the environment has a value that cannot be used."""


def default_workers() -> int:
    """Gunicorn's usual advice: two workers per core, plus one."""
    return 2 * (os.cpu_count() or 1) + 1


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything that can be configured, with the defaults a fresh checkout runs with."""

    index_dir: Path = Path("var/index")
    keep_generations: int = 3
    bind: str = "127.0.0.1:8000"
    workers: int = field(default_factory=default_workers)
    timeout_s: int = 30
    cors_origins: tuple[str, ...] = ()
    cache_max_age_s: int = 60
    recency_weight: float = 0.1
    recency_half_life_days: float = 180.0
    search_budget_ms: int = 2000
    refresh_interval_s: float = 1.0
    build_processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    build_memory_mb: int = 512
    section_labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every declared variable that is set; keyword overrides win (e.g. from a CLI)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in SETTINGS:
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
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        for spec in SETTINGS:
            value = getattr(self, spec.name)
            if spec.check is not None and not spec.check(value):
                raise ConfigError(f"{spec.env}={value!r}: {spec.help}")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also rejects NaN
        raise ValueError("must be a number of at least 0")
    return value


def _origins(text: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValueError(f"{origin!r} is not an origin like https://www.example.ma")
    return origins


def _section_labels(path: str) -> tuple[tuple[str, str], ...]:
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
            raise ValueError(f"section {slug!r}: the label must be a non-empty string, "
                             f"got {label!r}")
    return tuple(sorted((slug, label.strip()) for slug, label in labels.items()))


def _labels_ok(value: Any) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) for s in pair)
        for pair in value
    )


@dataclass(frozen=True)
class SettingSpec:
    """One setting: its field on ``Settings``, its variable, how to parse it, what it means."""

    name: str
    env: str
    parse: Callable[[str], Any]
    help: str
    check: Callable[[Any], bool] | None = None


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("index_dir", "PRESSE_INDEX_DIR", Path,
                "index root: holds generations/ and the CURRENT pointer"),
    SettingSpec("keep_generations", "PRESSE_KEEP_GENERATIONS", _positive_int,
                "how many index generations to keep on disk (for rollback)",
                lambda v: isinstance(v, int) and v >= 1),
    SettingSpec("bind", "PRESSE_BIND", str, "address gunicorn listens on, host:port"),
    SettingSpec("workers", "PRESSE_WORKERS", _positive_int,
                "gunicorn worker processes",
                lambda v: isinstance(v, int) and v >= 1),
    SettingSpec("timeout_s", "PRESSE_TIMEOUT", _positive_int,
                "seconds before gunicorn kills a stuck worker (the last line of defence)",
                lambda v: isinstance(v, int) and v >= 1),
    SettingSpec("cors_origins", "PRESSE_CORS_ORIGINS", _origins,
                "comma-separated site origins allowed to call the API from a browser"),
    SettingSpec("cache_max_age_s", "PRESSE_CACHE_MAX_AGE", int,
                "Cache-Control max-age, in seconds, of search answers",
                lambda v: isinstance(v, int) and v >= 0),
    SettingSpec("recency_weight", "PRESSE_RECENCY_WEIGHT", _non_negative_float,
                "strength of the news-recency boost in relevance ranking (0 turns it off)",
                lambda v: v >= 0),
    SettingSpec("recency_half_life_days", "PRESSE_RECENCY_HALF_LIFE_DAYS", _non_negative_float,
                "age, in days, at which the recency boost is worth half",
                lambda v: v > 0),
    SettingSpec("search_budget_ms", "PRESSE_SEARCH_BUDGET_MS", _positive_int,
                "time budget of one search, in ms, after which it answers 503",
                lambda v: isinstance(v, int) and v >= 1),
    SettingSpec("refresh_interval_s", "PRESSE_REFRESH_INTERVAL", _non_negative_float,
                "how often, in seconds, a worker checks for a new index generation",
                lambda v: v >= 0),
    SettingSpec("build_processes", "PRESSE_BUILD_PROCESSES", _positive_int,
                "processes that analyse articles during a reindex",
                lambda v: isinstance(v, int) and v >= 1),
    SettingSpec("build_memory_mb", "PRESSE_BUILD_MEMORY_MB", _positive_int,
                "memory, in MB, the index writer may use before spilling to disk",
                lambda v: isinstance(v, int) and v >= 16),
    SettingSpec("section_labels", "PRESSE_SECTION_LABELS", _section_labels,
                "JSON file of section labels, e.g. `{\"societe/sante\": \"Santé\"}` (a section "
                "without one shows its slug)", _labels_ok),
)

assert {s.name for s in SETTINGS} == {f.name for f in fields(Settings)}, "declare every setting"

# How the README shows defaults that depend on the machine.
_DEFAULT_SHOWN = {"workers": "`2 × cores + 1`", "build_processes": "`cores`"}


def settings_table() -> str:
    """The README's table of settings, in Markdown, from the declarations above."""
    defaults = Settings()
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for spec in SETTINGS:
        value = getattr(defaults, spec.name)
        shown = _DEFAULT_SHOWN.get(spec.name)
        if shown is None:
            text = ", ".join(value) if isinstance(value, tuple) else str(value)
            shown = f"`{text}`" if text else "(none)"
        rows.append(f"| `{spec.env}` | {shown} | {spec.help} |")
    return "\n".join(rows)
