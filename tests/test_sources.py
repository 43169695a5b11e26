"""Article sources: the validator, JSON Lines (plain and gzip), scraped pages and WordPress WXR.

The fixtures in ``tests/data/sources/`` are hand-written French news items with broken records on
purpose; every ``Problem`` is asserted with its ``where`` and its reason.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from index.articles import Article, Deletion, Problem, Record, article_from_mapping
from index.sources import CHROME_MARKERS, SourceError, detect_format, read_source

DATA = Path(__file__).parent / "data" / "sources"
JSONL = DATA / "articles.jsonl"
PAGES = DATA / "pages"
WXR = DATA / "export.wxr.xml"
DATE_HINT = "(expected ISO 8601, e.g. 2012-01-27, 2012-01-27 10:00:00 or 2012-01-27T10:00:00+01:00)"


def summary(records: list[Record]) -> list[tuple[str, str, str]]:
    """Each record as (kind, id or where, reason) for comparing a whole stream at once."""
    rows = []
    for record in records:
        if isinstance(record, Article):
            rows.append(("article", record.id, ""))
        elif isinstance(record, Deletion):
            rows.append(("deletion", record.id, record.where))
        else:
            rows.append(("problem", record.where, record.reason))
    return rows


# --- The validator -----------------------------------------------------------------------------

GOOD = {"id": "art-1", "title": "Tanger Med : trafic record", "body": "Le port a traité 8 Mt."}


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        ({"id": 4521}, "id", "4521"),
        ({"id": "  art-7 "}, "id", "art-7"),
        ({"title": "Fe\u0300s :  la  médina &amp; ses souks"}, "title",
         "Fès : la médina & ses souks"),
        ({"body": "Premier.\n\n\n Second  paragraphe. "}, "body", "Premier.\n\nSecond paragraphe."),
        ({"summary": "Le chapô\u00a0 du jour."}, "summary", "Le chapô du jour."),
        ({"summary": None}, "summary", ""),
        ({"section": "Économie"}, "sections", ("Économie",)),
        ({"section": ["Société", " Société ", "", "Santé"]}, "sections", ("Société", "Santé")),
        ({"sections": ("Sport",)}, "sections", ("Sport",)),
        ({"tags": "santé, virus , santé,"}, "tags", ("santé", "virus")),
        ({"tags": ["ONU", "Sahara"]}, "tags", ("ONU", "Sahara")),
        ({"published": "2024-01-15T10:30:00+01:00"}, "published",
         datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        ({"published": "2023-09-11"}, "published", datetime(2023, 9, 11, tzinfo=UTC)),
        ({"published": ""}, "published", None),
        ({"updated": "2024-03-05T18:15:00-04:00"}, "updated",
         datetime(2024, 3, 5, 22, 15, tzinfo=UTC)),
        ({"url": " https://www.exemple.ma/a "}, "url", "https://www.exemple.ma/a"),
        ({"author": "Salma  Bennani"}, "author", "Salma Bennani"),
        ({"deleted": False, "likes": 12, "layout": {"une": True}}, "id", "art-1"),
    ],
)
def test_article_from_mapping_cleans(extra: dict[str, Any], field: str, expected: object) -> None:
    record = article_from_mapping({**GOOD, **extra}, "flux.jsonl:3")
    assert isinstance(record, Article)
    assert getattr(record, field) == expected


def test_article_from_mapping_deletion() -> None:
    record = article_from_mapping({"id": 4521, "deleted": True}, "flux.jsonl:9")
    assert record == Deletion("4521", "flux.jsonl:9")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"title": "Sans id", "body": "Texte."}, "id: missing"),
        ({**GOOD, "id": "  "}, "id: empty"),
        ({**GOOD, "id": True}, "id: expected a string or a whole number, got true/false"),
        ({**GOOD, "id": 3.5}, "id: expected a string or a whole number, got a number"),
        ({"id": "a", "body": "Texte."}, "title: missing"),
        ({**GOOD, "title": None}, "title: missing"),
        ({**GOOD, "title": " \u00a0 "}, "title: empty"),
        ({**GOOD, "title": 2024}, "title: expected a string, got a number"),
        ({**GOOD, "title": {"fr": "Titre"}}, "title: expected a string, got an object"),
        ({"id": "a", "title": "Titre"}, "body: missing"),
        ({**GOOD, "body": "\n\n  \n"}, "body: empty"),
        ({**GOOD, "body": ["Premier.", "Second."]}, "body: expected a string, got a list"),
        ({**GOOD, "summary": False}, "summary: expected a string, got true/false"),
        ({**GOOD, "section": 5}, "section: expected a string or a list of strings, got a number"),
        ({**GOOD, "sections": ["Sport", 3]},
         "sections: expected a list of strings, found a number"),
        ({**GOOD, "tags": {"a": 1}}, "tags: expected a string or a list of strings, got an object"),
        ({**GOOD, "published": 20240115}, "published: expected an ISO 8601 string, got a number"),
        ({**GOOD, "published": "27/01/2012"},
         f"published: cannot parse date '27/01/2012' {DATE_HINT}"),
        ({**GOOD, "updated": "demain"}, f"updated: cannot parse date 'demain' {DATE_HINT}"),
        ({**GOOD, "url": ["https://a"]}, "url: expected a string, got a list"),
        ({**GOOD, "deleted": "oui"}, "deleted: expected true or false, got a string"),
        ({"deleted": True}, "id: missing"),
    ],
)
def test_article_from_mapping_problems(raw: dict[str, Any], reason: str) -> None:
    assert article_from_mapping(raw, "flux.jsonl:3") == Problem("flux.jsonl:3", reason)


# --- Formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("articles.jsonl", "jsonl"), ("ARTICLES.JSONL.GZ", "jsonl"), ("flux.ndjson", "jsonl"),
     ("flux.ndjson.gz", "jsonl"), ("export.xml", "wxr"), ("site.wxr", "wxr"),
     ("export.wxr.xml", "wxr")],
)
def test_detect_format(tmp_path: Path, name: str, fmt: str) -> None:
    (tmp_path / name).write_bytes(b"")
    assert detect_format(tmp_path / name) == fmt


def test_detect_format_of_a_folder() -> None:
    assert detect_format(PAGES) == "pages"


@pytest.mark.parametrize(
    ("name", "create", "message"),
    [
        ("absent.jsonl", False, "absent.jsonl: no such file or directory"),
        ("articles.csv", True, "articles.csv: unknown source format"),
        ("articles.json", True, "articles.json: unknown source format"),
    ],
)
def test_detect_format_refuses(tmp_path: Path, name: str, create: bool, message: str) -> None:
    if create:
        (tmp_path / name).write_text("id,title\n", encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        detect_format(tmp_path / name)


def test_read_source_refuses_unreadable_sources(tmp_path: Path) -> None:
    (tmp_path / "vide").mkdir()
    (tmp_path / "vide" / "notes.md").write_text("pas une page", encoding="utf-8")
    (tmp_path / "flux.txt").write_text("{}", encoding="utf-8")
    cases = [
        (tmp_path / "vide", None, "vide: no .txt pages in this folder"),
        (tmp_path / "flux.txt", "csv",
         r"unknown format 'csv' \(expected one of jsonl, pages, wxr\)"),
        (tmp_path / "flux.txt", "pages", "flux.txt: format pages expects a folder of .txt pages"),
        (tmp_path / "vide", "jsonl", "vide: format jsonl expects a file"),
        (tmp_path / "absent.jsonl", "jsonl", "absent.jsonl: no such file or directory"),
    ]
    for path, fmt, message in cases:
        # Refused when read_source is called, before the caller starts a build.
        with pytest.raises(SourceError, match=message):
            read_source(path, fmt)


def test_a_forced_format_reads_any_name(tmp_path: Path) -> None:
    path = tmp_path / "flux.txt"
    path.write_bytes(JSONL.read_bytes())
    assert len(list(read_source(path, "jsonl"))) == len(list(read_source(JSONL)))


# --- JSON Lines --------------------------------------------------------------------------------

JSONL_EXPECTED = [
    ("article", "art-001", ""),
    ("article", "1002", ""),
    ("article", "art-003", ""),
    # line 4 is blank: skipped silently
    ("article", "art-005", ""),
    ("problem", "6", "title: missing"),
    ("problem", "7", "body: empty"),
    ("problem", "8", f"published: cannot parse date '27/01/2012' {DATE_HINT}"),
    ("problem", "9", "not JSON: Expecting value at column 74"),
    ("problem", "10", "expected a JSON object, got a list"),
    ("problem", "11", "not valid UTF-8"),
    ("article", "art-006", ""),
    ("article", "art-001", ""),  # repeated id: both come through, the builder keeps the last
    ("deletion", "art-004", "14"),
    ("problem", "15", "title: expected a string, got a number"),
    ("article", "art-007", ""),
    ("article", "art-008", ""),
    ("problem", "18", "tags: expected a string or a list of strings, got an object"),
    ("problem", "19", "id: missing"),
]


def expected_for(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    for kind, key, reason in JSONL_EXPECTED:
        if kind == "problem":
            rows.append((kind, f"{path}:{key}", reason))
        elif kind == "deletion":
            rows.append((kind, key, f"{path}:{reason}"))
        else:
            rows.append((kind, key, reason))
    return rows


def test_jsonl_records_and_problems() -> None:
    assert summary(list(read_source(JSONL))) == expected_for(JSONL)


def test_jsonl_gzip_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl.gz"
    path.write_bytes(gzip.compress(JSONL.read_bytes()))
    records = list(read_source(path))
    assert summary(records) == expected_for(path)
    assert [r for r in records if isinstance(r, Article)] == [
        r for r in read_source(JSONL) if isinstance(r, Article)
    ]


def test_jsonl_compression_is_told_by_content(tmp_path: Path) -> None:
    path = tmp_path / "export-du-jour.jsonl"  # gzip bytes under a plain name
    path.write_bytes(gzip.compress(JSONL.read_bytes()))
    assert summary(list(read_source(path))) == expected_for(path)


def test_jsonl_truncated_gzip_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl.gz"
    path.write_bytes(gzip.compress(JSONL.read_bytes())[:300])
    with pytest.raises(SourceError, match="articles.jsonl.gz: cannot read: "):
        list(read_source(path))


def test_jsonl_article_fields() -> None:
    articles = {r.id: r for r in read_source(JSONL) if isinstance(r, Article)}
    assert articles["art-007"] == Article(
        id="art-007",
        title="Lutte antiacridienne : l’ONSSA mobilise 40 équipes",
        body="Les prospections couvrent l’Oriental et le Souss-Massa.\n\n"
        "Aucun foyer n’a été signalé à ce jour.",
        sections=("Agriculture",),
        tags=("ONSSA", "criquets"),
        published=datetime(2020, 4, 21, 15, 45, tzinfo=UTC),
        url="https://www.exemple.ma/agriculture/onssa-criquets",
    )
    cleaned = articles["art-003"]
    assert cleaned.title == "Casablanca & Rabat se disputent le futur stade"
    assert cleaned.body == (
        "Les deux villes ont déposé leur dossier. Le choix sera connu en juin.\n\n"
        "La FRMF n’a pas commenté."
    )
    assert cleaned.author == "Youssef El Idrissi"
    assert cleaned.published == datetime(2022, 11, 2, 8, 30, tzinfo=UTC)
    assert articles["1002"].sections == ("Société", "Éducation")
    assert articles["1002"].tags == ("éducation", "rentrée", "préscolaire")
    assert articles["art-005"].updated == datetime(2024, 3, 5, 22, 15, tzinfo=UTC)
    assert articles["art-001"].title.endswith("13 %")  # the later line of the repeated id


def test_jsonl_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "flux.jsonl"
    path.write_bytes(JSONL.read_bytes().splitlines(keepends=True)[0] + b"\xff" * 10)
    records = read_source(path)
    assert isinstance(next(records), Article)  # one record at a time, not a list
    assert next(records) == Problem(f"{path}:2", "not valid UTF-8")


# --- Scraped pages -----------------------------------------------------------------------------


def test_pages_records_and_problems() -> None:
    assert summary(list(read_source(PAGES))) == [
        ("article", "001_dakhla-port-atlantique", ""),
        ("article", "002_rentree-universitaire", ""),
        ("article", "003_festival-gnaoua", ""),
        ("article", "004_derby-casablanca", ""),
        ("problem", f"{PAGES / '005_sans-corps.txt'}", "body: missing"),
        ("problem", f"{PAGES / '006_latin1.txt'}:1", "not valid UTF-8"),
    ]


def test_page_fields_and_paragraphs() -> None:
    pages = {r.id: r for r in read_source(PAGES) if isinstance(r, Article)}
    assert pages["001_dakhla-port-atlantique"] == Article(
        id="001_dakhla-port-atlantique",
        title="Dakhla Atlantique : le chantier du port avance à 40 %",
        body="Le futur port de Dakhla Atlantique a franchi le cap des 40 % d’avancement, a indiqué "
        "jeudi le ministère de l’Équipement.\n\n"
        "L’ouvrage, estimé à 12,5 milliards de dirhams, doit accueillir ses premiers navires "
        "en 2028.\n\nLa pêche pélagique et l’export agricole en seront les premiers bénéficiaires.",
        sections=("Économie",),
    )
    assert pages["002_rentree-universitaire"].sections == ("Société", "Éducation")
    assert pages["002_rentree-universitaire"].body.startswith("Les bacheliers")  # NBSP gone
    assert pages["003_festival-gnaoua"].sections == ("Culture", "Musique")
    # BOM, CRLF line ends and glued section names ("SportUne").
    derby = pages["004_derby-casablanca"]
    assert derby.sections == ("Sport", "Une")
    assert derby.title == "Botola Pro : le Wydad s’impose dans le derby"
    assert derby.body.split("\n\n") == [
        "Le Wydad de Casablanca a battu le Raja (2-1) samedi au complexe Mohammed V.",
        "Les Rouges reprennent la tête du classement.",
    ]


@pytest.mark.parametrize(
    "chrome",
    ["Articles similaires", "Tanger Med : un trafic record", "EDITO", "Nos suppléments spéciaux",
     "Articles les plus lus", "Lire aussi", "Bourses", "Partager", "ÉDITO", "Le Maroc, terre de",
     "Newsletter", "Le Raja limoge"],
)
def test_page_chrome_is_not_body(chrome: str) -> None:
    for record in read_source(PAGES):
        if isinstance(record, Article):
            assert chrome not in record.body
            assert chrome not in record.title


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # (page text, (sections, title, body) or the Problem's reason)
        ("Maroc\n\nLe titre\n\nLe corps.\n", (("Maroc",), "Le titre", "Le corps.")),
        ("\n\nUn titre sans rubrique\n\nLe corps.\n", ((), "Un titre sans rubrique", "Le corps.")),
        ("Régions | Souss-Massa\n\nAgadir\n\nLe corps.\n\nLIRE AUSSI\n\nAutre\n",
         (("Régions", "Souss-Massa"), "Agadir", "Le corps.")),
        ("Monde\n\nSahel\n\nLe corps.\n\n  Articles  similaires :\n\nAutre\n",
         (("Monde",), "Sahel", "Le corps.")),
        ("Culture\n\nMawazine\n\nLe corps.\nÉdito\nAutre\n",
         (("Culture",), "Mawazine", "Le corps.")),
        ("Économie\n", "title: missing"),
        ("", "title: missing"),
        ("Économie\n\nUn titre seul\n", "body: missing"),
        ("Économie\n\nUn titre\n\nEdito\n\nLe billet du jour.\n", "body: missing"),
        ("Économie\n\nArticles les plus lus\n\nUn teaser\n", "title: missing"),
    ],
)
def test_page_layouts(tmp_path: Path, text: str, expected: tuple[Any, ...] | str) -> None:
    (tmp_path / "page.txt").write_text(text, encoding="utf-8")
    [record] = read_source(tmp_path)
    if isinstance(expected, str):
        assert record == Problem(str(tmp_path / "page.txt"), expected)
    else:
        assert isinstance(record, Article)
        assert (record.id, record.sections, record.title, record.body) == ("page", *expected)


def test_pages_are_read_in_sorted_order_and_only_txt(tmp_path: Path) -> None:
    for name in ["b.txt", "a.txt", "c.txt.bak", "notes.md"]:
        (tmp_path / name).write_text("Sport\n\nTitre\n\nCorps.\n", encoding="utf-8")
    assert [r.id for r in read_source(tmp_path) if isinstance(r, Article)] == ["a", "b"]


def test_page_not_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_bytes("Santé\n\nTitre\n\nLe minist".encode() + b"\xe8re.\n")
    assert list(read_source(tmp_path)) == [Problem(f"{tmp_path / 'p.txt'}:5", "not valid UTF-8")]


def test_chrome_markers_include_the_sites_own() -> None:
    assert {"Articles similaires", "EDITO", "Nos supplément spéciaux",
            "Articles les plus lus"} <= CHROME_MARKERS


# --- WordPress export --------------------------------------------------------------------------


def test_wxr_publishes_only_published_posts() -> None:
    # Not here: the draft (105), the page (106) and the attachment (55).
    assert summary(list(read_source(WXR))) == [
        ("article", "101", ""),
        ("article", "102", ""),
        ("article", "103", ""),
        ("article", "104", ""),
        ("problem", f"{WXR}:161", "title: empty"),
    ]


def test_wxr_fields() -> None:
    posts = {r.id: r for r in read_source(WXR) if isinstance(r, Article)}
    assert posts["101"] == Article(
        id="101",
        title="Tanger Med franchit le cap des 8 millions de conteneurs",
        body="Le port de Tanger Med a traité plus de 8 millions de conteneurs en 2023, une hausse "
        "de 12 % sur un an.\n\n"
        "Le terminal à conteneurs de Tanger Med II.\n\n"  # the [caption] text, without its markers
        "Selon l’Autorité portuaire, l’extension vers l’Afrique de l’Ouest & l’Amérique latine "
        "explique ce résultat.",
        summary="Un record pour le premier port de la Méditerranée.",
        sections=("Économie",),
        tags=("logistique", "Tanger Med"),
        published=datetime(2024, 1, 15, 9, 30, tzinfo=UTC),
        url="https://www.exemple.ma/economie/tanger-med-8-millions-conteneurs/",
        author="Salma Bennani",  # dc:creator is a login; the export's <wp:author> names it
    )
    gnaoua = posts["102"]
    assert gnaoua.body == (
        "La 25e édition du festival s’ouvre ce soir sur la place Moulay Hassan.\n\n"
        "Les maâlems partageront la scène avec des artistes venus du Mali et du Brésil : "
        "« une rencontre des cultures », résume la directrice."
    )
    assert gnaoua.author == "ytazi"  # a login without <wp:author> stays as it is
    assert "Vivement ce soir" not in gnaoua.body  # comments are not the article
    regions = posts["103"]
    assert regions.sections == ("Politique", "Régions")
    assert regions.published is None  # post_date_gmt 0000-00-00 00:00:00
    assert regions.body.split("\n\n") == [
        "Des priorités communes", "Les douze régions ont voté leurs budgets pour 2024.",
        "Trois axes dominent :", "l’eau potable en milieu rural ;", "les routes provinciales ;",
        "la formation professionnelle.",
    ]
    derby = posts["104"]
    assert derby.summary == "Le derby se jouera sans public."
    assert "[sic]" in derby.body and "gallery" not in derby.body
    assert derby.tags == ("Botola", "Wydad")


def wxr(items: str, doctype: str = "", version: str = "1.2") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>{doctype}
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/{version}/"
  xmlns:excerpt="http://wordpress.org/export/{version}/excerpt/">
<channel><title>Site</title>
{items}
</channel></rss>
"""


POST = """<item><title>Rabat : le tramway prolongé</title>
<content:encoded><![CDATA[<p>La ligne 2 desservira Hay Riad.</p>]]></content:encoded>
<wp:post_id>9</wp:post_id><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<wp:post_date_gmt>2019-05-02 10:00:00</wp:post_date_gmt></item>"""


def test_wxr_older_export_versions(tmp_path: Path) -> None:
    path = tmp_path / "ancien.xml"
    path.write_text(wxr(POST, version="1.1"), encoding="utf-8")
    [record] = read_source(path)
    assert isinstance(record, Article)
    assert (record.id, record.body) == ("9", "La ligne 2 desservira Hay Riad.")
    assert record.published == datetime(2019, 5, 2, 10, 0, tzinfo=UTC)


EXTERNAL_ENTITY = """
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>"""
BILLION_LAUGHS = """
<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (wxr(POST.replace("le tramway", "&secret;"), EXTERNAL_ENTITY),
         r"hostile.xml: refused unsafe XML: EntitiesForbidden\(name='secret'"),
        (wxr(POST.replace("le tramway", "&lol3;"), BILLION_LAUGHS),
         r"hostile.xml: refused unsafe XML: EntitiesForbidden\(name='lol'"),
        (wxr(POST.replace("</title>", "")),
         r"hostile.xml: not well-formed XML: mismatched tag: line 9, column 58"),
        ("<html><body>Pas un export</body></html>",
         r"hostile.xml: not a WordPress export \(<html>, not <rss>\)"),
        ("", r"hostile.xml: not well-formed XML: no element found: line 1, column 0"),
    ],
)
def test_wxr_refusals_are_source_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "hostile.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        list(read_source(path))



def test_wxr_items_over_the_size_limit_are_skipped_before_conversion(tmp_path: Path) -> None:
    path = tmp_path / "gros.xml"
    big = POST.replace("<p>La ligne 2 desservira Hay Riad.</p>", "<p>mot</p>" * 200)
    path.write_text(wxr(big + POST.replace(">9<", ">10<")), encoding="utf-8")

    problem, article = read_source(path, max_chars=100)

    assert isinstance(problem, Problem) and problem.where == f"{path}:6"
    assert problem.reason.startswith("item of 2,")
    assert problem.reason.endswith("over the limit of 1,200 (12 × PRESSE_MAX_ARTICLE_CHARS): "
                                   "skipped unread")
    assert isinstance(article, Article) and article.id == "10"
