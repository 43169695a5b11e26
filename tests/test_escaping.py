"""Article text is data, never markup: ``title_html`` and ``snippet_html`` carry no tag but ours.

An index is built from articles whose titles, summaries and bodies carry ``<script>``, attribute
breakouts (``"><img onerror=…>``), entities that decode to tags at indexing (``&lt;script&gt;``),
double-encoded entities, comments, CDATA, processing instructions, and fake ``<mark>`` tags.
For many queries (their words, the corpus's words, and the hostile strings themselves), every
``title_html`` and ``snippet_html`` of every hit is parsed with ``html.parser``: the only tags
are bare ``<mark>`` and ``</mark>``, alternating, with no attribute, comment or declaration; and
with the marks taken out and the entities decoded, what is left is exactly the article's text.
"""

from __future__ import annotations

import html
import random
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import synthetic
from conftest import BuildIndex, MakeClient
from falcon.testing import TestClient

from search.config import Settings

FRAGMENTS = [
    '<script>alert("xss")</script>',
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(2)>",
    "&lt;script&gt;alert(3)&lt;/script&gt;",  # a real <script> once decoded at indexing
    "&amp;lt;b&amp;gt;gras&amp;lt;/b&amp;gt;",  # decodes once, to the text &lt;b&gt;
    "&#60;iframe src=javascript:alert(4)&#62;",
    '<mark>faux</mark> <mark onclick="alert(5)">piège</mark>',
    "</mark><script>",
    "<!-- commentaire --> <![CDATA[donnée]]> <?php echo 1; ?>",
    '<a href="javascript:alert(6)">lien</a>',
    "<style>body{display:none}</style>",
    "Tom &amp; Jerry &quot;cité&quot; l&#39;économie",
    '<div style="x" ',
    "< > & &amp; &#x3C; &#0; &#xD800; &bogus;",
]

QUERIES = [
    "script",
    "alert",
    "img",
    "onerror",
    "svg",
    "onload",
    "iframe",
    "javascript",
    "mark",
    "faux",
    "piège",
    "gras",
    "Jerry",
    "cité",
    "économie",
    "lien",
    "style",
    "commentaire",
    "donnée",
    "php",
    "bogus",
    "div",
    "<script>",
    '"><img onerror',
    "&amp;",
    "</mark>",
    "<mark>",
    "&lt;",
    "port",
    "Rabat",
    "plan de développement",
    "gouvernement",
    "festival musique",
    '"la hausse"',
    "réforme retraites",
    "Tanger Casablanca",
    "x",
    "amp",
    "lt gt",
]


def hostile_articles(count: int = 80) -> list[dict[str, Any]]:
    rng = random.Random(3)
    articles = []
    for record in synthetic.articles(count, seed=3):
        sentences = record["body"].split(". ")
        for _ in range(3):
            sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(FRAGMENTS))
        record["body"] = ". ".join(sentences)
        record["title"] = f"{rng.choice(FRAGMENTS)} {record['title']} {rng.choice(FRAGMENTS)}"
        record["summary"] = f"{record['summary']} {rng.choice(FRAGMENTS)}"
        articles.append(record)
    return articles


class Tags(HTMLParser):
    """Everything in a string that an HTML parser would not take as text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, Any]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(("start", (tag, attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.found.append(("end", tag))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(("startend", tag))

    def handle_comment(self, data: str) -> None:
        self.found.append(("comment", data))

    def handle_decl(self, decl: str) -> None:
        self.found.append(("decl", decl))

    def handle_pi(self, data: str) -> None:
        self.found.append(("pi", data))

    def unknown_decl(self, data: str) -> None:
        self.found.append(("unknown_decl", data))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def only_marks(fragment: str) -> str:
    """Assert ``fragment`` holds no markup but alternating bare marks; return its text."""
    parser = Tags()
    parser.feed(fragment)
    parser.close()
    expected = [("start", ("mark", [])), ("end", "mark")] * (len(parser.found) // 2)
    assert parser.found == expected, fragment
    # What html.parser saw as text is what a browser shows: the escaped source, entities decoded.
    shown = html.unescape(fragment.replace("<mark>", "").replace("</mark>", ""))
    assert "".join(parser.text) == shown
    return shown


@pytest.fixture(scope="module")
def articles() -> list[dict[str, Any]]:
    return hostile_articles()


@pytest.fixture(scope="module")
def hostile_index(build_index: BuildIndex, articles: list[dict[str, Any]]) -> Path:
    return build_index(articles)


@pytest.fixture
def client(hostile_index: Path, make_client: MakeClient) -> TestClient:
    return make_client(Settings(index_dir=hostile_index))


def test_the_index_holds_the_hostile_text(client: TestClient) -> None:
    # The entity-encoded script decoded at indexing: the stored title really holds a tag.
    resp = client.simulate_get("/search", params={"q": "script alert", "per_page": 100})
    assert any("<script>" in hit["title"] for hit in resp.json["hits"])


@pytest.mark.parametrize("query", QUERIES)
def test_html_fields_hold_no_tag_but_mark(client: TestClient, query: str) -> None:
    for sort in ("relevance", "date"):
        resp = client.simulate_get("/search", params={"q": query, "per_page": 50, "sort": sort})
        assert resp.status_code == 200
        for hit in resp.json["hits"]:
            assert only_marks(hit["title_html"]) == hit["title"]
            snippet = only_marks(hit["snippet_html"]).removeprefix("… ").removesuffix(" …")
            assert snippet.strip()


def test_snippets_are_the_articles_own_text(
    client: TestClient, articles: list[dict[str, Any]]
) -> None:
    bodies = {
        a["id"]: " ".join(html.unescape(a["body"] + " " + a["summary"]).split()) for a in articles
    }
    checked = 0
    for query in QUERIES:
        for hit in client.simulate_get("/search", params={"q": query, "per_page": 20}).json["hits"]:
            snippet = only_marks(hit["snippet_html"]).removeprefix("… ").removesuffix(" …")
            assert snippet in bodies[hit["id"]], (query, hit["snippet_html"])
            checked += 1
    assert checked > 200


def test_marks_in_article_text_stay_text(client: TestClient) -> None:
    resp = client.simulate_get("/search", params={"q": "gras", "per_page": 100})
    assert resp.json["total"] > 0
    for hit in resp.json["hits"]:
        only_marks(hit["title_html"])
        # "faux" and "piège" sit in fake marks in the text; the query does not match them.
        assert "<mark>faux" not in hit["title_html"] + hit["snippet_html"]
        assert "<mark>piège" not in hit["title_html"] + hit["snippet_html"]


def test_similar_titles_hold_no_tag_but_mark(
    client: TestClient, articles: list[dict[str, Any]]
) -> None:
    for article in articles[:20]:
        resp = client.simulate_get(f"/articles/{article['id']}/similar", params={"limit": 20})
        assert resp.status_code == 200
        for hit in resp.json["hits"]:
            assert only_marks(hit["title_html"]) == hit["title"]
