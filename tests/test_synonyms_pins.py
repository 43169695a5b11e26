"""Synonyms and pinned results (issue 12), on real indexes, with no reindex.

- rules are parsed as editors write them (sets, one-way ``=>``) and refused with a reason;
- a rule applies through the French analysis (accents, case, plurals), multi-word entries as
  phrases; expanded terms weigh less than typed words; the answer lists the expansion;
- with no rule, answers are exactly those of the engine without synonyms;
- pins match the query whatever its accents, case and word order, come first flagged
  ``"pinned": true`` (3 at most), respect their time window, and never show an article gone
  from the index; a change made through the store shows in the next search.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from conftest import BuildIndex, MakeClient

from search.config import Settings
from search.editorial import EditorialStore
from search.engine import Engine
from search.newsroom import Newsroom
from search.pins import Pin, pinned_ids, with_pins
from search.results import SearchRequest
from search.synonyms import EXPANSION_WEIGHT, SynonymError, Synonyms, parse_rule

ARTICLES: list[dict[str, Any]] = [
    {"id": "bam-sigle", "title": "BAM : le conseil se réunit mardi",
     "body": "Le conseil de BAM se réunit mardi à Rabat pour examiner la conjoncture.",
     "published": "2026-03-01T10:00:00Z"},
    {"id": "bam-nom", "title": "Bank Al-Maghrib maintient son taux",
     "body": "Bank Al-Maghrib a maintenu son taux inchangé, faute de pression sur les prix.",
     "published": "2026-03-01T10:00:00Z"},
    {"id": "banques-afrique", "title": "Les banques centrales africaines face aux prix",
     "body": "Les banques centrales du continent relèvent leurs taux.",
     "published": "2026-03-01T10:00:00Z"},
    {"id": "pjd-sigle", "title": "Le PJD prépare son congrès",
     "body": "Le PJD a réuni ses cadres samedi.", "published": "2026-03-01T10:00:00Z"},
    {"id": "pjd-nom", "title": "Congrès du Parti de la justice et du développement",
     "body": "Le Parti de la justice et du développement élit son secrétaire général.",
     "published": "2026-03-01T10:00:00Z"},
    {"id": "mots-epars", "title": "Justice et développement rural",
     "body": "Un parti pris pour la justice sociale et le développement des campagnes.",
     "published": "2026-03-01T10:00:00Z"},
    {"id": "legislatives", "title": "Élections législatives : le calendrier est fixé",
     "body": "Les élections législatives auront lieu en septembre.",
     "published": "2026-02-01T10:00:00Z"},
    {"id": "municipales", "title": "Élections municipales à Casablanca",
     "body": "Les élections municipales mobilisent les quartiers.",
     "published": "2026-02-02T10:00:00Z"},
    {"id": "meteo", "title": "Chaleur sur Marrakech",
     "body": "Le thermomètre dépasse quarante degrés.", "published": "2026-02-03T10:00:00Z"},
]

BAM_SET = "BAM, Bank Al-Maghrib, banque centrale"
PJD_ONE_WAY = "PJD => Parti de la justice et du développement"


@pytest.fixture(scope="module")
def news_index(build_index: BuildIndex) -> Path:
    return build_index(ARTICLES)


@pytest.fixture
def engine(news_index: Path) -> Any:
    engine = Engine(Settings(index_dir=news_index))
    yield engine
    engine.close()


def rules(*lines: str, version: str = "v1") -> Synonyms:
    return Synonyms(version, tuple(parse_rule(line, n) for n, line in enumerate(lines, 1)))


def ids(engine: Engine, query: str, synonyms: Synonyms | None = None) -> list[str]:
    result = engine.search(SearchRequest(query=query, synonyms=synonyms))
    return [hit.id for hit in result.hits]


# --- rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "kind", "terms", "expansions"), [
    (BAM_SET, "set", ("BAM", "Bank Al-Maghrib", "banque centrale"), ()),
    (PJD_ONE_WAY, "oneway", ("PJD",), ("Parti de la justice et du développement",)),
    ("  ONU ,  Nations   unies ", "set", ("ONU", "Nations unies"), ()),
    ("CAN, Coupe d’Afrique => Coupe d’Afrique des nations", "oneway",
     ("CAN", "Coupe d’Afrique"), ("Coupe d’Afrique des nations",)),
])
def test_rules_are_read_as_editors_write_them(line: str, kind: str, terms: tuple[str, ...],
                                              expansions: tuple[str, ...]) -> None:
    rule = parse_rule(line)
    assert (rule.kind, rule.terms, rule.expansions) == (kind, terms, expansions)


@pytest.mark.parametrize(("line", "reason"), [
    ("BAM", "at least two"),
    ("=> Bank Al-Maghrib", "both sides"),
    ("PJD =>", "both sides"),
    ("a, " + "b" * 101, "at most 100"),
    (", ".join(f"mot{n}" for n in range(21)), "at most 20"),
    ("a\x07b, c", "control"),
])
def test_bad_rules_are_refused_with_a_reason(line: str, reason: str) -> None:
    with pytest.raises(SynonymError, match=reason):
        parse_rule(line)


# --- synonyms in the engine --------------------------------------------------------------------


def test_a_set_finds_every_name_and_the_typed_word_ranks_first(engine: Engine) -> None:
    assert ids(engine, "BAM") == ["bam-sigle"]
    result = engine.search(SearchRequest(query="BAM", synonyms=rules(BAM_SET)))
    found = [hit.id for hit in result.hits]
    assert found[0] == "bam-sigle"  # the word typed weighs more than its synonyms
    assert {"bam-nom", "banques-afrique"} <= set(found)  # plural found through the analysis
    assert result.expansions == (("BAM", ("Bank Al-Maghrib", "banque centrale")),)
    assert result.to_dict()["expansions"] == [
        {"from": "BAM", "to": ["Bank Al-Maghrib", "banque centrale"]}]
    by_id = {hit.id: hit for hit in result.hits}
    assert "<mark>Bank</mark> <mark>Al-Maghrib</mark>" in by_id["bam-nom"].title_html  # why


def test_a_rule_triggers_whatever_the_accents_case_and_number(engine: Engine) -> None:
    found = ids(engine, "BANQUES Centrales", rules(BAM_SET))
    assert "bam-sigle" in found and "bam-nom" in found
    assert found[0] == "banques-afrique"


def test_expanded_terms_weigh_less_than_typed_words(engine: Engine) -> None:
    result = engine.search(SearchRequest(query="Bank Al-Maghrib", synonyms=rules(BAM_SET)))
    scores = {hit.id: hit.score for hit in result.hits}
    assert scores["bam-nom"] > scores["bam-sigle"] > 0
    assert 0 < EXPANSION_WEIGHT < 1


def test_a_one_way_expansion_is_a_phrase_and_goes_one_way(engine: Engine) -> None:
    synonyms = rules(PJD_ONE_WAY)
    found = ids(engine, "PJD", synonyms)
    assert found[0] == "pjd-sigle" and "pjd-nom" in found
    assert "mots-epars" not in found  # parti … justice … développement, not as a phrase
    assert "pjd-sigle" not in ids(engine, "Parti de la justice et du développement", synonyms)


def test_with_no_rule_the_answers_are_unchanged(engine: Engine, sample_index: Path) -> None:
    sample = Engine(Settings(index_dir=sample_index))
    try:
        for target in (engine, sample):
            for query in ("BAM", "taux directeur", "élections législatives", "Maroc",
                          '"banque centrale" -afrique', "inflation OR prix"):
                plain = target.search(SearchRequest(query=query)).to_dict()
                for synonyms in (Synonyms("empty"), rules("ONU, Nations unies", version="x")):
                    other = target.search(SearchRequest(query=query, synonyms=synonyms))
                    answer = other.to_dict()
                    assert [(h["id"], h["score"]) for h in answer["hits"]] == \
                        [(h["id"], h["score"]) for h in plain["hits"]], (query, synonyms)
                    assert answer["total"] == plain["total"] and answer["expansions"] == []
    finally:
        sample.close()


def test_a_new_version_of_the_rules_is_not_served_from_the_answer_cache(engine: Engine) -> None:
    assert ids(engine, "PJD", rules("ONU, Nations unies", version="a")) == ["pjd-sigle"]
    assert "pjd-nom" in ids(engine, "PJD", rules(PJD_ONE_WAY, version="b"))


# --- pins ------------------------------------------------------------------------------------


def pin(n: int, query: str, article: str, starts: float | None = None,
        ends: float | None = None) -> Pin:
    from search.normalize import query_key

    return Pin(n, query, query_key(query), article, n, starts, ends)


def test_pins_match_whatever_the_accents_case_and_word_order() -> None:
    pins = [pin(1, "Élections législatives", "legislatives")]
    now = time.time()
    assert pinned_ids(pins, "legislatives ELECTIONS", now) == ["legislatives"]
    assert pinned_ids(pins, "élections", now) == []


def test_pins_keep_to_their_time_window_and_three_at_most() -> None:
    now = time.time()
    pins = [pin(1, "élections", "a", starts=now + 60), pin(2, "élections", "b", ends=now - 60),
            pin(3, "élections", "c", starts=now - 60, ends=now + 60)]
    assert pinned_ids(pins, "élections", now) == ["c"]
    many = [pin(n, "élections", f"art-{n}") for n in range(1, 6)]
    assert pinned_ids(many, "élections", now) == ["art-1", "art-2", "art-3"]


def test_pinned_hits_come_first_once_and_on_page_one_only() -> None:
    answer = {"page": 1, "hits": [{"id": "x"}, {"id": "p"}, {"id": "y"}]}
    assert with_pins(answer, [{"id": "p"}])["hits"] == [
        {"id": "p", "pinned": True}, {"id": "x"}, {"id": "y"}]
    page_two = {"page": 2, "hits": [{"id": "p"}, {"id": "z"}]}
    assert with_pins(page_two, [{"id": "p"}])["hits"] == [{"id": "z"}]


# --- through the API, changed with no reindex ----------------------------------------------------


@pytest.fixture
def newsroom_client(tmp_path: Path, build_index: BuildIndex,
                    make_client: MakeClient) -> tuple[Any, EditorialStore, Path]:
    root = build_index(ARTICLES)
    settings = Settings(index_dir=root, analytics_db=tmp_path / "a.sqlite3",
                        refresh_interval_s=0)
    client = make_client(settings, newsroom=Newsroom(settings))
    return client, EditorialStore(settings.analytics_path), root


def hit_ids(client: Any, query: str, **params: Any) -> list[tuple[str, bool]]:
    resp = client.simulate_get("/search", params={"q": query, **params})
    assert resp.status_code == 200, resp.text
    return [(h["id"], h.get("pinned", False)) for h in resp.json["hits"]]


def test_synonyms_and_pins_change_the_hits_with_no_reindex(
    newsroom_client: tuple[Any, EditorialStore, Path]
) -> None:
    client, store, _ = newsroom_client
    assert hit_ids(client, "BAM") == [("bam-sigle", False)]
    store.add_synonym({"line": BAM_SET}, "amina")
    assert {"bam-nom", "banques-afrique"} <= {i for i, _ in hit_ids(client, "BAM")}
    resp = client.simulate_get("/search", params={"q": "BAM"})
    assert resp.json["expansions"][0]["from"] == "BAM"

    store.add_pins("élections", ["meteo", "municipales"], "amina")
    assert hit_ids(client, "Élections")[:3] == [("meteo", True), ("municipales", True),
                                                ("legislatives", False)]
    assert ("municipales", False) not in hit_ids(client, "elections")  # shown once
    assert hit_ids(client, "élections", page=2, per_page=1) == [("legislatives", False)]

    rule = store.read().synonyms.rules[0]
    assert store.delete_synonym(rule.id, "amina")
    assert hit_ids(client, "BAM") == [("bam-sigle", False)]
    for p in store.read().pins:
        store.delete_pin(p.id, "amina")
    assert hit_ids(client, "élections") == [("municipales", False), ("legislatives", False)]


def test_an_expired_or_deleted_article_is_never_shown(
    newsroom_client: tuple[Any, EditorialStore, Path], build_index: BuildIndex
) -> None:
    client, store, root = newsroom_client
    now = time.time()
    store.add_pins("chaleur", ["n-existe-pas"], "amina")
    store.add_pins("chaleur", ["municipales"], "amina", starts=now - 7200, ends=now - 3600)
    store.add_pins("chaleur", ["legislatives"], "amina", starts=now - 60)
    assert hit_ids(client, "chaleur") == [("legislatives", True), ("meteo", False)]
    build_index([a for a in ARTICLES if a["id"] != "legislatives"], root=root)  # a reindex
    deadline = time.monotonic() + 10
    while ("legislatives", True) in hit_ids(client, "chaleur") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert hit_ids(client, "chaleur") == [("meteo", False)]
