"""French text analysis: one Whoosh chain for indexing and querying, and an unstemmed twin.

The stemmed chain (``french_analyzer``, for title/summary/body and for queries) is::

    FrenchTokenizer | FrenchFilter(stemmer)
    words -> elision -> lowercase -> fold -> stop words -> minimum length -> stemmer

- The tokenizer is one regex: letters and digits, joined by internal apostrophes (``aujourd'hui``,
  ``prud'hommes``) and hyphens (``Maroc-France``, ``COVID-19``), and by ``,``/``.`` between digits
  (``3,5``, ``32.000``). Hyphenated compounds are split by the filter into their parts at
  consecutive positions, so ``maroc``, ``france`` and the phrase ``"maroc france"`` all find them.
- Elision of ``l m t qu n s j d c jusqu quoiqu lorsqu puisqu`` before ``'`` or ``’``, any case, as
  Lucene's ``FrenchAnalyzer``; other apostrophes stay inside the word (``aujourd'hui`` is one).
- ``fold`` (lowercase, accents, ``œ``/``æ``/``ß``, ``’`` -> ``'``) runs *before* the stop list and
  the stemmer: ``economie`` typed without accents matches, and Snowball cannot split
  ``sécurité``/``securite`` into two terms.
- Stop words: Snowball/Lucene's French list with the folded form of every entry, compared on the
  folded word; news-meaningful homonyms are kept (see ``KEPT_HOMONYMS``).
- Minimum length 2 for words (``UE``, ``TIC`` kept; ``l``, ``à``, ``a`` not), any length for digits.
- Stemmer: Snowball French (PyStemmer, in C) or our port of Savoy's light stemmer (Lucene's
  ``FrenchLightStemmer``), both fed the folded word; words with digits are not stemmed.

Speed (about 4x ``LanguageAnalyzer("fr")``): Whoosh runs one Python generator per filter per
token, so all the per-word work lives in ONE filter holding a bounded cache from the raw word
(``L'économie``) to its term(s), and a repeated word costs one dict lookup; when no character
offsets are asked for (indexing, query terms), the tokenizer hands the filter its ``findall``
list instead of a generator. Offsets (snippets, phrase queries) take a slower exact path.
Positions are renumbered over the kept terms (as Whoosh's ``StopFilter`` does), because
Whoosh's phrase queries drop stop words from the query too.
The analyzers are pickled into the index schema: module-level classes, no lambdas, and the
caches and the stemmer objects are dropped on pickling and rebuilt lazily. Changing anything here
changes the terms, so it means a reindex.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import Stemmer
from whoosh.analysis import CompositeAnalyzer, Filter, Token, Tokenizer

__all__ = [
    "ELISION_ARTICLES", "KEPT_HOMONYMS", "QUESTION_WORDS", "STOP_WORDS", "FrenchFilter",
    "FrenchTokenizer", "analyze", "analyze_positions", "fold", "french_analyzer", "light_stem",
    "surface_analyzer",
]  # fmt: skip

# --- folding -------------------------------------------------------------------------------

_SPECIAL_FOLDS = {
    "œ": "oe", "æ": "ae", "ß": "ss", "ẞ": "ss", "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i",
    "’": "'", "‘": "'", "ʼ": "'", "′": "'",
}  # fmt: skip


def _fold_char(ch: str) -> str:
    if ch in _SPECIAL_FOLDS:
        return _SPECIAL_FOLDS[ch]
    # NFKD also takes apart ligatures (ﬁ) and compatibility forms (fullwidth letters, ²).
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# Precomputed for Latin-1, Latin Extended-A/B and the combining accents; any other non-ASCII
# character is computed once on first sight and added (the table is the cache).
_FOLD_TABLE: dict[int, str] = {
    cp: _fold_char(chr(cp)) for cp in (*range(0xC0, 0x250), *range(0x300, 0x370))
}
_FOLD_TABLE.update({ord(ch): _fold_char(ch) for ch in _SPECIAL_FOLDS})


def fold(text: str) -> str:
    """Lowercase ``text`` and fold accents and ligatures: ``L’Œuvre Été`` -> ``l'oeuvre ete``."""
    folded = text.lower().translate(_FOLD_TABLE)
    if folded.isascii():
        return folded
    new = {ord(ch) for ch in folded if ord(ch) > 0x7F} - _FOLD_TABLE.keys()
    if not new:
        return folded
    _FOLD_TABLE.update({cp: _fold_char(chr(cp)) for cp in new})
    return folded.translate(_FOLD_TABLE)


# --- stop words ----------------------------------------------------------------------------

# Snowball's French list (snowballstem.org, BSD; Lucene's french_stop.txt), plus "aura"/"auras":
# Snowball leaves them out as homonyms of the noun, but news copy uses the verb ("il y aura").
_SNOWBALL_TEXT = """
au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes moi mon
ne nos notre nous on ou par pas pour qu que qui sa se ses sur ta te tes toi ton tu un une vos votre
vous c d j l à m n s t y
étée étées étant suis es êtes sont serai seras sera serons serez seront serais serait serions
seriez seraient étais était étions étiez étaient fus fut fûmes fûtes furent sois soit soyons soyez
soient fusse fusses fussions fussiez fussent
ayant eu eue eues eus ai avons avez ont aurai aurons aurez auront aurais aurait aurions auriez
auraient avais avait aviez avaient eut eûmes eûtes eurent aie aies ait ayons ayez aient eusse
eusses eût eussions eussiez eussent
ceci cela celà cet cette ici ils les leurs quel quels quelle quelles sans soi
aura auras
"""
_SNOWBALL_FRENCH = _SNOWBALL_TEXT.split()

# News-meaningful homonyms, never stopped. Snowball's list already leaves them out, and so do we:
# été/étés (summer: "l'été", "JO d'été"), est (east: "l'Est", "nord-est"), son (sound: "son et
# lumière"), sommes (sums: "les sommes versées"), avions (planes), fût (barrel), as (ace).
# "maïs" is here because it folds to "mais", a stop word: the stop check spares the words listed
# here as written. "est" is stopped after c'/n'/s'/qu' only (c'est, n'est, s'est, qu'est-ce),
# where it is always the verb: half of its occurrences in the corpus, so the East keeps a term
# that is not in every article.
KEPT_HOMONYMS: frozenset[str] = frozenset(
    {"été", "étés", "est", "son", "sommes", "avions", "fût", "as", "maïs"}
)
STOP_WORDS: frozenset[str] = frozenset(_SNOWBALL_FRENCH) | {fold(w) for w in _SNOWBALL_FRENCH}
_VERB_ELISIONS = frozenset({"c", "n", "s", "qu"})
# Interrogatives say that the reader asks, not what about: searched for, they only add noise
# (measured on PIAF's questions, see the note on issue 3). Not stop words of the index: the
# query parser drops them outside quotes, and autocomplete never starts or ends a phrase on one.
QUESTION_WORDS: frozenset[str] = frozenset({
    "comment", "pourquoi", "combien", "quand", "quoi", "lequel", "laquelle", "lesquels",
    "lesquelles", "auquel", "auxquels", "auxquelles", "duquel", "desquels", "desquelles",
})  # fmt: skip

# --- the light stemmer (Savoy, as Lucene's FrenchLightStemmer), on folded text -------------------

# Lucene's rules in its order: (length above which, suffix, characters cut, text added, last?).
# A rule that is not the last one goes on down the list with the shortened word.
_LIGHT_RULES = [
    (9, "issement", 7, "r", True), (8, "issant", 5, "r", True), (6, "ement", 4, "", True),
    (11, "ficatrice", 7, "er", True), (10, "ficateur", 6, "er", True),
    (9, "catrice", 7, "quer", True), (8, "cateur", 6, "quer", True),
    (8, "atrice", 6, "er", True), (7, "ateur", 5, "er", True), (6, "trice", 4, "eur", False),
    (5, "ieme", 4, "", True), (7, "teuse", 3, "r", True), (6, "teur", 2, "r", True),
    (5, "euse", 2, "", True), (8, "ere", 3, "er", True), (7, "ive", 2, "f", True),
    (4, "folle", 3, "u", True), (4, "molle", 3, "u", True),
    (9, "nnelle", 5, "", True), (9, "nnel", 3, "", True), (4, "ete", 3, "et", False),
    (8, "ique", 4, "", False), (8, "esse", 3, "", True), (7, "inage", 3, "", True),
    (9, "isation", 7, "", True), (9, "isateur", 7, "", True),
    (8, "ation", 5, "", True), (8, "ition", 5, "", True),
]  # fmt: skip
_LIGHT_SUFFIXES = tuple(rule[1] for rule in _LIGHT_RULES)
_DOUBLED = re.compile(r"([^\W\d_])\1+")


def light_stem(s: str) -> str:
    """Savoy's light French stemmer, as Lucene's ``FrenchLightStemmer``, on a folded word."""
    if len(s) > 5 and s[-1] == "x":  # chevaux -> cheval
        s = s[:-2] + "l" if s[-3] == "a" and s[-2] == "u" and s[-4] != "e" else s[:-1]
    if len(s) > 3 and s[-1] == "x":
        s = s[:-1]
    if len(s) > 3 and s[-1] == "s":
        s = s[:-1]
    if not s.endswith(_LIGHT_SUFFIXES):  # most words: no rule applies
        return _light_norm(s)
    for longer_than, suffix, cut, added, last in _LIGHT_RULES:
        if len(s) > longer_than and s.endswith(suffix):
            s = s[:-cut] + added
            if suffix == "ement" and len(s) > 3 and s.endswith("ive"):
                s = s[:-2] + "f"  # administrativement -> administratif
            elif suffix == "isation" and len(s) > 5 and s.endswith("ual"):
                s = s[:-2] + "el"  # ritualisation -> rituel
            if last:
                break
    return _light_norm(s)


def _light_norm(s: str) -> str:
    # Lucene's "norm"; its accent mapping is a no-op here, the word is already folded.
    if len(s) > 4:
        s = _DOUBLED.sub(r"\1", s)
    if len(s) > 4 and s.endswith("ie"):
        s = s[:-2]
    if len(s) > 4:
        for letter in "ree":
            if s[-1] == letter:
                s = s[:-1]
        if s[-1] == s[-2] and s[-1].isalpha():
            s = s[:-1]
    return s


# --- tokenizer and filter ------------------------------------------------------------------

# The tokenizer only finds the words, with their internal apostrophes and hyphens, a decimal
# separator followed by a digit (3,5) and combining accents (a query typed in NFD): a character
# class with possessive quantifiers runs as fast as a bare \w+. What it lets through (a trailing
# "-" or "'") is trimmed by _PART, once per distinct raw word thanks to the filter's cache.
_WORD = re.compile(
    r"\w[\w\u0300-\u036f'’\-\u2010\u2011]*+(?:[.,](?=\d)[\w\u0300-\u036f'’\-\u2010\u2011]*+)*+"
)
# The elided articles (Lucene's FrenchAnalyzer's list), cut before ' or ’ in any case.
ELISION_ARTICLES = ("l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu",
                    "puisqu")  # fmt: skip
_ELISION = re.compile(rf"({'|'.join(ELISION_ARTICLES)})['’]", re.IGNORECASE)
# The parts of a raw word: split at hyphens, keep internal apostrophes and decimal separators.
_PART = re.compile(r"[\w\u0300-\u036f]+(?:(?:['’]|(?<=\d)[.,](?=\d))[\w\u0300-\u036f]+)*")
STEMMERS = ("snowball", "light", "none")

# (term, start, end, stopped), start and end relative to the raw word.
_Part = tuple[str, int, int, bool]


class _Words:
    """The words of a text, as ``FrenchTokenizer`` hands them on when no offsets are asked for.

    Iterating gives ordinary Whoosh tokens, so any filter works after the tokenizer; but
    ``FrenchFilter`` reads ``words`` directly, which saves a Python generator step per word.
    """

    __slots__ = ("token", "words")

    def __init__(self, words: list[str], token: Token):
        self.words, self.token = words, token

    def __iter__(self) -> Iterator[Token]:
        t, start = self.token, self.token.pos
        for pos, word in enumerate(self.words, start):
            t.text, t.pos = word, pos
            yield t


class FrenchTokenizer(Tokenizer):  # type: ignore[misc]
    """Words with their internal apostrophes, hyphens and decimal separators, one token each."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterable[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        t.pos = start_pos
        if not tokenize:  # the query parser's wildcards and ranges: one term, only normalised
            t.text = t.original = value
            t.startchar, t.endchar = start_char, start_char + len(value)
            t.verbatim = True
            return [t]
        if chars or keeporiginal:
            return self._with_offsets(t, value, start_pos, start_char)
        return _Words(_WORD.findall(value), t)  # findall: the regex engine's fastest loop

    @staticmethod
    def _with_offsets(t: Token, value: str, start_pos: int, start_char: int) -> Iterator[Token]:
        for pos, match in enumerate(_WORD.finditer(value), start_pos):
            t.text = t.original = match.group()
            t.pos = pos
            t.startchar, t.endchar = start_char + match.start(), start_char + match.end()
            yield t


class FrenchFilter(Filter):  # type: ignore[misc]
    """Elision, hyphen split, lowercase, fold, stop words, minimum length and stemming in one pass.

    ``surface=True`` keeps the lowercase accented form, unstemmed (the surface chain); the stop
    list is still compared on the folded form. ``no_morph`` (Whoosh's switch to skip stemmers)
    is not honoured, as this filter does more than stem: ``surface_analyzer`` gives unstemmed
    words. Positions are renumbered over the kept terms, from the first token's position.
    """

    def __init__(self, stemmer: str = "snowball", surface: bool = False, cachesize: int = 200_000):
        if stemmer not in STEMMERS:
            raise ValueError(f"stemmer must be one of {STEMMERS}, not {stemmer!r}")
        if surface and stemmer != "none":
            raise ValueError("surface forms are not stemmed: the stemmers work on folded words")
        self.stemmer = stemmer
        self.surface = surface
        self.cachesize = cachesize
        # raw word -> its term, "" (none: a stop word) or its terms (compounds); and -> its parts
        self._terms: dict[str, str | tuple[str, ...]] = {}
        self._parts: dict[str, tuple[_Part, ...]] = {}
        self._local = threading.local()  # a PyStemmer object is not thread-safe: one per thread

    def __getstate__(self) -> dict[str, Any]:
        return {"stemmer": self.stemmer, "surface": self.surface, "cachesize": self.cachesize}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.__getstate__() == other.__getstate__()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FrenchFilter(stemmer={self.stemmer!r}, surface={self.surface})"

    def _stemmer(self) -> Callable[[str], str]:
        if self.stemmer != "snowball":
            return light_stem if self.stemmer == "light" else str
        stem: Callable[[str], str] | None = getattr(self._local, "stem", None)
        if stem is None:
            stem = self._local.stem = Stemmer.Stemmer("french", 0).stemWord  # 0: ours is enough
        return stem

    def analyse_word(self, word: str) -> tuple[_Part, ...]:
        """The parts of one raw word from the tokenizer: (term, start, end, stopped), uncached."""
        if word.isalnum():  # most words: no elision, no compound, no decimal separator
            term, stopped = self._term(word)
            return ((term, 0, len(word), stopped),)
        offset, verb = 0, False
        elided = _ELISION.match(word)
        if elided and elided.end() < len(word):
            offset, verb = elided.end(), elided.group(1).lower() in _VERB_ELISIONS
        parts: list[_Part] = []
        for part in _PART.finditer(word, offset):
            term, stopped = self._term(part.group(), verb)
            parts.append((term, part.start(), part.end(), stopped))
            verb = False
        return tuple(parts)

    def _term(self, raw: str, after_verb_elision: bool = False) -> tuple[str, bool]:
        lower = raw.lower()
        if not lower.isascii():
            lower = unicodedata.normalize("NFC", lower.replace("’", "'"))
        key = fold(lower)
        stopped = (
            (key in STOP_WORDS and lower not in KEPT_HOMONYMS)
            or (after_verb_elision and key == "est")
            or (len(key) < 2 and not key.isdigit())
        )
        term = lower if self.surface else key
        if not stopped and term.replace("'", "").isalpha():
            term = self._stemmer()(term)
        return term, stopped

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        if type(tokens) is not _Words or not tokens.token.removestops:
            yield from self._exact(tokens)
            return
        t = tokens.token
        pos = t.pos - 1
        get = self._terms.get
        for word in tokens.words:
            terms = get(word)
            if terms.__class__ is str:
                if terms:  # the common case: one term ("" is a stop word)
                    pos += 1
                    t.text = terms
                    t.pos = pos
                    yield t
                continue
            if terms is None:
                terms = self._learn(word)
            for term in terms:  # compounds, and words seen for the first time
                pos += 1
                t.text = term
                t.pos = pos
                yield t

    def _learn(self, word: str) -> tuple[str, ...]:
        kept = tuple(term for term, _, _, stopped in self.analyse_word(word) if not stopped)
        if len(self._terms) >= self.cachesize:
            self._terms.clear()  # crude but cheap: the working set refills in a few documents
        self._terms[word] = kept if len(kept) > 1 else "".join(kept)
        return kept

    def _exact(self, tokens: Iterable[Token]) -> Iterator[Token]:
        # Each part with its own character span, and stop words kept when asked (highlighting).
        cache = self._parts
        pos: int | None = None
        for t in tokens:
            if pos is None:
                pos = getattr(t, "pos", 0) - 1
            word = t.text
            if getattr(t, "verbatim", False):  # as Lucene: a wildcard is folded, never stemmed
                t.text = word.lower().replace("’", "'") if self.surface else fold(word)
                yield t
                continue
            parts = cache.get(word)
            if parts is None:
                if len(cache) >= self.cachesize:
                    cache.clear()
                parts = cache[word] = self.analyse_word(word)
            base = t.startchar if t.chars else 0
            for term, start, end, stopped in parts:
                if stopped and t.removestops:
                    continue
                if not stopped:
                    pos += 1
                # a kept stop word (highlighting) sits at the position of the next term
                t.text, t.pos, t.stopped = term, pos + stopped, stopped
                if t.chars:
                    t.startchar, t.endchar = base + start, base + end
                yield t
                t.stopped = False


# --- the analyzers and conveniences --------------------------------------------------------


def french_analyzer(stemmer: str = "snowball") -> CompositeAnalyzer:
    """The stemmed chain for title, summary and body, and for queries on them.

    ``stemmer``: ``"snowball"`` (PyStemmer's French, on the folded word), ``"light"`` (Savoy's
    light stemmer, as Elasticsearch's ``light_french``) or ``"none"``.
    """
    return FrenchTokenizer() | FrenchFilter(stemmer=stemmer)


def surface_analyzer() -> CompositeAnalyzer:
    """The unstemmed, unfolded chain of the ``words`` field (spelling, autocomplete, exact forms).

    Same tokenizer, elision, hyphen split, stop list and minimum length as ``french_analyzer``,
    but the terms stay lowercase *with their accents* (``économie``; only ``’`` becomes ``'``):
    suggestions and completions must show real words, not ``econom`` nor ``economie``. The engine
    folds at lookup time (a folded word -> most frequent surface form table), which is also why
    stop words are compared on the folded form here: ``etait`` and ``était`` are both stopped.
    """
    return FrenchTokenizer() | FrenchFilter(stemmer="none", surface=True)


def analyze(analyzer: Any, text: str) -> list[str]:
    """The terms ``analyzer`` makes of ``text``, in order."""
    return [t.text for t in analyzer(text)]


def analyze_positions(analyzer: Any, text: str) -> list[tuple[str, int]]:
    """The terms of ``text`` with their positions (consecutive over the kept terms)."""
    return [(t.text, t.pos) for t in analyzer(text, positions=True)]
