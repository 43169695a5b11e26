"""The text fields' postings written in bulk (``index.postings``) are Whoosh's own, byte for byte.

The same articles go through our ``SegmentBuilder`` and through Whoosh's ``SegmentWriter`` fed
the same ready-made terms (what the build did before the bulk writer); every file of the two
segments must be identical, and a Whoosh query must find the same documents at the same
positions.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import synthetic
from whoosh import index as whoosh_index
from whoosh.index import TOC
from whoosh.query import Phrase, Term
from whoosh.writing import SegmentWriter

from index import postings
from index.articles import Article, article_from_mapping
from index.codec import PresseCodec
from index.image import TEXT_FIELDS
from index.schema import build_schema, document_fields
from index.segments import SegmentBuilder
from index.tokens import TextAnalyser

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "articles.jsonl"


def _articles() -> list[Article]:
    raws: list[dict[str, Any]] = [
        json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line
    ]
    raws += list(synthetic.articles(300))  # frequent terms: postings of several 128-doc blocks
    rng = random.Random(3)
    words = [
        "Rabat",
        "Casablanca",
        "économie",
        "l'économie",
        "Maroc-France",
        "prud'hommes",
        "3,5",
        "%",
        "été",
    ]
    raws += [
        {"id": "empty-summary", "title": "Un titre seul", "body": "Le corps, sans résumé."},
        {  # a long body: positions past 255 and 65,535 (pickle's one-, two-, four-byte ints)
            "id": "long",
            "title": "Rabat Rabat Rabat",
            "summary": "économie " * 40,
            "body": " ".join(rng.choice(words) for _ in range(70_000)),
        },
    ]
    found = [
        article_from_mapping(raw, f"test:{n}", max_chars=2_000_000) for n, raw in enumerate(raws)
    ]
    assert all(isinstance(a, Article) for a in found)
    return [a for a in found if isinstance(a, Article)]


def _ours(folder: Path, articles: list[Article]) -> Any:
    ix = whoosh_index.create_in(str(folder), build_schema())
    builder = SegmentBuilder(ix, "snowball", 64)
    for seq, article in enumerate(articles):
        builder.add(article, seq)
    written = builder.finish()
    assert written is not None
    return written.segment


def _whoosh(folder: Path, articles: list[Article]) -> Any:
    ix = whoosh_index.create_in(str(folder), build_schema())
    writer = SegmentWriter(ix, _lk=False, limitmb=64, codec=PresseCodec(), compound=False)
    analyser = TextAnalyser("snowball")
    for seq, article in enumerate(articles):
        doc = document_fields(article, seq)
        for name in TEXT_FIELDS:
            text = getattr(article, name) or ""
            doc[name] = analyser.analyse(text).terms  # Whoosh indexes a list as tokens
            doc[f"_stored_{name}"] = text
        writer.add_document(**doc)
    segment = writer._finalize_segment()
    writer._tempstorage.destroy()
    return segment


# What the builder writes beside Whoosh's files: the serving image, lexicon, phrase index and
# hit fields (tests/test_hit_fields.py checks those against Whoosh's stored fields).
OUR_FILES = (".img", ".lex", ".phr", ".hit")


def _files(folder: Path, segment: Any) -> dict[str, bytes]:
    prefix = segment.segment_id()
    return {
        path.name.replace(prefix, "MAIN_x"): path.read_bytes()
        for path in folder.iterdir()
        if path.name.startswith(prefix) and path.suffix not in OUR_FILES
    }


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Path, Any]:
    articles = _articles()
    ours, theirs = tmp_path_factory.mktemp("ours"), tmp_path_factory.mktemp("whoosh")
    return ours, _ours(ours, articles), theirs, _whoosh(theirs, articles)


def test_every_segment_file_is_whooshs_own(segments: tuple[Path, Any, Path, Any]) -> None:
    ours, our_segment, theirs, their_segment = segments
    mine, reference = _files(ours, our_segment), _files(theirs, their_segment)
    assert sorted(mine) == sorted(reference)
    assert {".trm", ".pst"} <= {Path(name).suffix for name in mine}
    for name, data in reference.items():
        assert mine[name] == data, f"{name} differs"


def test_postings_written_a_few_at_a_time_are_the_same(
    segments: tuple[Path, Any, Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks far smaller than a frequent term's postings: a term spans several chunks' worth.
    monkeypatch.setattr(postings, "CHUNK", 5)
    _, _, theirs, their_segment = segments
    segment = _ours(tmp_path, _articles())
    assert _files(tmp_path, segment) == _files(theirs, their_segment)


def test_whoosh_queries_read_the_bulk_postings(segments: tuple[Path, Any, Path, Any]) -> None:
    ours, segment, _, _ = segments
    ix = whoosh_index.open_dir(str(ours))
    TOC(ix.schema, [segment], 1).write(ix.storage, "MAIN")
    with whoosh_index.open_dir(str(ours)).searcher() as searcher:
        long_doc = next(iter(searcher.document_numbers(id="long")))
        positions: dict[int, list[int]] = {}
        matcher = searcher.reader().postings("title", "rabat")
        while matcher.is_active():
            positions[matcher.id()] = matcher.value_as("positions")
            matcher.next()
        assert positions[long_doc] == [0, 1, 2]
        assert searcher.reader().doc_field_length(long_doc, "summary") == 40
        hits = searcher.search(Phrase("title", ["rabat", "rabat"]), limit=None)
        assert "long" in {hit["id"] for hit in hits}
        assert "empty-summary" not in {hit["id"] for hit in hits}
        assert len(searcher.search(Term("summary", "econom"), limit=None)) > 0
