"""Fuzzing the JSON API from its own OpenAPI document (schemathesis), signed in with a
session cookie and the CSRF header: no 5xx, and every response conforms to the document
(status code, content type, headers, body schema).

Operations run as generated (random ids: mostly not-found answers), and again with the
path's ids fixed to real ones of this user (a completed query, a dashboard with a tab and a
chart, a saved query) so the fuzzer reaches the commands' decisions too; the last round
sends data the document says is invalid (it must be refused with 4xx, never 5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.result import Ok

from tests.integration.web.conftest import ServedApp, serve_ironstar, web_settings
from tests.integration.web.test_api import BAR, analyst, ok, prepare_data, run_query

EXAMPLES = 20
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@dataclass
class Target:
    served: ServedApp
    cookies: dict[str, str]
    headers: dict[str, str]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    prepare_data(data_dir)
    settings = web_settings(data_dir, query_timeout_seconds=2)
    with serve_ironstar(settings) as served, analyst(served, "fuzzer") as client:
        headers = seed_resources(client)
        yield Target(served, dict(client.cookies), headers)


def seed_resources(client: httpx.Client) -> dict[str, str]:
    """Real ids for the fuzzer to use; returns the headers a signed-in client sends."""
    ok(client.post("/api/catalogs/lab/select"))
    query_id = run_query(client)["query_id"]
    board = ok(client.post("/api/dashboards", json={"name": "Fuzzed"}), 201)["dashboard_id"]
    tab = ok(client.get(f"/api/dashboards/{board}"))["tabs"][0]["tab_id"]
    place = {"query_id": query_id, "tab_id": tab, "x": 0, "y": 0, "w": 6, "h": 4, "config": BAR}
    chart = ok(client.post(f"/api/dashboards/{board}/charts", json=place), 201)["chart_id"]
    saved = ok(client.post("/api/saved-queries", json={"name": "Fuzzed", "sql": "SELECT 1"}), 201)
    KNOWN.update(
        catalog_id="lab",
        query_id=query_id,
        dashboard_id=board,
        tab_id=tab,
        chart_id=chart,
        saved_query_id=saved["saved_query_id"],
    )
    return {"X-CSRF-Token": client.headers["x-csrf-token"]}


KNOWN: dict[str, str] = {}


@pytest.mark.parametrize(
    ("mode", "real_ids"),
    [
        (GenerationMode.POSITIVE, False),
        (GenerationMode.POSITIVE, True),
        (GenerationMode.NEGATIVE, True),
    ],
    ids=["positive", "positive-real-ids", "negative-real-ids"],
)
def test_no_server_errors_and_conforming_answers(
    target: Target, mode: GenerationMode, real_ids: bool
) -> None:
    schema = schemathesis.openapi.from_url(f"{target.served.url}/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if isinstance(result, Ok) and result.ok().path.startswith("/api/")
    ]
    operations = [op for op in operations if op.path != "/api/session"]
    assert len(operations) >= 40
    failures: list[str] = []
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        known = {name: KNOWN[name] for name in names if name in KNOWN} if real_ids else {}
        if real_ids and not known:
            continue
        strategy = operation.as_strategy(mode, path_parameters=known or None)

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            response = case.call(headers=target.headers, cookies=target.cookies)
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except Unsatisfiable:  # nothing left to make invalid once the path ids are fixed
            assert mode is GenerationMode.NEGATIVE, operation.path
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
