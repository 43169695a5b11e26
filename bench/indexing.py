"""``bench index``: a full build with our real indexer beside the plain-Whoosh baseline.

Each build runs in a child process of its own (``python -m bench.indexing child ...``) so that
one build's memory and warm caches do not leak into the other, and so that the whole process
tree of the build (our multi-process writer forks) can be sampled for memory (``bench.memory``).
The builds alternate order from one repeat to the next; ratios are taken within a repeat (the
two builds ran back to back, under the same load) and then their median is reported.

Figures: documents/s (accepted documents over the build's own wall time, reading and parsing
the source included), wall time of the build, wall time of the child process (interpreter start
and imports included), peak summed RSS and PSS of the tree, and the size of the index on disk.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.collection import open_text
from bench.common import REPO, Report, Table, fmt_num, fmt_spread, mib, ratio, summarize
from bench.memory import TreeSampler

SYSTEMS = ("ours", "baseline")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        required=True,
        help="JSON Lines corpus (plain or .gz), e.g. the shared orangesum file",
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="index only the first N records (both systems)"
    )
    parser.add_argument(
        "--only", choices=SYSTEMS, help="build only one of the two systems (no ratio)"
    )


def _directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def limited_copy(source: Path, limit: int, folder: Path) -> Path:
    """The first ``limit`` non-blank lines of ``source``, as a plain JSONL file in ``folder``."""
    target = folder / f"first-{limit}.jsonl"
    written = 0
    with open_text(source) as lines, target.open("w", encoding="utf-8") as out:
        for line in lines:
            if written >= limit:
                break
            if line.strip():
                out.write(line if line.endswith("\n") else line + "\n")
                written += 1
    return target


def build_in_child(system: str, source: Path, folder: Path) -> dict[str, Any]:
    """Run one build in a child process and sample its process tree; the measured figures."""
    command = [sys.executable, "-m", "bench.indexing", "child", system, str(source), str(folder)]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=err, text=True)
        with TreeSampler(child.pid) as sampler:
            status = child.wait()
        process_s = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if status != 0:
        raise RuntimeError(f"the {system} build failed (exit {status}):\n{stderr[-2000:]}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result.update(sampler.summary())
    result["process_s"] = process_s
    result["docs_per_s"] = result["accepted"] / result["seconds"] if result["seconds"] else 0.0
    result["rss_timeline"] = sampler.timeline()
    return result


def _child(system: str, source: Path, folder: Path) -> dict[str, Any]:
    if system in ("ours", "ours-1"):  # ours-1: the same build in one process
        from index.build import full_build
        from index.config import IndexSettings
        from index.generations import IndexRoot

        settings = IndexSettings.from_env()
        processes = 1 if system == "ours-1" else settings.build_processes
        report = full_build(
            IndexRoot(folder),
            source,
            processes=processes,
            memory_mb=settings.build_memory_mb,
        )
        generation = folder / "generations" / report.generation
        return {
            "accepted": report.accepted,
            "skipped": report.skipped,
            "seconds": report.seconds,
            "size_bytes": _directory_size(generation),
            "processes": processes,
            "memory_mb": settings.build_memory_mb,
        }
    from bench import baseline

    folder.mkdir(parents=True, exist_ok=True)
    result = baseline.full_build(folder, source)
    result.update(size_bytes=_directory_size(folder), processes=1, memory_mb=128)
    return result


def run(args: argparse.Namespace) -> Report:
    systems = [args.only] if args.only else list(SYSTEMS)
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        source = args.corpus
        if args.limit:
            source = limited_copy(args.corpus, args.limit, Path(tmp))
        for repeat in range(args.repeat):
            order = systems if repeat % 2 == 0 else systems[::-1]
            for system in order:
                folder = Path(tmp) / f"{system}-{repeat}"
                print(
                    f"[index] repeat {repeat + 1}/{args.repeat}: building {system} ...",
                    file=sys.stderr,
                    flush=True,
                )
                result = build_in_child(system, source, folder)
                shutil.rmtree(folder, ignore_errors=True)
                runs[system].append(result)
                print(
                    f"[index]   {system}: {result['accepted']:,} docs in "
                    f"{result['seconds']:.1f} s, {result['docs_per_s']:,.0f} docs/s, peak RSS "
                    f"{mib(result['peak_rss_bytes']) or 0:,.0f} MiB",
                    file=sys.stderr,
                    flush=True,
                )

    keys = ("docs_per_s", "seconds", "process_s", "peak_rss_bytes", "peak_pss_bytes", "size_bytes")
    summaries = {
        system: {
            key: summarize([r[key] for r in results if r.get(key) is not None]) for key in keys
        }
        for system, results in runs.items()
    }
    ratios: dict[str, Any] = {}
    if len(systems) == 2:
        for key in keys:
            pairs = [
                (o.get(key), b.get(key))
                for o, b in zip(runs["ours"], runs["baseline"], strict=True)
            ]
            ratios[key] = summarize([o / b for o, b in pairs if o is not None and b])

    rows_spec: list[tuple[str, str | None, int, float]] = [
        ("documents indexed", None, 0, 1.0),
        ("documents/s", "docs_per_s", 0, 1.0),
        ("build wall time, s", "seconds", 1, 1.0),
        ("process wall time, s", "process_s", 1, 1.0),
        ("peak RSS, all processes, MiB", "peak_rss_bytes", 0, 1 / (1 << 20)),
        ("peak PSS, all processes, MiB", "peak_pss_bytes", 0, 1 / (1 << 20)),
        ("index size on disk, MB", "size_bytes", 1, 1e-6),
    ]
    headers = ["", *systems] + (["ours/baseline"] if len(systems) == 2 else [])
    rows = []
    for label, field, digits, scale in rows_spec:
        if field is None:
            row = [label, *(fmt_num(runs[s][0]["accepted"], 0) for s in systems)]
            if len(systems) == 2:
                row.append(ratio(runs["ours"][0]["accepted"], runs["baseline"][0]["accepted"]))
        else:
            row = [label, *(fmt_spread(summaries[s][field], digits, scale) for s in systems)]
            if len(systems) == 2:
                row.append(f"{ratios[field]['median']:.2f}×" if ratios[field]["median"] else "–")
        rows.append(row)
    rows.append(
        [
            "processes (writer / most seen)",
            *(f"{runs[s][0]['processes']} / {runs[s][0]['max_processes']}" for s in systems),
        ]
        + ([""] if len(systems) == 2 else [])
    )
    table = Table(
        f"Full build of {args.corpus.name}"
        + (f" (first {args.limit:,} records)" if args.limit else "")
        + f", {args.repeat} run(s): median (min–max)",
        headers,
        rows,
    )

    notes = [
        "Each build runs in its own child process; memory is the sum over the build's process "
        "tree, sampled every 0.2 s (RSS counts pages shared by forked writers once per process; "
        "PSS splits them).",
        "Ours: index.build.full_build with the PRESSE_BUILD_* settings"
        + (
            f" (processes={runs['ours'][0]['processes']}, memory_mb={runs['ours'][0]['memory_mb']})"
            if "ours" in runs
            else ""
        )
        + ". Baseline: LanguageAnalyzer('fr') on title/summary/body, one process, "
        "default writer (limitmb=128), records read with json.loads, no cleaning.",
    ]
    if len(systems) == 2 and runs["ours"][0]["accepted"] != runs["baseline"][0]["accepted"]:
        notes.append(
            "The two systems accepted different numbers of records: ours validates "
            "and deduplicates, the baseline indexes whatever has id, title and body."
        )

    plots = {}
    timelines = {s: runs[s][0]["rss_timeline"] for s in systems}
    if any(timelines.values()):
        plots["memory"] = lambda path: _plot_memory(path, timelines)

    return Report(
        kind="index",
        title="Indexing: full build",
        description="Full build of the corpus with our indexer (index.build.full_build) beside "
        "plain Whoosh (LanguageAnalyzer('fr'), one process), in the same run.",
        params={
            "corpus": str(args.corpus),
            "limit": args.limit,
            "repeat": args.repeat,
            "systems": systems,
        },
        results={
            "runs": {
                s: [{k: v for k, v in r.items() if k != "rss_timeline"} for r in runs[s]]
                for s in systems
            },
            "summary": summaries,
            "ratios_ours_over_baseline": ratios,
            "rss_timeline_first_run": timelines,
        },
        tables=[table],
        notes=notes,
        plots=plots,
    )


def _plot_memory(path: Path, timelines: dict[str, list[list[float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for system, points in timelines.items():
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], label=system)
    ax.set_xlabel("seconds since the build started")
    ax.set_ylabel("RSS of the process tree, MiB")
    ax.set_title("Memory during the full build (first run)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    # The child side of build_in_child: python -m bench.indexing child SYSTEM SOURCE FOLDER
    if len(sys.argv) != 5 or sys.argv[1] != "child" or sys.argv[2] not in (*SYSTEMS, "ours-1"):
        sys.exit("usage: python -m bench.indexing child ours|ours-1|baseline SOURCE FOLDER")
    print(json.dumps(_child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))))
