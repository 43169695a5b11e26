"""The admin routes (issue 12): off by default, bearer token, backoff, no CORS, audit, no-store.

- without ``PRESSE_ADMIN_TOKEN`` every ``/admin`` path answers a JSON 404;
- with it, every ``/admin/api/`` operation answers 401 to a missing, wrong or URL-borne token,
  and 429 (with ``Retry-After``) after repeated failures, a right token included;
- no admin answer carries ``Access-Control-Allow-Origin``, preflights included, even for the
  site's own origin; every admin answer is ``no-store``;
- each change is in the audit trail under the token's label; answers match the OpenAPI
  document; the click beacon and ``scripts/admin export|import`` work as documented.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SITE_ORIGIN, MakeClient
from falcon.testing import TestClient
from test_openapi import assert_documented

from index.config import ConfigError
from search.admin_auth import FREE_FAILURES, AdminGuard
from search.cli_admin import main as admin_main
from search.config import Settings
from search.errors import TooManyAttempts, Unauthorized
from search.newsroom import Newsroom
from search.openapi import OPENAPI

TOKEN = "redaction-token-0123456789abcdef"
OTHER = "second-token-abcdefghijklmnopqrst"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

ADMIN_OPERATIONS = [
    (method.upper(), template.replace("{id}", "1"))
    for template, item in OPENAPI["paths"].items()
    if template.startswith("/admin/")
    for method in item
]
ADMIN_PAGES = ["/admin", "/admin/admin.js", "/admin/admin.css", "/admin/nope"]


def settings_for(tmp_path: Path, sample_index: Path, **extra: Any) -> Settings:
    return Settings(index_dir=sample_index, analytics_db=tmp_path / "a.sqlite3",
                    refresh_interval_s=0, cors_origins=(SITE_ORIGIN,), **extra)


@pytest.fixture
def admin(tmp_path: Path, sample_index: Path, make_client: MakeClient) -> TestClient:
    settings = settings_for(tmp_path, sample_index,
                            admin_tokens=(("amina", TOKEN), ("youssef", OTHER)))
    return make_client(settings, newsroom=Newsroom(settings))


def test_admin_operations_are_all_listed() -> None:
    assert len(ADMIN_OPERATIONS) >= 9  # reports, synonyms x3, pins x3, audit, export


@pytest.mark.parametrize(("method", "path"), ADMIN_OPERATIONS + [("GET", p) for p in ADMIN_PAGES])
def test_without_a_token_setting_every_admin_path_is_404(
    tmp_path: Path, sample_index: Path, make_client: MakeClient, method: str, path: str
) -> None:
    client = make_client(settings_for(tmp_path, sample_index))
    resp = client.simulate_request(method, path, headers=AUTH, json={})
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == "not_found"
    assert "Access-Control-Allow-Origin" not in resp.headers


@pytest.mark.parametrize(("method", "path"), ADMIN_OPERATIONS)
@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-token-0123456789abcdef"},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": "Bearer "},
])
def test_a_missing_or_wrong_token_is_401(admin: TestClient, method: str, path: str,
                                         headers: dict[str, str]) -> None:
    resp = admin.simulate_request(method, path, headers=headers, json={})
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized"
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert resp.headers["cache-control"] == "no-store"
    assert_documented(resp, path.replace("/1", "/{id}"), method.lower())


def test_a_token_in_the_url_is_not_read(admin: TestClient) -> None:
    for name in ("token", "access_token", "authorization"):
        resp = admin.simulate_get("/admin/api/reports", params={name: TOKEN})
        assert resp.status_code == 401


def test_every_admin_answer_is_no_store_and_documented(admin: TestClient) -> None:
    for path in ("/admin/api/reports", "/admin/api/synonyms", "/admin/api/pins",
                 "/admin/api/audit", "/admin/api/export"):
        resp = admin.simulate_get(path, headers=AUTH)
        assert resp.status_code == 200, resp.text
        assert resp.headers["cache-control"] == "no-store"
        assert_documented(resp, path)
    for path in ADMIN_PAGES[:3]:
        resp = admin.simulate_get(path)
        assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    assert "Content-Security-Policy" in admin.simulate_get("/admin").headers


def test_no_admin_route_is_reachable_through_cors(admin: TestClient) -> None:
    for method, path in ADMIN_OPERATIONS:
        origin = {"Origin": SITE_ORIGIN}
        resp = admin.simulate_request(method, path, headers={**AUTH, **origin}, json={})
        assert "access-control-allow-origin" not in resp.headers, (method, path)
        preflight = admin.simulate_options(path, headers={
            **origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert "access-control-allow-origin" not in preflight.headers, (method, path)
        assert "access-control-allow-headers" not in preflight.headers
    public = admin.simulate_get("/search", params={"q": "maroc"}, headers={"Origin": SITE_ORIGIN})
    assert public.headers["access-control-allow-origin"] == SITE_ORIGIN  # the API still is


def test_repeated_failures_are_slowed_down_with_backoff() -> None:
    now = [1000.0]
    guard = AdminGuard([("amina", TOKEN)], clock=lambda: now[0])
    for _ in range(FREE_FAILURES):
        with pytest.raises(Unauthorized):
            guard.check("Bearer nope")
    with pytest.raises(TooManyAttempts) as blocked:
        guard.check(f"Bearer {TOKEN}")  # even the right token waits
    assert blocked.value.headers["Retry-After"] == "1"
    now[0] += 1.1
    with pytest.raises(Unauthorized):
        guard.check("Bearer nope")  # a sixth failure: 2 s now
    now[0] += 1.5
    with pytest.raises(TooManyAttempts):
        guard.check(f"Bearer {TOKEN}")
    now[0] += 0.6
    assert guard.check(f"Bearer {TOKEN}") == "amina"
    assert guard.check("bearer " + TOKEN) == "amina"  # the scheme is case-insensitive
    with pytest.raises(Unauthorized):
        guard.check("Bearer nope")  # the count started again


def test_backoff_over_http_is_a_documented_429(admin: TestClient) -> None:
    for _ in range(FREE_FAILURES):
        assert admin.simulate_get("/admin/api/audit").status_code == 401
    resp = admin.simulate_get("/admin/api/audit", headers=AUTH)
    assert resp.status_code == 429 and int(resp.headers["retry-after"]) >= 1
    assert_documented(resp, "/admin/api/audit")


def test_admin_tokens_setting() -> None:
    settings = Settings.from_env({"PRESSE_ADMIN_TOKEN": f"amina:{TOKEN}, {OTHER}"})
    assert settings.admin_tokens == (("amina", TOKEN), ("admin", OTHER))
    assert TOKEN not in repr(settings) and OTHER not in repr(settings)
    with pytest.raises(ConfigError, match="PRESSE_ADMIN_TOKEN.*at least 20"):
        Settings.from_env({"PRESSE_ADMIN_TOKEN": "amina:short"})
    with pytest.raises(ConfigError, match="label"):
        Settings.from_env({"PRESSE_ADMIN_TOKEN": f"<b>:{TOKEN}"})


def test_changes_are_audited_under_the_token_label(admin: TestClient) -> None:
    created = admin.simulate_post("/admin/api/synonyms", json={"line": "ONU, Nations unies"},
                                  headers=AUTH)
    assert created.status_code == 201, created.text
    assert_documented(created, "/admin/api/synonyms", "post")
    pins = admin.simulate_post("/admin/api/pins", headers={"Authorization": f"Bearer {OTHER}"},
                               json={"query": "Maroc", "article_ids": ["eco-2022-inflation-bam"],
                                     "ends": "2030-01-01T00:00:00+01:00"})
    assert pins.status_code == 201, pins.text
    pin_id = pins.json["pins"][0]["id"]
    assert pins.json["pins"][0]["ends"] == "2029-12-31T23:00:00Z"
    deleted = admin.simulate_delete(f"/admin/api/pins/{pin_id}", headers=AUTH)
    assert deleted.status_code == 204
    assert admin.simulate_delete(f"/admin/api/pins/{pin_id}", headers=AUTH).status_code == 404
    audit = admin.simulate_get("/admin/api/audit", headers=AUTH).json["audit"]
    assert [(a["who"], a["action"]) for a in audit] == [
        ("amina", "pin.delete"), ("youssef", "pin.add"), ("amina", "synonym.add")]
    assert all(a["at"].endswith("Z") for a in audit)


@pytest.mark.parametrize(("path", "body", "parameter"), [
    ("/admin/api/synonyms", {"line": "BAM"}, "line"),
    ("/admin/api/synonyms", {"terms": "BAM"}, "line"),
    ("/admin/api/pins", {"query": "", "article_ids": ["a"]}, "query"),
    ("/admin/api/pins", {"query": "x", "article_ids": ["a", "b", "c", "d"]}, "article_ids"),
    ("/admin/api/pins", {"query": "x", "article_ids": "a"}, "article_ids"),
    ("/admin/api/pins", {"query": "x", "article_ids": ["a"], "starts": "demain"}, "starts"),
    ("/admin/api/pins", {"query": "x", "article_ids": ["a"], "starts": "2026-01-02",
                         "ends": "2026-01-01"}, "ends"),
    ("/admin/api/pins", ["not", "an", "object"], "body"),
])
def test_bad_changes_are_a_400_naming_the_field(admin: TestClient, path: str, body: Any,
                                                parameter: str) -> None:
    resp = admin.simulate_post(path, json=body, headers=AUTH)
    assert resp.status_code == 400, resp.text
    assert resp.json["error"]["parameter"] == parameter
    assert admin.simulate_get("/admin/api/audit", headers=AUTH).json["audit"] == []


def test_a_hostile_query_comes_back_as_text_in_the_reports(admin: TestClient) -> None:
    hostile = "<img src=x onerror=alert(1)>\x00\x1b[2J" + "x" * 460  # 494 characters
    assert admin.simulate_get("/search", params={"q": hostile}).status_code == 200
    reports = admin.simulate_get("/admin/api/reports", headers=AUTH)
    deadline = time.monotonic() + 10  # the worker's thread writes within FLUSH_INTERVAL_S
    while not reports.json["summary"]["searches"] and time.monotonic() < deadline:
        time.sleep(0.05)
        reports = admin.simulate_get("/admin/api/reports", headers=AUTH)
    queries = [q["query"] for q in reports.json["top_queries"]]
    assert queries and queries[0].startswith("<img src=x onerror=alert(1)>")
    assert "\x00" not in queries[0] and "\x1b" not in queries[0]
    assert reports.headers["content-type"].startswith("application/json")


# --- the click beacon ---------------------------------------------------------------------------


def test_clicks_are_accepted_as_json_text_or_form(admin: TestClient) -> None:
    query_id = admin.simulate_get("/search", params={"q": "maroc"}).json["query_id"]
    click = {"query_id": query_id, "article_id": "eco-2022-inflation-bam", "position": 2}
    for content_type, body in (("text/plain;charset=UTF-8", json.dumps(click)),
                               ("application/json", json.dumps(click)),
                               ("application/x-www-form-urlencoded",
                                f"query_id={query_id}&article_id=a&position=1")):
        resp = admin.simulate_post("/events/click", body=body,
                                   headers={"Content-Type": content_type})
        assert resp.status_code == 204, resp.text
        assert resp.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("body", "parameter"), [
    ('{"query_id": "nope", "article_id": "a", "position": 1}', "query_id"),
    ('{"query_id": "' + "a" * 32 + '", "article_id": "", "position": 1}', "article_id"),
    ('{"query_id": "' + "a" * 32 + '", "article_id": "a", "position": 0}', "position"),
    ('{"query_id": "' + "a" * 32 + '", "article_id": "a", "position": true}', "position"),
    ("{not json", "body"),
    ("[1, 2]", "body"),
    ("x" * 3000, "body"),
])
def test_bad_clicks_are_a_400_naming_the_field(admin: TestClient, body: str,
                                               parameter: str) -> None:
    resp = admin.simulate_post("/events/click", body=body, headers={"Content-Type": "text/plain"})
    assert resp.status_code == 400
    assert resp.json["error"]["parameter"] == parameter
    assert_documented(resp, "/events/click", "post")


def test_popular_is_public_cacheable_and_documented(admin: TestClient) -> None:
    resp = admin.simulate_get("/popular", params={"limit": 5}, headers={"Origin": SITE_ORIGIN})
    assert resp.status_code == 200 and resp.json == {"queries": []}
    assert resp.headers["cache-control"].startswith("public")
    assert resp.headers["access-control-allow-origin"] == SITE_ORIGIN
    assert_documented(resp, "/popular")


# --- scripts/admin ------------------------------------------------------------------------------


def test_export_and_import_round_trip(admin: TestClient, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    admin.simulate_post("/admin/api/synonyms", json={"line": "PJD => Parti de la justice"},
                        headers=AUTH)
    admin.simulate_post("/admin/api/pins", json={"query": "Élections", "article_ids": ["a1"],
                                                 "starts": "2026-06-01T20:00:00Z"}, headers=AUTH)
    db = tmp_path / "a.sqlite3"
    out = io.StringIO()
    assert admin_main(["--db", str(db), "export"], out=out) == 0
    exported = json.loads(out.getvalue())
    assert exported["synonyms"] == [{"kind": "oneway", "terms": ["PJD"],
                                     "expansions": ["Parti de la justice"]}]
    assert exported["pins"][0]["starts"] == "2026-06-01T20:00:00Z"

    other = tmp_path / "b.sqlite3"
    saved = tmp_path / "editorial.json"
    saved.write_text(out.getvalue(), encoding="utf-8")
    assert admin_main(["--db", str(other), "import", str(saved), "--who", "omar"]) == 0
    again = io.StringIO()
    assert admin_main(["--db", str(other), "export"], out=again) == 0
    assert json.loads(again.getvalue()) == exported

    saved.write_text('{"format": 1, "synonyms": [{"line": "seul"}]}', encoding="utf-8")
    assert admin_main(["--db", str(other), "import", str(saved)]) == 1
    assert "synonyms[1]" in capsys.readouterr().err
    assert admin_main(["--db", str(other), "export"], out=(third := io.StringIO())) == 0
    assert json.loads(third.getvalue()) == exported  # a bad file changed nothing
