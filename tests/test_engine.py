"""The engine (``search.engine.Engine``) on real index generations built in temporary folders.

The corpus is ``data/engine/articles.jsonl``: short French articles written so that each
behaviour decides an order or a membership by itself — pairs that differ only by where a word
stands (title or body), by its exact form, by the distance between two words, or by the date of
an otherwise identical text. Where a lever is what decides an order, the test also turns the
lever off and sees the order change, so that it cannot pass by accident (recency, doc numbers).
Ranking is asserted as order, never as scores. The HTTP layer over the same engine is
``test_api.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index

from index.analysis import fold
from index.build import apply_update, full_build
from index.generations import IndexRoot
from search.config import Settings
from search.engine import Engine
from search.errors import ArticleNotFound, BadQuery, IndexUnavailable
from search.ranking import RankingConfig
from search.results import SearchRequest, SearchResult

CORPUS = Path(__file__).resolve().parent / "data" / "engine" / "articles.jsonl"
ARTICLES: list[dict[str, Any]] = [
    json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()
]
BY_ID = {article["id"]: article for article in ARTICLES}


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("engine-index")
    full_build(IndexRoot(root), CORPUS, max_errors=0)
    return root


@pytest.fixture(scope="module")
def engine(corpus_root: Path) -> Iterator[Engine]:
    """The corpus index with the default settings and ranking; read-only."""
    with opened(Settings(index_dir=corpus_root)) as shared:
        yield shared


@contextmanager
def opened(settings: Settings, ranking: RankingConfig | None = None) -> Iterator[Engine]:
    """An engine closed on the way out (an open Whoosh reader would warn, and warnings fail)."""
    engine = Engine(settings, ranking)
    try:
        yield engine
    finally:
        engine.close()


def search(engine: Engine, query: str, **request: Any) -> SearchResult:
    return engine.search(SearchRequest(query=query, **request))


def ids(result: SearchResult) -> list[str]:
    return [hit.id for hit in result.hits]


def found(engine: Engine, query: str, **request: Any) -> set[str]:
    result = search(engine, query, per_page=100, **request)
    assert result.total == len(result.hits)
    return set(ids(result))


def order_with(root: Path, query: str, *, recency_weight: float = 0.1, **ranking: Any) -> list[str]:
    with opened(
        Settings(index_dir=root, recency_weight=recency_weight), RankingConfig(**ranking)
    ) as engine:
        return ids(search(engine, query))


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


# --- French analysis, at the index level (issue 2's rows, through Engine.search) -------------

FOUND_BY = [
    ("L’économie", "eco-banque"),  # written ÉCONOMIE
    ("l'economie", "eco-inflation"),  # written L’économie
    ("ÉCONOMIE", "eco-inflation"),
    ("développement", "eco-oriental"),
    ("developpement", "eco-oriental"),
    ("œuvre", "culture-chaibia"),  # written oeuvres
    ("oeuvre", "culture-ksour"),  # written œuvre
    ("aujourd’hui", "culture-ksour"),
    ("aujourd'hui", "culture-ksour"),
    ("cheval", "sport-chevaux"),  # written chevaux
    ("national", "societe-routes"),  # written nationales
    ("maroc", "sport-maroc-france"),  # written Maroc-France
    ("france", "sport-maroc-france"),
    ('"maroc france"', "sport-maroc-france"),
    ("covid-19", "societe-covid"),
    ("covid", "societe-covid"),
    ("COVID-19", "societe-covid"),
    ("3,5", "eco-inflation"),  # written 3,5 %
    ("3,5 %", "eco-inflation"),
    ("2012", "politique-2012"),
    ("TIC", "societe-tic"),
    ("tic", "societe-tic"),
    ("ONU", "politique-onu-ue"),
    ("UE", "politique-onu-ue"),
    ("ue", "politique-onu-ue"),
]


@pytest.mark.parametrize(("query", "article"), FOUND_BY, ids=[q for q, _ in FOUND_BY])
def test_found_by(engine: Engine, query: str, article: str) -> None:
    assert article in found(engine, query)


@pytest.mark.parametrize(
    ("query", "article"),
    [
        ('"maroc france"', "politique-france-maroc"),  # "La France et le Maroc": not the phrase
        ("2013", "politique-2012"),  # numbers are words, not prefixes or ranges
        ("2", "politique-2012"),
        ("45", "eco-inflation"),
    ],
)
def test_not_found_by(engine: Engine, query: str, article: str) -> None:
    assert article not in found(engine, query)


def test_spellings_of_a_word_find_the_same_articles(engine: Engine) -> None:
    spellings = ["L’économie", "l'economie", "ÉCONOMIE", "économie", "Economie"]
    results = [search(engine, q, per_page=100) for q in spellings]
    assert len({tuple(ids(r)) for r in results}) == 1
    assert {"eco-inflation", "eco-banque", "eco-oriental"} <= set(ids(results[0]))


@pytest.mark.parametrize(
    "query", ["les", "le la les de du des", "l", "d", "L’", "OR", "-maroc", "pourquoi ?"]
)
def test_nothing_to_search_for_is_an_empty_answer(engine: Engine, query: str) -> None:
    result = search(engine, query)
    assert (result.total, result.hits, result.section_facets, result.suggestion) == (
        0,
        (),
        (),
        None,
    )
    assert result.to_dict()["hits"] == []


# --- ranking -------------------------------------------------------------------------------


def test_title_hit_before_body_only_hit(engine: Engine, corpus_root: Path) -> None:
    # argan-corps is a year newer: recency alone would put it first.
    assert ids(search(engine, "argan")) == ["argan-titre", "argan-corps"]
    assert order_with(corpus_root, "argan", title_weight=1.0) == ["argan-corps", "argan-titre"]


def test_exact_form_above_a_stem_only_match(engine: Engine, corpus_root: Path) -> None:
    # "conserveries" is written in sardine-safi, "conserverie" in the (newer) poulpe-agadir;
    # both stem to the same term.
    assert ids(search(engine, "conserveries")) == ["sardine-safi", "poulpe-agadir"]
    assert ids(search(engine, "conserverie")) == ["poulpe-agadir", "sardine-safi"]
    assert order_with(corpus_root, "conserveries", exact_weight=0.0)[0] == "poulpe-agadir"


def test_words_side_by_side_above_the_same_words_apart(engine: Engine, corpus_root: Path) -> None:
    # Three bodies with the same words: "l’énergie solaire" in tata and zagora, "l’énergie du
    # vent, puis sur le solaire" in midelt, the newest. Every side-by-side article gets the bonus.
    assert ids(search(engine, "énergie solaire")) == [
        "energie-zagora",
        "energie-tata",
        "energie-midelt",
    ]
    assert order_with(corpus_root, "énergie solaire", proximity_weight=0.0)[0] == "energie-midelt"


def test_recent_before_old_when_relevance_ties(engine: Engine, corpus_root: Path) -> None:
    order = ids(search(engine, "festival des cerises"))
    assert order.index("cerises-2024") < order.index("cerises-2019")
    # With the recency boost off, the tie is still broken by date.
    order = order_with(corpus_root, "festival des cerises", recency_weight=0.0)
    assert order.index("cerises-2024") < order.index("cerises-2019")


def test_sort_by_date_is_newest_first_whatever_the_relevance(engine: Engine) -> None:
    assert ids(search(engine, "cerises"))[-1] == "marche-fruits"  # one mention, in the body
    assert ids(search(engine, "cerises", sort="date")) == [
        "marche-fruits",
        "cerises-2024",
        "cerises-recolte",
        "cerises-2019",
    ]


def test_more_of_the_query_ranks_higher(engine: Engine) -> None:
    # All three words, then two of them, then "économie" alone.
    order = ids(search(engine, "développement économique Oriental"))
    assert order[0] == "eco-oriental"
    assert set(order[1:3]) == {"eco-inflation", "regions-souss"}
    assert set(order[3:]) == {"eco-banque", "marche-fruits"}


# --- the query language on the index -------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"énergie solaire"', {"energie-tata", "energie-zagora"}),
        ('"maroc france"', {"sport-maroc-france"}),
        ('"coopération ferroviaire" maroc', {"politique-france-maroc"}),
        ('"solaire énergie"', set()),
        ("cerises -récolte", {"cerises-2024", "cerises-2019", "marche-fruits"}),
        ("cerises -Sefrou", {"marche-fruits"}),
        ("cerises -RÉCOLTES", {"cerises-2024", "cerises-2019", "marche-fruits"}),
        ('énergie -"énergie solaire"', {"energie-midelt"}),
        ("énergie -vent", set()),
        ("argan OR cheval", {"argan-titre", "argan-corps", "sport-chevaux"}),
        ("argan cheval", {"argan-titre", "argan-corps", "sport-chevaux"}),
        ("comment cheval ?", {"sport-chevaux"}),
    ],
)
def test_query_language(engine: Engine, query: str, expected: set[str]) -> None:
    assert found(engine, query) == expected


# --- filters, facets, totals, paging -------------------------------------------------------


def facets(result: SearchResult) -> dict[str, int]:
    return {facet.value: facet.count for facet in result.section_facets}


def test_facets_count_the_other_sections_under_a_section_filter(engine: Engine) -> None:
    everything = search(engine, "développement")
    filtered = search(engine, "développement", sections=("Économie",))
    assert set(ids(everything)) == {"eco-inflation", "eco-oriental", "regions-souss"}
    assert set(ids(filtered)) == {"eco-inflation", "eco-oriental"} and filtered.total == 2
    assert facets(filtered) == facets(everything) == {"Économie": 2, "Régions": 1}
    assert [f.value for f in filtered.section_facets] == ["Économie", "Régions"]  # biggest first


def test_facets_cover_the_whole_match_not_the_page(engine: Engine) -> None:
    one = search(engine, "cerises", per_page=1)
    assert len(one.hits) == 1 and one.total == 4
    assert facets(one) == {"Régions": 2, "Économie": 2}


def test_several_sections_keep_any_of_them(engine: Engine) -> None:
    assert found(engine, "énergie OR cheval", sections=("Sport", "Culture")) == {"sport-chevaux"}
    assert found(engine, "cerises", sections=("Inconnue",)) == set()


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (("régions",), {"eco-oriental", "regions-souss"}),  # "Régions" on regions-souss
        (("Régions",), {"eco-oriental", "regions-souss"}),
        (("inflation", "tourisme"), {"eco-inflation", "regions-souss"}),
        (("football",), set()),
    ],
)
def test_tag_filter(engine: Engine, tags: tuple[str, ...], expected: set[str]) -> None:
    assert found(engine, "développement", tags=tags) == expected


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        (date(2023, 1, 1), date(2023, 12, 31), {"cerises-recolte"}),
        (None, date(2019, 6, 8), {"cerises-2019"}),  # the last day is included
        (date(2024, 6, 8), date(2024, 6, 8), {"cerises-2024"}),
        (date(2024, 6, 9), None, {"marche-fruits"}),
        (date(2025, 1, 1), None, set()),
    ],
)
def test_date_range_filter(
    engine: Engine, date_from: date | None, date_to: date | None, expected: set[str]
) -> None:
    assert found(engine, "cerises", date_from=date_from, date_to=date_to) == expected


def test_totals_are_exact_and_pages_follow_each_other(engine: Engine) -> None:
    whole = search(engine, "cerises", per_page=4)
    pages = [search(engine, "cerises", per_page=1, page=p) for p in range(1, 6)]
    assert [r.total for r in pages] == [4] * 5
    assert [i for r in pages for i in ids(r)] == ids(whole)
    assert pages[-1].hits == ()


def test_deep_paging_is_refused_past_the_cap(engine: Engine) -> None:
    assert search(engine, "cerises", page=100, per_page=10).hits == ()
    with pytest.raises(BadQuery) as refused:
        SearchRequest(query="cerises", page=101, per_page=10)
    assert refused.value.parameter == "page"


def test_pages_sorted_by_date_follow_each_other_when_dates_tie(tmp_path: Path) -> None:
    """Articles published the same day (date only, the usual case): every one on one page."""
    records = [
        {
            "id": f"souk-{i:02d}",
            "title": f"Le souk numéro {i}",
            "body": " ".join(["souk"] * (1 + i % 5)) + " de Fès.",
            "published": "2024-01-01",
        }
        for i in range(25)
    ]
    full_build(IndexRoot(tmp_path / "ix"), write_jsonl(tmp_path / "souks.jsonl", records))
    with opened(Settings(index_dir=tmp_path / "ix")) as engine:
        whole = ids(search(engine, "souk", sort="date", per_page=25))
        paged = [
            i
            for p in (1, 2, 3)
            for i in ids(search(engine, "souk", sort="date", per_page=10, page=p))
        ]
        assert paged == whole


# --- snippets and escaping -----------------------------------------------------------------


def hit(result: SearchResult, article: str) -> Any:
    return next(h for h in result.hits if h.id == article)


def test_snippet_marks_inflections_without_accents(engine: Engine) -> None:
    found_hit = hit(search(engine, "economie"), "eco-inflation")
    assert "<mark>économiques</mark>" in found_hit.snippet_html
    assert found_hit.title_html == "L’<mark>économie</mark> marocaine résiste à l’inflation"


def test_snippet_falls_back_on_the_summary(engine: Engine) -> None:
    found_hit = hit(search(engine, "Bank Al-Maghrib"), "eco-inflation")
    assert "<mark>" in found_hit.snippet_html and "Maghrib" in found_hit.snippet_html


def test_article_text_comes_out_escaped_with_only_marks(engine: Engine) -> None:
    article = BY_ID["cyber-script"]
    found_hit = hit(search(engine, "script sécurité"), "cyber-script")
    assert found_hit.title == article["title"]  # plain text stays plain
    for fragment in (found_hit.title_html, found_hit.snippet_html):
        without_marks = fragment.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in without_marks and ">" not in without_marks
        assert "&lt;script&gt;" in without_marks or "&lt;<mark>script</mark>&gt;" in fragment
    assert "&lt;<mark>script</mark>&gt;" in found_hit.title_html
    assert "<mark>sécurité</mark>" in found_hit.snippet_html
    assert "&amp;" in found_hit.snippet_html


# --- did you mean --------------------------------------------------------------------------


def test_did_you_mean_offers_real_indexed_words(engine: Engine) -> None:
    result = search(engine, "developement economik", correct=False)
    assert result.total == 0
    assert result.suggestion == "développement économique"
    assert result.corrected_query is None


def test_a_typo_query_answers_with_the_corrected_results(engine: Engine) -> None:
    result = search(engine, "developement economik")
    assert result.query == "developement economik"
    assert result.corrected_query == "développement économique"
    assert result.suggestion is None
    assert ids(result) == ids(search(engine, "développement économique"))


@pytest.mark.parametrize("query", ["développement économique", "cerises economik"])
def test_no_suggestion_when_the_query_finds_enough(engine: Engine, query: str) -> None:
    assert search(engine, query).suggestion is None


# --- suggest -------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["econ", "écon", "ÉCON", "Econ "])
def test_suggest_is_accent_insensitive(engine: Engine, prefix: str) -> None:
    completions = engine.suggest(prefix)
    assert completions[0] == "économie"
    assert all(fold(word).startswith("econ") for word in completions)


def test_suggestions_are_words_of_the_articles_never_stems(engine: Engine) -> None:
    text = fold(
        " ".join(a["title"] + " " + a.get("summary", "") + " " + a["body"] for a in ARTICLES)
    )
    for prefix in ("dév", "coop", "cer", "vis", "rég"):
        completions = engine.suggest(prefix, limit=20)
        assert completions, prefix
        assert all(fold(word) in text for word in completions), completions
    assert "developp" not in engine.suggest("dév") and "econom" not in engine.suggest("econ")
    assert len(engine.suggest("e", limit=2)) == 2


def test_suggest_completes_the_last_word_with_words_found_beside_the_others(
    engine: Engine,
) -> None:
    completions = engine.suggest("cerises fe")
    assert completions[0] == "cerises festival"
    assert "cerises féminines" not in completions  # "féminines" never stands beside "cerises"


def test_suggest_prefers_the_word_most_often_beside_the_others(engine: Engine) -> None:
    # "développement économique" is in three articles, "développement … économie" in two.
    assert engine.suggest("développement éco")[0] == "développement économique"


# --- similar articles ----------------------------------------------------------------------


def test_similar_prefers_the_related_story_and_skips_the_same_one(engine: Engine) -> None:
    similar = [h.id for h in engine.similar("cerises-2024").hits]
    assert similar[0] == "cerises-recolte"
    assert "cerises-2024" not in similar and "cerises-2019" not in similar


def test_similar_prefers_the_closest_in_time_then_the_newest_when_words_tie(
    engine: Engine,
) -> None:
    # tata, zagora and midelt hold the same words, published on August 1st, 2nd and 3rd.
    first_two = {
        source: [h.id for h in engine.similar(source).hits][:2]
        for source in ("energie-tata", "energie-zagora", "energie-midelt")
    }
    assert first_two["energie-tata"] == ["energie-zagora", "energie-midelt"]  # 1 day, 2 days
    assert first_two["energie-midelt"] == ["energie-zagora", "energie-tata"]
    assert first_two["energie-zagora"] == ["energie-midelt", "energie-tata"]  # both 1 day: newer


def test_similar_works_for_every_article(engine: Engine) -> None:
    for article in ARTICLES:
        result = engine.similar(article["id"], limit=20)
        story = " ".join(fold(article["title"]).replace(":", " ").split())
        assert result.id == article["id"]
        for found_hit in result.hits:
            assert found_hit.id != article["id"]
            assert " ".join(fold(found_hit.title).replace(":", " ").split()) != story
            assert found_hit.snippet_html is None


def test_similar_in_the_same_section(engine: Engine) -> None:
    anywhere = engine.similar("eco-inflation", limit=10).hits
    same = engine.similar("eco-inflation", limit=10, same_section=True).hits
    assert any("Économie" not in h.section for h in anywhere)
    assert same and all("Économie" in h.section for h in same)


def test_similar_limit_and_unknown_article(engine: Engine) -> None:
    assert len(engine.similar("eco-inflation", limit=2).hits) == 2
    with pytest.raises(ArticleNotFound):
        engine.similar("inconnu")


# --- generations: refresh, incremental updates, no index -----------------------------------

SMALL = [BY_ID["argan-titre"], BY_ID["sport-chevaux"], BY_ID["politique-2012"]]


def test_a_new_generation_is_picked_up(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "ix")
    full_build(root, write_jsonl(tmp_path / "v1.jsonl", SMALL))
    with opened(Settings(index_dir=root.path, refresh_interval_s=0)) as engine:
        first = engine.status().generation
        assert found(engine, "argan") == {"argan-titre"}
        full_build(root, write_jsonl(tmp_path / "v2.jsonl", SMALL[1:] + [BY_ID["societe-tic"]]))
        assert engine.status().generation != first
        assert found(engine, "argan") == set()
        assert found(engine, "TIC") == {"societe-tic"}


def test_a_new_generation_waits_for_the_refresh_interval(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "ix")
    full_build(root, write_jsonl(tmp_path / "v1.jsonl", SMALL))
    with opened(Settings(index_dir=root.path, refresh_interval_s=3600)) as engine:
        first = engine.status().generation
        full_build(root, write_jsonl(tmp_path / "v2.jsonl", [BY_ID["societe-tic"]]),
                   allow_shrink=True)
        assert engine.status().generation == first
        assert found(engine, "argan") == {"argan-titre"}


def test_an_incremental_update_is_picked_up(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "ix")
    full_build(root, write_jsonl(tmp_path / "v1.jsonl", SMALL))
    with opened(Settings(index_dir=root.path, refresh_interval_s=0)) as engine:
        assert engine.status().documents == 3
        retitled = dict(BY_ID["sport-chevaux"], title="Les chevaux arabes défilent à Meknès")
        update = [BY_ID["societe-tic"], retitled, {"id": "politique-2012", "deleted": True}]
        apply_update(root, write_jsonl(tmp_path / "update.jsonl", update))
        assert engine.status().documents == 3
        assert found(engine, "TIC") == {"societe-tic"}
        assert found(engine, "Meknès") == {"sport-chevaux"}
        assert found(engine, "El Jadida") == set()
        assert found(engine, "2012") == set()
        with pytest.raises(ArticleNotFound):
            engine.similar("politique-2012")


def test_no_index_is_index_unavailable(tmp_path: Path) -> None:
    with opened(Settings(index_dir=tmp_path / "absent", refresh_interval_s=0)) as engine:
        engine.warm_up()  # never raises: a worker may start before the first build
        for call in (
            lambda: search(engine, "maroc"),
            engine.status,
            lambda: engine.suggest("ma"),
            lambda: engine.similar("x"),
        ):
            with pytest.raises(IndexUnavailable):
                call()


def test_a_lost_current_pointer_keeps_the_open_generation_and_says_so(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "ix")
    full_build(root, write_jsonl(tmp_path / "v1.jsonl", SMALL))
    with opened(Settings(index_dir=root.path, refresh_interval_s=0)) as engine:
        assert found(engine, "argan") == {"argan-titre"}
        (root.path / "CURRENT").unlink()
        assert found(engine, "argan") == {"argan-titre"}
        assert "no index has been built yet" in engine.status().extra["problem"]
    with opened(Settings(index_dir=root.path, refresh_interval_s=0)) as cold, \
            pytest.raises(IndexUnavailable):
        search(cold, "argan")


# --- the block reader against Whoosh -------------------------------------------------------


def test_postings_equal_whooshs_own_on_an_index_with_deletions(tmp_path: Path) -> None:
    """The serving images hold exactly the postings of Whoosh, the index of record, though they
    are written beside it from the same analysis pass. Two segments, the first with deleted
    documents (a repeated id in the full build, then an upsert and a deletion by an update)."""
    root = IndexRoot(tmp_path / "ix")
    again = dict(BY_ID["eco-inflation"], body=BY_ID["eco-inflation"]["body"] + " Mise à jour.")
    # Enough short news items for posting lists of several blocks (the W3 codec's are 128 long).
    briefs = [
        {"id": f"breve-{i}", "title": f"Brève n° {i}", "body": "Le Maroc en bref. " * (1 + i % 3)}
        for i in range(300)
    ]
    full_build(root, write_jsonl(tmp_path / "v1.jsonl", [*ARTICLES, *briefs, again]))
    update = [
        dict(BY_ID["eco-oriental"], title="L’Oriental attend son plan de développement"),
        {"id": "cerises-2019", "deleted": True},
    ]
    apply_update(root, write_jsonl(tmp_path / "update.jsonl", update))
    terms = [
        ("body", "maroc"),
        ("body", "bref"),
        ("title", "brev"),
        ("body", "econom"),
        ("title", "econom"),
        ("body", "developp"),
        ("body", "ceris"),
        ("section", "Économie"),
        ("tags", "agriculture"),
        ("body", "absent"),
    ]
    with opened(Settings(index_dir=root.path)) as engine:
        snapshot = engine.lifecycle.current().reader
        assert len(snapshot.segments) >= 2 and sum(bool(s.deleted) for s in snapshot.segments)
        ix = whoosh_index.open_dir(str(snapshot.generation.path))
        with ix.reader() as reader:
            assert reader.doc_count() == snapshot.documents == len(ARTICLES) + len(briefs) - 1
            for field, term in terms:
                ids_, freqs = snapshot.postings(field, term)
                if (field, term) in reader:
                    expected = list(reader.postings(field, term).items_as("frequency"))
                    assert list(ids_) == list(reader.postings(field, term).all_ids())
                else:
                    expected = []
                assert [(int(d), float(f)) for d, f in zip(ids_, freqs, strict=True)] == [
                    (d, float(f)) for d, f in expected
                ], (field, term)
                if term != "absent":
                    assert len(ids_), (field, term)  # not a vacuous comparison
            assert len(snapshot.postings("body", "maroc")[0]) > 2 * 128
            assert snapshot.docnum("cerises-2019") is None
