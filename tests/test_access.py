"""Who may do what: the HTTP API only reads, parameters are data, and CORS names its origins.

- The API has no route that changes the index (the reindex script, run by an admin on the
  machine, is the only writer): without ``PRESSE_ADMIN_TOKEN`` every route serves GET, HEAD and
  OPTIONS only, but for the click beacon (``POST /events/click``, which only appends a row to
  analytics) and ``POST /similar`` (a text to compare with the archive, too long for a URL, which
  changes nothing: the index files and the live generation are the same after it); any other
  method is a JSON 405 that names the allowed ones. The admin routes, which do change synonyms
  and pins, exist only with a token (``tests/test_admin.py``).
- Article ids, sections, tags and every other parameter are data: a filter value is matched as a
  whole against the indexed values, never parsed as query syntax, and nothing builds a path from
  an id.
- CORS: the configured origins get ``Access-Control-Allow-Origin``; any other origin gets none,
  on simple requests and on preflights alike.
"""

from __future__ import annotations

from typing import Any

import falcon.inspect
import pytest
from conftest import SITE_ORIGIN, MakeClient
from falcon.testing import TestClient

from search.config import Settings

API_PATHS = [
    "/search?q=maroc",
    "/suggest?q=ma",
    "/articles/{id}/similar",
    "/health",
    "/ready",
    "/openapi.json",
]
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
READING_POSTS = {"/similar"}  # POST that reads a text and changes nothing
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE", "TRACE"]


def resolve(path: str, article_id: str) -> tuple[str, str]:
    route, _, query = path.format(id=article_id).partition("?")
    return route, query


@pytest.fixture
def known_id(sample_articles: list[dict[str, Any]]) -> str:
    return str(sample_articles[0]["id"])


# The one public route that takes a POST: it records a click, and changes nothing else.
BEACONS = {"/events/click": {"POST", "OPTIONS"}}


def test_no_route_serves_a_method_that_writes(client: TestClient) -> None:
    for route in falcon.inspect.inspect_routes(client.app):
        served = {m.method for m in route.methods if not m.internal}
        allowed = BEACONS.get(route.path, READ_METHODS) | (
            {"POST"} if route.path in READING_POSTS else set())
        assert served <= allowed, (route.path, served)


def test_posting_a_text_to_similar_changes_nothing(
    settings: Settings, make_client: MakeClient, known_id: str
) -> None:
    client = make_client(settings)

    def state() -> tuple[object, ...]:
        # /ready first: opening the generation may record its checksums (index.checked)
        ready = client.simulate_get("/ready").json
        files = sorted((p.relative_to(settings.index_dir), p.stat().st_mtime_ns, p.stat().st_size)
                       for p in settings.index_dir.rglob("*") if p.is_file())
        return (ready, files, client.simulate_get(f"/articles/{known_id}/similar").json)

    before = state()
    for text in ({"title": "Inflation au Maroc", "body": "La banque centrale relève son taux."},
                 {"title": known_id, "body": "deleted: true"}, {"body": "x" * 50_000}):
        assert client.simulate_post("/similar", json=text).status_code == 200
    assert state() == before


@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("path", API_PATHS)
def test_writing_methods_are_a_json_405(
    client: TestClient, known_id: str, method: str, path: str
) -> None:
    route, query = resolve(path, known_id)
    resp = client.simulate_request(
        method,
        route,
        query_string=query,
        body=b'{"id": "x"}',
        headers={"Authorization": "Bearer admin-token-123"},
    )
    assert resp.status_code == 405
    assert resp.json["error"]["code"] == "method_not_allowed"
    assert set(resp.headers["allow"].replace(" ", "").split(",")) <= READ_METHODS
    assert "admin-token-123" not in resp.text


@pytest.mark.parametrize("path", API_PATHS)
def test_reading_methods_are_served(client: TestClient, known_id: str, path: str) -> None:
    route, query = resolve(path, known_id)
    get = client.simulate_get(route, query_string=query)
    assert get.status_code == 200
    head = client.simulate_head(route, query_string=query)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["cache-control"] == get.headers["cache-control"]
    if route != "/search":  # took_ms differs between two searches
        assert int(head.headers["content-length"]) == len(get.content)
    options = client.simulate_options(route, query_string=query)
    assert options.status_code == 200
    assert {"GET", "HEAD"} <= set(options.headers["allow"].replace(" ", "").split(","))


# --- parameters are data -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "section",
    [
        'Économie" OR "Sport',
        "Économie OR Sport",
        "section:Sport",
        "Sport:*",
        "*",
        "?",
        "../Sport",
        "../../etc/passwd",
        "Économie\x00",
        "(Économie)",
        "%",
        "Sport'; --",
    ],
)
def test_a_section_filter_is_matched_whole(client: TestClient, section: str) -> None:
    resp = client.simulate_get("/search", params={"q": "maroc", "section": section})
    assert resp.status_code == 200
    assert resp.json["total"] == 0 and resp.json["hits"] == []
    # The facets (over the query alone) show the sections were there to be wrongly matched.
    assert resp.json["facets"]["section"]


def test_a_real_section_filter_keeps_to_it(client: TestClient) -> None:
    resp = client.simulate_get(
        "/search", params={"q": "maroc", "section": "Économie", "per_page": 100}
    )
    assert resp.json["total"] > 0
    assert all("Économie" in hit["section"] for hit in resp.json["hits"])


@pytest.mark.parametrize("tag", ["*", "a*", "tag:*", "../x", '" OR "'])
def test_a_tag_filter_is_matched_whole(client: TestClient, tag: str) -> None:
    resp = client.simulate_get("/search", params={"q": "maroc", "tag": tag})
    assert resp.status_code == 200 and resp.json["total"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/articles/../../etc/passwd/similar",
        "/articles/..%2F..%2Fetc%2Fpasswd/similar",
        "/articles/%2E%2E/similar",
        "/articles/../similar",
        "/articles/./similar",
        "/articles/~root/similar",
        "/articles/CURRENT/similar",
        "/articles/generations/similar",
        "/articles/%00/similar",
        "/articles/*/similar",
    ],
)
def test_an_article_id_is_never_a_path(client: TestClient, path: str) -> None:
    resp = client.simulate_get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/json"
    assert resp.json["error"]["code"] == "not_found"


def test_the_similar_section_option_is_an_enum(client: TestClient, known_id: str) -> None:
    resp = client.simulate_get(f"/articles/{known_id}/similar", params={"section": "../../x"})
    assert resp.status_code == 400 and resp.json["error"]["parameter"] == "section"


# --- CORS --------------------------------------------------------------------------------------

OTHER_ORIGINS = [
    "https://evil.example",
    "http://www.exemple.ma",  # another scheme is another origin
    "https://www.exemple.ma.evil.example",
    "https://evil-www.exemple.ma",
    "https://www.exemple.ma:8443",
    "null",
    SITE_ORIGIN.upper(),
]


def test_the_site_origin_is_allowed(client: TestClient) -> None:
    resp = client.simulate_get("/search", params={"q": "maroc"}, headers={"Origin": SITE_ORIGIN})
    assert resp.headers["access-control-allow-origin"] == SITE_ORIGIN
    preflight = client.simulate_options(
        "/search", headers={"Origin": SITE_ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.headers["access-control-allow-origin"] == SITE_ORIGIN


@pytest.mark.parametrize("origin", OTHER_ORIGINS)
def test_other_origins_get_no_cors_header(client: TestClient, origin: str) -> None:
    resp = client.simulate_get("/search", params={"q": "maroc"}, headers={"Origin": origin})
    assert resp.status_code == 200
    assert "access-control-allow-origin" not in resp.headers
    assert "Origin" in resp.headers["vary"]
    preflight = client.simulate_options(
        "/search", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-methods" not in preflight.headers


def test_without_configured_origins_no_one_gets_cors(
    settings: Settings, make_client: MakeClient
) -> None:
    client = make_client(Settings(index_dir=settings.index_dir))
    resp = client.simulate_get("/search", params={"q": "maroc"}, headers={"Origin": SITE_ORIGIN})
    assert "access-control-allow-origin" not in resp.headers
