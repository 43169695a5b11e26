"""Synonyms, applied at query time with no reindex (issue 12).

Two kinds of rule, written as in Solr's and Elasticsearch's synonym files:

- a set, ``BAM, Bank Al-Maghrib, banque centrale``: each entry also searches the others;
- a one-way expansion, ``PJD => Parti de la justice et du développement``: the left side also
  searches the right side, never the reverse.

Entries are matched through the analyzer of the index being searched, so accents, case,
elision and plurals do not matter (``banques centrales`` triggers ``banque centrale``); an entry
of several words matches the reader's words in that order and is searched as a phrase. What a
rule adds goes to ``ParsedQuery.expansions`` with ``EXPANSION_WEIGHT``; ``score_expansion``
scores such a clause as an optional alternative (see its docstring), and the answer lists the
expansions applied. With no rule, nothing changes: no expansion, the same scores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from search.query import Clause, ParsedQuery, make_clause
from search.ranking import Postings, Scorer

# Expanded terms count half of a typed word: enough to bring in the articles that only say
# "Bank Al-Maghrib" for "BAM", not enough to outrank those holding the word typed.
EXPANSION_WEIGHT = 0.5
MAX_EXPANSIONS = 8  # clauses added to one query, whatever the rules: bounds the cost
MAX_TERMS = 20  # entries in one rule
MAX_TERM_CHARS = 100
_CACHED_CLAUSES = 4096

Kind = Literal["set", "oneway"]


class SynonymError(ValueError):
    """A synonym rule that cannot be used; the message says why, for the editor."""


@dataclass(frozen=True)
class SynonymRule:
    """One rule: ``terms`` search each other (set), or search ``expansions`` too (one-way)."""

    id: int
    kind: Kind
    terms: tuple[str, ...]
    expansions: tuple[str, ...] = ()

    def pairs(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """(entry, what it also searches) for each entry that triggers the rule."""
        for term in self.terms:
            if self.kind == "set":
                yield term, tuple(t for t in self.terms if t != term)
            else:
                yield term, self.expansions

    @property
    def line(self) -> str:
        """The rule as an editor writes it."""
        if self.kind == "set":
            return ", ".join(self.terms)
        return f"{', '.join(self.terms)} => {', '.join(self.expansions)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "terms": list(self.terms),
            "expansions": list(self.expansions),
            "line": self.line,
        }


def _entries(text: str) -> tuple[str, ...]:
    entries = tuple(dict.fromkeys(" ".join(e.split()) for e in text.split(",") if e.strip()))
    for entry in entries:
        if len(entry) > MAX_TERM_CHARS:
            raise SynonymError(f"an entry may hold at most {MAX_TERM_CHARS} characters")
        if any(ord(ch) < 32 for ch in entry):
            raise SynonymError("an entry may not hold control characters")
    return entries


def parse_rule(line: str, rule_id: int = 0) -> SynonymRule:
    """``a, b, c`` (a set) or ``a, b => c, d`` (one-way) as a rule; ``SynonymError`` if not."""
    left, arrow, right = line.partition("=>")
    terms = _entries(left)
    expansions = _entries(right) if arrow else ()
    if arrow:
        if not terms or not expansions:
            raise SynonymError("a one-way rule needs words on both sides of =>")
        rule = SynonymRule(rule_id, "oneway", terms, expansions)
    else:
        if len(terms) < 2:
            raise SynonymError(
                "a set needs at least two entries separated by commas "
                "(or write a one-way rule: PJD => Parti de la justice …)"
            )
        rule = SynonymRule(rule_id, "set", terms)
    if len(rule.terms) + len(rule.expansions) > MAX_TERMS:
        raise SynonymError(f"a rule may hold at most {MAX_TERMS} entries")
    return rule


def rule_from_dict(data: Mapping[str, Any], rule_id: int = 0) -> SynonymRule:
    """A rule from its JSON form (``line``, or ``kind``/``terms``/``expansions``)."""
    if isinstance(data.get("line"), str):
        return parse_rule(data["line"], rule_id)
    terms, expansions = data.get("terms"), data.get("expansions") or []
    if (
        not isinstance(terms, list)
        or not all(isinstance(t, str) for t in terms)
        or not isinstance(expansions, list)
        or not all(isinstance(t, str) for t in expansions)
    ):
        raise SynonymError("give line, or terms (and expansions) as lists of text")
    if any("," in t or "=>" in t for t in [*terms, *expansions]):
        raise SynonymError("an entry may not hold ',' or '=>'")
    line = ", ".join(terms) + (" => " + ", ".join(expansions) if expansions else "")
    rule = parse_rule(line, rule_id)
    if data.get("kind", rule.kind) != rule.kind:
        raise SynonymError("kind must be 'set' (no expansions) or 'oneway' (with expansions)")
    return rule


_clauses: dict[tuple[int, str], Clause] = {}


def _analysed(text: str, analyzers: tuple[Any, Any]) -> Clause:
    # Rules are few and queries many: an entry is analysed once per analyzer. (Analyzers are
    # not hashable; the index's analyzer lives as long as its snapshot.)
    key = (id(analyzers[0]), text)
    clause = _clauses.get(key)
    if clause is None:
        if len(_clauses) >= _CACHED_CLAUSES:
            _clauses.clear()
        clause = _clauses[key] = make_clause(text, analyzers, phrase=True, negated=False)
    return clause


def _holds(sequence: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(sequence[i : i + n] == part for i in range(len(sequence) - n + 1))


@dataclass(frozen=True, eq=False)
class Synonyms:
    """The newsroom's rules at one ``version``; equal (and hashed) by version, so that a search
    request carrying them is a cheap key of the engine's answer cache."""

    version: str
    rules: tuple[SynonymRule, ...] = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Synonyms) and other.version == self.version

    def __hash__(self) -> int:
        return hash(("synonyms", self.version))

    def expand(self, parsed: ParsedQuery, analyzers: tuple[Any, Any]) -> ParsedQuery:
        """``parsed`` with the expansions of every rule an entry of which the reader typed."""
        if not self.rules or parsed.is_empty:
            return parsed
        typed = tuple(t for clause in parsed.positive for t in clause.stems)
        typed_set = set(typed)
        expansions: list[Clause] = []
        seen: set[tuple[str, ...]] = set()
        for rule in self.rules:
            for entry, others in rule.pairs():
                trigger = _analysed(entry, analyzers).stems
                if not trigger or not _holds(typed, trigger):
                    continue
                for other in others:
                    clause = _analysed(other, analyzers)
                    if not clause.stems or set(clause.stems) <= typed_set or clause.stems in seen:
                        continue  # nothing to search, or already typed, or already added
                    seen.add(clause.stems)
                    expansions.append(replace(clause, weight=EXPANSION_WEIGHT, expanded_from=entry))
        if not expansions:
            return parsed
        return replace(parsed, expansions=tuple(expansions[:MAX_EXPANSIONS]))


NO_SYNONYMS = Synonyms("")


def score_expansion(
    scorer: Scorer,
    clause: Clause,
    postings: Callable[[str, str], Postings],
    norms: Mapping[str, np.ndarray],
    field_weights: Mapping[str, float],
    holding: np.ndarray | None = None,
) -> None:
    """Add a synonym clause to ``scorer`` as an optional, lighter alternative.

    Each of its terms scores BM25F at ``clause.weight``, only in the documents of ``holding``
    (the documents holding the whole phrase, for an entry of several words) when given. It is
    left out of the coordination factor, so a document holding every typed word loses nothing
    to a synonym it lacks; and the documents it finds count as matching (``scorer.count``), so
    that an article saying only "Bank Al-Maghrib" is found for "BAM".
    """
    for term in dict.fromkeys(clause.stems):
        fields = []
        for field, weight in field_weights.items():
            ids, freqs = postings(field, term)
            if holding is not None and len(ids):
                keep = holding[ids]
                ids, freqs = ids[keep], freqs[keep]
            fields.append(((ids, freqs), weight, norms[field]))
        docs = scorer.add_term("~" + term, fields, weight=clause.weight, count_match=False)
        if len(docs):
            scorer.count[docs] = np.maximum(scorer.count[docs], 1)
