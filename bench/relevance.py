"""``bench relevance``: nDCG@10, MRR@10, Recall@100 and MAP@100 of our search on a collection.

Our side is the real thing: the collection's corpus is indexed by ``index.build.full_build`` into
a temporary index root, and every query goes through ``search.engine.Engine.search`` (first page
of 100, relevance order), exactly as the API would run it. ``--baseline`` adds plain Whoosh as a
newcomer would use it (``bench.baseline``), in the same run, so every figure has its ratio.

The metrics are deterministic; ``--repeat K`` repeats only the query pass, for its timing.
Queries are also grouped by length (words), because short keyword queries and long questions
reward different things; the figure ``*-by-length.png`` shows nDCG@10 per group.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.collection import Collection, Query, load_collection
from bench.common import Report, Table, fmt_num, lever_overrides, percentile, ratio, summarize
from bench.metrics import METRICS, evaluate

DEPTH = 100
LENGTH_GROUPS = ((1, 3), (4, 6), (7, 9), (10, 12), (13, 10_000))
LABELS = {
    "ndcg@10": "nDCG@10",
    "mrr@10": "MRR@10",
    "recall@100": "Recall@100",
    "map@100": "MAP@100",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--collection",
        type=Path,
        required=True,
        help="folder with corpus.jsonl.gz, queries.jsonl and qrels.tsv",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also evaluate plain Whoosh (LanguageAnalyzer('fr'), BM25F, OR)",
    )
    parser.add_argument(
        "--run-out",
        type=Path,
        metavar="FILE",
        help="write our ranking as query_id<TAB>doc_id<TAB>rank (and the "
        "baseline's to FILE with .baseline before the suffix)",
    )
    parser.add_argument(
        "--stemmer",
        choices=("snowball", "light"),
        default=None,
        help="the stemmer of our index (default: the schema's)",
    )
    parser.add_argument(
        "--limit-queries", type=int, metavar="N", help="evaluate only the first N queries"
    )
    parser.add_argument(
        "--ranking",
        type=ranking_overrides,
        default={},
        metavar="K=V,...",
        help="ranking levers to change for this run, e.g. exact_weight=0,proximity_weight=0 "
        "(names and defaults: search.ranking.RankingConfig)",
    )
    parser.add_argument(
        "--synonyms",
        type=Path,
        metavar="FILE",
        help="search with these synonyms (a scripts/admin export; an empty list is allowed) "
        "and count the queries whose ranking differs from a pass without synonyms",
    )


def ranking_overrides(text: str) -> dict[str, float | int]:
    """Parse ``k1=0.9,b=0.4`` into RankingConfig keywords, checking every name and value."""
    from search.ranking import RankingConfig

    return lever_overrides(RankingConfig, "ranking", text)


def _group(text: str) -> str:
    words = len(text.split())
    for low, high in LENGTH_GROUPS:
        if low <= words <= high:
            return f"{low}–{high}" if high < 10_000 else f"{low}+"
    return "0"


def _query_pass(
    search: Callable[[str], list[str]], queries: tuple[Query, ...], label: str
) -> tuple[dict[str, list[str]], list[float], list[str]]:
    run: dict[str, list[str]] = {}
    times: list[float] = []
    errors: list[str] = []
    report_every = max(len(queries) // 10, 1)
    for i, query in enumerate(queries, start=1):
        started = time.perf_counter()
        try:
            run[query.id] = search(query.text)
        except Exception as exc:  # counted and reported; the query scores 0
            run[query.id] = []
            errors.append(f"{query.id}: {type(exc).__name__}: {exc}")
        times.append((time.perf_counter() - started) * 1000)
        if i % report_every == 0:
            print(
                f"[relevance] {label}: {i:,}/{len(queries):,} queries", file=sys.stderr, flush=True
            )
    return run, times, errors


def _ours(
    collection: Collection, queries: tuple[Query, ...], folder: Path, args: argparse.Namespace
) -> dict[str, Any]:
    from index.build import full_build
    from index.config import IndexSettings
    from index.generations import IndexRoot
    from index.schema import STEMMER
    from search.engine import Engine
    from search.results import SearchRequest

    build_settings = IndexSettings.from_env(index_dir=folder)
    stemmer = args.stemmer or STEMMER
    print(
        f"[relevance] ours: indexing {collection.corpus_path} ({stemmer}) ...",
        file=sys.stderr,
        flush=True,
    )
    started = time.perf_counter()
    report = full_build(
        IndexRoot(folder),
        collection.corpus_path,
        stemmer=stemmer,
        processes=build_settings.build_processes,
        memory_mb=build_settings.build_memory_mb,
    )
    build_s = time.perf_counter() - started
    from search.config import Settings
    from search.ranking import RankingConfig

    engine = Engine(Settings.from_env(index_dir=folder), ranking=RankingConfig(**args.ranking))
    try:
        engine.warm_up()

        synonyms = load_synonyms(args.synonyms) if args.synonyms else None

        def search(text: str) -> list[str]:
            result = engine.search(SearchRequest(query=text, per_page=DEPTH, synonyms=synonyms))
            return [hit.id for hit in result.hits]

        passes = _passes(search, queries, "ours", args.repeat)
        if synonyms is not None:
            without, _, _ = _query_pass(
                lambda text: [
                    h.id for h in engine.search(SearchRequest(query=text, per_page=DEPTH)).hits
                ],
                queries,
                "ours without synonyms",
            )
            changed = sum(passes["run"][q.id] != without[q.id] for q in queries)
            passes["synonyms"] = {
                "file": str(args.synonyms),
                "rules": len(synonyms.rules),
                "queries_changed": changed,
                "queries": len(queries),
            }
        return passes | {
            "build_s": build_s,
            "documents": report.accepted,
            "stemmer": stemmer,
        }
    finally:
        engine.close()


def load_synonyms(path: Path) -> Any:
    """The rules of a ``scripts/admin export`` file, as the engine takes them."""
    import json

    from search.synonyms import Synonyms, rule_from_dict

    data = json.loads(path.read_text(encoding="utf-8"))
    rules = tuple(rule_from_dict(item, n) for n, item in enumerate(data.get("synonyms", []), 1))
    return Synonyms(f"bench:{path}", rules)


def _baseline(
    collection: Collection, queries: tuple[Query, ...], folder: Path, args: argparse.Namespace
) -> dict[str, Any]:
    from bench import baseline

    print("[relevance] baseline: indexing ...", file=sys.stderr, flush=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    documents = baseline.build_relevance_index(folder, collection.documents())
    build_s = time.perf_counter() - started
    searcher = baseline.BaselineSearcher(folder)
    try:
        return _passes(
            lambda text: searcher.search(text, DEPTH), queries, "baseline", args.repeat
        ) | {"build_s": build_s, "documents": documents}
    finally:
        searcher.close()


def _passes(
    search: Callable[[str], list[str]], queries: tuple[Query, ...], label: str, repeat: int
) -> dict[str, Any]:
    run, times, errors = _query_pass(search, queries, label)
    pass_p50 = [percentile(sorted(times), 50)]
    pass_p95 = [percentile(sorted(times), 95)]
    for _ in range(repeat - 1):
        _, more, _ = _query_pass(search, queries, label)
        pass_p50.append(percentile(sorted(more), 50))
        pass_p95.append(percentile(sorted(more), 95))
    return {
        "run": run,
        "errors": errors,
        "p50_ms": summarize(pass_p50),
        "p95_ms": summarize(pass_p95),
    }


def write_run(path: Path, run: dict[str, list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for query_id, ranking in run.items():
            for rank, doc_id in enumerate(ranking, start=1):
                out.write(f"{query_id}\t{doc_id}\t{rank}\n")


def run(args: argparse.Namespace) -> Report:
    collection = load_collection(args.collection)
    queries = collection.queries[: args.limit_queries] if args.limit_queries else collection.queries
    systems: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-relevance-") as tmp:
        systems["ours"] = _ours(collection, queries, Path(tmp) / "ours", args)
        if args.baseline:
            systems["baseline"] = _baseline(collection, queries, Path(tmp) / "baseline", args)

    evaluations = {name: evaluate(s["run"], collection.qrels) for name, s in systems.items()}
    if args.run_out:
        write_run(args.run_out, systems["ours"]["run"])
        if "baseline" in systems:
            base = args.run_out.with_name(f"{args.run_out.stem}.baseline{args.run_out.suffix}")
            write_run(base, systems["baseline"]["run"])

    names = list(systems)
    two = len(names) == 2
    headers = ["metric", *names] + (["ours/baseline"] if two else [])
    rows = []
    for metric in METRICS:
        values = [evaluations[n].means[metric] for n in names]
        rows.append(
            [LABELS[metric], *(f"{v:.4f}" for v in values)]
            + ([ratio(values[0], values[1], 3)] if two else [])
        )
    rows.append(
        ["queries evaluated", *(f"{evaluations[n].evaluated:,}" for n in names)]
        + ([""] if two else [])
    )
    rows.append(
        ["index build, s", *(fmt_num(systems[n]["build_s"], 1) for n in names)]
        + ([ratio(systems["ours"]["build_s"], systems["baseline"]["build_s"])] if two else [])
    )
    for key, label in (
        ("p50_ms", "query p50, ms (top 100)"),
        ("p95_ms", "query p95, ms (top 100)"),
    ):
        cells = []
        for n in names:
            s = systems[n][key]
            cell = fmt_num(s["median"], 2)
            if s["n"] > 1:
                cell += f" ({fmt_num(s['min'], 2)}–{fmt_num(s['max'], 2)})"
            cells.append(cell)
        rows.append(
            [label, *cells]
            + (
                [ratio(systems["ours"][key]["median"], systems["baseline"][key]["median"])]
                if two
                else []
            )
        )
    main = Table(
        f"Relevance on {args.collection.name}: {len(queries):,} queries, "
        f"{systems['ours']['documents']:,} documents",
        headers,
        rows,
    )

    by_length: dict[str, dict[str, list[float]]] = {}
    texts = {q.id: q.text for q in queries}
    for name in names:
        for query_id, scores in evaluations[name].per_query.items():
            group = _group(texts[query_id])
            by_length.setdefault(group, {}).setdefault(name, []).append(scores["ndcg@10"])
    order = [
        g for g in (_group(" ".join(["w"] * low)) for low, _ in LENGTH_GROUPS) if g in by_length
    ]
    length_rows = []
    length_means: dict[str, dict[str, float]] = {}
    for group in order:
        means = {n: sum(v) / len(v) for n, v in by_length[group].items()}
        length_means[group] = means
        length_rows.append(
            [group, f"{len(by_length[group][names[0]]):,}", *(f"{means[n]:.4f}" for n in names)]
            + ([ratio(means["ours"], means["baseline"], 3)] if two else [])
        )
    lengths = Table(
        "nDCG@10 by query length (words)",
        ["words", "queries", *names] + (["ours/baseline"] if two else []),
        length_rows,
    )

    notes = [
        f"Our index: stemmer {systems['ours']['stemmer']}; ranking: "
        f"{', '.join(f'{k}={v}' for k, v in args.ranking.items()) or 'the engine defaults'}. "
        "Definitions: gain 2^rel-1, log2 discount, AP divided by the number of relevant "
        "documents; queries without a relevant document are skipped.",
        "Query times are not like for like: ours is the whole API answer (100 hits with "
        "stored fields, snippets and highlighting, facets, exact total), the baseline "
        "returns ids only. `bench query` times the site's real request (10 hits).",
    ]
    for name in names:
        if systems[name]["errors"]:
            notes.append(
                f"{name}: {len(systems[name]['errors'])} queries failed (scored 0), "
                f"e.g. {systems[name]['errors'][0]}"
            )
    if "synonyms" in systems["ours"]:
        syn = systems["ours"]["synonyms"]
        notes.append(
            f"Synonyms: {syn['rules']} rules from {syn['file']}; {syn['queries_changed']} of "
            f"{syn['queries']} queries ranked differently from a pass without synonyms."
        )
    counts = {group: len(by_length[group][names[0]]) for group in order}
    plots = {"by-length": lambda path: _plot_by_length(path, length_means, names, counts)}
    return Report(
        kind="relevance",
        title=f"Relevance: {args.collection.name}",
        description="Our indexer and engine on an evaluation collection, beside plain Whoosh "
        "(LanguageAnalyzer('fr') on one field, BM25F defaults, OR of the words).",
        params={
            "collection": str(args.collection),
            "baseline": args.baseline,
            "stemmer": systems["ours"]["stemmer"],
            "limit_queries": args.limit_queries,
            "ranking": args.ranking,
            "repeat": args.repeat,
            "run_out": str(args.run_out) if args.run_out else None,
            "synonyms": str(args.synonyms) if args.synonyms else None,
        },
        results={
            name: {
                "metrics": evaluations[name].means,
                "evaluated": evaluations[name].evaluated,
                "skipped": evaluations[name].skipped,
                "build_s": systems[name]["build_s"],
                "documents": systems[name]["documents"],
                "query_p50_ms": systems[name]["p50_ms"],
                "query_p95_ms": systems[name]["p95_ms"],
                "errors": systems[name]["errors"][:20],
                "error_count": len(systems[name]["errors"]),
                "synonyms": systems[name].get("synonyms"),
            }
            for name in names
        }
        | {"ndcg@10_by_length": length_means},
        tables=[main, lengths],
        notes=notes,
        plots=plots,
    )


def _plot_by_length(
    path: Path, means: dict[str, dict[str, float]], names: list[str], counts: dict[str, int]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(means)
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for i, name in enumerate(names):
        xs = [g + (i - (len(names) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [means[group].get(name, 0.0) for group in groups], width, label=name)
    ax.set_xticks(range(len(groups)), [f"{g}\n({counts[g]:,} queries)" for g in groups])
    ax.set_xlabel("query length, words")
    ax.set_ylabel("nDCG@10")
    ax.set_ylim(0, 1)
    ax.set_title("Relevance by query length")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
