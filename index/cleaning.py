"""Text cleaning shared by every source: entities, Unicode, whitespace, HTML and dates.

Sources hand raw strings to these functions before ``index.articles.article_from_mapping`` builds
an ``Article``: ``clean_text`` gives one tidy line (titles, names), ``clean_paragraphs`` keeps the
paragraph breaks of a body as blank lines, ``html_to_text`` turns WordPress post HTML (tags,
entities, shortcodes) into such paragraphs, and ``parse_datetime`` reads the ISO 8601 dates of
every source into timezone-aware UTC datetimes. Only the standard library is used.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime
from html.parser import HTMLParser

# Invisible characters that split words for the tokenizer without showing on the page: the soft
# hyphen and zero-width marks that copy-pasted Word or CMS text is full of, and the byte-order mark.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# Control characters other than tab and newline never belong in an article: C0, DEL and C1 (the
# C1 ones are what cp1252 quotes become when mis-decoded as Latin-1). They become spaces.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Code points that no text may hold: lone surrogates (half of a UTF-16 pair, which UTF-8 cannot
# encode) and the 66 noncharacters (U+FDD0..U+FDEF, and the last two of each plane).
_NOT_TEXT = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
    + "]"
)
# \s covers the no-break spaces of French typography (U+00A0, U+202F); they become plain spaces
# so that "10 000" or "3,5 %" tokenise the same whichever space the newsroom typed.
_SPACES = re.compile(r"\s+")
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", html.unescape(text))
    return _CONTROL.sub(" ", _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def invalid_character(text: str) -> str | None:
    """Why ``text`` is not valid Unicode text (the first bad code point, and where), or None."""
    match = _NOT_TEXT.search(text)
    if match is None:
        return None
    code = ord(match.group())
    kind = "lone surrogate" if 0xD800 <= code <= 0xDFFF else "noncharacter"
    return f"{kind} U+{code:04X} at character {match.start() + 1}"


def clean_text(text: str) -> str:
    """One line of text: entities decoded, NFC, every run of whitespace (newlines too) one space."""
    return _SPACES.sub(" ", _normalise(text)).strip()


def clean_paragraphs(text: str) -> str:
    """Like ``clean_text`` inside each paragraph; paragraphs (split at blank lines) joined by one.

    A single newline is a soft wrap, not a paragraph break, so it becomes a space.
    """
    paragraphs = (_SPACES.sub(" ", p).strip() for p in _PARAGRAPH_BREAK.split(_normalise(text)))
    return "\n\n".join(p for p in paragraphs if p)


# Elements that start a new paragraph. <br> too: WordPress writes a lone line break for a new line
# in the editor, and a snippet that glues two lines into one sentence reads worse than a break.
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    }
)
_SKIPPED = frozenset({"script", "style", "noscript", "template"})


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, with a blank line wherever a block starts or ends."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:  # <br/>, <hr/>: no end tag will follow
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


# A WordPress shortcode marker: [name], [name attr="..."], [/name] or [name /].
_SHORTCODE = re.compile(r"\[(/?)([A-Za-z_][\w-]*)((?:\s[^\[\]]*)?)\]")
# Shortcodes whose content is a URL or a media id rather than prose: dropped with their content.
_MEDIA_SHORTCODES = ("embed", "video", "audio", "playlist", "gallery")
# Names known to be shortcodes even when they appear alone and without attributes.
_KNOWN_SHORTCODES = frozenset({"caption", "wp_caption", *_MEDIA_SHORTCODES})


def drop_shortcodes(text: str) -> str:
    """Remove WordPress shortcode markers, keeping the text between ``[caption]…[/caption]``.

    Square brackets are also ordinary French punctuation ("[sic]", "il [le ministre] a dit"), so a
    bracket is only a shortcode when it is closed somewhere by ``[/name]``, carries ``key=value``
    attributes, or has a known shortcode name.
    """
    for name in _MEDIA_SHORTCODES:
        text = re.sub(rf"\[{name}\b[^\]]*\].*?\[/{name}\]", " ", text, flags=re.S | re.I)
    closed = {m.lower() for m in re.findall(r"\[/([A-Za-z_][\w-]*)\]", text)}

    def replace(match: re.Match[str]) -> str:
        name, attributes = match.group(2).lower(), match.group(3)
        if match.group(1) or name in closed or name in _KNOWN_SHORTCODES or "=" in attributes:
            return " "
        return match.group(0)

    return _SHORTCODE.sub(replace, text)


def html_to_text(html_text: str) -> str:
    """Plain paragraphs from post HTML: tags, scripts and shortcodes dropped, entities decoded.

    Blank lines already in the HTML are kept as paragraph breaks, as WordPress itself does when it
    displays a post (its editor stores paragraphs as blank lines, not always as ``<p>``).
    """
    extractor = _TextExtractor()
    extractor.feed(html_text)
    extractor.close()
    return clean_paragraphs(drop_shortcodes("".join(extractor.parts)))


_DATE_HINT = "expected ISO 8601, e.g. 2012-01-27, 2012-01-27 10:00:00 or 2012-01-27T10:00:00+01:00"


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date or datetime as an aware UTC datetime.

    A datetime with no offset is taken to be UTC, a date alone to be midnight UTC; "Z" and a space
    instead of "T" are accepted. Anything else raises ``ValueError("cannot parse date '…' (…)")``.
    """
    stripped = text.strip()
    # fromisoformat also takes ISO "basic" forms (20120127, 2012-W05); they never occur in news
    # feeds and are more likely a wrong field, so a date must start like YYYY-MM-DD.
    if not re.match(r"\d{4}-\d{2}-\d{2}(?:$|[T ])", stripped):
        raise ValueError(f"cannot parse date {text!r} ({_DATE_HINT})")
    try:
        value = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"cannot parse date {text!r} ({_DATE_HINT})") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is in year 10000 in UTC
        raise ValueError(f"date {text!r} is out of range once converted to UTC") from None
