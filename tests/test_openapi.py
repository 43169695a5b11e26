"""Keeps ``/openapi.json`` true: real answers of every endpoint, errors included, validate against
the document's schemas (which forbid undocumented fields), every documented path and method is
served, and every documented parameter limit is one the API enforces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import MakeClient
from falcon.testing import Result, TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from search.config import Settings
from search.engine import Engine
from search.openapi import OPENAPI
from search.results import SearchRequest, SearchResult

DOC_URI = "urn:presse-search:openapi"
POSTED_TEXT = {"title": "Inflation au Maroc", "body": "Bank Al-Maghrib relève son taux directeur."}
REGISTRY = Registry().with_resource(DOC_URI, Resource(OPENAPI, specification=DRAFT202012))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` of the document (responses are shared through components)."""
    while "$ref" in node:
        target: Any = OPENAPI
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def documented_response(template: str, method: str, status: int) -> dict[str, Any]:
    responses = OPENAPI["paths"][template][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {template}: {status} is not documented"
    return resolve(responses[str(status)])


def assert_documented(resp: Result, template: str, method: str = "get") -> None:
    """``resp`` has a status documented for this operation, and a body valid under its schema."""
    response = documented_response(template, method, resp.status_code)
    media = response["content"]
    assert resp.headers["content-type"].split(";")[0] in media
    schema = media["application/json"]["schema"]
    if "$ref" in schema:
        schema = {"$ref": DOC_URI + schema["$ref"]}
    Draft202012Validator(schema, registry=REGISTRY).validate(resp.json)


@pytest.fixture
def known_id(sample_articles: list[dict[str, Any]]) -> str:
    """An article of the sample corpus."""
    return str(sample_articles[0]["id"])


class BrokenEngine(Engine):
    def search(self, request: SearchRequest) -> SearchResult:
        raise RuntimeError("boom")


# --- the document itself -----------------------------------------------------------------------


def test_the_document_is_served_as_is(client: TestClient) -> None:
    resp = client.simulate_get("/openapi.json")
    assert resp.status_code == 200
    assert resp.json == OPENAPI
    assert_documented(resp, "/openapi.json")


def test_the_document_is_well_formed() -> None:
    assert OPENAPI["openapi"].startswith("3.1.")
    assert {"title", "version"} <= set(OPENAPI["info"])
    for schema in OPENAPI["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for template, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            assert method in METHODS
            assert operation["responses"], (template, method)
            for response in operation["responses"].values():
                assert "description" in resolve(response)
            for parameter in operation.get("parameters", []):
                Draft202012Validator.check_schema(parameter["schema"])
                if parameter["in"] == "path":
                    assert "{" + parameter["name"] + "}" in template and parameter["required"]


def test_every_reference_resolves() -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                resolve(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(OPENAPI)


# --- real answers against the document --------------------------------------------------------

CASES = [
    ("/search", {"q": "Maroc"}),
    (
        "/search",
        {
            "q": "Maroc",
            "section": ["Économie", "Sport"],
            "tag": "inflation",
            "from": "2020-01-01",
            "to": "2025-12-31",
            "sort": "date",
            "per_page": 3,
        },
    ),
    ("/search", {"q": "developement economik"}),
    ("/search", {"q": "le la les"}),
    ("/search", {}),
    ("/search", {"q": "Maroc", "page": 0}),
    ("/search", {"q": "Maroc", "page": 11, "per_page": 100}),
    ("/articles/{id}/similar", {}),
    ("/articles/{id}/similar", {"limit": 20, "section": "same"}),
    ("/articles/{id}/similar", {"limit": 50}),
    ("/articles/does-not-exist/similar", {}),
    ("/suggest", {"q": "écon"}),
    ("/suggest", {"q": "zzzzzz"}),
    ("/suggest", {}),
    ("/suggest", {"q": "ma", "limit": "x"}),
    ("/health", {}),
    ("/ready", {}),
    ("/openapi.json", {}),
]


def template_of(path: str) -> str:
    return "/articles/{id}/similar" if path.startswith("/articles/") else path


@pytest.mark.parametrize(("path", "params"), CASES)
def test_real_answers_match_the_document(
    client: TestClient, known_id: str, path: str, params: dict[str, Any]
) -> None:
    resp = client.simulate_get(path.replace("{id}", known_id), params=params)
    assert_documented(resp, template_of(path))


POST_CASES = [
    (POSTED_TEXT, {}),
    ({"body": "Bank Al-Maghrib"}, {"limit": 1}),
    ({"title": "xyzzy"}, {}),
    (POSTED_TEXT, {"limit": 0}),
    ({}, {}),
    ({"title": 3}, {}),
    ([POSTED_TEXT], {}),
    ({"title": "x" * 100_001}, {}),
]


@pytest.mark.parametrize(("body", "params"), POST_CASES)
def test_real_answers_to_posted_texts_match_the_document(
    client: TestClient, body: Any, params: dict[str, Any]
) -> None:
    resp = client.simulate_post("/similar", json=body, params=params)
    assert_documented(resp, "/similar", "post")


def test_the_text_schema_says_what_the_api_accepts(client: TestClient) -> None:
    schema = {"$ref": DOC_URI + "#/components/schemas/TextToMatch"}
    validator = Draft202012Validator(schema, registry=REGISTRY)
    for body in ({"title": "Maroc"}, {"body": "Maroc"}, {"title": " ", "body": "Maroc"}, {},
                 {"title": "\t"}, {"title": 3}, {"title": None, "body": "Maroc"}):
        valid = validator.is_valid(body)
        status = client.simulate_post("/similar", json=body).status_code
        assert status == (200 if valid else 400), (body, status)


@pytest.mark.parametrize(
    "path", ["/search", "/suggest", "/articles/{id}/similar", "/health", "/ready", "/openapi.json"]
)
def test_405_matches_the_document(client: TestClient, known_id: str, path: str) -> None:
    resp = client.simulate_post(path.replace("{id}", known_id))
    assert resp.status_code == 405
    assert_documented(resp, path, "get")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/search", {"q": "port"}),
        ("/suggest", {"q": "po"}),
        ("/articles/{id}/similar", {}),
        ("/ready", {}),
    ],
)
def test_503_without_an_index_matches_the_document(
    tmp_path: Path, make_client: MakeClient, known_id: str, path: str, params: dict[str, Any]
) -> None:
    client = make_client(Settings(index_dir=tmp_path / "empty"))
    resp = client.simulate_get(path.replace("{id}", known_id), params=params)
    assert resp.status_code == 503
    assert_documented(resp, path)
    posted = client.simulate_post("/similar", json=POSTED_TEXT)
    assert posted.status_code == 503
    assert_documented(posted, "/similar", "post")


def test_500_matches_the_document(settings: Settings, make_client: MakeClient) -> None:
    client = make_client(settings, BrokenEngine(settings))
    resp = client.simulate_get("/search", params={"q": "Maroc"})
    assert resp.status_code == 500
    assert_documented(resp, "/search")


def test_unknown_route_answers_the_error_schema(client: TestClient) -> None:
    resp = client.simulate_get("/nope")
    assert resp.status_code == 404
    schema = {"$ref": DOC_URI + "#/components/schemas/Error"}
    Draft202012Validator(schema, registry=REGISTRY).validate(resp.json)


# --- what is documented is what is served -----------------------------------------------------


# The admin routes (behind a token) and the click beacon (a POST answering 204) are checked
# against the document in tests/test_admin.py and tests/test_analytics_api.py.
PUBLIC_READS = sorted(t for t in OPENAPI["paths"] if not t.startswith(("/admin/", "/events/")))


@pytest.mark.parametrize("template", PUBLIC_READS)
def test_every_documented_path_is_served(client: TestClient, known_id: str, template: str) -> None:
    for method in OPENAPI["paths"][template]:
        params = {"q": "Maroc"} if template in ("/search", "/suggest") else {}
        body = POSTED_TEXT if method == "post" else None
        resp = client.simulate_request(
            method.upper(), template.replace("{id}", known_id), params=params, json=body
        )
        assert resp.status_code == 200, (method, template, resp.text)
        assert_documented(resp, template, method)


def _limit_violations(parameter: dict[str, Any]) -> list[str]:
    """Values that break the documented schema of ``parameter``."""
    schema = parameter["schema"]
    values: list[str] = []
    if "minimum" in schema:
        values.append(str(schema["minimum"] - 1))
    if "maximum" in schema:
        values.append(str(schema["maximum"] + 1))
    if schema.get("type") == "integer":
        values.append("douze")
    if "maxLength" in schema:
        values.append("a" * (schema["maxLength"] + 1))
    if "enum" in schema:
        values.append("not-" + schema["enum"][0])
    if schema.get("format") == "date":
        values.append("31/12/2024")
    return values


PARAMETER_CASES = [
    (template, parameter["name"], value)
    for template, item in OPENAPI["paths"].items()
    if template in PUBLIC_READS
    for parameter in item.get("get", {}).get("parameters", [])
    if parameter["in"] == "query"
    for value in [*_limit_violations(parameter), *([None] if parameter["required"] else [])]
]


@pytest.mark.parametrize(("template", "name", "value"), PARAMETER_CASES)
def test_documented_parameter_limits_are_enforced(
    client: TestClient, known_id: str, template: str, name: str, value: str | None
) -> None:
    base = {"q": "Maroc"} if template in ("/search", "/suggest") else {}
    params = {k: v for k, v in base.items() if k != name}
    if value is not None:
        params[name] = value
    resp = client.simulate_get(template.replace("{id}", known_id), params=params)
    assert resp.status_code == 400, (name, value, resp.text)
    assert resp.json["error"]["parameter"] == name
    assert_documented(resp, template)
