"""Full and incremental builds (``index.build``) on real indexes under ``tmp_path``.

What the index holds is read back through Whoosh (stored fields) and through the search engine, so
"the article is found" means what a reader would see.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index
from whoosh.query import Term

from index.analysis import analyze
from index.articles import Problem
from index.build import BuildError, TooManyErrors, apply_update, full_build
from index.generations import GenerationError, IndexRoot
from index.sources import SourceError
from search.config import Settings
from search.engine import Engine
from search.results import SearchRequest

DATA = Path(__file__).resolve().parent / "data"
SOURCES = DATA / "sources"
SAMPLE = DATA.parents[1] / "data" / "sample" / "articles.jsonl"

JSONL_ACCEPTED = {"art-001", "1002", "art-003", "art-005", "art-006", "art-007", "art-008"}
JSONL_BAD_LINES = {6, 7, 8, 9, 10, 11, 15, 18, 19}
PAGES_ACCEPTED = {
    "001_dakhla-port-atlantique",
    "002_rentree-universitaire",
    "003_festival-gnaoua",
    "004_derby-casablanca",
}
WXR_ACCEPTED = {"101", "102", "103", "104"}

HARIRA = {
    "id": "harira",
    "title": "La harira, soupe du ftour pendant le ramadan",
    "body": "Tomates, lentilles et pois chiches : chaque famille a sa recette de harira.",
    "section": "Culture",
    "published": "2024-03-12T18:00:00+01:00",
}
TRAMWAY = {
    "id": "tramway",
    "title": "Le tramway de Rabat prolongé jusqu'à Témara",
    "body": "La nouvelle ligne desservira douze stations à partir de septembre.",
    "section": "Régions",
    "published": "2024-05-02",
}
BARRAGE = {
    "id": "barrage",
    "title": "Sécheresse : le remplissage des barrages à 23 %",
    "body": "Le ministère de l'Équipement appelle à économiser l'eau potable.",
    "section": "Société",
    "published": "2024-02-20",
}


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any] | str]) -> Path:
    """Records as JSON lines; a str is written as is (a broken line)."""
    lines = (r if isinstance(r, str) else json.dumps(dict(r), ensure_ascii=False) for r in records)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def stored(root: Path) -> dict[str, dict[str, Any]]:
    """The stored fields of every live document, by id."""
    ix = whoosh_index.open_dir(str(IndexRoot(root).current().path))
    with ix.searcher() as searcher:
        docs = list(searcher.all_stored_fields())
    by_id = {doc["id"]: doc for doc in docs}
    assert len(by_id) == len(docs), "an id is indexed twice"
    return by_id


def search_ids(root: Path, query: str) -> list[str]:
    engine = Engine(Settings(index_dir=root))
    try:
        return [hit.id for hit in engine.search(SearchRequest(query=query, per_page=50)).hits]
    finally:
        engine.close()


def generation_dirs(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "generations").iterdir())


class Problems(list[Problem]):
    def lines(self) -> list[str]:
        return [str(p) for p in self]


# --- full builds from each kind of source ------------------------------------------------------


def test_full_build_from_jsonl_keeps_the_good_records_and_reports_the_bad(tmp_path: Path) -> None:
    problems = Problems()
    report = full_build(IndexRoot(tmp_path), SOURCES / "articles.jsonl", on_problem=problems.append)

    assert set(stored(tmp_path)) == JSONL_ACCEPTED
    assert (report.accepted, report.skipped, report.replaced, report.documents) == (7, 9, 1, 7)
    path = str(SOURCES / "articles.jsonl")
    bad = [p for p in problems if "repeated" not in p.reason]
    assert all(p.where.startswith(path + ":") for p in bad)
    assert sorted(int(p.where.rsplit(":", 1)[1]) for p in bad) == sorted(JSONL_BAD_LINES)
    assert f"{path}:6: title: missing" in problems.lines()
    assert f"{path}:11: not valid UTF-8" in problems.lines()
    assert search_ids(tmp_path, "Ouarzazate") == ["art-006"]
    assert search_ids(tmp_path, "cimenterie") == []  # the record without an id


def test_a_repeated_id_keeps_the_last_record_and_says_so(tmp_path: Path) -> None:
    problems = Problems()
    full_build(IndexRoot(tmp_path), SOURCES / "articles.jsonl", on_problem=problems.append)

    assert stored(tmp_path)["art-001"]["title"].endswith("hausse de 13 %")
    assert search_ids(tmp_path, "révisés") == ["art-001"]
    assert search_ids(tmp_path, "Méditerranée") == []  # only the first record's summary had it
    notices = [line for line in problems.lines() if "'art-001' repeated" in line]
    assert len(notices) == 1 and "keeping the last record" in notices[0]


def test_full_build_from_scraped_pages_leaves_out_the_chrome(tmp_path: Path) -> None:
    problems = Problems()
    report = full_build(IndexRoot(tmp_path), SOURCES / "pages", on_problem=problems.append)

    assert set(stored(tmp_path)) == PAGES_ACCEPTED
    assert (report.accepted, report.skipped) == (4, 2)
    assert sorted(problems.lines()) == [
        f"{SOURCES / 'pages' / '005_sans-corps.txt'}: body: missing",
        f"{SOURCES / 'pages' / '006_latin1.txt'}:1: not valid UTF-8",
    ]
    assert search_ids(tmp_path, "Wydad") == ["004_derby-casablanca"]
    assert search_ids(tmp_path, "dessalement") == []  # a teaser under "Articles similaires"
    assert search_ids(tmp_path, "limoge") == []


def test_full_build_from_a_wordpress_export_takes_published_posts_only(tmp_path: Path) -> None:
    problems = Problems()
    report = full_build(IndexRoot(tmp_path), SOURCES / "export.wxr.xml",
                        on_problem=problems.append)

    assert set(stored(tmp_path)) == WXR_ACCEPTED
    assert (report.accepted, report.skipped) == (4, 1)
    assert problems.lines() == [f"{SOURCES / 'export.wxr.xml'}:161: title: empty"]
    assert search_ids(tmp_path, "huis clos") == ["104"]
    assert search_ids(tmp_path, "tomates") == []  # a draft
    assert search_ids(tmp_path, "indépendant") == []  # a page, not a post


def test_full_build_reads_gzipped_jsonl(tmp_path: Path) -> None:
    source = tmp_path / "articles.jsonl.gz"
    source.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    expected = {json.loads(line)["id"] for line in SAMPLE.read_text("utf-8").splitlines() if line}

    report = full_build(IndexRoot(tmp_path / "index"), source, max_errors=0)

    assert report.accepted == len(expected) == 42
    assert set(stored(tmp_path / "index")) == expected


def test_the_new_generation_is_live_ready_and_described(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    report = full_build(root, SOURCES / "export.wxr.xml")

    live = root.current()
    assert live.id == report.generation == (tmp_path / "CURRENT").read_text().strip()
    assert (live.path / "READY").is_file()
    assert live.meta["documents"] == 4
    assert live.meta["revision"] == 0
    assert live.meta["format"] == "wxr"
    assert live.meta["source"] == str(SOURCES / "export.wxr.xml")
    assert report.size_bytes > 0


# --- deletions and repeats in a full build -----------------------------------------------------


def test_a_deleted_record_in_a_full_build_removes_the_earlier_one(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "a.jsonl", [
        HARIRA, TRAMWAY, {"id": "harira", "deleted": True}, BARRAGE,
    ])
    problems = Problems()
    report = full_build(IndexRoot(tmp_path / "index"), source, on_problem=problems.append)

    assert set(stored(tmp_path / "index")) == {"tramway", "barrage"}
    assert search_ids(tmp_path / "index", "harira") == []
    assert (report.accepted, report.deleted, report.replaced, report.documents) == (2, 1, 0, 2)
    assert any(line.startswith(f"{source}:3: id 'harira' repeated") and "deleted" in line
               for line in problems.lines())


def test_an_article_after_its_deletion_comes_back(tmp_path: Path) -> None:
    changed = HARIRA | {"title": "La harira revient sur les tables du ftour"}
    source = write_jsonl(tmp_path / "a.jsonl", [
        HARIRA, {"id": "harira", "deleted": True}, TRAMWAY, changed,
    ])
    report = full_build(IndexRoot(tmp_path / "index"), source)

    docs = stored(tmp_path / "index")
    assert set(docs) == {"harira", "tramway"}
    assert docs["harira"]["title"] == changed["title"]
    assert (report.replaced, report.deleted) == (1, 0)


def numbered(count: int) -> list[dict[str, Any]]:
    return [{"id": f"depeche-{n}", "title": f"Dépêche numéro {n} de l'agence",
             "body": f"Le texte de la dépêche {n} arrive de Rabat."} for n in range(count)]


def test_a_multiprocess_build_keeps_the_last_of_records_far_apart(tmp_path: Path) -> None:
    # More than Whoosh's batch of 100, so the records go to different indexing processes.
    records: list[dict[str, Any]] = numbered(250)
    records[5] = TRAMWAY
    records[230] = TRAMWAY | {"title": "Le tramway de Rabat atteint Salé"}
    source = write_jsonl(tmp_path / "a.jsonl", records)

    report = full_build(IndexRoot(tmp_path / "index"), source, processes=2, max_errors=0)

    docs = stored(tmp_path / "index")
    assert len(docs) == report.documents == 249
    assert docs["tramway"]["title"] == "Le tramway de Rabat atteint Salé"
    assert report.replaced == 1
    # Read with Whoosh, not the engine: see test_an_update_adding_the_first_dated_article.
    ix = whoosh_index.open_dir(str(IndexRoot(tmp_path / "index").current().path))
    with ix.searcher() as searcher:
        assert len(ix._segments()) > 1
        hits = searcher.search(Term("title", analyze(searcher.schema["title"].analyzer,
                                                     "Témara")[0]))
        assert len(hits) == 0


# --- failures leave the live generation as it was ----------------------------------------------


def live_state(root: Path) -> tuple[str, dict[str, dict[str, Any]], list[str]]:
    return IndexRoot(root).current().id, stored(root), generation_dirs(root)


def test_too_many_errors_stop_the_build_and_leave_the_live_index(tmp_path: Path) -> None:
    root = tmp_path / "index"
    full_build(IndexRoot(root), SOURCES / "export.wxr.xml")
    before = live_state(root)
    # Line 3 is the first bad one: the build dies after two good records were written.
    source = write_jsonl(tmp_path / "b.jsonl", [HARIRA, TRAMWAY, "{pas du json", BARRAGE])

    with pytest.raises(TooManyErrors, match="--max-errors 0"):
        full_build(IndexRoot(root), source, max_errors=0)

    assert live_state(root) == before
    assert search_ids(root, "harira") == []


def test_max_errors_counts_every_bad_record(tmp_path: Path) -> None:
    problems = Problems()
    with pytest.raises(TooManyErrors, match="stopped after 9 bad records"):
        full_build(IndexRoot(tmp_path), SOURCES / "articles.jsonl", max_errors=8,
                   on_problem=problems.append)
    assert sum(1 for p in problems if "repeated" not in p.reason) == 9
    report = full_build(IndexRoot(tmp_path), SOURCES / "articles.jsonl", max_errors=9)
    assert report.skipped == 9


def test_a_failed_multiprocess_build_stops_its_processes(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    source = write_jsonl(tmp_path / "a.jsonl", [*numbered(250), "[1, 2]"])

    with pytest.raises(TooManyErrors):
        full_build(IndexRoot(tmp_path / "index"), source, processes=2, max_errors=0)

    assert multiprocessing.active_children() == []
    assert generation_dirs(tmp_path / "index") == []
    assert "Traceback" not in capfd.readouterr().err


def test_a_source_that_breaks_mid_stream_leaves_the_live_index(tmp_path: Path) -> None:
    root = tmp_path / "index"
    full_build(IndexRoot(root), SOURCES / "pages")
    before = live_state(root)
    text = (SOURCES / "export.wxr.xml").read_text(encoding="utf-8")
    cut = text.index("<title>Brouillon")  # after four good posts: unclosed tags from here on
    broken = tmp_path / "broken.xml"
    broken.write_text(text[:cut] + "<title>Fin</wrong>", encoding="utf-8")

    with pytest.raises(SourceError, match="not well-formed"):
        full_build(IndexRoot(root), broken)

    assert live_state(root) == before


def test_a_source_without_articles_does_not_replace_the_live_index(tmp_path: Path) -> None:
    root = tmp_path / "index"
    full_build(IndexRoot(root), SOURCES / "pages")
    before = live_state(root)
    empty = write_jsonl(tmp_path / "empty.jsonl", [{"id": "seul", "deleted": True}])

    with pytest.raises(BuildError, match="no article"):
        full_build(IndexRoot(root), empty)

    assert live_state(root) == before


def test_a_partial_generation_left_by_a_dead_build_is_removed(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    dead_id, dead = root.new_generation_dir()
    (dead / "MAIN_x.seg").write_bytes(b"half written")

    report = full_build(root, SOURCES / "pages")

    assert generation_dirs(tmp_path) == [report.generation]
    assert not dead.exists()


# --- generations kept ---------------------------------------------------------------------------


def test_old_generations_are_pruned_beyond_keep_generations(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path)
    built = [full_build(root, SOURCES / "pages", keep_generations=2).generation
             for _ in range(4)]

    assert generation_dirs(tmp_path) == sorted(built[2:])
    assert root.current_id() == built[3]
    assert root.rollback().id == built[2]


# --- incremental updates -----------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Path:
    root = tmp_path / "index"
    full_build(IndexRoot(root), write_jsonl(tmp_path / "base.jsonl", [HARIRA, TRAMWAY, BARRAGE]))
    return root


def test_an_update_publishes_a_new_generation_with_the_upserts(live: Path, tmp_path: Path) -> None:
    gen_id = IndexRoot(live).current_id()
    renamed = TRAMWAY | {"title": "Le tramway de Rabat arrive à Salé"}
    newcomer = {"id": "oasis", "title": "Les oasis du Drâa face à l'ensablement",
                "body": "Des palmiers replantés à Zagora.", "section": "Régions"}
    source = write_jsonl(tmp_path / "u.jsonl", [renamed, newcomer])

    report = apply_update(IndexRoot(live), source)

    assert (report.accepted, report.replaced, report.documents) == (2, 1, 4)
    assert report.generation == IndexRoot(live).current_id() != gen_id
    assert IndexRoot(live).current().meta["parent"] == gen_id
    assert search_ids(live, "Salé") == ["tramway"]
    assert search_ids(live, "Témara") == []
    assert search_ids(live, "ensablement") == ["oasis"]
    assert len(stored(live)) == 4
    meta = IndexRoot(live).current().meta
    assert (meta["revision"], meta["documents"]) == (1, 4)


def test_an_update_deletes_ids_and_deleted_records(live: Path, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "u.jsonl", [{"id": "barrage", "deleted": True}])

    report = apply_update(IndexRoot(live), source, delete_ids=["harira"])

    assert (report.deleted, report.documents) == (2, 1)
    assert set(stored(live)) == {"tramway"}
    assert search_ids(live, "harira") == []
    meta = IndexRoot(live).current().meta
    assert (meta["revision"], meta["documents"]) == (1, 1)


def test_deleting_an_unknown_id_is_reported_not_fatal(live: Path) -> None:
    problems = Problems()
    report = apply_update(IndexRoot(live), None, delete_ids=["inconnu", "harira"],
                         on_problem=problems.append)

    assert report.deleted == 1
    assert problems.lines() == ["--delete: id 'inconnu' is not in the index: nothing to delete"]
    assert set(stored(live)) == {"tramway", "barrage"}


def test_each_update_bumps_the_revision(live: Path) -> None:
    for revision in (1, 2, 3):
        apply_update(IndexRoot(live), None, delete_ids=["inconnu"])
        assert IndexRoot(live).current().meta["revision"] == revision


def test_a_repeated_id_in_an_update_keeps_the_last_record(live: Path, tmp_path: Path) -> None:
    problems = Problems()
    source = write_jsonl(tmp_path / "u.jsonl", [
        HARIRA | {"title": "Harira : la recette de Fès"},
        HARIRA | {"title": "Harira : la recette de Meknès"},
    ])
    apply_update(IndexRoot(live), source, on_problem=problems.append)

    assert stored(live)["harira"]["title"] == "Harira : la recette de Meknès"
    assert search_ids(live, "Fès") == []
    assert any("'harira' repeated" in line for line in problems.lines())


def test_a_failed_update_leaves_the_live_index(live: Path, tmp_path: Path) -> None:
    before = stored(live), IndexRoot(live).current().meta
    source = write_jsonl(tmp_path / "u.jsonl", [TRAMWAY | {"title": "Rien"}, "pas du json"])

    with pytest.raises(TooManyErrors):
        apply_update(IndexRoot(live), source, max_errors=0)

    assert (stored(live), IndexRoot(live).current().meta) == before


def test_an_update_adding_the_first_dated_article_is_searchable(tmp_path: Path) -> None:
    root = tmp_path / "index"
    full_build(IndexRoot(root), SOURCES / "pages")  # scraped pages carry no date
    apply_update(IndexRoot(root), write_jsonl(tmp_path / "u.jsonl", [TRAMWAY]))
    assert search_ids(root, "Témara") == ["tramway"]


def test_an_update_needs_a_live_generation(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="no index has been built yet"):
        apply_update(IndexRoot(tmp_path), None, delete_ids=["harira"])

