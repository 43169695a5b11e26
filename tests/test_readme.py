"""The README tells the truth: its settings table is the declared settings, and the commands it
gives exist."""

from __future__ import annotations

import os
import re
from pathlib import Path

from search.config import SETTINGS, settings_table

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_settings_table_is_generated_from_the_declarations() -> None:
    block = re.search(r"<!-- settings-table:.*?-->\n(.*?)\n<!-- /settings-table -->", README, re.S)
    assert block is not None, "the README lost its settings table markers"
    assert block.group(1) == settings_table()
    assert len(SETTINGS) == block.group(1).count("| `PRESSE_")


def test_the_commands_the_readme_gives_exist() -> None:
    for script in ("serve", "test", "reindex", "bench"):
        assert f"scripts/{script}" in README
        assert os.access(REPO / "scripts" / script, os.X_OK), script
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in ci, "CI must run the README's test command"
