"""The hit fields of a segment (``index.hitfields``) against Whoosh's stored fields, the record.

Hits read their id, title, url, sections, author, date, summary and body from a flat file
written beside each segment; Whoosh still stores them. Here: the file holds exactly what Whoosh
holds, for every document of a generation with two segments and deletions; a segment written
before the file existed (no ``.hit``) is read from Whoosh, in the same generation as one that
has it; and the answers are the same either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index

from index import hitfields
from index.articles import Article
from index.build import apply_update, full_build
from index.generations import IndexRoot
from index.manifest import read
from index.schema import document_fields
from search.config import Settings
from search.engine import Engine
from search.results import SearchRequest
from search.segments import GenerationReader

CORPUS = Path(__file__).resolve().parent / "data" / "engine" / "articles.jsonl"
ARTICLES: list[dict[str, Any]] = [
    json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()
]
# What the corpus lacks: no date, no url, no author, no summary; sections holding a comma.
BARE = {"id": "breve-sans-date", "title": "Brève sans date ni auteur", "body": "Le Maroc."}
SECTIONS = dict(
    BARE,
    id="breve-rubriques",
    section=["Économie, finances", "Régions"],
    published="1969-12-31T23:59:59.999999+00:00",  # before the epoch, to the microsecond
)
UPDATE = [
    dict(ARTICLES[0], title="L’économie marocaine résiste encore à l’inflation"),
    {"id": ARTICLES[1]["id"], "deleted": True},
    {"id": "maj-nouvelle", "title": "Une nouvelle du jour", "body": "Rabat et Tanger."},
]
QUERIES = ["économie", "développement régions", "Maroc", "tourisme rural", '"banque centrale"']


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


@contextmanager
def opened(root: Path) -> Iterator[Engine]:
    engine = Engine(Settings(index_dir=root, refresh_interval_s=3600.0))
    try:
        yield engine
    finally:
        engine.close()


def shown(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields a hit reads, as the engine reads them (a missing field is empty)."""
    out = {name: fields.get(name) or "" for name in hitfields.FIELDS}
    out["published"] = fields.get("published")
    return out


def hit_files(root: Path) -> list[bool]:
    """For each segment of the live generation: whether it has a hit-fields file."""
    generation = IndexRoot(root).current()
    return [
        any(f.name.endswith(hitfields.SUFFIX) for f in segment.files)
        for segment in read(generation.path).segments
    ]


def assert_equal_to_whoosh(root: Path) -> None:
    generation = IndexRoot(root).current()
    reader = GenerationReader(generation)
    try:
        ix = whoosh_index.open_dir(str(generation.path))
        with ix.reader() as whoosh_reader:
            assert whoosh_reader.doc_count_all() == reader.n_docs
            for docnum in range(reader.n_docs):  # deleted documents too: still in their segment
                assert shown(reader.stored(docnum)) == shown(
                    whoosh_reader.stored_fields(docnum)
                ), docnum
    finally:
        reader.close()


def answers(root: Path) -> list[dict[str, Any]]:
    with opened(root) as engine:
        found = []
        for query in QUERIES:
            for sort in ("relevance", "date"):
                answer = engine.search(SearchRequest(query=query, sort=sort)).to_dict()
                answer.pop("took_ms")
                found.append(answer)
        found.append(engine.similar(ARTICLES[2]["id"]).to_dict())
        return found


def without_hit_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build as the version before hit fields did: no ``.hit`` file beside the segments."""
    monkeypatch.setattr(hitfields.HitFieldsBuilder, "save", lambda self, path: None)


def test_hit_fields_hold_what_whoosh_stores(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "ix")
    full_build(root, write_jsonl(tmp_path / "v1.jsonl", [*ARTICLES, BARE, SECTIONS]))
    apply_update(root, write_jsonl(tmp_path / "update.jsonl", UPDATE))
    assert hit_files(root.path) == [True, True]
    assert_equal_to_whoosh(root.path)
    with opened(root.path) as engine:
        reader = engine.lifecycle.current().reader
        bare = reader.stored(reader.docnum(BARE["id"]) or 0)
        assert bare["published"] is None and bare["url"] == bare["author"] == ""
        sections = reader.stored(reader.docnum(SECTIONS["id"]) or 0)
        assert sections["section"] == "Économie  finances,Régions"
        assert sections["published"] == datetime(1969, 12, 31, 23, 59, 59, 999999)


def test_a_segment_without_hit_fields_is_read_from_whoosh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_files = IndexRoot(tmp_path / "with")
    full_build(with_files, write_jsonl(tmp_path / "v1.jsonl", [*ARTICLES, BARE, SECTIONS]))
    apply_update(with_files, write_jsonl(tmp_path / "update.jsonl", UPDATE))
    older = IndexRoot(tmp_path / "older")
    with monkeypatch.context() as patched:
        without_hit_fields(patched)
        full_build(older, tmp_path / "v1.jsonl")
    assert hit_files(older.path) == [False]
    apply_update(older, tmp_path / "update.jsonl")  # written by this version: with the file
    assert hit_files(older.path) == [False, True]
    assert_equal_to_whoosh(older.path)
    assert answers(older.path) == answers(with_files.path)


def test_text_that_whoosh_could_store_comes_back_as_it_was(tmp_path: Path) -> None:
    # Merging the segments of an older generation re-reads its stored text, which may hold a
    # lone surrogate (the reindexer refuses them now); the file must take it and give it back.
    strange = Article(
        id="étrange",
        title="cassé \ud800 ici",
        body="\u2028ligne " + "a" * 5000 + " \U0001f389",
        summary="",
        published=datetime(2024, 4, 2, 11, 0, 0, 123456, tzinfo=UTC),
    )
    builder = hitfields.HitFieldsBuilder()
    builder.add(document_fields(strange, 0))
    builder.add(document_fields(Article(id="vide", title="", body=""), 1))
    builder.save(tmp_path / "x.hit")
    opened_fields = hitfields.HitFields(tmp_path / "x.hit")
    assert opened_fields.doc_count == 2
    first = opened_fields.document(0)
    assert first["title"] == strange.title and first["body"] == strange.body
    assert first["published"] == datetime(2024, 4, 2, 11, 0, 0, 123456)
    assert opened_fields.document(1) == {
        **dict.fromkeys(hitfields.FIELDS, ""),
        "id": "vide",
        "published": None,
    }
