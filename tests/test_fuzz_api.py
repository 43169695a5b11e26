"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis), in-process.

Schemathesis reads ``/openapi.json`` from the real app (over WSGI, on the sample index) and
generates requests for every operation: schema-valid ones (positive), schema-violating ones
(negative), searches for real words of the corpus (so that hits, snippets and facets are
exercised), similar-article requests for real ids, and texts of real words posted to
``/similar`` (the body's rules are judged by ``body_violations``). Every answer must:

- never be a 5xx;
- conform to the document: a documented status, a JSON content type, a body valid under the
  documented schema (schemathesis' own conformance checks);
- be a 400 naming a faulty parameter exactly when the request breaks the documented rules, and
  a 200 (or a 404 for an unknown article) otherwise. This oracle replaces schemathesis'
  ``positive_data_acceptance`` / ``negative_data_rejection``, which cannot know two documented
  rules that JSON Schema cannot express (``page × per_page ≤ 1000``, ``from`` not after ``to``)
  and misjudge query strings (where ``false`` is as good a string as any).

At least ``MIN_REQUESTS`` requests are sent; the count per operation is printed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

import pytest
import schemathesis
from conftest import SITE_ORIGIN, MakeClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from search.config import Settings
from search.openapi import OPENAPI
from search.results import MAX_RESULT_WINDOW

pytestmark = pytest.mark.slow

MIN_REQUESTS = 1000

# (operation, kind) -> examples asked of Hypothesis. Operations without parameters have one
# possible request, which Hypothesis sends once whatever is asked.
BUDGET = {
    ("GET /search", "positive"): 280,
    ("GET /search", "negative"): 150,
    ("GET /search", "real words"): 120,
    ("GET /suggest", "positive"): 150,
    ("GET /suggest", "negative"): 100,
    ("GET /articles/{id}/similar", "positive"): 80,
    ("GET /articles/{id}/similar", "real ids"): 100,
    ("GET /articles/{id}/similar", "negative"): 60,
    ("POST /similar", "positive"): 60,
    ("POST /similar", "negative"): 80,
    ("POST /similar", "real words"): 40,
    ("GET /health", "positive"): 5,
    ("GET /ready", "positive"): 5,
    ("GET /openapi.json", "positive"): 5,
    ("GET /popular", "positive"): 20,
    ("GET /popular", "negative"): 20,
}

_INTEGER = re.compile(r"[+-]?[0-9]+")
_FORMATS = FormatChecker()


def documented_violations(template: str, query: str) -> set[str]:
    """The query parameters of ``query`` that break the rules documented for ``template``.

    The rules: the parameter schemas (a blank value of an optional parameter counts as absent,
    ``allowEmptyValue``; a single-valued parameter may be given once; unknown parameters are
    ignored), and for ``/search`` the two cross-parameter rules of the descriptions.
    """
    given: dict[str, list[str]] = defaultdict(list)
    for name, value in parse_qsl(query, keep_blank_values=True):
        given[name].append(value)
    bad: set[str] = set()
    values: dict[str, Any] = {}
    operation = OPENAPI["paths"][template]
    for parameter in operation.get("get", operation.get("post", {})).get("parameters", []):
        name, schema = parameter["name"], parameter["schema"]
        if parameter["in"] != "query" or schema.get("type") == "array":
            continue  # repeatable parameters take any strings; blanks are dropped
        raw = given.get(name, [])
        if len(raw) > 1:
            bad.add(name)
            continue
        value: Any = raw[0] if raw else None
        if value is not None and not value.strip() and parameter.get("allowEmptyValue"):
            value = None
        if value is None:
            if parameter["required"]:
                bad.add(name)
            continue
        if schema.get("type") == "integer":
            if not _INTEGER.fullmatch(value.strip()):
                bad.add(name)
                continue
            try:  # str.strip() drops separators such as \x1e that int() refuses
                value = int(value)
            except ValueError:
                bad.add(name)
                continue
        elif schema.get("type") == "boolean":
            if value.strip() not in ("true", "false"):
                bad.add(name)
                continue
            value = value.strip() == "true"
        errors = Draft202012Validator(schema, format_checker=_FORMATS).iter_errors(value)
        if any(True for _ in errors):
            bad.add(name)
            continue
        values[name] = value
    if template == "/search":  # over the values that are valid on their own
        if {"page", "per_page"}.isdisjoint(bad) and (
            values.get("page", 1) * values.get("per_page", 10) > MAX_RESULT_WINDOW
        ):
            bad.add("page")
        if (
            "from" in values
            and "to" in values
            and (date.fromisoformat(values["from"]) > date.fromisoformat(values["to"]))
        ):
            bad.add("from")
    return bad


def body_violations(body: Any) -> set[str | None]:
    """What a 400 may name for the JSON body of ``POST /similar`` (None: the whole body), or an
    empty set when the body keeps the documented rules."""
    if not isinstance(body, dict):
        return {None}
    wrong: set[str | None] = {
        name for name in ("title", "body") if name in body and not isinstance(body[name], str)
    }
    if not wrong and not any(str(body.get(name, "")).strip() for name in ("title", "body")):
        wrong.add("title")
    return wrong


def test_the_oracle_knows_the_rules() -> None:
    assert documented_violations("/search", "q=maroc") == set()
    assert documented_violations("/search", "q=maroc&page=&sort=&from=") == set()
    assert documented_violations("/search", "q=%20") == {"q"}
    assert documented_violations("/search", "q=a&q=b") == {"q"}
    assert documented_violations("/search", "q=a&page=11&per_page=100") == {"page"}
    assert documented_violations("/search", "q=a&from=2024-02-01&to=2024-01-01") == {"from"}
    assert documented_violations("/search", "q=a&from=2024-02-30") == {"from"}
    assert documented_violations("/search", "q=a&sort=x&page=200") == {"sort", "page"}
    assert documented_violations("/search", "q=a&per_page=douze&section=&tag=x") == {"per_page"}
    assert documented_violations("/search", "q=a&correct=false") == set()
    assert documented_violations("/search", "q=a&correct=non") == {"correct"}
    assert documented_violations("/suggest", "limit=3") == {"q"}
    assert documented_violations("/articles/{id}/similar", "section=other") == {"section"}
    assert documented_violations("/similar", "limit=0") == {"limit"}
    assert body_violations({"title": "Maroc"}) == set()
    assert body_violations({"body": "Maroc", "x": 1}) == set()
    assert body_violations({"title": " "}) == {"title"}
    assert body_violations({"title": 1, "body": None}) == {"title", "body"}
    assert body_violations(["Maroc"]) == {None}


def test_fuzz_every_operation(
    settings: Settings,
    make_client: MakeClient,
    sample_articles: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = make_client(settings)
    # The document as the app serves it. (``from_wsgi`` would leave out the operation that serves
    # the document itself, so it is loaded from the answer and pointed at the same app.)
    document = client.simulate_get("/openapi.json").json
    schema = schemathesis.openapi.from_dict(document)
    seen: list[str] = []  # the query string the app received, judged as the app would read it

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ.get("QUERY_STRING", ""))
        return client.app(environ, start_response)

    schema.app = app
    known_ids = sorted(str(a["id"]) for a in sample_articles)
    words = sorted({w for a in sample_articles for w in re.findall(r"\w{4,}", a["title"])})

    sent: Counter[tuple[str, str]] = Counter()
    statuses: Counter[tuple[str, str, int]] = Counter()
    failures: list[str] = []

    def exercise(label: str, kind: str, strategy: st.SearchStrategy[Any]) -> None:
        @hypothesis_settings(
            max_examples=BUDGET[(label, kind)],
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            response = case.call(headers={"Origin": SITE_ORIGIN})
            sent[(label, kind)] += 1
            statuses[(label, kind, response.status_code)] += 1
            problem = judge(case, response)
            try:
                case.validate_response(
                    response, excluded_checks=[positive_data_acceptance, negative_data_rejection]
                )
            except BaseException as exc:  # schemathesis raises an exception group
                problem = (problem + "\n" if problem else "") + str(exc)[:1500]
            if problem:
                failures.append(f"{label} ({kind}): {problem}\n  {case.as_curl_command()}")

        run()

    def judge(case: Any, response: Any) -> str | None:
        template = case.operation.path
        violations: set[str | None] = set(documented_violations(template, seen[-1]))
        if case.operation.method.upper() == "POST":
            violations |= body_violations(case.body)
        status = response.status_code
        if status >= 500:
            return f"answered {status}: {response.text[:300]}"
        if violations:
            body = response.json() if status == 400 else {}
            named = body.get("error", {}).get("parameter")
            if status != 400 or named not in violations:
                return f"breaks the rules for {sorted(violations)} but answered {status}"
            return None
        expected = {200}
        if template == "/articles/{id}/similar" and case.path_parameters["id"] not in known_ids:
            expected = {404}
        if status not in expected:
            return f"keeps the rules but answered {status}: {response.text[:300]}"
        return None

    kinds: dict[str, Callable[[Any], st.SearchStrategy[Any]]] = {
        "positive": lambda op: op.as_strategy(generation_mode=GenerationMode.POSITIVE),
        "negative": lambda op: op.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        "real words": lambda op: st.lists(st.sampled_from(words), min_size=1, max_size=4).flatmap(
            lambda chosen: op.as_strategy(query={"q": " ".join(chosen)})
            if op.method.upper() == "GET"
            else op.as_strategy(body={"title": " ".join(chosen), "body": " ".join(chosen)})
        ),
        "real ids": lambda op: st.sampled_from(known_ids).flatmap(
            lambda article_id: op.as_strategy(path_parameters={"id": article_id})
        ),
    }
    # The admin routes answer 404 here (no token set; tests/test_admin.py covers them) and the
    # click beacon is a POST with a body (tests/test_analytics_api.py): both left out.
    operations = {
        result.ok().label: result.ok()
        for result in schema.get_all_operations()
        if not result.ok().path.startswith(("/admin/", "/events/"))
    }
    assert {label for label, _ in BUDGET} == set(operations), "fuzz every operation"
    for label, kind in BUDGET:
        exercise(label, kind, kinds[kind](operations[label]))

    total = sum(sent.values())
    with capsys.disabled():
        print(f"\nschemathesis: {total} requests fuzzed against /openapi.json")
        for (label, kind), count in sorted(sent.items()):
            answers = ", ".join(
                f"{status}×{n}"
                for (lb, kd, status), n in sorted(statuses.items())
                if (lb, kd) == (label, kind)
            )
            print(f"  {label:<28} {kind:<10} {count:>4} requests: {answers}")
    assert not failures, f"{len(failures)} bad answers; the first ones:\n" + "\n\n".join(
        failures[:8]
    )
    assert total >= MIN_REQUESTS
