"""The arithmetic of ``bench similar`` on a hand-computed example."""

from __future__ import annotations

import pytest

from bench.similar import score_lists


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
    assert measures["shares_tag"] == pytest.approx(1 / 2)  # only the first source has tags
    assert measures["same_story"] == pytest.approx(1 / 2)
    assert measures["coverage"] == pytest.approx(1 / 2)
    assert measures["similar_per_source"] == pytest.approx(1.0)
    assert measures["p50_ms"] == pytest.approx(20.0)
