"""No stored text can make the API answer a 500: text of every kind JSON can carry, indexed
through the real reindex command, then searched, suggested and shown as similar articles.

A lone surrogate used to be stored, and then every answer holding it was an empty 500
(``UnicodeEncodeError`` when the JSON was encoded). The reindexer now refuses such text; the JSON
encoder also survives it for generations built before (checked directly on ``search.app.dumps``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from conftest import MakeClient

from index.cli import main
from search.app import dumps
from search.config import SETTINGS, Settings

# Every kind of text a JSON string can hold, each in its own article: every escape JSON has,
# controls (C0, DEL, C1), the line separators JSON allows raw but JavaScript once did not, an
# astral character written as a surrogate pair, bidi overrides, combining marks, zero-width and
# invisible marks, private use, the last valid code point, markup and quotes, Arabic, CJK, a
# 5,000-letter word, and the two kinds of text that are not Unicode (refused by the reindexer).
KINDS: dict[str, str] = {
    "escapes": "guillemets \" barre \\ oblique / \b \f \n \r \t fin",
    "c0": "".join(chr(c) for c in range(0x20)) + " contrôle",
    "del-c1": "\x7f\x80\x85\x9f suite",
    "separators": "ligne\u2028paragraphe\u2029suite",
    "astral": "fête \U0001f389 \U0001d11e \U00020000",
    "bidi": "\u202eesrever\u202c \u200f\u200e \u2066isolé\u2069",
    "combining": "e\u0301te\u0301 cafe\u0301 Z\u0351\u0352\u0353",
    "invisible": "sou\u00adple ze\u200bro \ufeffbom \u2060joint",
    "private": "\ue000\uf8ff \U000f0000 \U0010fffd",
    "replacement": "remplacé \ufffd ici",
    "markup": "<script>alert('x')</script> <b>gras</b> &amp; &lt;i&gt; \"q\" 'a' `b`",
    "arabic": "المغرب الاقتصاد ⵜⴰⵎⴰⵣⵉⵖⵜ",
    "cjk": "経済 摩洛哥 경제",
    "long-word": "a" * 5000,
    "ligatures": "ﬁnance œuvre Æsop ß",
    "lone-surrogate": "cassé \ud800 ici",
    "noncharacter": "non \uffff \U0001fffe",
}
REFUSED = {"lone-surrogate", "noncharacter"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in SETTINGS:
        monkeypatch.delenv(spec.env, raising=False)
    monkeypatch.setenv("PRESSE_BUILD_PROCESSES", "1")


@pytest.fixture(scope="module")
def strange_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("strange")
    records = []
    for kind, text in KINDS.items():
        records.append({
            # Falcon decodes %2F before routing, so an id with "/" has no /similar route.
            "id": f"{kind}-{text[:20]}".replace("/", "|"),
            "title": f"Marqueur {kind} {text}",
            "summary": text,
            "body": f"Le marqueur commun. {text}\n\n{text} marqueur encore.",
            "section": [f"Rubrique {text[:30]}"],
            "tags": [text[:40], "marqueur"],
            "author": text[:60],
            "url": f"https://presse.example.ma/{text[:30]}",
            "published": "9999-12-31T23:59:59Z" if kind == "astral" else "0001-01-01T00:00:00Z",
        })
    source = folder / "articles.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    err = io.StringIO()
    status = main(["--index-dir", str(folder / "index"), "--source", str(source)], err=err)
    assert status == 0, err.getvalue()
    refused = [line for line in err.getvalue().splitlines() if "not valid Unicode" in line]
    assert len(refused) == len(REFUSED), err.getvalue()
    return folder / "index"


def hit_ids(body: dict[str, object]) -> set[str]:
    return {str(hit["id"]) for hit in body["hits"]}  # type: ignore[attr-defined]


def test_every_kind_of_stored_text_is_answered(
    strange_index: Path, make_client: MakeClient
) -> None:
    client = make_client(Settings(index_dir=strange_index))
    seen: set[str] = set()
    for sort in ("relevance", "date"):
        for page in (1, 2):
            resp = client.simulate_get("/search", params={
                "q": "marqueur", "sort": sort, "per_page": "10", "page": str(page)})
            assert resp.status_code == 200, resp.text
            json.loads(resp.content.decode("utf-8"))  # valid UTF-8 and valid JSON
            seen |= hit_ids(resp.json)
    assert {i.split("-")[0] for i in seen} >= {k.split("-")[0] for k in KINDS if k not in REFUSED}
    assert not any(i.startswith(("lone", "noncharacter")) for i in seen)

    for article_id in seen:
        resp = client.simulate_get(f"/articles/{quote(article_id, safe='')}/similar")
        assert resp.status_code == 200, (article_id, resp.text)
        json.loads(resp.content.decode("utf-8"))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_of_text_as_a_query_is_answered(
    strange_index: Path, make_client: MakeClient, kind: str
) -> None:
    client = make_client(Settings(index_dir=strange_index))
    text = KINDS[kind][:400]
    for path, params in (("/search", {"q": text}), ("/search", {"q": f'"{text}" -marqueur'}),
                         ("/suggest", {"q": text[:90]}), ("/search", {"q": "marqueur",
                                                                       "section": text[:30]})):
        # Bytes as a client sends them: a lone surrogate travels as its (invalid) UTF-8 bytes.
        query = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in params.items()})
        resp = client.simulate_get(path, query_string=query)
        assert resp.status_code in (200, 400), (path, params, resp.text)
        body = json.loads(resp.content.decode("utf-8"))
        assert ("error" in body) == (resp.status_code == 400)


def test_the_json_encoder_survives_a_stored_lone_surrogate() -> None:
    # What an index built before the reindexer refused them can still hold.
    answer = {"title": "cassé \ud800 ici", "query": "é"}

    text = dumps(answer)

    assert json.loads(text.encode("utf-8")) == answer
    assert dumps({"query": "é"}) == '{"query": "é"}'  # readable UTF-8 whenever it can be
