"""What a source yields: an article, a deletion, or a problem with a record.

Sources (``index.sources``) turn files into a stream of these three kinds of record; the
builder (``index.build``) indexes articles, applies deletions, and reports problems as
``path:line: reason``.
``article_from_mapping`` is the one place where a raw record (a JSON object, a parsed page, a WXR
item) is validated and cleaned into an ``Article``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from index.cleaning import clean_paragraphs, clean_text, invalid_character, parse_datetime

MAX_ARTICLE_CHARS = 200_000
"""Default longest article (title, summary, body, names together, after cleaning), in characters.

Ten times the longest article of the shared corpus (20,342 characters of 33,945). Search time grew
with article length (a 1 MB body took 3.15 s to search, a 5 MB one 252 s) and a 100 MB article
took 1.2 GB to index, so a longer record is skipped with its reason rather than indexed.
"""


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, cleaned: NFC text, collapsed whitespace, entities decoded.

    ``published`` and ``updated`` are timezone-aware (UTC) when known. ``body`` keeps paragraph
    breaks as blank lines (``"\\n\\n"``) so snippets and similar-article terms can use them.
    """

    id: str
    title: str
    body: str
    summary: str = ""
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    url: str = ""
    author: str = ""
    # path:line of the record, for notices about it (a repeated id); not part of its value.
    where: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Deletion:
    """A record that asks for an article to be removed (``"deleted": true`` in a source)."""

    id: str
    where: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A record that was skipped, and why; ``where`` is ``path:line`` (or ``path`` alone)."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


Record = Article | Deletion | Problem


def _kind(value: object) -> str:
    """How a JSON reader would name the type of ``value``, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__


class _Invalid(ValueError):
    """A field of a raw record that cannot be used; the message names the field."""


def _text(raw: Mapping[str, Any], key: str, *, required: bool = False, body: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise _Invalid(f"{key}: missing")
        return ""
    if not isinstance(value, str):
        raise _Invalid(f"{key}: expected a string, got {_kind(value)}")
    text = _valid(key, clean_paragraphs(value) if body else clean_text(value))
    if required and not text:
        raise _Invalid(f"{key}: empty")
    return text


def _names(raw: Mapping[str, Any], key: str, *, split_commas: bool) -> tuple[str, ...]:
    """A list of names (sections, tags), or one string; cleaned, blanks and repeats dropped."""
    value = raw.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        # A tag string is "santé, virus"; a section string is one name and may hold a comma.
        value = value.split(",") if split_commas else [value]
    if not isinstance(value, list | tuple):
        raise _Invalid(f"{key}: expected a string or a list of strings, got {_kind(value)}")
    names: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str):
            raise _Invalid(f"{key}: expected a list of strings, found {_kind(item)}")
        if name := _valid(key, clean_text(item)):
            names[name] = None
    return tuple(names)


def _date(raw: Mapping[str, Any], key: str) -> datetime | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Invalid(f"{key}: expected an ISO 8601 string, got {_kind(value)}")
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise _Invalid(f"{key}: {exc}") from None


def _id(raw: Mapping[str, Any]) -> str:
    value = raw.get("id")
    if value is None:
        raise _Invalid("id: missing")
    # Numeric ids (a CMS's post number) are common; true/false is an int to Python but not an id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise _Invalid(f"id: expected a string or a whole number, got {_kind(value)}")
    if not (text := _valid("id", clean_text(value))):
        raise _Invalid("id: empty")
    return text


def _valid(key: str, text: str) -> str:
    # A lone surrogate cannot be written as UTF-8: stored, it made every answer holding it a 500.
    # Refused rather than repaired: it means the export was cut or mis-encoded there, and the
    # admin should see where (controls, harmless, are repaired by the cleaning instead).
    if (reason := invalid_character(text)) is not None:
        raise _Invalid(f"{key}: not valid Unicode: {reason}")
    return text


def _size(article: Article) -> int:
    return (
        len(article.title)
        + len(article.summary)
        + len(article.body)
        + len(article.url)
        + len(article.author)
        + sum(map(len, article.sections))
        + sum(map(len, article.tags))
    )


def article_from_mapping(
    raw: Mapping[str, Any], where: str, *, max_chars: int = MAX_ARTICLE_CHARS
) -> Record:
    """Validate and clean one raw record: an ``Article``, a ``Deletion``, or a ``Problem`` why not.

    ``where`` (``path:line``) is carried into the record. Unknown keys are ignored; ``section``
    and ``sections`` are synonyms (a string or a list of strings). Text that is not valid Unicode
    (a lone surrogate, a noncharacter) and an article longer than ``max_chars`` characters once
    cleaned are problems: the record is skipped, never indexed in part.
    """
    try:
        article_id = _id(raw)
        deleted = raw.get("deleted", False)
        if not isinstance(deleted, bool):
            raise _Invalid(f"deleted: expected true or false, got {_kind(deleted)}")
        if deleted:
            return Deletion(article_id, where)
        section_key = "sections" if "sections" in raw else "section"
        article = Article(
            id=article_id,
            title=_text(raw, "title", required=True),
            body=_text(raw, "body", required=True, body=True),
            summary=_text(raw, "summary", body=True),
            sections=_names(raw, section_key, split_commas=False),
            tags=_names(raw, "tags", split_commas=True),
            published=_date(raw, "published"),
            updated=_date(raw, "updated"),
            url=_text(raw, "url"),
            author=_text(raw, "author"),
            where=where,
        )
        if (size := _size(article)) > max_chars:
            raise _Invalid(
                f"article of {size:,} characters, over the limit of {max_chars:,} "
                "(PRESSE_MAX_ARTICLE_CHARS): skipped"
            )
        return article
    except _Invalid as exc:
        return Problem(where, str(exc))
