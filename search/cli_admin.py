"""``scripts/admin``: synonyms and pins in and out of the analytics file, as JSON.

    scripts/admin export > editorial.json            # or --out editorial.json
    scripts/admin import editorial.json --who amina  # replaces every synonym and pin

The file is ``PRESSE_ANALYTICS_DB`` (default: beside ``PRESSE_INDEX_DIR``) or ``--db``. An
import is checked whole before anything changes, is one transaction, and is written to the
audit trail under ``--who``; every worker picks it up within ``PRESSE_REFRESH_INTERVAL``.
Exit status: 0 done, 1 failed (one line on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from index.config import ConfigError
from search.config import Settings
from search.editorial import EditorialError, EditorialStore
from search.storage import StorageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="admin", description="Synonyms and pins as JSON.")
    parser.add_argument("--db", type=Path, help="the analytics file (default: the setting)")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write synonyms and pins as JSON")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    load = commands.add_parser("import", help="replace synonyms and pins by those of a file")
    load.add_argument("file", type=Path)
    load.add_argument("--who", default="scripts/admin", help="who the audit trail names")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        store = EditorialStore(args.db or Settings.from_env().analytics_path)
    except ConfigError as exc:
        parser.error(str(exc))
    try:
        if args.command == "export":
            text = json.dumps(store.export_data(), ensure_ascii=False, indent=2) + "\n"
            if args.out:
                args.out.write_text(text, encoding="utf-8")
            else:
                out.write(text)
            return 0
        try:
            data = json.loads(args.file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"admin: cannot read {args.file}: {exc}", file=sys.stderr)
            return 1
        rules, pins = store.import_data(data, args.who)
    except (EditorialError, StorageError) as exc:
        print(f"admin: {exc}", file=sys.stderr)
        return 1
    print(f"admin: imported {rules} synonym rules and {pins} pins", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
