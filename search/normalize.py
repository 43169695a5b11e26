"""How a reader's query is written down by the editors' tools (issue 12).

Two forms of the same text:

- ``display_form``: what reports and "Recherches populaires" show: Unicode NFKC, control and
  format characters removed, runs of whitespace collapsed, lowercase, at most ``MAX_CHARS``;
- ``query_key``: what groups queries in reports and matches pins: the display form with accents
  and ligatures folded (``index.analysis.fold``) and its words sorted, so ``Élections
  législatives`` and ``legislatives elections`` are one query.

Neither is HTML-escaped: escaping is the job of whatever shows them (the admin page builds its
DOM with ``textContent``; the CSV writer neutralises formulas).
"""

from __future__ import annotations

import re
import unicodedata

from index.analysis import fold

MAX_CHARS = 500  # the API refuses longer queries (search.results.MAX_QUERY_CHARS)
_WORD = re.compile(r"\w+")


def display_form(text: str) -> str:
    """``text`` as reports show it: no control characters, one space between words, lowercase."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isprintable():  # the rare case: look at each character (~1 µs each)
        # Cc (controls), Cf (format: zero-width, bidi overrides), Cs/Co/Cn: never shown.
        text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(text.split()).lower()[:MAX_CHARS]


def query_key(text: str, *, displayed: bool = False) -> str:
    """The form that groups queries and matches pins: folded words, sorted, each once.

    ``displayed=True`` says that ``text`` is already a ``display_form``.
    """
    shown = text if displayed else display_form(text)
    return " ".join(sorted(set(_WORD.findall(fold(shown)))))
