"""Our French analysis and BM25 parameters as an OpenSearch index body (the handover).

``index_body()`` builds, from the code that indexes today, the ``settings`` and ``mappings`` to
create an OpenSearch index that analyses text as we do: ``index.analysis`` (elided articles,
stop list, the kept homonyms, the minimum length), ``index.schema.STEMMER`` (the stemmer chosen
on PIAF) and ``search.ranking.RankingConfig`` (BM25's k1 and b). ``scripts/opensearch-settings``
prints it; ``deploy/opensearch-index.json`` is its output, and ``tests/test_opensearch.py``
checks both that the file is current and that the chain, run filter by filter in the order the
JSON gives, makes the same terms as ``french_analyzer`` (docs/scaling.md: what stays different).

The chain: standard tokenizer -> elision (our articles, any case, ``'`` and ``’``) -> lowercase
-> unless the word is a kept homonym (``maïs``, ``fût``, ``été``...): asciifolding then our stop
list, folded, as ours compares the folded word (``où``, ``dès`` are stopped as ``ou``, ``des``)
-> asciifolding (the kept homonyms too) -> one-letter words dropped, digits kept -> the stemmer
(Snowball French, or ``light_french`` for our Savoy stemmer), on the folded word as ours. The
``exact`` sub-field (our unstemmed folded forms, which rank the exact form first) is the same
chain without the stemmer.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.analysis import ELISION_ARTICLES, KEPT_HOMONYMS, STOP_WORDS, fold
from index.schema import STEMMER, TEXT_FIELDS
from search.ranking import RankingConfig

# Our stemmer's name -> the OpenSearch token filter that runs the same algorithm.
STEMMER_FILTERS: dict[str, dict[str, str] | None] = {
    "snowball": {"type": "snowball", "language": "French"},
    "light": {"type": "stemmer", "language": "light_french"},
    "none": None,
}
# Ours drops one-character words but keeps digits ("5", "2"): a painless predicate does the same.
MIN_LENGTH_SCRIPT = "token.term.length() > 1 || Character.isDigit(token.term.charAt(0))"
FILTER_ORDER = (
    "presse_elision",
    "lowercase",
    "presse_stop_unless_kept",
    "asciifolding",
    "presse_min_length",
)


def kept_homonyms_script() -> str:
    """The condition's predicate: true for a word that is not one of our kept homonyms."""
    words = ", ".join(f"'{w}'" for w in sorted(KEPT_HOMONYMS))
    return f"![{words}].contains(token.term.toString())"


def index_body(stemmer: str = STEMMER) -> dict[str, Any]:
    """The body of ``PUT /<index>``: analysis settings, BM25 similarity and the mappings."""
    ranking = RankingConfig()
    filters: dict[str, Any] = {
        "presse_elision": {
            "type": "elision",
            "articles_case": True,
            "articles": list(ELISION_ARTICLES),
        },
        "presse_stop": {
            "type": "stop",
            "ignore_case": False,
            "stopwords": sorted({fold(w) for w in STOP_WORDS}),
        },
        "presse_stop_unless_kept": {
            "type": "condition",
            "filter": ["asciifolding", "presse_stop"],
            "script": {"source": kept_homonyms_script()},
        },
        "presse_min_length": {
            "type": "predicate_token_filter",
            "script": {"source": MIN_LENGTH_SCRIPT},
        },
    }
    stemmed = list(FILTER_ORDER)
    stem_filter = STEMMER_FILTERS[stemmer]
    if stem_filter is not None:
        filters["presse_stemmer"] = stem_filter
        stemmed.append("presse_stemmer")
    text_field = {
        "type": "text",
        "analyzer": "presse_french",
        "fields": {"exact": {"type": "text", "analyzer": "presse_french_exact"}},
    }
    return {
        "settings": {
            "index": {
                "similarity": {"default": {"type": "BM25", "k1": ranking.k1, "b": ranking.b}}
            },
            "analysis": {
                "filter": filters,
                "analyzer": {
                    "presse_french": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": stemmed,
                    },
                    "presse_french_exact": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": list(FILTER_ORDER),
                    },
                },
                "normalizer": {
                    "presse_lowercase": {"type": "custom", "filter": ["lowercase"]},
                },
            },
        },
        "mappings": {
            "properties": {
                "id": {"type": "keyword"},
                **{name: dict(text_field) for name in TEXT_FIELDS},
                "section": {"type": "keyword"},
                "tags": {"type": "keyword", "normalizer": "presse_lowercase"},
                "published": {"type": "date"},
                "updated": {"type": "date", "index": False},
                "url": {"type": "keyword", "index": False},
                "author": {"type": "keyword", "index": False},
            }
        },
    }


def render(stemmer: str = STEMMER) -> str:
    return json.dumps(index_body(stemmer), ensure_ascii=False, indent=1) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/opensearch-settings",
        description="Print our analysis chain and BM25 parameters as an OpenSearch index body.",
    )
    parser.add_argument("--out", type=Path, help="write it there instead of printing it")
    parser.add_argument(
        "--stemmer",
        choices=sorted(STEMMER_FILTERS),
        default=STEMMER,
        help=f"default: the one the index uses ({STEMMER})",
    )
    args = parser.parse_args(argv)
    text = render(args.stemmer)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
