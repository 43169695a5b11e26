"""``scripts/bench`` end to end on tiny fixtures: real indexes, the real engine, no mocks.

``tests/data/bench/collection/`` is a 12-article French collection with 4 queries; ``q4`` has
only a non-relevant judgment, so it is skipped by the metrics (3 queries evaluated).
"""

from __future__ import annotations

import gzip
import json
import shutil
import socket
from pathlib import Path

import pytest

from bench.cli import main
from bench.collection import load_collection

DATA = Path(__file__).parent / "data" / "bench"
COLLECTION = DATA / "collection"
CORPUS = COLLECTION / "corpus.jsonl"
METRICS = {"ndcg@10", "mrr@10", "recall@100", "map@100"}


@pytest.fixture(autouse=True)
def one_build_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # Twelve articles do not need the multi-process writer, and forking it costs seconds.
    monkeypatch.setenv("PRESSE_BUILD_PROCESSES", "1")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder holding the reports of a relevance run and of an index run."""
    folder = tmp_path_factory.mktemp("bench-results")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PRESSE_BUILD_PROCESSES", "1")
        assert (
            main(
                [
                    "relevance",
                    "--collection",
                    str(COLLECTION),
                    "--baseline",
                    "--run-out",
                    str(folder / "run.tsv"),
                    "--out",
                    str(folder / "relevance.json"),
                ]
            )
            == 0
        )
        assert (
            main(
                [
                    "--repeat",
                    "1",
                    "index",
                    "--corpus",
                    str(CORPUS),
                    "--limit",
                    "8",
                    "--out",
                    str(folder / "index.json"),
                ]
            )
            == 0
        )
    return folder


def test_collection_reads_gzip_and_skips_the_qrels_header(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    with gzip.open(folder / "corpus.jsonl.gz", "wb") as out:
        out.write(CORPUS.read_bytes())
    for name in ("queries.jsonl", "qrels.tsv"):
        shutil.copy(COLLECTION / name, folder / name)
    collection = load_collection(folder)
    assert collection.corpus_path.name == "corpus.jsonl.gz"
    assert len(list(collection.documents())) == 12
    assert [q.id for q in collection.queries] == ["q1", "q2", "q3", "q4"]
    assert collection.qrels["q1"] == {"b06": 2, "b07": 1}
    assert "query_id" not in collection.qrels


def test_relevance_reports_four_metrics_for_both_systems(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = json.loads((results / "relevance.json").read_text(encoding="utf-8"))
    assert report["kind"] == "relevance"
    assert report["command"].startswith("scripts/bench relevance --collection")
    for system in ("ours", "baseline"):
        metrics = report["results"][system]["metrics"]
        assert set(metrics) == METRICS
        assert all(0.0 <= value <= 1.0 for value in metrics.values())
        assert report["results"][system]["evaluated"] == 3  # q4 has no relevant document
        assert report["results"][system]["skipped"] == 1
    # Easy queries on twelve articles: our engine finds the derby article first.
    run = (results / "run.tsv").read_text(encoding="utf-8").splitlines()
    assert "q2\tb08\t1" in run
    assert (results / "run.baseline.tsv").exists()
    assert report["machine"]["cores"] >= 1
    assert any(t["headers"][-1] == "ours/baseline" for t in report["tables"])


def test_index_compares_our_build_with_the_baseline(results: Path) -> None:
    report = json.loads((results / "index.json").read_text(encoding="utf-8"))
    runs = report["results"]["runs"]
    for system in ("ours", "baseline"):
        (first,) = runs[system]
        assert first["accepted"] == 8
        assert first["docs_per_s"] > 0
        assert first["size_bytes"] > 0
        assert first["peak_rss_bytes"] > 0
    assert report["results"]["ratios_ours_over_baseline"]["docs_per_s"]["median"] > 0


def test_report_writes_the_markdown_page(results: Path, tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    assert main(["report", "--results", str(results), "--out", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks")
    assert "## Machine" in text
    assert "| nDCG@10 |" in text
    assert "documents/s" in text
    assert "`scripts/bench relevance --collection" in text
    assert text.index("Relevance") < text.index("Indexing")


def test_queries_then_query_latency(tmp_path: Path) -> None:
    workload = tmp_path / "queries.jsonl"
    assert main(["queries", "--corpus", str(CORPUS), "--n", "12", "--out", str(workload)]) == 0
    queries = [json.loads(line) for line in workload.read_text(encoding="utf-8").splitlines()]
    assert 1 <= len(queries) <= 12
    assert all(1 <= q["words"] <= 3 for q in queries)
    assert (tmp_path / "queries.json").exists()  # its report, beside it
    # Same corpus and seed, same workload.
    again = tmp_path / "again.jsonl"
    assert main(["queries", "--corpus", str(CORPUS), "--n", "12", "--out", str(again)]) == 0
    assert again.read_text(encoding="utf-8") == workload.read_text(encoding="utf-8")

    out = tmp_path / "query.json"
    assert (
        main(
            [
                "query",
                "--corpus",
                str(CORPUS),
                "--queries",
                str(workload),
                "--limit-queries",
                "5",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    for op in ("search", "similar", "suggest"):
        assert report["results"]["summary"][op]["p50"]["median"] >= 0
        assert report["results"]["error_counts"][op] == 0


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index"]) == 2
    assert main(["--repeat", "0", "report"]) == 2


def test_http_drives_a_real_gunicorn_and_stops_it(tmp_path: Path) -> None:
    from index.build import full_build
    from index.generations import IndexRoot

    full_build(IndexRoot(tmp_path / "index"), CORPUS, processes=1)
    workload = tmp_path / "queries.txt"
    workload.write_text("barrages\nderby casablanca\nfestival gnaoua\n", encoding="utf-8")
    out = tmp_path / "http.json"
    assert (
        main(
            [
                "http",
                "--index-dir",
                str(tmp_path / "index"),
                "--queries",
                str(workload),
                "--workers",
                "1",
                "--concurrency",
                "2",
                "--seconds",
                "1",
                "--warmup-seconds",
                "0",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    level = report["results"]["summary"]["2"]
    for endpoint in ("health", "search", "search-uncached"):
        assert level[endpoint]["requests"]["median"] > 0
        assert level[endpoint]["non2xx"]["median"] == 0
    assert level["search"]["over_health"]["median"] > 0
    assert report["params"]["workers_seen"] == 1
    # The server is gone: nothing listens on its port any more.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", report["results"]["port"]), timeout=1).close()
