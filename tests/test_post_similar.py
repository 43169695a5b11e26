"""``POST /similar``: articles of the archive close to a text not yet published, and every way
its JSON body can be wrong (a 400 naming the field, or a 413 past 100 kB)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SITE_ORIGIN, MakeClient
from falcon.testing import TestClient
from test_api import HIT_KEYS, assert_error

from search.config import Settings
from search.resources.articles import MAX_BODY_BYTES

TEXT = {
    "title": "La banque centrale relève encore son taux directeur",
    "body": "Face à l’inflation, Bank Al-Maghrib a décidé de relever son taux directeur.",
}


def post(client: TestClient, body: Any, **kwargs: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    return client.simulate_post("/similar", body=raw, headers=headers, **kwargs)


def test_a_text_gets_similar_articles_like_an_article_does(client: TestClient) -> None:
    resp = post(client, TEXT)
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"  # an editor's text changes
    assert set(resp.json) == {"id", "hits"} and resp.json["id"] is None
    hits = resp.json["hits"]
    assert 1 <= len(hits) <= 5
    assert "inflation" in hits[0]["id"]  # the sample's Bank Al-Maghrib articles
    for hit in hits:
        assert set(hit) == HIT_KEYS | {"summary"}
        assert hit["summary"]


def test_title_or_body_alone_and_the_limit(client: TestClient) -> None:
    assert post(client, {"title": TEXT["title"]}).status_code == 200
    assert post(client, {"body": TEXT["body"]}).status_code == 200
    assert post(client, {**TEXT, "tags": [1], "id": None}).status_code == 200  # others ignored
    assert len(post(client, TEXT, params={"limit": 2}).json["hits"]) == 2
    assert_error(post(client, TEXT, params={"limit": 0}), 400, "bad_request", "limit")
    assert_error(post(client, TEXT, params={"limit": 21}), 400, "bad_request", "limit")


def test_a_text_of_unknown_words_has_no_hits(client: TestClient) -> None:
    resp = post(client, {"title": "xyzzy plugh", "body": "quux"})
    assert resp.status_code == 200 and resp.json == {"id": None, "hits": []}


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        (b"", None),
        (b"title=Inflation", None),  # a form, not JSON
        (b'{"title": "Inflation"', None),  # cut short
        (b"\xff\xfe{}", None),  # not UTF-8
        (b'["Inflation"]', None),
        (b'"Inflation"', None),
        (b"null", None),
        (b"{}", "title"),
        (b'{"title": "  ", "body": "\\n"}', "title"),
        (b'{"titre": "Inflation"}', "title"),
        (b'{"title": 12}', "title"),
        (b'{"title": null, "body": "Inflation"}', "title"),
        (b'{"title": "Inflation", "body": ["a", "b"]}', "body"),
        (b'{"title": "Inflation", "body": {"text": "a"}}', "body"),
        (b'{"title": true}', "title"),
    ],
)
def test_bad_bodies_are_a_400_naming_the_field(
    client: TestClient, body: bytes, parameter: str | None
) -> None:
    assert_error(post(client, body), 400, "bad_request", parameter)


def test_a_body_over_the_limit_is_a_413(client: TestClient) -> None:
    fits = json.dumps({"title": "Inflation", "body": "x" * (MAX_BODY_BYTES - 40)}).encode()
    assert len(fits) <= MAX_BODY_BYTES and post(client, fits).status_code == 200
    over = json.dumps({"title": "Inflation", "body": "x" * MAX_BODY_BYTES}).encode()
    resp = post(client, over)
    assert_error(resp, 413, "payload_too_large")
    assert str(MAX_BODY_BYTES) in resp.json["error"]["message"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_only_post_is_served_on_similar(client: TestClient, method: str) -> None:
    resp = client.simulate_request(method, "/similar")
    assert_error(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["allow"]


def test_the_site_may_post_from_the_browser(client: TestClient) -> None:
    preflight = client.simulate_options(
        "/similar",
        headers={
            "Origin": SITE_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == SITE_ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    resp = post(client, TEXT, headers={"Origin": SITE_ORIGIN})
    assert resp.headers["access-control-allow-origin"] == SITE_ORIGIN


def test_without_an_index_it_is_a_503(tmp_path: Path, make_client: MakeClient) -> None:
    client = make_client(Settings(index_dir=tmp_path / "none"))
    assert_error(post(client, TEXT), 503, "index_unavailable")
