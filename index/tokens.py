"""One analysis pass per text, whose tokens feed both Whoosh and the serving image.

``TextAnalyser.analyse(text)`` runs the French chain of ``index.analysis`` once and returns, for
every kept token in order: its stemmed term (what Whoosh indexes, at consecutive positions), its
character span in ``text`` (what snippets mark), its surface form (lowercase, accents kept:
the words that spelling and autocomplete show) and that form folded (exact-form ranking:
``economie`` typed is the exact form of ``économie``). Whoosh's postings are written from the
terms (at positions 0, 1, 2… over the kept tokens, see ``index.postings``), so no text is
analysed twice during a build: v1 ran the stemmed chain inside Whoosh and the surface chain
beside it, and re-analysed every hit's body at query time for snippets.

Each distinct raw word is analysed once per process and remembered (the cache of v1's filter):
news copy keeps reusing the same words.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from index.analysis import _WORD, FrenchFilter, fold

# (stem, surface, folded surface, start, end) of each kept part of one raw word, relative to it.
_Parts = tuple[tuple[str, str, str, int, int], ...]
CACHE_WORDS = 400_000  # distinct raw words remembered (~60 MB at most); the corpus has ~250k


@dataclass(slots=True)
class Tokens:
    """The kept tokens of one text, in order."""

    terms: list[str]
    surfaces: list[str]
    folded: list[str]
    starts: array[int]
    ends: array[int]


class TextAnalyser:
    """The stemmed and surface chains of ``index.analysis`` in one pass (one per process)."""

    def __init__(self, stemmer: str = "snowball") -> None:
        self.stemmed = FrenchFilter(stemmer=stemmer)
        self.surface = FrenchFilter(stemmer="none", surface=True)
        self._parts: dict[str, _Parts] = {}

    def _word(self, word: str) -> _Parts:
        parts = self._parts.get(word)
        if parts is None:
            stems = self.stemmed.analyse_word(word)
            surfaces = self.surface.analyse_word(word)
            # Both filters split a word the same way and stop the same parts (the stop list is
            # compared on the folded form in both); only the term differs.
            parts = tuple(
                (stem, surface, fold(surface), start, end)
                for (stem, start, end, stopped), (surface, _, _, _) in zip(
                    stems, surfaces, strict=True
                )
                if not stopped
            )
            if len(self._parts) >= CACHE_WORDS:
                self._parts.clear()
            self._parts[word] = parts
        return parts

    def analyse(self, text: str) -> Tokens:
        terms: list[str] = []
        surfaces: list[str] = []
        folded: list[str] = []
        starts: array[int] = array("i")
        ends: array[int] = array("i")
        for match in _WORD.finditer(text):
            base = match.start()
            for stem, surface, plain, start, end in self._word(match.group()):
                terms.append(stem)
                surfaces.append(surface)
                folded.append(plain)
                starts.append(base + start)
                ends.append(base + end)
        return Tokens(terms, surfaces, folded, starts, ends)
