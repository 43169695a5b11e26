"""Similar articles (``search.similar``) on a small real index of hand-written French news:
names, leads, wire-copy exclusion, time proximity, key terms, and the engine's two entry points."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BuildIndex

from index.generations import IndexRoot
from search.config import Settings
from search.engine import Engine
from search.lifecycle import Served, SimilarView
from search.ranking import RankingConfig
from search.similar import (
    SimilarConfig,
    Source,
    copy_keys,
    key_terms,
    lead,
    names,
    rank,
    source_of_article,
    time_factor,
)

VACCIN = (
    "Le laboratoire Pasteur a lancé à Lyon l’essai clinique d’un vaccin contre le "
    "coronavirus. Les volontaires recevront deux doses du vaccin, et les chercheurs "
    "mesureront les anticorps pendant six mois avant la phase suivante de l’essai."
)


def article(
    article_id: str,
    title: str,
    body: str,
    *,
    summary: str = "",
    published: str = "2020-06-01T10:00:00Z",
    tags: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "id": article_id,
        "title": title,
        "summary": summary,
        "body": body,
        "section": "societe/sante",
        "published": published,
        "tags": list(tags),
    }


ARTICLES = [
    article(
        "vaccin",
        "Coronavirus : l’Institut Pasteur lance l’essai d’un vaccin",
        VACCIN,
        summary="Un essai clinique du vaccin de l’Institut Pasteur commence à Lyon avec "
        "des volontaires.",
        tags=("santé", "vaccin"),
    ),
    # A wire copy updated later: a new title, the same lead.
    article(
        "vaccin-direct",
        "EN DIRECT - Vaccin : l’essai de Pasteur a commencé",
        "Mise à jour. " + VACCIN,
        published="2020-06-01T18:00:00Z",
        summary="Un essai clinique du vaccin de l’Institut Pasteur commence à Lyon avec "
        "des volontaires.",
    ),
    # Two copies of another story about the vaccine, with the same body opening.
    article(
        "essai-a",
        "Vaccin contre le coronavirus : premiers résultats de l’essai à Lyon",
        "Les premiers résultats de l’essai clinique du vaccin contre le coronavirus mené à "
        "Lyon par Pasteur sont encourageants : les volontaires ont produit des anticorps "
        "après deux doses, selon les chercheurs qui préparent la phase suivante de l’essai.",
        published="2020-07-15T08:00:00Z",
    ),
    article(
        "essai-b",
        "Coronavirus : des anticorps chez les volontaires de l’essai lyonnais",
        "Les premiers résultats de l’essai clinique du vaccin contre le coronavirus mené à "
        "Lyon par Pasteur sont encourageants : les volontaires ont produit des anticorps "
        "après deux doses, selon les chercheurs qui préparent la phase suivante de l’essai.",
        published="2020-07-15T09:00:00Z",
    ),
    # Two articles as close to the source as each other, one 3 days after it, one 2 years.
    article(
        "proche",
        "Vaccin : Pasteur recrute encore des volontaires à Lyon",
        "Recrutement ouvert. L’essai clinique du vaccin contre le coronavirus cherche encore "
        "des volontaires à Lyon, ont indiqué les chercheurs de Pasteur.",
        published="2020-06-04T10:00:00Z",
    ),
    article(
        "lointain",
        "Vaccin : Pasteur cherche toujours des volontaires à Lyon",
        "Appel renouvelé. L’essai clinique du vaccin contre le coronavirus cherche encore "
        "des volontaires à Lyon, ont indiqué les chercheurs de Pasteur.",
        published="2022-06-04T10:00:00Z",
    ),
    article(
        "rugby",
        "Rugby : Toulouse remporte le Top 14",
        "Le Stade toulousain a battu La Rochelle en finale du championnat de France de "
        "rugby au Stade de France, devant quatre-vingt mille spectateurs.",
        tags=("sport",),
    ),
    article(
        "foot",
        "Football : Lyon battu à domicile",
        "L’Olympique lyonnais a perdu contre Marseille au Groupama Stadium, devant des "
        "spectateurs déçus par la défense lyonnaise.",
        tags=("sport",),
    ),
]


@pytest.fixture(scope="module")
def index_root(build_index: BuildIndex) -> Path:
    return build_index(ARTICLES)


@pytest.fixture(scope="module")
def snapshot(index_root: Path) -> Iterator[SimilarView]:
    opened = Served(IndexRoot(index_root).current(), RankingConfig())
    yield opened.similar_view
    opened.close()


@pytest.fixture
def engine(index_root: Path) -> Iterator[Engine]:
    opened = Engine(Settings(index_dir=index_root))
    yield opened
    opened.close()


def similar_ids(
    snapshot: SimilarView, article_id: str, config: SimilarConfig | None = None, limit: int = 10
) -> list[str]:
    docnum = snapshot.docnum(article_id)
    assert docnum is not None
    found = rank(snapshot, source_of_article(snapshot, docnum), limit=limit, config=config)
    return [snapshot.stored(d)["id"] for d, _ in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Le Premier ministre Aziz Akhannouch reçoit Bank Al-Maghrib à Rabat",
            ["Aziz Akhannouch", "Bank Al-Maghrib"],
        ),
        ("Emmanuel Macron et Angela Merkel à Berlin", ["Emmanuel Macron", "Angela Merkel"]),
        ("La Banque de France relève ses prévisions", ["Banque de France"]),
        ("L’Institut Pasteur lance un essai", ["L’Institut Pasteur"]),
        ("Coronavirus : le gouvernement annonce des mesures", []),  # one capitalised word
        ("Le Maroc et la France signent", []),  # "Le" opens the sentence, not a name
    ],
)
def test_names_are_capitalised_multi_word_sequences(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_lead_is_the_summary_or_the_body_opening_cut_at_a_word() -> None:
    assert lead({"summary": "Un  chapô\ncourt.", "body": "Corps"}) == "Un chapô court."
    assert lead({"summary": "", "body": "Le corps seul."}) == "Le corps seul."
    long = lead({"summary": "mot " * 200})
    assert long.endswith("mot…") and len(long) <= 241
    assert lead({}) == ""


def test_copy_keys_identify_a_story_by_title_lead_or_opening() -> None:
    lead_text = "Un essai clinique du vaccin commence à Lyon avec des volontaires."
    first = copy_keys("Vaccin : l’essai commence", lead_text, "Texte A")
    assert first & copy_keys("EN DIRECT - autre titre", lead_text, "Texte B")  # same lead
    assert first & copy_keys("VACCIN : L'ESSAI COMMENCE !", "", "")  # same title, folded
    assert not first & copy_keys("Autre titre", "Vidéo.", "Texte A")
    opening = "mot " * 60
    assert copy_keys("a", "", opening + "fin A") & copy_keys("b", "", opening + "fin B")
    assert not copy_keys("a", "", "court") & copy_keys("b", "", "court")  # too short to tell


def test_time_factor_decays_with_the_days_apart() -> None:
    import numpy as np

    days = np.array([100.0, 130.0, 160.0, math.nan])
    factor = time_factor(days, 100.0, SimilarConfig(time_weight=1.0, time_half_life_days=30))
    assert factor.tolist() == pytest.approx([2.0, 1.5, 1.25, 1.0])
    assert time_factor(days, math.nan, SimilarConfig(time_weight=1.0)).tolist() == [1.0] * 4
    assert time_factor(days, 100.0, SimilarConfig(time_weight=0.0)).tolist() == [1.0] * 4


def test_key_terms_are_the_topic_words(snapshot: SimilarView) -> None:
    docnum = snapshot.docnum("vaccin")
    assert docnum is not None
    terms = [
        t for t, _ in key_terms(snapshot, source_of_article(snapshot, docnum), SimilarConfig())
    ]
    assert {"vaccin", "essai", "pasteur"} <= set(terms)
    assert "rugby" not in terms
    few = key_terms(snapshot, source_of_article(snapshot, docnum), SimilarConfig(key_terms=3))
    assert len(few) == 3 and few[0][1] >= few[-1][1]
    # A word found in every article is no key term when a ceiling is set.
    capped = key_terms(
        snapshot, source_of_article(snapshot, docnum), SimilarConfig(max_doc_share=0.5)
    )
    assert all(snapshot.doc_frequency("body", t) <= 4 for t, _ in capped)


def test_wire_copies_and_the_same_story_are_left_out(snapshot: SimilarView) -> None:
    found = similar_ids(snapshot, "vaccin")
    assert "vaccin" not in found
    assert "vaccin-direct" not in found  # the same lead: a copy of the source
    assert len({"essai-a", "essai-b"} & set(found)) == 1  # two copies of one story: one shown
    assert found[0] in {"essai-a", "essai-b", "proche", "lointain"}
    assert set(found[:3]) <= {"essai-a", "essai-b", "proche", "lointain"}


def test_time_proximity_prefers_the_follow_up(snapshot: SimilarView) -> None:
    near = SimilarConfig(time_weight=3.0, time_half_life_days=30)
    found = similar_ids(snapshot, "vaccin", near)
    assert found.index("proche") < found.index("lointain")
    far = Source(
        title="Vaccin : Pasteur et des volontaires à Lyon",
        summary="",
        body="L’essai clinique du vaccin contre le coronavirus à Lyon.",
        published=snapshot.published[snapshot.docnum("lointain")],
    )
    by_date = [snapshot.stored(d)["id"] for d, _ in rank(snapshot, far, limit=10, config=near)]
    assert by_date.index("lointain") < by_date.index("proche")


def test_same_section_and_limit(snapshot: SimilarView) -> None:
    docnum = snapshot.docnum("foot")
    assert docnum is not None
    source = source_of_article(snapshot, docnum)
    assert len(rank(snapshot, source, limit=1)) <= 1
    for found, _ in rank(snapshot, source, limit=10, same_section=True):
        assert "societe/sante" in snapshot.stored(found)["section"]


def test_a_text_without_known_words_has_no_similar_article(snapshot: SimilarView) -> None:
    assert rank(snapshot, Source(title="Xyzzy", summary="", body="plugh"), limit=5) == []


def test_engine_similar_answers_leads_and_keeps_out_copies(engine: Engine) -> None:
    hits = engine.similar("vaccin", limit=5).hits
    assert hits and "vaccin-direct" not in [h.id for h in hits]
    by_id = {a["id"]: a for a in ARTICLES}
    for hit in hits:
        assert hit.summary == lead(by_id[hit.id])
        assert hit.to_dict()["summary"] == hit.summary


def test_engine_similar_to_text(engine: Engine) -> None:
    result = engine.similar_to_text(
        "Un vaccin de Pasteur", "L’essai clinique à Lyon continue.", limit=3
    )
    assert result.id is None and result.to_dict()["id"] is None
    assert 1 <= len(result.hits) <= 3
    assert {h.id for h in result.hits} <= {
        "vaccin",
        "vaccin-direct",
        "essai-a",
        "essai-b",
        "proche",
        "lointain",
    }
    assert engine.similar_to_text("Rugby", "", limit=5).hits[0].id == "rugby"


def test_threads_sharing_an_index_get_the_answers_of_one_thread(index_root: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ids = [a["id"] for a in ARTICLES] * 20

    def answers(snapshot: SimilarView) -> list[list[str]]:
        with ThreadPoolExecutor(max_workers=6) as pool:
            return list(pool.map(lambda i: similar_ids(snapshot, i), ids))

    alone = Served(IndexRoot(index_root).current(), RankingConfig())
    together = Served(IndexRoot(index_root).current(), RankingConfig())
    try:
        expected = [similar_ids(alone.similar_view, i) for i in ids]
        # a fresh index: every term computed under load
        assert answers(together.similar_view) == expected
    finally:
        alone.close()
        together.close()
