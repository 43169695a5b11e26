"""``bench hostile``: the costliest searches a client can send within validation, over HTTP, and
what they do to a normal reader, in one run.

A real gunicorn (``bench.http.Server``, ``gunicorn.conf.py``) serves the given index. The query
shapes are built from the index's most frequent words (counted in the stored bodies of the live
generation, keeping only words the analyser does not drop as stop words), each query up to the
500 characters ``q`` allows:

- quoted pairs (``"est son" "est été" …``), quoted triples, negated pairs, long ``OR`` lists,
  and 500 characters of frequent words;

each sent ``--shape-repeats`` times, one at a time, never twice the same request (a ``from``
date before any article changes the cache key, not the answer): worst and median wall time, and
the statuses. Then a normal reader (one search at a time) for ``--seconds`` with no attack, and
again while ``--attackers`` clients send the costly shapes back to back: p50/p95 of the reader,
answered and failed requests, beside each other. Run it before and after a change to the engine
(``PRESSE_SEARCH_BUDGET_MS`` and the other settings pass through the environment).
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.common import Report, Table
from bench.http import Server, add_server_arguments
from bench.slow_clients import Answer, p95_ms, reader, timed_get
from search.query import MAX_EXCLUSIONS, MAX_PHRASES, MAX_TERMS

Q_LIMIT = 500
NORMAL_QUERIES = [
    "maroc",
    "gouvernement",
    "économie",
    "football",
    "élections",
    "inflation",
    "banque centrale",
    "santé",
    "tourisme",
    "sécurité routière",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_server_arguments(parser)
    parser.add_argument("--attackers", type=int, default=5, help="attacking clients (default 5)")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="length of each reader measurement (default 30)"
    )
    parser.add_argument(
        "--shape-repeats",
        type=int,
        default=3,
        help="times each costly shape is sent alone (default 3)",
    )
    parser.add_argument(
        "--words",
        default="",
        help="comma-separated frequent words to build from (default: counted)",
    )
    parser.add_argument(
        "--sample-docs",
        type=int,
        default=2000,
        help="stored bodies read to count the frequent words (default 2000)",
    )
    parser.add_argument(
        "--reader-timeout",
        type=float,
        default=60.0,
        help="seconds a request may wait for its answer (default 60)",
    )


def frequent_words(index_dir: Path, count: int, sample_docs: int) -> list[str]:
    """The ``count`` most frequent words of the live generation that are not stop words."""
    from whoosh import index as whoosh_index  # only this tool reads the index itself

    from index.analysis import analyze
    from index.generations import IndexRoot

    ix = whoosh_index.open_dir(str(IndexRoot(index_dir).current().path))
    words: Counter[str] = Counter()
    with ix.searcher() as searcher:
        analyzer = searcher.schema["body"].analyzer
        for fields in itertools.islice(searcher.all_stored_fields(), sample_docs):
            words.update(re.findall(r"\w{2,}", str(fields.get("body", "")).lower()))
        kept = [
            w for w, _ in words.most_common(count * 10) if not w.isdigit() and analyze(analyzer, w)
        ]
    return kept[:count]


def _fill(clauses: Any, limit: int = Q_LIMIT, prefix: str = "") -> str:
    """As many of ``clauses`` as fit in ``limit`` characters, after ``prefix``."""
    text = prefix
    for clause in clauses:
        candidate = f"{text} {clause}".strip()
        if len(candidate) > limit:
            break
        text = candidate
    return text


def shapes(words: list[str]) -> dict[str, str]:
    """The costly query shapes, each at most 500 characters and within the caps of
    ``search.query`` (phrases, exclusions, terms): as many phrases or exclusions as allowed,
    then frequent words up to the length limit."""
    top = words[:10]
    pairs = [f'"{a} {b}"' for a, b in itertools.permutations(top, 2)][:MAX_PHRASES]
    triples = [f'"{a} {b} {c}"' for a, b, c in itertools.permutations(top, 3)][:MAX_PHRASES]
    negated = [f"-{p}" for p in pairs[:MAX_EXCLUSIONS]]

    def fill() -> Any:  # repeated words add no term: the distinct ones stay under MAX_TERMS
        return itertools.cycle(words[: MAX_TERMS // 2])

    return {
        "quoted pairs": _fill(itertools.chain(pairs, fill())),
        "quoted triples": _fill(itertools.chain(triples, fill())),
        "negated pairs": _fill(itertools.chain(negated, fill()), prefix=f"{top[0]} {top[1]}"),
        "long OR list": _fill(
            itertools.chain.from_iterable((w, "OR") for w in itertools.cycle(words))
        ).removesuffix(" OR"),
        "500 chars of frequent words": _fill(itertools.cycle(words)),
    }


class _Uncached:
    """Distinct ``from`` dates before any article: a new cache key each time, the same answer."""

    def __init__(self) -> None:
        self._n = itertools.count()
        self._lock = threading.Lock()

    def path(self, query: str) -> str:
        with self._lock:
            n = next(self._n)
        day = f"{1000 + n // 336:04d}-{1 + n // 28 % 12:02d}-{1 + n % 28:02d}"
        return f"/search?q={quote(query)}&from={day}"


class Attackers:
    """``count`` clients sending the costly shapes back to back, from threads."""

    def __init__(
        self, port: int, queries: list[str], count: int, uncached: _Uncached, timeout: float
    ) -> None:
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._run,
                args=(port, queries[k:] + queries[:k], uncached, timeout),
                daemon=True,
            )
            for k in range(count)
        ]

    def _run(self, port: int, queries: list[str], uncached: _Uncached, timeout: float) -> None:
        for query in itertools.cycle(queries):
            if self._stop.is_set():
                return
            self.answers.append(timed_get(port, uncached.path(query), timeout))

    def __enter__(self) -> Attackers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def _statuses(answers: list[Answer]) -> str:
    counts = Counter("no answer" if a.status == 0 else str(a.status) for a in answers)
    return ", ".join(f"{status} ×{n}" for status, n in sorted(counts.items()))


def _reader_row(label: str, answers: list[Answer]) -> list[str]:
    ok = [a for a in answers if a.status == 200]
    median = statistics.median(a.seconds for a in answers) * 1000 if answers else 0.0
    return [
        label,
        str(len(answers)),
        str(len(ok)),
        f"{median:,.0f}",
        f"{p95_ms(answers):,.0f}",
        f"{max((a.seconds for a in answers), default=0) * 1000:,.0f}",
        _statuses(answers),
    ]


def run(args: argparse.Namespace) -> Report:
    words = (
        [w.strip() for w in args.words.split(",") if w.strip()]
        if args.words
        else frequent_words(args.index_dir, 40, args.sample_docs)
    )
    if len(words) < 10:
        raise RuntimeError(f"only {len(words)} frequent words found; pass --words")
    costly = shapes(words)
    uncached = _Uncached()
    normal = [f"/search?q={quote(q)}" for q in NORMAL_QUERIES]
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        server = Server(args.index_dir, args.workers, Path(tmp) / "gunicorn.log")
        try:
            server.wait_ready()
            reader(server.base, normal, 2.0)  # warm-up
            print("[hostile] each costly shape alone ...", file=sys.stderr, flush=True)
            alone = {
                name: [
                    timed_get(server.port, uncached.path(q), args.reader_timeout)
                    for _ in range(args.shape_repeats)
                ]
                for name, q in costly.items()
            }
            print(
                f"[hostile] a normal reader, no attack, {args.seconds:g} s ...",
                file=sys.stderr,
                flush=True,
            )
            calm = reader(server.base, normal, args.seconds, timeout=args.reader_timeout)
            print(
                f"[hostile] a normal reader under {args.attackers} attackers ...",
                file=sys.stderr,
                flush=True,
            )
            with Attackers(
                server.port, list(costly.values()), args.attackers, uncached, args.reader_timeout
            ) as attack:
                stormy = reader(server.base, normal, args.seconds, timeout=args.reader_timeout)
            print("[hostile] waiting for the attackers' last requests ...", file=sys.stderr)
        finally:
            server.stop()
    shape_rows = [
        [
            name,
            str(len(costly[name])),
            f"{max(a.seconds for a in got) * 1000:,.0f}",
            f"{statistics.median(a.seconds for a in got) * 1000:,.0f}",
            _statuses(got),
        ]
        for name, got in alone.items()
    ]
    return Report(
        kind="hostile",
        title="Hostile queries: worst-case wall time, and a normal reader under attack",
        description=__doc__.split("\n\n")[0],
        params={
            "index_dir": str(args.index_dir),
            "workers": args.workers,
            "attackers": args.attackers,
            "seconds": args.seconds,
            "shape_repeats": args.shape_repeats,
            "words": words[:10],
        },
        results={
            "shapes": {
                name: {
                    "query": costly[name],
                    "seconds": [a.seconds for a in got],
                    "statuses": [a.status for a in got],
                }
                for name, got in alone.items()
            },
            "reader_calm": [[a.status, a.seconds] for a in calm],
            "reader_under_attack": [[a.status, a.seconds] for a in stormy],
            "attack": {"requests": len(attack.answers), "statuses": _statuses(attack.answers)},
        },
        tables=[
            Table(
                "Each costly shape alone (uncached)",
                ["shape", "chars", "worst ms", "median ms", "statuses"],
                shape_rows,
            ),
            Table(
                f"A normal reader, alone and under {args.attackers} attacking clients",
                ["reader", "sent", "answered 200", "p50 ms", "p95 ms", "worst ms", "statuses"],
                [
                    _reader_row("no attack", calm),
                    _reader_row(f"{args.attackers} attackers", stormy),
                ],
            ),
        ],
        notes=[
            f"frequent words: {', '.join(words[:10])}",
            f"attackers sent {len(attack.answers)} requests: {_statuses(attack.answers)}",
        ],
    )
