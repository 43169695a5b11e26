"""What every benchmark shares: the report envelope, tables, medians and spreads, the machine.

A benchmark's ``run(args)`` returns a ``Report``; the command line prints its tables, writes it
as JSON (``--out``) with its figures (PNG, next to the JSON), and ``bench report`` turns the JSON
files into ``docs/benchmarks.md``. Tables are kept in the JSON already formatted, so that the
page shows exactly what the terminal showed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Table:
    """A small table: a title, column headers, and rows of already formatted cells."""

    title: str
    headers: list[str]
    rows: list[list[str]]

    def to_text(self) -> str:
        cells = [self.headers, *self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]

        def line(row: list[str]) -> str:
            out = [row[0].ljust(widths[0])]
            out += [cell.rjust(widths[i]) for i, cell in enumerate(row[1:], start=1)]
            return "  ".join(out).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([self.title, line(self.headers), rule, *(line(r) for r in self.rows)])

    def to_markdown(self) -> str:
        def line(row: list[str]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"

        # Numbers are right-aligned; a column without a single digit (names, examples) is text.
        def numeric(i: int) -> bool:
            return any(any(c.isdigit() for c in row[i]) for row in self.rows)

        align = (
            "|"
            + "|".join(
                [":--", *("--:" if numeric(i) else ":--" for i in range(1, len(self.headers)))]
            )
            + "|"
        )
        return "\n".join([line(self.headers), align, *(line(r) for r in self.rows)])

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "headers": self.headers, "rows": self.rows}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        return cls(data["title"], list(data["headers"]), [list(r) for r in data["rows"]])


Plot = Callable[[Path], None]


@dataclass
class Report:
    """The result of one benchmark run (see the module docstring)."""

    kind: str
    title: str
    description: str
    params: dict[str, Any]
    results: dict[str, Any]
    tables: list[Table]
    notes: list[str] = field(default_factory=list)
    plots: dict[str, Plot] = field(default_factory=dict)  # file suffix -> draws the PNG

    def to_text(self) -> str:
        parts = [table.to_text() for table in self.tables]
        parts += [f"note: {note}" for note in self.notes]
        return "\n\n".join(parts)


# --- numbers ----------------------------------------------------------------------------------


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Median and spread of repeated measurements."""
    values = [float(v) for v in values]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0, "values": []}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "values": values,
    }


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) with linear interpolation, of values sorted ascending."""
    if not sorted_values:
        return float("nan")
    rank = (len(sorted_values) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def fmt_num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def fmt_spread(summary: dict[str, Any], digits: int = 1, scale: float = 1.0) -> str:
    """``median`` alone, or ``median (min–max)`` when there were several runs."""
    if summary["median"] is None:
        return "–"
    text = fmt_num(summary["median"] * scale, digits)
    if summary["n"] > 1:
        text += (
            f" ({fmt_num(summary['min'] * scale, digits)}–"
            f"{fmt_num(summary['max'] * scale, digits)})"
        )
    return text


def ratio(ours: float | None, theirs: float | None, digits: int = 2) -> str:
    if ours is None or not theirs:
        return "–"
    return f"{ours / theirs:.{digits}f}×"


# --- the machine ------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            text=True,
            capture_output=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def machine() -> dict[str, Any]:
    """What the figures ran on: they mean little without it."""
    import numpy
    import whoosh

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "ram_bytes": _ram_bytes(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": platform.platform(),
        "whoosh": ".".join(str(p) for p in whoosh.__version__),
        "numpy": numpy.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "git_revision": _git_revision(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "executable": sys.executable,
    }


def mib(n: float | None) -> float | None:
    return None if n is None else n / (1 << 20)


def lever_overrides(config: type, what: str, text: str) -> dict[str, float | int]:
    """Parse ``name=value,...`` into keywords of the dataclass ``config`` (``RankingConfig``,
    ``SimilarConfig``), checking every name and value: ``--ranking`` and ``--ours``."""
    known = {f.name: f for f in fields(config)}
    overrides: dict[str, float | int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if name not in known:
            raise argparse.ArgumentTypeError(
                f"unknown {what} lever {name!r}; known: {', '.join(known)}"
            )
        kind = int if known[name].type in (int, "int") else float
        try:
            overrides[name] = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}={value!r} is not a number") from None
    return overrides
