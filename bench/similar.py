"""``bench similar``: how good are "similar articles", beside Whoosh's plain ``more_like``.

There are no relevance judgments for similar articles, so the measure is what an editor would
look at, over the top ``--limit`` similar articles of a seeded sample of articles of the index:

- *shares a section*: the share of similar articles with a section in common with the source;
- *shares a tag*: the same for tags, over the sources that have tags (a quarter of the shared
  corpus; tags are editors' topics, a sharper signal than sections);
- *same story*: the share that are the source's own story again (same normalised title) —
  a reader gains nothing from them;
- *coverage*: the share of sources that get at least one similar article;
- latency p50/p95 of one call.

Ours is ``search.engine.Engine.similar``; the baseline is Whoosh's ``Searcher.more_like`` with its
defaults (5 key terms by the Bo1 model, from the stored body) on the same index.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import Report, Table, fmt_num, percentile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index-dir",
        type=Path,
        required=True,
        help="index root to measure (CURRENT + generations/)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=500,
        metavar="N",
        help="source articles to sample (default 500)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=5,
        metavar="K",
        help="similar articles per source (default 5, as the site shows)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the sample")


def _story(title: str) -> str:
    from index.analysis import fold

    return re.sub(r"\W+", " ", fold(title)).strip()


def _split(value: str | None) -> set[str]:
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}


def score_lists(
    sources: Sequence[dict[str, Any]],
    found: Sequence[Sequence[dict[str, Any]]],
    latencies_ms: Sequence[float],
) -> dict[str, float]:
    """The measures of the module docstring, from each source's stored fields and the stored
    fields of the similar articles found for it."""
    section_hits = section_total = tag_hits = tag_total = story_hits = covered = 0
    for source, similar in zip(sources, found, strict=True):
        covered += bool(similar)
        sections, tags = _split(source.get("section")), _split(source.get("tags"))
        story = _story(source.get("title") or "")
        for other in similar:
            section_total += 1
            section_hits += bool(sections & _split(other.get("section")))
            story_hits += _story(other.get("title") or "") == story
            if tags:
                tag_total += 1
                tag_hits += bool(tags & _split(other.get("tags")))
    ordered = sorted(latencies_ms)
    return {
        "shares_section": section_hits / section_total if section_total else 0.0,
        "shares_tag": tag_hits / tag_total if tag_total else 0.0,
        "same_story": story_hits / section_total if section_total else 0.0,
        "coverage": covered / len(sources) if sources else 0.0,
        "p50_ms": percentile(ordered, 50),
        "p95_ms": percentile(ordered, 95),
        "similar_per_source": section_total / len(sources) if sources else 0.0,
    }


def _timed(call: Callable[[], list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def run(args: argparse.Namespace) -> Report:
    from whoosh import index as whoosh_index

    from index.generations import IndexRoot
    from search.config import Settings
    from search.engine import Engine

    generation = IndexRoot(args.index_dir).current()
    ix = whoosh_index.open_dir(str(generation.path))
    engine = Engine(Settings.from_env(index_dir=args.index_dir))
    engine.warm_up()
    results: dict[str, dict[str, float]] = {}
    with ix.searcher() as searcher:
        live = list(searcher.reader().all_doc_ids())
        picked = random.Random(args.seed).sample(live, min(args.sample, len(live)))
        sources = [searcher.stored_fields(d) for d in picked]
        by_id: dict[str, dict[str, Any]] = {}

        def stored(article_id: str) -> dict[str, Any]:
            if article_id not in by_id:
                docnum = searcher.document_number(id=article_id)
                by_id[article_id] = dict(searcher.stored_fields(docnum))
            return by_id[article_id]

        def ours(source: dict[str, Any]) -> list[dict[str, Any]]:
            hits = engine.similar(source["id"], limit=args.limit).hits
            return [stored(hit.id) for hit in hits]

        def plain(docnum: int) -> list[dict[str, Any]]:
            text = searcher.stored_fields(docnum).get("body") or ""
            hits = searcher.more_like(docnum, "body", text=text, top=args.limit)
            return [dict(hit.fields()) for hit in hits]

        for name, calls in (
            ("ours", [lambda s=s: ours(s) for s in sources]),
            ("whoosh more_like", [lambda d=d: plain(d) for d in picked]),
        ):
            calls[0]()  # warm-up
            found, times = zip(*(_timed(call) for call in calls), strict=True)
            results[name] = score_lists(sources, found, times)
    engine.close()

    rows = []
    for label, key, digits, scale in (
        ("shares a section with the source", "shares_section", 1, 100),
        ("shares a tag (sources with tags)", "shares_tag", 1, 100),
        ("same story again (lower is better)", "same_story", 1, 100),
        ("sources with similar articles", "coverage", 1, 100),
        ("similar articles per source", "similar_per_source", 2, 1),
        ("latency p50, ms", "p50_ms", 1, 1),
        ("latency p95, ms", "p95_ms", 1, 1),
    ):
        unit = " %" if scale == 100 else ""
        rows.append([label] + [fmt_num(results[n][key] * scale, digits) + unit for n in results])
    table = Table(
        f"Similar articles: {len(sources)} sampled sources, top {args.limit} each "
        f"(generation {generation.id}, {generation.meta.get('documents', '?')} documents)",
        ["measure", *results],
        rows,
    )
    return Report(
        kind="similar",
        title="Similar articles",
        description=__doc__.split("\n\n")[0],
        params={
            "index_dir": str(args.index_dir),
            "sample": args.sample,
            "limit": args.limit,
            "seed": args.seed,
        },
        results=results,
        tables=[table],
        notes=[
            "Baseline: whoosh Searcher.more_like(docnum, 'body', text=<stored body>, "
            "top=K), its defaults otherwise (5 key terms, Bo1 model)."
        ],
    )
