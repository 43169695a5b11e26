"""``scripts/soak`` (``bench/soak.py``) in miniature: seconds, not minutes, on the sample index.

The real run (10 minutes on the full corpus) is a benchmark, reported in the issue note; this
keeps the script working: it starts gunicorn, loads it, samples each worker's RSS, reports the
growth, writes its JSON and stops the server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import soak

pytestmark = pytest.mark.slow


def test_a_short_soak(sample_index: Path, tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    status = soak.main(
        [
            str(sample_index),
            "--seconds",
            "4",
            "--interval",
            "1",
            "--warm-up",
            "1",
            "--clients",
            "2",
            "--max-growth",
            "1000",
            "--json",
            str(out),
        ]
    )
    report = json.loads(out.read_text())
    assert status == 0, report
    summary = report["summary"]
    assert summary["requests"] > 0 and summary["failed"] == 0
    assert len(summary["workers"]) == 2 and not summary["workers_replaced"]
    assert len(report["samples"]) >= 3
    assert all(len(s["rss_mb"]) == 2 and min(s["rss_mb"].values()) > 10 for s in report["samples"])


def test_soak_refuses_a_folder_without_an_index(tmp_path: Path) -> None:
    assert soak.main([str(tmp_path)]) == 2
