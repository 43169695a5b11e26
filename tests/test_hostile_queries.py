"""Hostile and malformed requests on an index of a few thousand articles, and the time budget.

Every row of the tables below is sent through ``falcon.testing`` to the app over the synthetic
index (``SYNTHETIC_ARTICLES`` articles): it must answer a 200 or a JSON 400 naming the parameter,
within ``MAX_SECONDS`` (measured around the call, the engine warmed up first). Rows that must be
a 400 say so. Raw query strings carry what a browser would never send: invalid UTF-8 in the
percent-encoding, broken escapes, repeated parameters.

Wildcards: ``*`` is plain punctuation, never expanded (``por*`` does not find ``port``), so a
lone ``*``, ``a*`` or ``*e*`` costs nothing.

The time budget: with ``search_budget_ms=1`` a heavy search answers the JSON 503 ``timeout`` at
once instead of running on; gunicorn's own timeout, the last line, comes from the settings.
"""

from __future__ import annotations

import runpy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import REPO
from falcon.testing import Result, TestClient

from search.app import create_app
from search.config import Settings
from search.engine import Engine

MAX_SECONDS = 1.0
EITHER = None  # a 200 or a 400, both fine

# Words of the synthetic corpus, and a 500-character query of distinct ones: the costliest
# query the length limit lets through (every word scored, every neighbouring pair re-ranked).
HEAVY = (
    "gouvernement annonce plan développement économique Rabat Casablanca Marrakech Tanger Agadir "
    "ministère réforme retraites programme irrigation construction autoroute modernisation port "
    "campagne vaccination budget éducation festival musique andalouse saison pluies hausse prix "
    "chantier ligne grande vitesse accord libre-échange stratégie énergétique exportations agrumes "
    "tourisme rural transition numérique sécurité routière marché emploi protection nappes équipe"
)[:500]

SEARCH_TEXTS: list[tuple[str, int | None]] = [
    # unbalanced quotes and parentheses
    ('"développement économique', 200),
    ('économique"', 200),
    ('"""', 200),
    ('"port" "quai', 200),
    ("((port", 200),
    ("port))", 200),
    ("(", 200),
    ("()", 200),
    ("(a OR (b", 200),
    # wildcards: plain punctuation
    ("*", 200),
    ("a*", 200),
    ("*e*", 200),
    ("**", 200),
    ("écon*", 200),
    ("*:*", 200),
    ("?", 200),
    ("port?", 200),
    # field and operator syntax of other engines: plain words here
    ("title:", 200),
    ("title:port", 200),
    ("section:Sport", 200),
    (":", 200),
    ("::::", 200),
    ("id:syn-00001", 200),
    ("OR", 200),
    ("AND", 200),
    ("NOT", 200),
    ("OR OR OR", 200),
    ("port OR", 200),
    ("OR port", 200),
    ("-", 200),
    ("- -", 200),
    ("--port", 200),
    ("-port", 200),
    ('-"', 200),
    ("+port", 200),
    ("&& || !", 200),
    ("port~2 port^10", 200),
    ("[a TO z] {a TO z}", 200),
    (("port OR " * 62 + "port")[:500], 200),  # as many ORs as 500 characters hold
    ("port OR " * 500, 400),  # 500 ORs: 4,000 characters
    # control characters
    ("\x00", 200),
    ("port\x00", 200),
    ("\x00port\x00", 200),
    ("\x01\x02\x03\x04\x05", 200),
    ("\x1b[31mport\x1b[0m", 200),
    ("port\r\nSet-Cookie: x=1", 200),
    ("\t\tport\x0b\x0c", 200),
    ("\x7f\x85port", 200),
    ("\ufeffport\u200b", 200),
    # right-to-left, emoji and other scripts
    ("المغرب", 200),
    ("الاقتصاد المغربي 2024", 200),
    ("שלום", 200),
    ("\u202eport\u202c", 200),
    ("\u200fport \u200eport", 200),
    ("🇲🇦", 200),
    ("⚽ football 🏆", 200),
    ("👨\u200d👩\u200d👧\u200d👦", 200),
    ("e\u0301conomie", 200),
    ("ｐｏｒｔ", 200),
    ("𝔭𝔬𝔯𝔱", 200),
    ("摩洛哥 经济", 200),
    # only stop words
    ("le la les de des du et", 200),
    ("l' d' qu' jusqu'", 200),
    ("les ils cet cette ceci cela ici leurs", 200),
    # what scanners paste
    ("<script>alert(1)</script>", 200),
    ("' OR 1=1 --", 200),
    ("'; DROP TABLE articles; --", 200),
    ("{{7*7}} ${jndi:ldap://x/a}", 200),
    ("../../etc/passwd", 200),
    ("%s%s%s%n", 200),
    ("\\\\\\", 200),
    # lengths
    ("a" * 500, 200),
    ("é" * 500, 200),
    ("port " * 100, 200),
    ("économie " * 55, 200),
    (HEAVY, 200),
    ('"' + HEAVY[:498] + '"', 200),
    # Past the caps of search.query (phrases, exclusions, terms): a 400 naming q and the limit.
    ("-" + " -".join(HEAVY.split())[:499], 400),
    (" ".join(['"est son"'] * 45)[:500], 400),
    (" ".join(['"port quai"'] * 4), 400),
    (" ".join(['-"port quai"'] * 4), 400),
    (" ".join(['"port quai"'] * 3), 200),
    ("a" * 501, 400),
    ("x" * 10_000, 400),
    ("", 400),
    (" ", 400),
    ("\t\n", 400),
]

# (raw query string of /search, expected status)
SEARCH_RAW: list[tuple[str, int | None]] = [
    # invalid UTF-8 in the percent-encoding
    ("q=%FF%FE", 200),
    ("q=%C3%28", 200),
    ("q=port%80", 200),
    ("q=%ED%A0%80", 200),  # an encoded UTF-16 surrogate
    ("q=%F4%90%80%80", 200),  # past U+10FFFF
    ("q=%C0%AF", 200),  # overlong
    ("q=%E2%82", 200),  # truncated
    ("q=port&section=%FF", 200),
    ("q=port&tag=%C3", 200),
    ("%FF%FE=1&q=port", 200),
    ("page=%FF&q=port", 400),
    # broken percent escapes
    ("q=%", 200),
    ("q=%G1", 200),
    ("q=port%2", 200),
    ("q=%%%%", 200),
    ("q=%00", 200),
    # repeated parameters
    ("q=port&q=quai", 400),
    ("q=port&page=1&page=2", 400),
    ("q=port&sort=date&sort=date", 400),
    ("q=port&section=Sport&section=Culture&section=Sport", 200),
    ("q=port&tag=ports&tag=ports", 200),
    # unknown parameters are ignored
    ("q=port&foo=bar", 200),
    ("q=port&q%5B%5D=x", 200),
    ("q=port&__proto__=1&constructor=x", 200),
    ("q=port&callback=alert&format=xml", 200),
    ("q=port&" + "&".join(f"p{i}=v" for i in range(500)), 200),
    # paging
    ("q=port&page=-1", 400),
    ("q=port&page=0", 400),
    (f"q=port&page={10**9}", 400),
    ("q=port&page=" + "9" * 5000, 400),
    ("q=port&per_page=0", 400),
    ("q=port&per_page=-5", 400),
    ("q=port&per_page=101", 400),
    ("q=port&page=1e3", 400),
    ("q=port&page=0x10", 400),
    ("q=port&page=1.5", 400),
    ("q=port&page=NaN", 400),
    ("q=port&page=%D9%A1", 400),  # an Arabic-Indic digit one
    ("q=port&page=%201", EITHER),
    ("q=port&page=10&per_page=100", 200),
    ("q=port&page=11&per_page=100", 400),
    # dates and sort
    ("q=port&from=2024-02-30", 400),
    ("q=port&from=99999-01-01", 400),
    ("q=port&to=0000-00-00", 400),
    ("q=port&from=2024-01-01T00:00", 400),
    ("q=port&from=2025-01-01&to=2024-01-01", 400),
    ("q=port&from=0001-01-01&to=9999-12-31", 200),
    ("q=port&sort=random", 400),
    ("q=port&sort=DATE", 400),
    ("q=port&sort=date", 200),
]

SUGGEST_RAW: list[tuple[str, int | None]] = [
    ("q=*", 200),
    ("q=a*", 200),
    ("q=%FF", 200),
    ("q=%00", 200),
    ("q=%F0%9F%87%B2%F0%9F%87%A6", 200),
    ("q=%D8%A7%D9%84", 200),
    ("q=" + "a" * 100, 200),
    ("q=" + "a" * 101, 400),
    ("q=e&limit=0", 400),
    (f"q=e&limit={10**9}", 400),
    ("q=e&q=f", 400),
    ("q=%20", 400),
]

SIMILAR_IDS: list[tuple[str, int]] = [
    ("syn-00001", 200),
    ("..%2F..%2Fetc%2Fpasswd", 404),
    ("%2E%2E", 404),
    ("%00", 404),
    ("*", 404),
    ("%FF%FE", 404),
    ("%F0%9F%87%B2%F0%9F%87%A6", 404),
    ("'%3B%20DROP%20TABLE%20articles", 404),
    ("a" * 5000, 404),
]


@pytest.fixture(scope="module")
def engine(synthetic_index: Path) -> Iterator[Engine]:
    engine = Engine(Settings(index_dir=synthetic_index))
    engine.warm_up()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def client(engine: Engine) -> TestClient:
    return TestClient(create_app(engine.settings, engine))


def timed(client: TestClient, path: str, query_string: str) -> tuple[Result, float]:
    started = time.perf_counter()
    resp = client.simulate_request("GET", path, query_string=query_string)
    return resp, time.perf_counter() - started


def assert_answered(resp: Result, seconds: float, expected: int | None) -> None:
    assert seconds < MAX_SECONDS, f"took {seconds:.2f} s"
    assert resp.status_code in ((200, 400) if expected is None else (expected,)), resp.text
    assert resp.headers["content-type"] == "application/json"
    body: Any = resp.json
    if resp.status_code == 400:
        assert set(body) == {"error"}
        assert body["error"]["code"] == "bad_request" and body["error"]["parameter"]


def test_the_index_holds_a_few_thousand_articles(client: TestClient) -> None:
    assert client.simulate_get("/ready").json["documents"] >= 2000


@pytest.mark.parametrize(
    ("text", "expected"), SEARCH_TEXTS, ids=[repr(t[:24]) for t, _ in SEARCH_TEXTS]
)
def test_nasty_search_text(client: TestClient, text: str, expected: int | None) -> None:
    resp, seconds = timed(client, "/search", urlencode({"q": text}))
    assert_answered(resp, seconds, expected)
    if expected == 400:
        assert resp.json["error"]["parameter"] == "q"
    else:
        assert resp.json["query"] == text


@pytest.mark.parametrize(
    ("query_string", "expected"), SEARCH_RAW, ids=[q[:40] for q, _ in SEARCH_RAW]
)
def test_nasty_search_query_string(
    client: TestClient, query_string: str, expected: int | None
) -> None:
    resp, seconds = timed(client, "/search", query_string)
    assert_answered(resp, seconds, expected)


@pytest.mark.parametrize(
    ("query_string", "expected"), SUGGEST_RAW, ids=[q[:30] for q, _ in SUGGEST_RAW]
)
def test_nasty_suggest_query_string(
    client: TestClient, query_string: str, expected: int | None
) -> None:
    resp, seconds = timed(client, "/suggest", query_string)
    assert_answered(resp, seconds, expected)


@pytest.mark.parametrize(
    ("article_id", "expected"), SIMILAR_IDS, ids=[i[:30] for i, _ in SIMILAR_IDS]
)
def test_nasty_article_id(client: TestClient, article_id: str, expected: int) -> None:
    resp, seconds = timed(client, f"/articles/{article_id}/similar", "")
    assert seconds < MAX_SECONDS
    assert resp.status_code == expected, resp.text
    assert resp.headers["content-type"] == "application/json"
    if expected == 404:
        assert resp.json["error"]["code"] == "not_found"


# --- wildcards ---------------------------------------------------------------------------------


def test_a_star_is_punctuation_not_a_wildcard(client: TestClient) -> None:
    port = client.simulate_get("/search", params={"q": "port"}).json
    assert port["total"] > 0
    # Stuck to a word, it is dropped with the punctuation: "port*" is "port"...
    assert client.simulate_get("/search", params={"q": "port*"}).json["total"] == port["total"]
    # ... and never expands: "por*" is the word "por", which no article holds.
    assert client.simulate_get("/search", params={"q": "por*"}).json["total"] == 0


@pytest.mark.parametrize("text", ["*", "a*", "*e*", "*" * 500, "a* " * 166])
def test_wildcard_queries_cost_nothing(client: TestClient, text: str) -> None:
    resp, seconds = timed(client, "/search", urlencode({"q": text}))
    assert resp.status_code == 200 and resp.json["total"] == 0
    assert seconds < 0.25, f"took {seconds:.3f} s"


# --- the time budget ---------------------------------------------------------------------------


def test_a_search_past_its_budget_answers_503_at_once(synthetic_index: Path) -> None:
    engine = Engine(Settings(index_dir=synthetic_index, search_budget_ms=1))
    engine.warm_up()
    try:
        client = TestClient(create_app(engine.settings, engine))
        resp, seconds = timed(client, "/search", urlencode({"q": HEAVY}))
        assert resp.status_code == 503, resp.text
        assert resp.json == {
            "error": {
                "code": "timeout",
                "message": "the search took longer than its time budget; try fewer words",
            }
        }
        assert resp.headers["cache-control"] == "no-store"
        assert seconds < MAX_SECONDS
        # Cheap requests are not affected by a heavy one that ran out of time.
        assert client.simulate_get("/health").status_code == 200
    finally:
        engine.close()


def test_the_default_budget_lets_the_heaviest_query_through(client: TestClient) -> None:
    resp, seconds = timed(client, "/search", urlencode({"q": HEAVY, "per_page": 100}))
    assert resp.status_code == 200 and resp.json["total"] > 0
    assert seconds < MAX_SECONDS


def test_gunicorn_timeout_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSE_TIMEOUT", "7")
    config = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert config["timeout"] == 7 and config["graceful_timeout"] == 7
    # The search budget is spent well before gunicorn would kill the worker.
    defaults = Settings()
    assert defaults.search_budget_ms < defaults.timeout_s * 1000 / 2
