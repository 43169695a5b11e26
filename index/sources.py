"""Where articles come from: JSON Lines, a folder of scraped pages, or a WordPress export.

``read_source(path)`` streams the records of one source (``Article``, ``Deletion`` or ``Problem``,
see ``index.articles``) without holding the corpus in memory; every raw record goes through
``article_from_mapping``, the one validator, with the longest article allowed (``max_chars``). What
is read is bounded too: a JSON line or a page over ``RAW_BYTES_PER_CHAR × max_chars`` bytes is
skipped unread; a pages folder yields only regular files inside the folder (a symlink pointing out
of it, a FIFO, a device, a sub-folder is a ``Problem``, and is never opened for reading). A bad
record becomes a ``Problem`` whose ``where`` is ``path:line`` and the stream goes on; a source that
cannot be read at all (missing, unknown format, a folder without pages, XML that is malformed or
hostile) raises ``SourceError``. Missing paths and unknown formats are refused when ``read_source``
is called; malformed XML only when the parser reaches it, so a consumer must treat ``SourceError``
from the stream as fatal for the whole run.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import stat
import unicodedata
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from index.articles import MAX_ARTICLE_CHARS, Problem, Record, article_from_mapping
from index.cleaning import html_to_text

FORMATS = ("jsonl", "pages", "wxr")

RAW_BYTES_PER_CHAR = 12
"""Raw bytes read per allowed character before a record is skipped unread.

A character costs up to 4 bytes in UTF-8, 6 as a JSON ``\\uXXXX`` escape, more as an HTML entity,
and pages carry the site's chrome after the body: 12 leaves every valid record through (2.4 MB
with the default limit) while a 100 MB line or a ``.txt`` pointing at ``/dev/zero`` is refused
after reading that much, not after filling the memory.
"""


class SourceError(Exception):
    """A source that cannot be read at all; the message names the path and the reason."""


def detect_format(path: Path) -> str:
    """The format of ``path`` from its name: "jsonl", "pages" (a folder) or "wxr"."""
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    if path.is_dir():
        return "pages"
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith((".xml", ".wxr")):
        return "wxr"
    raise SourceError(
        f"{path}: unknown source format (expected .jsonl, .jsonl.gz, .ndjson, .xml, .wxr "
        f"or a folder of .txt pages); name it with --format {'/'.join(FORMATS)}"
    )


def read_source(
    path: Path, fmt: str | None = None, *, max_chars: int = MAX_ARTICLE_CHARS
) -> Iterator[Record]:
    """The records of one source, in file order; ``fmt`` overrides the guess from the name.

    ``max_chars`` is the longest article accepted (``PRESSE_MAX_ARTICLE_CHARS``).
    """
    fmt = detect_format(path) if fmt is None else fmt
    if fmt not in FORMATS:
        raise SourceError(f"{path}: unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    if (fmt == "pages") != path.is_dir():
        expected = "a folder of .txt pages" if fmt == "pages" else "a file"
        raise SourceError(f"{path}: format {fmt} expects {expected}")
    if fmt == "jsonl":
        return _read_jsonl(path, max_chars)
    if fmt == "pages":
        pages = sorted(path.glob("*.txt"))
        if not pages:
            raise SourceError(f"{path}: no .txt pages in this folder")
        return _read_pages(path, pages, max_chars)
    return _read_wxr(path, max_chars)


# --- JSON Lines --------------------------------------------------------------------------------


def _read_jsonl(path: Path, max_chars: int) -> Iterator[Record]:
    # Lines are read as bytes and decoded one by one, so one line of bad bytes costs one record.
    # Compression is told by the gzip magic number, not the name, so --format jsonl reads either.
    with path.open("rb") as head:
        compressed = head.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    cap = RAW_BYTES_PER_CHAR * max_chars
    try:
        with opener(path, "rb") as lines:
            for lineno, line, size in _bounded_lines(lines, cap):
                where = f"{path}:{lineno}"
                if line is None:
                    yield Problem(
                        where,
                        f"record of {size:,} bytes, over the limit of {cap:,} "
                        f"({RAW_BYTES_PER_CHAR} × PRESSE_MAX_ARTICLE_CHARS): "
                        "skipped unread",
                    )
                elif line.strip():
                    yield _jsonl_record(line, where, max_chars)
    except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupt gzip, I/O error
        raise SourceError(f"{path}: cannot read: {exc}") from None


class _Lines(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def _bounded_lines(stream: _Lines, cap: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, line, size) for each line; the line is None when longer than ``cap`` bytes,
    and only ``cap`` bytes of it are ever held in memory at once."""
    lineno = 0
    while line := stream.readline(cap + 1):
        lineno += 1
        if len(line) <= cap or line.endswith(b"\n"):
            yield lineno, line, len(line)
            continue
        size = len(line)
        while (rest := stream.readline(cap + 1)) and not rest.endswith(b"\n"):
            size += len(rest)
        yield lineno, None, size + len(rest)


def _jsonl_record(line: bytes, where: str, max_chars: int) -> Record:
    try:
        # Stripped so that an error at the end of the line is not reported at the newline.
        text = line.decode("utf-8").lstrip("\ufeff").strip()
    except UnicodeDecodeError:
        return Problem(where, "not valid UTF-8")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return Problem(where, f"not JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return Problem(where, "not JSON: nested too deeply")
    if not isinstance(value, dict):
        kinds = {list: "a list", str: "a string", int: "a number", float: "a number"}
        kind = kinds.get(type(value)) or json.dumps(value)  # null, true, false
        return Problem(where, f"expected a JSON object, got {kind}")
    return article_from_mapping(value, where, max_chars=max_chars)


# --- Scraped pages -----------------------------------------------------------------------------

CHROME_MARKERS = frozenset(
    {
        "Articles similaires",
        "Articles les plus lus",
        "Les plus lus",
        "Les plus commentés",
        "À lire aussi",
        "Lire aussi",
        "Voir aussi",
        "Sur le même sujet",
        "Dans la même rubrique",
        "EDITO",
        "Nos supplément spéciaux",
        "Nos suppléments spéciaux",
        "Partager",
        "Partager cet article",
        "Newsletter",
        "Inscrivez-vous à notre newsletter",
        "Abonnez-vous à notre newsletter",
        "Commentaires",
        "Laisser un commentaire",
        "Mots-clés",
        "Tags",
    }
)
"""Lines that start the site's chrome after an article's body (teasers, edito, menus).

A page is cut at the first line that is exactly one of these, compared without case, accents or
a trailing colon, so "ÉDITO", "Edito" and "Lire aussi :" all match.
"""


def _fold(line: str) -> str:
    decomposed = unicodedata.normalize("NFKD", line)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split()).rstrip(" :")


_FOLDED_CHROME = frozenset(_fold(marker) for marker in CHROME_MARKERS)

# The section line is usually one name; several are separated by commas, " / " or " | ". Names
# glued without a space ("ActualitéCouvertureUne", as the site prints its teaser list) are split
# where a lowercase letter meets a capital, which no real section name has inside it.
_SECTION_SPLIT = re.compile(r"\s*[,|]\s*|\s+/\s+|(?<=[a-zà-ÿ])(?=[A-ZÀ-Þ])")


def _read_pages(folder: Path, pages: list[Path], max_chars: int) -> Iterator[Record]:
    inside = folder.resolve()
    cap = RAW_BYTES_PER_CHAR * max_chars
    for page in pages:
        data = _page_bytes(page, inside, cap)
        yield data if isinstance(data, Problem) else _read_page(page, data, max_chars)


def _page_bytes(page: Path, folder: Path, cap: int) -> bytes | Problem:
    """The bytes of a page that is a regular file inside ``folder`` (resolved), or why not.

    A symlink is followed only to a target inside the folder (a link to /etc/passwd was indexed
    and shown in snippets). The file is opened non-blocking, so a FIFO answers at once instead of
    hanging the run, and it is checked with fstat on the opened descriptor, so what is read is
    what was checked; at most ``cap`` bytes are read (a link to /dev/zero read until MemoryError).
    """
    target = page.resolve()
    if not target.is_relative_to(folder):
        return Problem(str(page), "points outside the pages folder: skipped")
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY)
    except OSError as exc:
        return Problem(str(page), f"cannot open: {exc.strerror}: skipped")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Problem(str(page), f"not a regular file ({_file_kind(info.st_mode)}): skipped")
        if info.st_size > cap:
            return Problem(
                str(page),
                f"page of {info.st_size:,} bytes, over the limit of "
                f"{cap:,} ({RAW_BYTES_PER_CHAR} × PRESSE_MAX_ARTICLE_CHARS)"
                ": skipped unread",
            )
        data = _read_at_most(fd, cap + 1)
    finally:
        os.close(fd)
    if len(data) > cap:  # it grew while we read it
        return Problem(str(page), f"page over the limit of {cap:,} bytes: skipped")
    return data


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    while limit > 0 and (chunk := os.read(fd, min(limit, 1 << 20))):
        chunks.append(chunk)
        limit -= len(chunk)
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a file")


def _read_page(page: Path, data: bytes, max_chars: int) -> Record:
    """One scraped page: line 1 the section(s), then the title, then body lines until the chrome.

    Lines are laid out as the scraper saves them: blank lines around the title, one line per body
    paragraph. Line 1 may be empty (a page without section); the id is the file's name.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        return Problem(f"{page}:{lineno}", "not valid UTF-8")
    lines = text.splitlines()
    content: list[str] = []
    for line in lines[1:]:
        if _fold(line) in _FOLDED_CHROME:
            break
        if line.strip():
            content.append(line)
    section_line = lines[0] if lines else ""
    raw: dict[str, Any] = {
        "id": page.stem,
        "sections": [s for s in _SECTION_SPLIT.split(section_line) if s.strip()],
        "title": content[0] if content else None,
        "body": "\n\n".join(content[1:]) or None,
    }
    return article_from_mapping(raw, str(page), max_chars=max_chars)


# --- WordPress export (WXR) --------------------------------------------------------------------

_NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
}
_WP_NAMESPACE = re.compile(r"http://wordpress\.org/export/\d+\.\d+/(excerpt/)?$")
_CHUNK = 1 << 20


def _short(tag: str) -> str:
    """ "{http://wordpress.org/export/1.2/}post_id" -> "wp:post_id", for any WXR version."""
    if not tag.startswith("{"):
        return tag
    uri, local = tag[1:].split("}", 1)
    if wp := _WP_NAMESPACE.match(uri):
        return f"{'excerpt' if wp.group(1) else 'wp'}:{local}"
    prefix = _NAMESPACES.get(uri)
    return f"{prefix}:{local}" if prefix else local


class _ItemCollector:
    """Parser target that keeps, for each <item>, its line and its direct children's text.

    It also keeps the export's authors (``<wp:author>``, before the items) to turn the login in
    ``dc:creator`` into the name readers see. Nothing else is kept (no tree), so memory stays flat
    whatever the size of the export.
    """

    def __init__(self) -> None:
        self.parser: Any = None
        self.root = ""
        self.items: list[tuple[int, dict[str, str], list[tuple[str, str]]]] = []
        self.authors: dict[str, str] = {}
        self._record = ""  # "item" or "wp:author" while inside one, else ""
        self._line = 0
        self._fields: dict[str, str] = {}
        self._categories: list[tuple[str, str]] = []
        self._depth = 0  # inside a record: 1 = a direct child of it
        self._child: tuple[str, str] = ("", "")
        self._text: list[str] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _short(tag)
        if not self.root:
            self.root = name
        if not self._record:
            if name in ("item", "wp:author"):
                self._record, self._fields, self._categories = name, {}, []
                self._line = self.parser.parser.CurrentLineNumber
            return
        self._depth += 1
        if self._depth == 1:
            self._child, self._text = (name, attrib.get("domain", "")), []

    def data(self, text: str) -> None:
        if self._record and self._depth == 1:
            self._text.append(text)

    def end(self, tag: str) -> None:
        if not self._record:
            return
        if self._depth == 0:  # </item> or </wp:author>
            if self._record == "item":
                self.items.append((self._line, self._fields, self._categories))
            elif login := self._fields.get("wp:author_login"):
                self.authors[login] = self._fields.get("wp:author_display_name") or login
            self._record = ""
            return
        if self._depth == 1:
            name, domain = self._child
            if name == "category":
                self._categories.append((domain, "".join(self._text)))
            else:
                self._fields[name] = "".join(self._text)
        self._depth -= 1

    def close(self) -> None:
        return None


def _read_wxr(path: Path, max_chars: int) -> Iterator[Record]:
    collector = _ItemCollector()
    parser = DefusedXMLParser(target=collector)
    collector.parser = parser
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            _feed(parser, chunk, path)
            if collector.root and collector.root != "rss":
                raise SourceError(f"{path}: not a WordPress export (<{collector.root}>, not <rss>)")
            yield from _items(collector, path, max_chars)
        _feed(parser, None, path)
    yield from _items(collector, path, max_chars)


def _feed(parser: Any, chunk: bytes | None, path: Path) -> None:
    try:
        if chunk is None:
            parser.close()
        else:
            parser.feed(chunk)
    except ParseError as exc:
        raise SourceError(f"{path}: not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise SourceError(f"{path}: refused unsafe XML: {exc}") from None


def _items(collector: _ItemCollector, path: Path, max_chars: int) -> Iterator[Record]:
    items, collector.items = collector.items, []
    for line, fields, categories in items:
        # Drafts, pages, attachments, revisions and menu items are not articles: skipped quietly.
        if fields.get("wp:post_type") != "post" or fields.get("wp:status") != "publish":
            continue
        # Refused before its HTML is turned into text, which would cost time in its size.
        if (size := sum(map(len, fields.values()))) > RAW_BYTES_PER_CHAR * max_chars:
            yield Problem(
                f"{path}:{line}",
                f"item of {size:,} characters, over the limit of "
                f"{RAW_BYTES_PER_CHAR * max_chars:,} "
                f"({RAW_BYTES_PER_CHAR} × PRESSE_MAX_ARTICLE_CHARS)"
                ": skipped unread",
            )
            continue
        published = fields.get("wp:post_date_gmt", "").strip()
        creator = fields.get("dc:creator", "")
        raw = {
            "id": fields.get("wp:post_id"),
            "title": fields.get("title"),
            "body": html_to_text(fields.get("content:encoded", "")),
            "summary": html_to_text(fields.get("excerpt:encoded", "")),
            "sections": [name for domain, name in categories if domain == "category"],
            "tags": [name for domain, name in categories if domain == "post_tag"],
            # WordPress writes an all-zero GMT date for posts it never scheduled in GMT.
            "published": None if published.startswith("0000-00-00") else published,
            "url": fields.get("link"),
            "author": collector.authors.get(creator, creator),
        }
        yield article_from_mapping(raw, f"{path}:{line}", max_chars=max_chars)
