"""The arithmetic of ``bench similar`` on hand-computed examples."""

from __future__ import annotations

import pytest

from bench.similar import score_lists, tag_agreement, tagged_share


def test_measures_of_similar_articles_by_hand() -> None:
    sources = [
        {"title": "Le Maroc et l’UE", "section": "Politique", "tags": "ue,maroc"},
        {"title": "Inflation", "section": "Économie", "tags": ""},
    ]
    found = [
        [  # shares a section, shares a tag, same story (title folds to the same words)
            {"title": "LE MAROC ET L'UE !", "section": "Politique,Monde", "tags": "ue"},
            {"title": "Autre", "section": "Sport", "tags": "foot"},  # shares nothing
        ],
        [],  # no similar article: lowers coverage, adds nothing to the shares
    ]
    measures = score_lists(sources, found, [10.0, 30.0])
    assert measures["shares_section"] == pytest.approx(1 / 2)  # 1 of the 2 similar articles
    assert measures["tag_agreement"] == pytest.approx(1 / 2)  # only the first source has tags
    assert measures["same_story"] == pytest.approx(1 / 2)
    assert measures["coverage"] == pytest.approx(1 / 2)
    assert measures["similar_per_source"] == pytest.approx(1.0)
    assert measures["p50_ms"] == pytest.approx(20.0)


def test_tag_agreement_is_issue_11s_figure() -> None:
    sources = [
        {"tags": "Santé,USA"},
        {"tags": "sport"},
        {"tags": ""},  # an untagged source counts for nothing
    ]
    found = [
        [
            {"tags": "santé"},  # agrees: compared case-folded
            {"tags": "usa,virus"},  # agrees
            {"tags": ""},  # an untagged similar article disagrees
            {},  # so does one without the field
            {"tags": "politique"},  # disagrees
        ],
        [{"tags": "SPORT"}, {"tags": "football"}],
        [{"tags": "santé"}] * 5,
    ]
    assert tag_agreement(sources, found) == pytest.approx(3 / 7)
    assert tagged_share(sources, found) == pytest.approx(5 / 7)
    assert tag_agreement(sources[2:], found[2:]) == 0.0
