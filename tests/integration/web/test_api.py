"""The JSON API over real HTTP (uvicorn on a loopback port, httpx): every route's success
and its errors - 401 without a session, 403 without the CSRF token, 404 for another
user's resources, 409/410/422/503 domain errors, 413 - and idempotent retries."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pyarrow.parquet as pq
import pytest

from ironstar.domain.session import SignInIdentity
from ironstar.web.security import csrf_token
from tests.conftest import postgres_url
from tests.integration.analytics.conftest import LAB_TABLES, write_lake
from tests.integration.web.conftest import ServedApp, serve_ironstar, web_settings

CATALOGS = """
[catalogs.lab]
kind = "ducklake"
metadata = "lake/lab/metadata.ducklake"
data_path = "lake/lab/data/"
description = "a small test lake"

[catalogs.fixtures]
kind = "ducklake"
location = "hf://datasets/sciexp/fixtures"
"""
TOTALS = "SELECT station, sum(value) AS total FROM measurements GROUP BY station ORDER BY station"
BAR = {"chart_type": "bar", "x": "station", "y": ["total"], "title": "Totals"}
SLOW = "SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3"


def prepare_data(data_dir: Path) -> None:
    write_lake(data_dir, "lab", *LAB_TABLES)
    (data_dir / "catalogs.toml").write_text(CATALOGS)


def analyst(served: ServedApp, name: str | None = None) -> httpx.Client:
    """A client signed in as a fresh user, sending its CSRF token on every request."""
    name = name or f"analyst-{uuid.uuid4().hex[:8]}"
    identity = SignInIdentity(
        provider="local", provider_user_id=name, login=name, display_name=name.title()
    )
    session_id, _ = served.call(served.services.workflow.sign_in(identity))
    return served.client(
        cookies={"ironstar_session": session_id},
        headers={"X-CSRF-Token": csrf_token(served.app.state.secret, session_id)},
    )


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert set(body) == {"code", "message", "details"} and body["message"]
    return body


def settled(client: httpx.Client, query_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = ok(client.get(f"/api/queries/{query_id}"))
        if body["status"] != "running":
            return body
        time.sleep(0.02)
    raise AssertionError(f"query {query_id} never finished")


def run_query(
    client: httpx.Client, sql: str = TOTALS, chart: dict[str, Any] | None = BAR
) -> dict[str, Any]:
    body: dict[str, Any] = {"sql": sql, "catalog": "lab", "dataset": "main"}
    if chart is not None:
        body["chart_config"] = chart
    accepted = ok(client.post("/api/queries", json=body), 202)
    return settled(client, accepted["query_id"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    data_dir = tmp_path_factory.mktemp("api") / "data"
    prepare_data(data_dir)
    with serve_ironstar(web_settings(data_dir, query_timeout_seconds=2)) as served:
        yield served


@pytest.fixture
def ada(server: ServedApp) -> Iterator[httpx.Client]:
    with analyst(server) as client:
        yield client


@pytest.fixture
def bob(server: ServedApp) -> Iterator[httpx.Client]:
    with analyst(server) as client:
        yield client


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServedApp]:
    data_dir = tmp_path / "data"
    prepare_data(data_dir)
    settings = web_settings(data_dir, query_timeout_seconds=2, sqlite_synchronous="NORMAL")
    schema = ""
    if request.param == "postgres":
        schema = f"ironstar_api_{uuid.uuid4().hex[:10]}"
        settings = web_settings(
            data_dir, query_timeout_seconds=2, database_url=postgres_url(), postgres_schema=schema
        )
    try:
        with serve_ironstar(settings) as served:
            yield served
    finally:
        if schema:
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                for name in (schema, f"{schema}_read"):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


# ---- the whole flow, on SQLite and PostgreSQL ----------------------------------------------


def test_the_workflow_through_the_api(any_backend: ServedApp) -> None:
    with analyst(any_backend, "ada") as c:
        flow(c)


def flow(c: httpx.Client) -> None:
    # Catalogs: list, select (read-your-writes), datasets with search.
    listed = ok(c.get("/api/catalogs"))
    assert listed["current"] is None
    assert [x["catalog_id"] for x in listed["catalogs"]] == ["lab", "fixtures"]
    assert listed["catalogs"][0]["description"] == "a small test lake"
    selected = ok(c.post("/api/catalogs/lab/select", headers=key()))
    assert selected["position"] > 0
    listed = ok(c.get("/api/catalogs"))
    lab = listed["catalogs"][0]
    assert listed["current"] == "lab" and lab["current"] and lab["dataset_count"] == 2
    assert ok(c.post("/api/catalogs/lab/refresh"))["position"] == 0  # nothing changed
    datasets = ok(c.get("/api/catalogs/lab/datasets"))["datasets"]
    assert [d["dataset"] for d in datasets] == ["field", "main"]
    found = ok(c.get("/api/catalogs/lab/datasets", params={"search": "sites"}))
    assert [d["dataset"] for d in found["datasets"]] == ["field"]

    # Queries: 202 + Location, status, provenance, results, exports, chart.
    started = c.post(
        "/api/queries",
        json={"sql": TOTALS, "catalog": "lab", "dataset": "main", "chart_config": BAR},
    )
    accepted = ok(started, 202)
    assert started.headers["location"] == f"/api/queries/{accepted['query_id']}"
    assert accepted["status"] == "running" and accepted["position"] > 0
    done = settled(c, accepted["query_id"])
    query_id = done["query_id"]
    assert done["status"] == "completed" and done["row_count"] == 7
    assert done["duration_ms"] is not None and done["finished_at"] >= done["started_at"]
    provenance = done["provenance"]
    assert provenance["catalog_id"] == "lab" and provenance["sql"] == TOTALS
    assert provenance["snapshot_id"] is not None and provenance["rerun_of"] is None
    assert [col["name"] for col in done["columns"]] == ["station", "total"]
    assert [q["query_id"] for q in ok(c.get("/api/queries"))["queries"]] == [query_id]

    page = ok(c.get(f"/api/queries/{query_id}/results", params={"limit": 3}))
    assert page["total_rows"] == 7 and [r[0] for r in page["rows"]] == [0, 1, 2]
    page = ok(
        c.get(
            f"/api/queries/{query_id}/results",
            params={"offset": 1, "limit": 2, "sort": "station", "desc": "true"},
        )
    )
    assert [r[0] for r in page["rows"]] == [5, 4] and page["sort"] == "station"

    csv = c.get(f"/api/queries/{query_id}/export.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert 'filename="' + query_id + '.csv"' in csv.headers["content-disposition"]
    assert csv.text.splitlines()[0] == '"station","total"' and len(csv.text.splitlines()) == 8
    parquet = c.get(f"/api/queries/{query_id}/export.parquet")
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert pq.read_table(pyarrow_buffer(parquet.content)).num_rows == 7
    exported = ok(c.get(f"/api/queries/{query_id}/export.json"))
    assert len(exported) == 7 and set(exported[0]) == {"station", "total"}

    drawn = ok(c.get(f"/api/queries/{query_id}/chart"))
    assert drawn["option"]["series"] and "meta" in drawn
    preview = ok(
        c.post(
            f"/api/queries/{query_id}/chart/preview",
            json={"chart_type": "line", "x": "station", "y": ["total"]},
        )
    )
    assert preview["option"]["series"][0]["type"] == "line"

    # Dashboards: create, tabs, charts, history, versions, restore, delete.
    created = c.post("/api/dashboards", json={"name": "Q4 Metrics"}, headers=key())
    board = ok(created, 201)["dashboard_id"]
    assert created.headers["location"] == f"/api/dashboards/{board}"
    layout = ok(c.get(f"/api/dashboards/{board}"))
    assert layout["name"] == "Q4 Metrics" and [t["name"] for t in layout["tabs"]] == ["Overview"]
    overview = layout["tabs"][0]["tab_id"]
    details = ok(c.post(f"/api/dashboards/{board}/tabs", json={"name": "Details"}), 201)["tab_id"]
    place = {"query_id": query_id, "tab_id": overview, "x": 0, "y": 0, "w": 6, "h": 4}
    first = ok(c.post(f"/api/dashboards/{board}/charts", json=place), 201)["chart_id"]
    second = ok(c.post(f"/api/dashboards/{board}/charts", json={**place, "x": 6}), 201)["chart_id"]
    ok(c.post(f"/api/dashboards/{board}/charts/{second}/move-to-tab", json={"tab_id": details}))
    on_details = ok(c.get(f"/api/dashboards/{board}"))["tabs"][1]["charts"]
    # it was at x=6 on Overview; on the empty tab it goes to the top left
    assert [(m["chart_id"], m["x"], m["y"], m["w"]) for m in on_details] == [(second, 0, 0, 6)]
    ok(c.post(f"/api/dashboards/{board}/charts/{first}/move", json={"x": 2, "y": 1}))
    resized = ok(c.post(f"/api/dashboards/{board}/charts/{first}/resize", json={"w": 8, "h": 5}))
    version_with_two = ok(c.get(f"/api/dashboards/{board}"))["version"]
    assert resized["position"] > 0
    ok(c.delete(f"/api/dashboards/{board}/charts/{second}"))
    ok(c.post(f"/api/dashboards/{board}/rename", json={"name": "Q4 Review"}))
    ok(c.put(f"/api/dashboards/{board}/tabs/order", json={"tab_ids": [details, overview]}))
    ok(c.post(f"/api/dashboards/{board}/tabs/{details}/rename", json={"name": "More"}))
    layout = ok(c.get(f"/api/dashboards/{board}"))
    assert layout["name"] == "Q4 Review" and [t["name"] for t in layout["tabs"]] == [
        "More",
        "Overview",
    ]
    [chart] = layout["tabs"][1]["charts"]
    assert (chart["chart_id"], chart["x"], chart["y"], chart["w"], chart["h"]) == (
        first,
        2,
        1,
        8,
        5,
    )
    assert chart["config"]["chart_type"] == "bar"
    [summary] = ok(c.get("/api/dashboards"))["dashboards"]
    assert summary["dashboard_id"] == board and summary["chart_count"] == 1

    history = ok(c.get(f"/api/dashboards/{board}/history"))["history"]
    assert [h["event_type"] for h in history][:3] == [
        "TabRenamed",
        "TabsReordered",
        "DashboardRenamed",
    ]
    past = ok(c.get(f"/api/dashboards/{board}/versions/{version_with_two}"))
    assert len(past["layout"]["charts"]) == 2 and past["version"] == version_with_two
    ok(c.post(f"/api/dashboards/{board}/restore", json={"version": version_with_two}))
    restored = ok(c.get(f"/api/dashboards/{board}"))
    assert restored["name"] == "Q4 Metrics" and [len(t["charts"]) for t in restored["tabs"]] == [
        1,
        1,
    ]
    ok(c.delete(f"/api/dashboards/{board}"))
    error(c.get(f"/api/dashboards/{board}"), 410, "deleted")
    assert ok(c.get("/api/dashboards"))["dashboards"] == []
    ok(c.post(f"/api/dashboards/{board}/restore", json={"version": version_with_two}))
    assert ok(c.get(f"/api/dashboards/{board}"))["name"] == "Q4 Metrics"
    empty = ok(c.post(f"/api/dashboards/{board}/tabs", json={"name": "Empty"}), 201)["tab_id"]
    ok(c.delete(f"/api/dashboards/{board}/tabs/{empty}"))

    # Saved queries.
    saved = ok(
        c.post(
            "/api/saved-queries",
            json={
                "name": "Station totals",
                "sql": "SELECT 1",
                "catalog_id": "lab",
                "dataset": "main",
            },
        ),
        201,
    )["saved_query_id"]
    ok(c.post(f"/api/saved-queries/{saved}/rename", json={"name": "Totals by station"}))
    ok(c.put(f"/api/saved-queries/{saved}/sql", json={"sql": "SELECT 42"}))
    ok(c.put(f"/api/saved-queries/{saved}/dataset", json={"catalog_id": "lab", "dataset": "field"}))
    kept = ok(c.get(f"/api/saved-queries/{saved}"))
    assert (kept["name"], kept["sql"], kept["dataset"]) == (
        "Totals by station",
        "SELECT 42",
        "field",
    )
    assert [s["saved_query_id"] for s in ok(c.get("/api/saved-queries"))["saved_queries"]] == [
        saved
    ]
    ok(c.put(f"/api/saved-queries/{saved}/dataset", json={}))
    assert ok(c.get(f"/api/saved-queries/{saved}"))["dataset"] is None
    ok(c.delete(f"/api/saved-queries/{saved}"))
    error(c.get(f"/api/saved-queries/{saved}"), 404, "not_found")
    error(c.put(f"/api/saved-queries/{saved}/sql", json={"sql": "SELECT 43"}), 410, "deleted")

    # Preferences.
    assert ok(c.get("/api/preferences"))["theme"] == "system"
    ok(c.put("/api/preferences/theme", json={"theme": "dark"}))
    ok(c.put("/api/preferences/default-catalog", json={"catalog_id": "lab"}))
    ok(c.put("/api/preferences/ui-state", json={"ui_state": {"editor_height": 320}}))
    prefs = ok(c.get("/api/preferences"))
    assert (prefs["theme"], prefs["default_catalog"], prefs["ui_state"]) == (
        "dark",
        "lab",
        {"editor_height": 320},
    )
    ok(c.delete("/api/preferences/default-catalog"))
    assert ok(c.get("/api/preferences"))["default_catalog"] is None

    # Re-run, pinned to the snapshot the first run read.
    rerun = ok(c.post(f"/api/queries/{query_id}/rerun"), 202)
    again = settled(c, rerun["query_id"])
    assert again["provenance"]["rerun_of"] == query_id
    assert again["provenance"]["pinned_snapshot_id"] == provenance["snapshot_id"]
    assert again["row_count"] == 7
    loose = settled(c, ok(c.post(f"/api/queries/{query_id}/rerun?pinned=false"), 202)["query_id"])
    assert loose["provenance"]["pinned_snapshot_id"] is None


def pyarrow_buffer(content: bytes) -> Any:
    import pyarrow as pa

    return pa.BufferReader(content)


# ---- who may ask -----------------------------------------------------------------------------


def api_routes(server: ServedApp) -> list[tuple[str, str]]:
    """(method, concrete path) for every API operation in the OpenAPI document."""
    document = server.app.openapi()
    routes: list[tuple[str, str]] = []
    for path, operations in document["paths"].items():
        if not path.startswith("/api/") or path == "/api/session":
            continue
        concrete = path.replace("{version}", "1").replace("{fmt}", "csv")
        for name in (
            "catalog_id",
            "query_id",
            "dashboard_id",
            "tab_id",
            "chart_id",
            "saved_query_id",
        ):
            concrete = concrete.replace("{" + name + "}", "x" + name[:3])
        routes.extend((method.upper(), concrete) for method in operations)
    return routes


def test_every_route_needs_a_session(server: ServedApp) -> None:
    routes = api_routes(server)
    assert len(routes) >= 40
    with server.client() as anonymous:
        for method, path in routes:
            response = anonymous.request(method, path, json={})
            error(response, 401, "not_authenticated")


def test_every_state_change_needs_the_csrf_token(server: ServedApp, ada: httpx.Client) -> None:
    changing = [(m, p) for m, p in api_routes(server) if m != "GET"]
    assert len(changing) >= 25
    head = server.call(server.services.app.events.head_position())
    for method, path in changing:
        error(ada.request(method, path, json={}, headers={"X-CSRF-Token": ""}), 403, "csrf_failed")
        forged = ada.request(method, path, json={}, headers={"X-CSRF-Token": "0" * 64})
        error(forged, 403, "csrf_failed")
    assert server.call(server.services.app.events.head_position()) == head


def test_expired_or_signed_out_sessions_are_refused(server: ServedApp) -> None:
    with analyst(server) as c:
        ok(c.get("/api/preferences"))
        session_id = c.cookies["ironstar_session"]
        server.call(server.services.workflow.sign_out(session_id))
        error(c.get("/api/preferences"), 401, "not_authenticated")
        error(c.put("/api/preferences/theme", json={"theme": "dark"}), 401, "not_authenticated")


def test_another_users_resources_are_not_found(
    server: ServedApp, ada: httpx.Client, bob: httpx.Client
) -> None:
    query = run_query(ada)
    query_id = query["query_id"]
    board = ok(ada.post("/api/dashboards", json={"name": "Ada's"}), 201)["dashboard_id"]
    layout = ok(ada.get(f"/api/dashboards/{board}"))
    tab = layout["tabs"][0]["tab_id"]
    place = {"query_id": query_id, "tab_id": tab, "x": 0, "y": 0, "w": 4, "h": 3}
    chart = ok(ada.post(f"/api/dashboards/{board}/charts", json=place), 201)["chart_id"]
    saved = ok(ada.post("/api/saved-queries", json={"name": "Mine", "sql": "SELECT 1"}), 201)[
        "saved_query_id"
    ]
    ok(ada.put("/api/preferences/theme", json={"theme": "dark"}))
    head = server.call(server.services.app.events.head_position())

    reads = [
        f"/api/queries/{query_id}",
        f"/api/queries/{query_id}/results",
        f"/api/queries/{query_id}/export.csv",
        f"/api/queries/{query_id}/chart",
        f"/api/dashboards/{board}",
        f"/api/dashboards/{board}/history",
        f"/api/dashboards/{board}/versions/1",
        f"/api/saved-queries/{saved}",
    ]
    for path in reads:
        error(bob.get(path), 404, "not_found")
    commands: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/api/queries/{query_id}/cancel", {}),
        ("POST", f"/api/queries/{query_id}/rerun", {}),
        ("POST", f"/api/queries/{query_id}/chart/preview", BAR),
        ("POST", f"/api/dashboards/{board}/rename", {"name": "Mine now"}),
        ("DELETE", f"/api/dashboards/{board}", {}),
        ("POST", f"/api/dashboards/{board}/restore", {"version": 1}),
        ("POST", f"/api/dashboards/{board}/tabs", {"name": "Bob's"}),
        ("POST", f"/api/dashboards/{board}/tabs/{tab}/rename", {"name": "Bob's"}),
        ("DELETE", f"/api/dashboards/{board}/tabs/{tab}", {}),
        ("PUT", f"/api/dashboards/{board}/tabs/order", {"tab_ids": [tab]}),
        ("POST", f"/api/dashboards/{board}/charts", {**place, "y": 5}),
        ("DELETE", f"/api/dashboards/{board}/charts/{chart}", {}),
        ("POST", f"/api/dashboards/{board}/charts/{chart}/move", {"x": 5, "y": 5}),
        ("POST", f"/api/dashboards/{board}/charts/{chart}/resize", {"w": 2, "h": 2}),
        ("POST", f"/api/dashboards/{board}/charts/{chart}/move-to-tab", {"tab_id": tab}),
        ("POST", f"/api/saved-queries/{saved}/rename", {"name": "Bob's"}),
        ("PUT", f"/api/saved-queries/{saved}/sql", {"sql": "SELECT 2"}),
        ("PUT", f"/api/saved-queries/{saved}/dataset", {}),
        ("DELETE", f"/api/saved-queries/{saved}", {}),
    ]
    for method, path, body in commands:
        error(bob.request(method, path, json=body), 404, "not_found")
    assert server.call(server.services.app.events.head_position()) == head

    # Bob's lists are his own; Ada's things are unchanged.
    assert ok(bob.get("/api/queries"))["queries"] == []
    assert ok(bob.get("/api/dashboards"))["dashboards"] == []
    assert ok(bob.get("/api/saved-queries"))["saved_queries"] == []
    assert ok(bob.get("/api/preferences"))["theme"] == "system"
    assert ok(ada.get(f"/api/dashboards/{board}"))["name"] == "Ada's"


# ---- domain errors -----------------------------------------------------------------------------


def test_catalog_errors(ada: httpx.Client) -> None:
    error(ada.post("/api/catalogs/nowhere/select"), 404, "unknown_catalog")
    unavailable = error(ada.post("/api/catalogs/fixtures/select"), 503, "catalog_unavailable")
    assert "unavailable" in unavailable["message"]
    error(ada.post("/api/catalogs/nowhere/refresh"), 404, "unknown_catalog")
    error(ada.get("/api/catalogs/nowhere/datasets"), 404, "unknown_catalog")
    error(
        ada.put("/api/preferences/default-catalog", json={"catalog_id": "nowhere"}),
        404,
        "unknown_catalog",
    )
    error(
        ada.get("/api/catalogs/lab/datasets", params={"search": "x" * 201}), 422, "validation_error"
    )
    [fixtures] = [
        c for c in ok(ada.get("/api/catalogs"))["catalogs"] if c["catalog_id"] == "fixtures"
    ]
    assert fixtures["available"] is False and fixtures["reason"]


def test_query_errors(server: ServedApp, ada: httpx.Client) -> None:
    head = server.call(server.services.app.events.head_position())
    refused = ada.post(
        "/api/queries", json={"sql": "COPY measurements TO '/tmp/x.csv'", "catalog": "lab"}
    )
    error(refused, 422, "sql_not_allowed")
    error(
        ada.post("/api/queries", json={"sql": "SELECT 1", "catalog": "nowhere"}),
        404,
        "unknown_catalog",
    )
    error(ada.post("/api/queries", json={"sql": "", "catalog": "lab"}), 422, "validation_error")
    error(
        ada.post("/api/queries", json={"sql": "SELECT 1", "catalog": "lab", "extra": 1}),
        422,
        "validation_error",
    )
    bad_chart = {"chart_type": "bar", "y": ["a", "a"]}
    error(
        ada.post(
            "/api/queries", json={"sql": "SELECT 1", "catalog": "lab", "chart_config": bad_chart}
        ),
        422,
        "invalid_chart_config",
    )
    error(
        ada.post(
            "/api/queries",
            json={"sql": "SELECT 1", "catalog": "lab", "chart_config": {"chart_type": "radar"}},
        ),
        422,
        "validation_error",
    )
    assert server.call(server.services.app.events.head_position()) == head

    # A syntax error fails the run, with its kind and position in the SQL.
    failed = run_query(ada, "SELECT *\nFROM measurements WHERE", chart=None)
    assert failed["status"] == "failed" and failed["error"]["kind"] == "syntax"
    assert failed["error"]["position"] is not None and failed["error"]["message"]
    error(ada.get(f"/api/queries/{failed['query_id']}/results"), 409, "query_not_completed")
    error(ada.get(f"/api/queries/{failed['query_id']}/chart"), 404, "not_found")
    error(ada.post(f"/api/queries/{failed['query_id']}/rerun"), 409, "conflict")

    # While running: 409 for results, export and chart; cancel; cancel again is harmless.
    slow = ok(
        ada.post("/api/queries", json={"sql": SLOW, "catalog": "lab", "chart_config": BAR}), 202
    )
    running = slow["query_id"]
    error(ada.get(f"/api/queries/{running}/results"), 409, "query_not_completed")
    error(ada.get(f"/api/queries/{running}/export.csv"), 409, "query_not_completed")
    error(ada.get(f"/api/queries/{running}/chart"), 409, "query_not_completed")
    cancelled = ok(ada.post(f"/api/queries/{running}/cancel"))
    assert cancelled["status"] in ("cancelled", "running")
    assert settled(ada, running)["status"] == "cancelled"
    assert ok(ada.post(f"/api/queries/{running}/cancel"))["status"] == "cancelled"
    assert ok(ada.get(f"/api/queries/{running}"))["cancelled_by"]

    done = run_query(ada)
    error(ada.post(f"/api/queries/{done['query_id']}/cancel"), 409, "query_not_running")
    mismatch = error(
        ada.post(
            f"/api/queries/{done['query_id']}/chart/preview",
            json={"chart_type": "pie", "x": "station", "y": ["total", "station"]},
        ),
        422,
        "chart_type_mismatch",
    )
    assert mismatch["details"]["rule"] and mismatch["details"]["column"]
    error(
        ada.get(f"/api/queries/{done['query_id']}/results", params={"sort": "nope"}),
        422,
        "invalid_value",
    )
    error(
        ada.get(f"/api/queries/{done['query_id']}/results", params={"limit": 0}),
        422,
        "validation_error",
    )
    error(ada.get(f"/api/queries/{done['query_id']}/export.xlsx"), 422, "validation_error")
    error(ada.get("/api/queries/nope"), 404, "not_found")


def test_dashboard_errors(ada: httpx.Client) -> None:
    query_id = run_query(ada)["query_id"]
    board = ok(ada.post("/api/dashboards", json={"name": "Errors"}), 201)["dashboard_id"]
    tab = ok(ada.get(f"/api/dashboards/{board}"))["tabs"][0]["tab_id"]
    place = {"query_id": query_id, "tab_id": tab, "x": 0, "y": 0, "w": 6, "h": 4}
    chart = ok(ada.post(f"/api/dashboards/{board}/charts", json=place), 201)["chart_id"]
    charts = f"/api/dashboards/{board}/charts"
    error(ada.post(charts, json={**place, "x": 3}), 409, "grid_overlap")
    error(ada.post(charts, json={**place, "x": 8}), 422, "out_of_grid")  # 8 + 6 > 12
    error(ada.post(charts, json={**place, "x": 12}), 422, "validation_error")
    error(ada.post(charts, json={**place, "tab_id": "nope", "y": 9}), 404, "unknown_tab")
    error(ada.post(charts, json={**place, "query_id": "nope", "y": 9}), 404, "not_found")
    mismatch = {
        **place,
        "y": 9,
        "config": {"chart_type": "pie", "x": "station", "y": ["total", "station"]},
    }
    error(ada.post(charts, json=mismatch), 422, "chart_type_mismatch")
    error(ada.post(f"{charts}/nope/move", json={"x": 1, "y": 1}), 404, "unknown_chart")
    error(ada.post(f"{charts}/{chart}/resize", json={"w": 13, "h": 1}), 422, "validation_error")
    error(ada.post(f"{charts}/{chart}/move", json={"x": 10, "y": 0}), 422, "out_of_grid")
    error(ada.delete(f"/api/dashboards/{board}/tabs/{tab}"), 409, "tab_not_empty")
    ok(ada.delete(f"{charts}/{chart}"))
    error(ada.delete(f"/api/dashboards/{board}/tabs/{tab}"), 409, "last_tab")
    error(ada.post(f"/api/dashboards/{board}/tabs", json={"name": "overview"}), 409, "name_taken")
    error(
        ada.put(f"/api/dashboards/{board}/tabs/order", json={"tab_ids": ["a", "b"]}),
        422,
        "invalid_value",
    )
    error(ada.post(f"/api/dashboards/{board}/rename", json={"name": ""}), 422, "validation_error")
    error(ada.post(f"/api/dashboards/{board}/rename", json={"name": "   "}), 422, "invalid_name")
    error(ada.get(f"/api/dashboards/{board}/versions/999"), 404, "not_found")
    error(ada.post(f"/api/dashboards/{board}/restore", json={"version": 999}), 404, "not_found")
    error(ada.post("/api/dashboards/nope/rename", json={"name": "x"}), 404, "not_found")
    ok(ada.delete(f"/api/dashboards/{board}"))
    error(ada.post(f"/api/dashboards/{board}/rename", json={"name": "x"}), 410, "deleted")

    # A chart only from a completed query.
    slow = ok(
        ada.post("/api/queries", json={"sql": SLOW, "catalog": "lab", "chart_config": BAR}), 202
    )
    other = ok(ada.post("/api/dashboards", json={"name": "Running"}), 201)["dashboard_id"]
    other_tab = ok(ada.get(f"/api/dashboards/{other}"))["tabs"][0]["tab_id"]
    running = {**place, "query_id": slow["query_id"], "tab_id": other_tab}
    error(ada.post(f"/api/dashboards/{other}/charts", json=running), 409, "query_not_completed")
    ok(ada.post(f"/api/queries/{slow['query_id']}/cancel"))


def test_saved_query_and_preference_errors(ada: httpx.Client) -> None:
    ok(ada.post("/api/saved-queries", json={"name": "Totals", "sql": "SELECT 1"}), 201)
    error(
        ada.post("/api/saved-queries", json={"name": " TOTALS ", "sql": "SELECT 2"}),
        409,
        "name_taken",
    )
    error(
        ada.post(
            "/api/saved-queries", json={"name": "Half", "sql": "SELECT 2", "catalog_id": "lab"}
        ),
        422,
        "invalid_value",
    )
    error(
        ada.post("/api/saved-queries", json={"name": "Big", "sql": "x" * 100_001}),
        422,
        "validation_error",
    )
    error(ada.get("/api/saved-queries/nope"), 404, "not_found")
    error(ada.post("/api/saved-queries/nope/rename", json={"name": "x"}), 404, "not_found")
    error(ada.put("/api/preferences/theme", json={"theme": "pink"}), 422, "validation_error")
    big = {"ui_state": {"blob": "x" * 20_000}}
    error(ada.put("/api/preferences/ui-state", json=big), 413, "too_large")
    error(ada.put("/api/preferences/ui-state", json={"ui_state": [1]}), 422, "validation_error")


def test_request_limits_and_unknown_routes(ada: httpx.Client) -> None:
    huge = b'{"sql": "' + b"x" * (2 * 1024 * 1024) + b'", "catalog": "lab"}'
    response = ada.post("/api/queries", content=huge, headers={"Content-Type": "application/json"})
    error(response, 413, "payload_too_large")
    error(
        ada.post(
            "/api/queries", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        422,
        "validation_error",
    )
    error(ada.get("/api/nothing-here"), 404, "not_found")
    error(ada.patch("/api/dashboards"), 405, "method_not_allowed")
    error(ada.get("/api/queries/a%20b"), 422, "validation_error")
    long_key = {"Idempotency-Key": "k" * 101}
    error(
        ada.post("/api/dashboards", json={"name": "x"}, headers=long_key), 422, "validation_error"
    )


# ---- idempotency ---------------------------------------------------------------------------


def test_a_retry_with_the_same_key_writes_nothing_and_answers_the_same(
    server: ServedApp, ada: httpx.Client
) -> None:
    def head() -> int:
        return server.call(server.services.app.events.head_position())

    same = key()
    first = ada.post("/api/dashboards", json={"name": "Once"}, headers=same)
    before = head()
    retry = ada.post("/api/dashboards", json={"name": "Once"}, headers=same)
    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert (
        retry.headers["idempotent-replayed"] == "true"
        and "idempotent-replayed" not in first.headers
    )
    assert head() == before
    assert [d["name"] for d in ok(ada.get("/api/dashboards"))["dashboards"]] == ["Once"]
    board = first.json()["dashboard_id"]

    # The same key from another user is another command.
    with analyst(server) as other:
        theirs = ok(other.post("/api/dashboards", json={"name": "Once"}, headers=same), 201)
        assert theirs["dashboard_id"] != board

    # Commands that change nothing on the retry answer with the first position.
    rename = key()
    renamed = ok(
        ada.post(f"/api/dashboards/{board}/rename", json={"name": "Twice"}, headers=rename)
    )
    before = head()
    again = ada.post(f"/api/dashboards/{board}/rename", json={"name": "Twice"}, headers=rename)
    assert ok(again) == renamed and again.headers["idempotent-replayed"] == "true"
    assert head() == before

    tab_key = key()
    tab = ok(ada.post(f"/api/dashboards/{board}/tabs", json={"name": "T"}, headers=tab_key), 201)
    assert (
        ok(ada.post(f"/api/dashboards/{board}/tabs", json={"name": "T"}, headers=tab_key), 201)
        == tab
    )
    assert len(ok(ada.get(f"/api/dashboards/{board}"))["tabs"]) == 2

    query_key = key()
    body = {"sql": TOTALS, "catalog": "lab", "chart_config": BAR}
    started = ok(ada.post("/api/queries", json=body, headers=query_key), 202)
    assert ok(ada.post("/api/queries", json=body, headers=query_key), 202) == started
    settled(ada, started["query_id"])
    place = {
        "query_id": started["query_id"],
        "tab_id": tab["tab_id"],
        "x": 0,
        "y": 0,
        "w": 3,
        "h": 3,
    }
    chart_key = key()
    chart = ok(ada.post(f"/api/dashboards/{board}/charts", json=place, headers=chart_key), 201)
    before = head()
    assert (
        ok(ada.post(f"/api/dashboards/{board}/charts", json=place, headers=chart_key), 201) == chart
    )
    assert head() == before

    saved_key = key()
    saved = ok(
        ada.post("/api/saved-queries", json={"name": "S", "sql": "SELECT 1"}, headers=saved_key),
        201,
    )
    assert (
        ok(
            ada.post(
                "/api/saved-queries", json={"name": "S", "sql": "SELECT 1"}, headers=saved_key
            ),
            201,
        )
        == saved
    )

    theme_key = key()
    themed = ok(ada.put("/api/preferences/theme", json={"theme": "light"}, headers=theme_key))
    assert (
        ok(ada.put("/api/preferences/theme", json={"theme": "light"}, headers=theme_key)) == themed
    )

    rerun_key = key()
    rerun = ok(ada.post(f"/api/queries/{started['query_id']}/rerun", headers=rerun_key), 202)
    assert (
        ok(ada.post(f"/api/queries/{started['query_id']}/rerun", headers=rerun_key), 202) == rerun
    )
    assert (
        sum(
            q["provenance"]["rerun_of"] == started["query_id"]
            for q in ok(ada.get("/api/queries"))["queries"]
        )
        == 1
    )

    # Without a key, two submissions are two commands.
    ok(ada.post("/api/dashboards", json={"name": "Twin"}), 201)
    ok(ada.post("/api/dashboards", json={"name": "Twin"}), 201)
    names = [d["name"] for d in ok(ada.get("/api/dashboards"))["dashboards"]]
    assert names.count("Twin") == 2
