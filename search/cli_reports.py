"""``scripts/analytics``: the analytics reports in the terminal (tables), as CSV or as JSON.

    scripts/analytics                              # the last 7 days, every report
    scripts/analytics --from 2026-11-01 --to 2026-11-30 --by week top no-results
    scripts/analytics --days 30 --csv top > top.csv

Reports: ``summary``, ``series`` (by day or week), ``top`` (most frequent queries),
``no-results``, ``no-clicks`` (results but no click). The file is ``PRESSE_ANALYTICS_DB``
(default: beside ``PRESSE_INDEX_DIR``) or ``--db``. Readers' queries are printed as text with
control characters replaced, and CSV cells that a spreadsheet would run as a formula (``=``,
``+``, ``-``, ``@``) are prefixed with ``'``.
Exit status: 0 done, 1 the file cannot be read, 2 usage error.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from index.config import ConfigError
from search import reports
from search.config import Settings
from search.storage import StorageError, opened

REPORTS = ("summary", "series", "top", "no-results", "no-clicks")
_TITLES = {
    "summary": "Summary",
    "series": "By {by}",
    "top": "Most frequent queries",
    "no-results": "Queries with no result",
    "no-clicks": "Queries with results but no click",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="analytics",
        description="Search analytics reports (issue 12).",
        epilog=__doc__.split("\n\n")[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "reports",
        nargs="*",
        metavar="REPORT",
        help=f"which reports ({', '.join(REPORTS)}); default all",
    )
    parser.add_argument("--db", type=Path, help="the analytics file (default: the setting)")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, help="first day")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, help="last day (today)")
    parser.add_argument(
        "--days",
        type=int,
        default=reports.DEFAULT_DAYS,
        help="days before --to when --from is not given (default 7)",
    )
    parser.add_argument("--by", choices=("day", "week"), default="day")
    parser.add_argument("--limit", type=int, default=20, help="rows per list (default 20)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="CSV (one report at a time)")
    out.add_argument("--json", action="store_true", help="everything as one JSON object")
    return parser


def printable(value: Any) -> str:
    """``value`` as one line of text: control characters shown as U+FFFD."""
    text = "" if value is None else str(value)
    return "".join("\ufffd" if ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 else ch for ch in text)


def spreadsheet_safe(value: Any) -> str:
    text = printable(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _rows(name: str, data: dict[str, Any], by: str) -> list[dict[str, Any]]:
    if name == "summary":
        return [data["summary"]]
    if name == "series":
        return list(data["series"])
    key = {
        "top": "top_queries",
        "no-results": "no_result_queries",
        "no-clicks": "no_click_queries",
    }[name]
    return list(data[key])


def write_table(out: TextIO, title: str, rows: list[dict[str, Any]]) -> None:
    print(title, file=out)
    if not rows:
        print("  (nothing in this period)\n", file=out)
        return
    columns = list(rows[0])
    cells = [[printable(row[c]) for c in columns] for row in rows]
    widths = [min(60, max(len(c), *(len(r[i]) for r in cells))) for i, c in enumerate(columns)]
    print("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)), file=out)
    for row in cells:
        shown = [
            (v if len(v) <= w else v[: w - 1] + "…").ljust(w)
            for v, w in zip(row, widths, strict=True)
        ]
        print("  " + "  ".join(shown).rstrip(), file=out)
    print(file=out)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    chosen = args.reports or list(REPORTS)
    unknown = [name for name in chosen if name not in REPORTS]
    if unknown:
        parser.error(f"no report named {unknown[0]!r}; choose from {', '.join(REPORTS)}")
    if args.csv and len(chosen) != 1:
        parser.error("--csv writes one report: name it (e.g. --csv top)")
    try:
        path = args.db or Settings.from_env().analytics_path
        span = reports.period(args.first, args.last, days=args.days)
    except (ConfigError, ValueError) as exc:
        parser.error(str(exc))
    if not path.exists():
        print(f"analytics: no analytics file at {path} (nothing recorded yet?)", file=sys.stderr)
        return 1
    try:
        with opened(path, busy_ms=5000, create=False) as conn:
            data = reports.report(conn, span, by=args.by, limit=args.limit)
    except StorageError as exc:
        print(f"analytics: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(data, out, ensure_ascii=False, indent=2)
        print(file=out)
        return 0
    if args.csv:
        rows = _rows(chosen[0], data, args.by)
        writer = csv.writer(out)
        if rows:
            writer.writerow(list(rows[0]))
            writer.writerows([spreadsheet_safe(v) for v in row.values()] for row in rows)
        return 0
    print(f"Search analytics, {span.first} to {span.last} (UTC)\n", file=out)
    for name in chosen:
        write_table(out, _TITLES[name].format(by=args.by), _rows(name, data, args.by))
    return 0


if __name__ == "__main__":
    sys.exit(main())
