"""Reading an evaluation collection and query files.

A collection folder holds (the layout of ``../shared/eval/piaf/``):

- ``corpus.jsonl.gz`` (or ``corpus.jsonl``): one document per line, ``id``, ``title``, ``body``
  and optionally ``summary``;
- ``queries.jsonl``: ``{"id", "text"}`` per line;
- ``qrels.tsv``: ``query_id<TAB>doc_id<TAB>relevance``; a header line, if any, is skipped.

Query files for the speed benchmarks are either JSON Lines with a ``text`` key (what
``bench queries`` writes) or plain text, one query per line.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


class CollectionError(Exception):
    """A collection or query file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Query:
    id: str
    text: str


@dataclass(frozen=True)
class Collection:
    corpus_path: Path
    queries: tuple[Query, ...]
    qrels: dict[str, dict[str, int]]

    def documents(self) -> Iterator[dict[str, Any]]:
        return read_jsonl(self.corpus_path)


def open_text(path: Path) -> IO[str]:
    """Open a text file, transparently gunzipping ``.gz``."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON Lines file (plain or ``.gz``), blank lines skipped."""
    with open_text(path) as lines:
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CollectionError(f"{path}:{lineno}: not JSON: {exc.msg}") from None
            if isinstance(value, dict):
                yield value


def corpus_path(folder: Path) -> Path:
    for name in ("corpus.jsonl.gz", "corpus.jsonl"):
        if (folder / name).is_file():
            return folder / name
    raise CollectionError(f"{folder}: no corpus.jsonl.gz (or corpus.jsonl) in this folder")


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, start=1):
            parts = line.rstrip("\n").split("\t")
            if not line.strip():
                continue
            if len(parts) < 3:
                raise CollectionError(f"{path}:{lineno}: expected query_id, doc_id, relevance")
            try:
                relevance = int(parts[-1])
            except ValueError:
                if lineno == 1:  # a header line
                    continue
                raise CollectionError(
                    f"{path}:{lineno}: relevance {parts[-1]!r} is not a whole number"
                ) from None
            qrels.setdefault(parts[0], {})[parts[-2]] = relevance
    return qrels


def load_collection(folder: Path) -> Collection:
    """The corpus path, the queries and the qrels of a collection folder."""
    if not folder.is_dir():
        raise CollectionError(f"{folder}: not a folder")
    for name in ("queries.jsonl", "qrels.tsv"):
        if not (folder / name).is_file():
            raise CollectionError(f"{folder}: no {name} in this folder")
    queries = tuple(
        Query(str(q["id"]), str(q["text"]))
        for q in read_jsonl(folder / "queries.jsonl")
        if "id" in q and "text" in q
    )
    return Collection(corpus_path(folder), queries, read_qrels(folder / "qrels.tsv"))


def read_queries(path: Path) -> list[str]:
    """Query texts from JSON Lines (``text`` key) or plain text, one per line."""
    texts: list[str] = []
    with open_text(path) as lines:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    value = None
                if isinstance(value, dict) and isinstance(value.get("text"), str):
                    texts.append(value["text"])
                    continue
            texts.append(line)
    if not texts:
        raise CollectionError(f"{path}: no queries in this file")
    return texts
