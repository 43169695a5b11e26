"""Section labels (``PRESSE_SECTION_LABELS``, ``search.sections``): checked at start-up, shown
beside the slugs in facets, hits and suggested articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import MakeClient

from index.config import ConfigError
from search.config import Settings

LABELS = {"societe/sante": "Santé", "politique": "Politique", "monde": "Monde"}


def labels_file(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "sections.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content),
                    encoding="utf-8")
    return path


def test_the_labels_file_is_read_from_the_environment(tmp_path: Path) -> None:
    path = labels_file(tmp_path, LABELS)
    settings = Settings.from_env({"PRESSE_SECTION_LABELS": str(path)})
    assert dict(settings.section_labels) == LABELS
    assert Settings.from_env({}).section_labels == ()
    hash(settings)  # the app keeps one engine per settings: they must stay hashable


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON: line 1"),
        (["societe/sante"], "JSON object"),
        ({"politique": 3}, "section 'politique'"),
        ({"politique": "  "}, "non-empty string"),
        ({"": "Rien"}, "non-empty string"),
    ],
)
def test_a_bad_labels_file_stops_start_up_naming_the_variable(
    tmp_path: Path, content: object, message: str
) -> None:
    path = labels_file(tmp_path, content)
    with pytest.raises(ConfigError, match="PRESSE_SECTION_LABELS") as raised:
        Settings.from_env({"PRESSE_SECTION_LABELS": str(path)})
    assert message in str(raised.value)


def test_a_missing_or_undecodable_labels_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PRESSE_SECTION_LABELS=.*cannot read the file"):
        Settings.from_env({"PRESSE_SECTION_LABELS": str(tmp_path / "absent.json")})
    (tmp_path / "latin1.json").write_bytes('{"monde": "Génial"}'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        Settings.from_env({"PRESSE_SECTION_LABELS": str(tmp_path / "latin1.json")})


def test_facets_and_hits_carry_the_labels(searchbox_index: Path,
                                          make_client: MakeClient) -> None:
    settings = Settings(index_dir=searchbox_index, section_labels=tuple(LABELS.items()))
    client = make_client(settings)
    body = client.simulate_get("/search", params={"q": "covid gouvernement"}).json
    facets = {f["value"]: f["label"] for f in body["facets"]["section"]}
    assert facets == {"societe/sante": "Santé", "politique": "Politique"}
    assert body["section_labels"] == {"societe/sante": "Santé", "politique": "Politique"}
    assert {s for hit in body["hits"] for s in hit["section"]} == set(facets)  # slugs kept
    # A section the file does not name is shown by its slug.
    body = client.simulate_get("/search", params={"q": "inflation"}).json
    assert body["section_labels"] == {"economie": "economie"}
    assert body["facets"]["section"][0] == {"value": "economie", "label": "economie",
                                            "count": body["total"]}


def test_suggested_articles_carry_the_labels(searchbox_index: Path,
                                             make_client: MakeClient) -> None:
    settings = Settings(index_dir=searchbox_index, section_labels=tuple(LABELS.items()))
    body = make_client(settings).simulate_get("/suggest", params={"q": "covid-1"}).json
    assert [a["section"] for a in body["articles"]] == [["societe/sante"]] * 2
    assert body["section_labels"] == {"societe/sante": "Santé"}
