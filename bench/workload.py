"""``bench queries``: a reproducible workload of short news queries derived from corpus titles.

What a reader types in a news site's search box is mostly one to three words: a name, a place,
a topic ("gilets jaunes", "réforme des retraites", "marine le pen"). The generator counts, over
the corpus titles, in how many titles each informative word (not a stop word, at least three
letters, or a short acronym such as ``UE``) and each run of two or three words (first and last
informative, stop words allowed inside, never across punctuation) appears; keeps the frequent
ones; and samples queries from them, weighted by the square root of their title frequency (the
frequent topics come up often, without crowding out the rest): about 40 % one word, 40 % two,
20 % three. A quarter of the queries, chosen among those that have accents, are then typed
without accents (``securite sociale``).
The output is JSON Lines ``{"id", "text", "words", "folded", "title_df"}``; the same corpus and
seed give the same file. The queries are a few words each, not article text.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

from whoosh.lang import stopwords_for_language

from bench.collection import read_jsonl
from bench.common import Report, Table

# Words that are frequent in titles but say nothing a reader would search for, beyond the stop
# list: page furniture ("EN DIRECT", "VIDÉO") and verbs and adverbs of headlines.
_EXTRA_STOP_WORDS = """
les ils cet cette ceci cela ici leurs quel quels quelle quelles sans soi
après avant selon contre face chez entre vers depuis pendant sous sur plus moins très trop
tout tous toute toutes rien fait faire être avoir été va vont veut dit dire peut doit
ans deux trois quatre cinq comment pourquoi quand où non oui bien encore déjà aussi
direct vidéo video vidéos photos photo replay info infos exclu exclusif nouveau nouvelle
nouveaux nouvelles premier première grand grande petit petite fois jour jours mois semaine
quoi ça chose choses heure heures année hier demain lundi mardi mercredi jeudi vendredi
samedi dimanche comme
"""
EXTRA_STOP = frozenset(_EXTRA_STOP_WORDS.split())

_ELISION = re.compile(r"^(?:[ldjmtsnc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
_BREAKS = re.compile(r"[:;,.!?«»\"“”()\[\]{}|/–—…]+|\s-\s")
_EDGES = "'’\"-*#+=<>"
SHARES = {1: 0.4, 2: 0.4, 3: 0.2}


def fold(text: str) -> str:
    text = text.replace("œ", "oe").replace("æ", "ae").replace("Œ", "Oe").replace("Æ", "Ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


class _Words:
    """Stop-word and informativeness tests."""

    def __init__(self) -> None:
        base = set(stopwords_for_language("fr")) | EXTRA_STOP
        self.stop = base | {fold(w) for w in base}

    def core(self, word: str) -> str:
        return _ELISION.sub("", word)

    def informative(self, word: str) -> bool:
        core = self.core(word)
        lower = core.lower()
        if not any(c.isalpha() for c in core) or lower in self.stop or fold(lower) in self.stop:
            return False
        return len(core) >= 3 or (len(core) == 2 and core.isupper())


def title_ngrams(title: str, words: _Words) -> set[tuple[int, str]]:
    """The (length, text) of every candidate query in one title, lowercased."""
    found: set[tuple[int, str]] = set()
    for segment in _BREAKS.split(title.replace("’", "'")):
        tokens = [t.strip(_EDGES) for t in segment.split()]
        tokens = [t for t in tokens if t]
        for n in (1, 2, 3):
            for i in range(len(tokens) - n + 1):
                window = tokens[i : i + n]
                if not (words.informative(window[0]) and words.informative(window[-1])):
                    continue
                window[0] = words.core(window[0])
                found.add((n, " ".join(window).lower()))
    return found


def generate(
    corpus: Path,
    n: int,
    seed: int,
    folded_share: float = 0.25,
) -> tuple[list[dict[str, object]], dict[str, int]]:
    """``n`` queries (see the module docstring) and counts about the corpus."""
    words = _Words()
    df: Counter[tuple[int, str]] = Counter()
    titles = 0
    for record in read_jsonl(corpus):
        title = record.get("title")
        if isinstance(title, str) and title.strip():
            titles += 1
            df.update(title_ngrams(title, words))
    # Thresholds for a news corpus of tens of thousands of titles, relaxed for tiny ones.
    scale = max(1, titles // 2000)
    min_df = {1: min(5, scale), 2: min(3, scale), 3: min(3, scale)}
    pool_size = {1: 1500, 2: 1500, 3: 800}
    pools: dict[int, list[tuple[str, int]]] = {}
    for length in (1, 2, 3):
        candidates = [
            (text, count)
            for (size, text), count in df.items()
            if size == length and count >= min_df[length]
        ]
        candidates.sort(key=lambda item: (-item[1], item[0]))
        pools[length] = candidates[: pool_size[length]]
    rng = random.Random(seed)
    lengths = list(SHARES)
    queries: list[dict[str, object]] = []
    seen: set[str] = set()
    attempts = 0
    while len(queries) < n and attempts < n * 50:
        attempts += 1
        length = rng.choices(lengths, weights=[SHARES[k] for k in lengths])[0]
        pool = pools[length]
        if not pool:
            continue
        text, count = rng.choices(pool, weights=[c**0.5 for _, c in pool])[0]
        if text in seen or fold(text) in seen:
            continue
        seen.update((text, fold(text)))
        queries.append(
            {
                "id": f"w{len(queries) + 1:04d}",
                "text": text,
                "words": length,
                "folded": False,
                "title_df": count,
            }
        )
    # A quarter of the whole workload typed without accents: chosen among the queries that
    # have accents to lose (folding one without accents would change nothing).
    accented = [q for q in queries if fold(str(q["text"])) != q["text"]]
    for query in rng.sample(accented, min(len(accented), round(folded_share * len(queries)))):
        query["text"], query["folded"] = fold(str(query["text"])), True
    stats = {"titles": titles, **{f"pool_{k}_words": len(v) for k, v in pools.items()}}
    return queries, stats


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        required=True,
        help="JSON Lines corpus (plain or .gz) whose titles the queries come from",
    )
    parser.add_argument("--n", type=int, default=300, help="how many queries (default 300)")
    parser.add_argument("--seed", type=int, default=20240601, help="random seed")


def run(args: argparse.Namespace) -> Report:
    if args.out is None:
        raise SystemExit("bench queries: --out FILE is required (where the workload goes)")
    queries, stats = generate(args.corpus, args.n, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for query in queries:
            out.write(json.dumps(query, ensure_ascii=False) + "\n")
    rows = []
    for length in (1, 2, 3):
        chosen = [q for q in queries if q["words"] == length]
        examples = ", ".join(str(q["text"]) for q in chosen[:4])
        rows.append(
            [
                f"{length} word{'s' if length > 1 else ''}",
                str(len(chosen)),
                str(sum(1 for q in chosen if q["folded"])),
                examples,
            ]
        )
    rows.append(["all", str(len(queries)), str(sum(1 for q in queries if q["folded"])), ""])
    table = Table(
        f"Query workload: {len(queries)} queries from {stats['titles']:,} titles "
        f"(seed {args.seed})",
        ["length", "queries", "typed without accents", "examples"],
        rows,
    )
    return Report(
        kind="queries",
        title="Query workload",
        description="Short news queries derived from the corpus titles (bench/workload.py).",
        params={
            "corpus": str(args.corpus),
            "n": args.n,
            "seed": args.seed,
            "workload": str(args.out),
        },
        results=stats,
        tables=[table],
        notes=[f"written to {args.out}"],
    )
