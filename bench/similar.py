"""``bench similar``: how good are "similar articles", beside Lucene's MoreLikeThis and Whoosh's.

The sources are articles that carry tags (a quarter of the shared corpus), sampled by seed
(``--seeds``, ``--sample``; ``--sample 0`` takes them all). For each source the top ``--limit``
similar articles of each system are measured:

- *tag agreement* (the figure of issue 11): a similar article agrees when it shares at least one
  tag with the source, compared case-folded; an untagged similar article disagrees. The figure is
  the share of similar articles that agree, given per seed and over all seeds;
- *carry tags*: the share of those similar articles that have tags at all, to tell a system
  that finds the same topics from one that finds tagged articles (AFP copy of 2019–2020);
- *shares a section*: the same with sections;
- *same story*: the share that are the source's own story again (same normalised title) —
  a reader gains nothing from them;
- *coverage*: the share of sources that get at least one similar article;
- latency p50/p95 of one call (ranking only, no answer built), in wall time and in CPU time of
  the calling thread (what a loaded machine inflates least), after ``--warm`` calls of the same
  system on other articles (the caches of postings and of terms fill as they would in a worker).

The systems, in the same run: ours (``search.similar.rank``; ``--ours K=V,...`` adds a variant
with those ``SimilarConfig`` levers changed, and may be repeated), Lucene's ``MoreLikeThis`` at
its defaults (``bench.mlt``), and Whoosh's ``Searcher.more_like`` with its defaults (5 key terms
by the Bo1 model, from the stored body).
"""

from __future__ import annotations

import argparse
import functools
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import Report, Table, fmt_num, lever_overrides, percentile


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
        default=1000,
        metavar="N",
        help="tagged source articles per seed (default 1000; 0: every tagged article, once)",
    )
    parser.add_argument(
        "--seeds",
        type=_seeds,
        default=(1, 2, 3),
        metavar="S,S,...",
        help="seeds of the samples (default 1,2,3)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=5,
        metavar="K",
        help="similar articles per source (default 5, as the site shows)",
    )
    parser.add_argument(
        "--ours",
        type=similar_overrides,
        action="append",
        default=None,
        metavar="K=V,...",
        help="also measure ours with these levers changed, e.g. key_terms=12,max_doc_share=0.02 "
        "(names and defaults: search.similar.SimilarConfig); repeatable",
    )
    parser.add_argument(
        "--mlt-fields",
        default="title,summary,body",
        help="text fields Lucene's MoreLikeThis reads and queries (default title,summary,body)",
    )
    parser.add_argument(
        "--warm",
        type=int,
        default=300,
        metavar="N",
        help="untimed calls of each system on other articles before timing (default 300)",
    )
    parser.add_argument(
        "--no-baselines",
        action="store_true",
        help="measure ours only (quicker, to compare levers)",
    )


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of seeds like 1,2,3") from None


def similar_overrides(text: str) -> dict[str, float | int]:
    """Parse ``key_terms=12,max_doc_share=0.02`` into SimilarConfig keywords, checked."""
    from search.similar import SimilarConfig

    return lever_overrides(SimilarConfig, "similar-articles", text)


def _story(title: str) -> str:
    from index.analysis import fold

    return re.sub(r"\W+", " ", fold(title)).strip()


def _split(value: str | None) -> set[str]:
    return {v.strip().casefold() for v in (value or "").split(",") if v.strip()}


def tag_agreement(
    sources: Sequence[dict[str, Any]], found: Sequence[Sequence[dict[str, Any]]]
) -> float:
    """Issue 11's figure: the share of the similar articles of tagged sources that share a tag
    with their source (case-folded); untagged similar articles disagree."""
    agree = total = 0
    for source, similar in zip(sources, found, strict=True):
        tags = _split(source.get("tags"))
        if not tags:
            continue
        total += len(similar)
        agree += sum(bool(tags & _split(other.get("tags"))) for other in similar)
    return agree / total if total else 0.0


def tagged_share(
    sources: Sequence[dict[str, Any]], found: Sequence[Sequence[dict[str, Any]]]
) -> float:
    """Of the similar articles of tagged sources, the share that carry tags at all: a system
    that favours tagged articles (a quarter of the corpus) gains agreement for that reason."""
    tagged = total = 0
    for source, similar in zip(sources, found, strict=True):
        if _split(source.get("tags")):
            total += len(similar)
            tagged += sum(bool(_split(other.get("tags"))) for other in similar)
    return tagged / total if total else 0.0


def score_lists(
    sources: Sequence[dict[str, Any]],
    found: Sequence[Sequence[dict[str, Any]]],
    latencies_ms: Sequence[float],
) -> dict[str, float]:
    """The measures of the module docstring, from each source's stored fields and the stored
    fields of the similar articles found for it."""
    section_hits = section_total = story_hits = covered = 0
    for source, similar in zip(sources, found, strict=True):
        covered += bool(similar)
        sections = _split(source.get("section"))
        story = _story(source.get("title") or "")
        for other in similar:
            section_total += 1
            section_hits += bool(sections & _split(other.get("section")))
            story_hits += _story(other.get("title") or "") == story
    ordered = sorted(latencies_ms)
    return {
        "tag_agreement": tag_agreement(sources, found),
        "tagged_share": tagged_share(sources, found),
        "shares_section": section_hits / section_total if section_total else 0.0,
        "same_story": story_hits / section_total if section_total else 0.0,
        "coverage": covered / len(sources) if sources else 0.0,
        "p50_ms": percentile(ordered, 50),
        "p95_ms": percentile(ordered, 95),
        "similar_per_source": section_total / len(sources) if sources else 0.0,
    }


def _timed(call: Callable[[], list[int]]) -> tuple[list[int], float, float]:
    """The call's answer, its wall time and its thread's CPU time, in ms."""
    started, cpu = time.perf_counter(), time.thread_time()
    result = call()
    return result, (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000


def _label(overrides: dict[str, float | int]) -> str:
    return "ours " + ",".join(f"{k}={v}" for k, v in overrides.items())


def run(args: argparse.Namespace) -> Report:
    import numpy as np
    from whoosh import index as whoosh_index

    from bench.mlt import MoreLikeThis
    from index.generations import IndexRoot
    from search.lifecycle import Served
    from search.ranking import RankingConfig
    from search.similar import SimilarConfig, rank, source_of_article

    generation = IndexRoot(args.index_dir).current()
    ranking = RankingConfig()
    served = Served(generation, ranking)
    snapshot = served.similar_view
    stored_cache: dict[int, dict[str, Any]] = {}

    def stored(docnum: int) -> dict[str, Any]:
        if docnum not in stored_cache:
            stored_cache[docnum] = snapshot.stored(docnum)
        return stored_cache[docnum]

    tagged: set[int] = set()
    for docs in served.reader.keyword_values("tags").values():
        tagged.update(docs.tolist())
    population = sorted(tagged)
    samples = (
        {seed: sorted(random.Random(seed).sample(population, args.sample)) for seed in args.seeds}
        if args.sample
        else {0: population}
    )

    chosen = {d for picked in samples.values() for d in picked}
    others = [d for d in np.flatnonzero(snapshot.live).tolist() if d not in chosen]
    warm = random.Random(0).sample(others, min(args.warm, len(others)))

    def ours(config: SimilarConfig) -> Callable[[int], list[int]]:
        def call(docnum: int) -> list[int]:
            found = rank(
                snapshot,
                source_of_article(snapshot, docnum),
                limit=args.limit,
                config=config,
                ranking=ranking,
            )
            return [d for d, _ in found]

        return call

    systems: dict[str, Callable[[int], list[int]]] = {"ours": ours(SimilarConfig())}
    for overrides in args.ours or []:
        systems[_label(overrides)] = ours(SimilarConfig(**overrides))
    searcher = None
    if not args.no_baselines:
        mlt = MoreLikeThis(snapshot, tuple(args.mlt_fields.split(",")), ranking.b)
        systems["lucene mlt"] = lambda d: mlt.similar(d, args.limit)
        # Whoosh numbers documents as the image does (segments in the TOC's order).
        searcher = whoosh_index.open_dir(str(generation.path)).searcher()

        def plain(docnum: int) -> list[int]:
            text = stored(docnum).get("body") or ""
            hits = searcher.more_like(docnum, "body", text=text, top=args.limit)
            return [hit.docnum for hit in hits]

        systems["whoosh more_like"] = plain

    results: dict[str, dict[str, float]] = {}
    per_seed: dict[str, dict[int, float]] = {}
    for name, system in systems.items():
        all_sources: list[dict[str, Any]] = []
        all_found: list[list[dict[str, Any]]] = []
        times: list[float] = []
        cpu_times: list[float] = []
        per_seed[name] = {}
        for docnum in warm:
            system(docnum)
        for seed, picked in samples.items():
            sources = [stored(d) for d in picked]
            found = []
            for docnum in picked:
                docnums, ms, cpu_ms = _timed(functools.partial(system, docnum))
                found.append([stored(d) for d in docnums])
                times.append(ms)
                cpu_times.append(cpu_ms)
            per_seed[name][seed] = tag_agreement(sources, found)
            all_sources += sources
            all_found += found
        results[name] = score_lists(all_sources, all_found, times)
        ordered = sorted(cpu_times)
        results[name]["cpu_p50_ms"] = percentile(ordered, 50)
        results[name]["cpu_p95_ms"] = percentile(ordered, 95)
        results[name]["tag_agreement_by_seed"] = per_seed[name]  # type: ignore[assignment]
        print(
            f"{name}: tag agreement {results[name]['tag_agreement']:.3f}, "
            f"tagged {results[name]['tagged_share']:.3f}, "
            f"p95 {results[name]['p95_ms']:.1f} ms (CPU {results[name]['cpu_p95_ms']:.1f} ms)",
            file=sys.stderr,
            flush=True,
        )
    if searcher is not None:
        searcher.close()
    served.close()

    rows = []
    if len(samples) > 1:
        for seed in samples:
            rows.append(
                [f"tag agreement, seed {seed}"] + [fmt_num(per_seed[n][seed], 3) for n in results]
            )
        rows.append(
            ["tag agreement, spread of the seeds"]
            + [fmt_num(statistics.pstdev(per_seed[n].values()), 3) for n in results]
        )
    for label, key, digits, scale in (
        ("tag agreement (issue 11)", "tag_agreement", 3, 1),
        ("similar articles that carry tags", "tagged_share", 1, 100),
        ("shares a section with the source", "shares_section", 1, 100),
        ("same story again (lower is better)", "same_story", 1, 100),
        ("sources with similar articles", "coverage", 1, 100),
        ("similar articles per source", "similar_per_source", 2, 1),
        ("latency p50, ms", "p50_ms", 1, 1),
        ("latency p95, ms", "p95_ms", 1, 1),
        ("CPU per call p50, ms", "cpu_p50_ms", 1, 1),
        ("CPU per call p95, ms", "cpu_p95_ms", 1, 1),
    ):
        unit = " %" if scale == 100 else ""
        rows.append([label] + [fmt_num(results[n][key] * scale, digits) + unit for n in results])
    sampled = (
        f"{args.sample} tagged sources x seeds {','.join(map(str, args.seeds))}"
        if args.sample
        else f"all {len(population)} tagged sources"
    )
    table = Table(
        f"Similar articles: {sampled} of {len(population)}, top {args.limit} each "
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
            "seeds": list(args.seeds),
            "limit": args.limit,
            "ours": args.ours or [],
            "mlt_fields": args.mlt_fields,
            "warm": args.warm,
        },
        results=results,
        tables=[table],
        notes=[
            "Tag agreement: share of the similar articles of tagged sources sharing >= 1 tag "
            "(case-folded) with the source; an untagged similar article disagrees.",
            "Lucene MoreLikeThis at its defaults (bench/mlt.py): min tf 2, min df 5, no max df, "
            f"25 terms by tf-idf, minimum_should_match 30%, BM25 per field over "
            f"{args.mlt_fields}. Whoosh: Searcher.more_like(docnum, 'body', text=<stored body>, "
            "top=K), its defaults otherwise (5 key terms, Bo1 model).",
        ],
    )
