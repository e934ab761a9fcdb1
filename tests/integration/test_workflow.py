"""The seed workflow, phases 1-6 and its exceptional flows, through the application layer,
on real SQLite/PostgreSQL and a real DuckLake catalog."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest

from ironstar.analytics.charts.validation import ChartValidationError
from ironstar.analytics.sandbox import SandboxViolation
from ironstar.application.automation.expiry import sweep_expired_sessions
from ironstar.bootstrap import Services, build_services
from ironstar.domain import dashboard, errors, preferences
from ironstar.domain.grid import GridRect
from ironstar.domain.session import SignInIdentity
from ironstar.settings import Settings
from tests.conftest import postgres_url
from tests.integration.analytics.conftest import LAB_TABLES, write_lake

pytestmark = pytest.mark.anyio

CATALOGS = """
[catalogs.lab]
kind = "ducklake"
metadata = "lake/lab/metadata.ducklake"
data_path = "lake/lab/data/"

[catalogs.fixtures]
kind = "ducklake"
location = "hf://datasets/sciexp/fixtures"
"""
ADA = SignInIdentity(provider="github", provider_user_id="1", login="ada", display_name="Ada")
BOB = SignInIdentity(provider="github", provider_user_id="2", login="bob", display_name="Bob")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    write_lake(tmp_path, "lab", *LAB_TABLES)
    (tmp_path / "catalogs.toml").write_text(CATALOGS)
    settings = Settings(data_dir=tmp_path, sqlite_synchronous="NORMAL", query_timeout_seconds=2)
    schema = ""
    if request.param == "postgres":
        schema = f"ironstar_wf_{uuid.uuid4().hex[:10]}"
        settings = Settings(
            data_dir=tmp_path,
            database_url=postgres_url(),
            postgres_schema=schema,
            query_timeout_seconds=2,
        )
    built = build_services(settings, clock=Clock())
    await built.start()
    yield built
    await built.close()
    if schema:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            for name in (schema, f"{schema}_read"):
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


async def settled(services: Services, user: str, query_id: str) -> dict[str, Any]:
    for _ in range(400):
        row = await services.app.reads.query(user, query_id)
        if row is not None and row["status"] != "running":
            return row
        await asyncio.sleep(0.025)
    raise AssertionError(f"query {query_id} never finished")


async def test_the_whole_workflow(services: Services) -> None:
    wf, reads = services.workflow, services.app.reads
    clock: Clock = wf.clock  # type: ignore[assignment]

    # Phase 1: sign in, refresh, and the session read model.
    session_id, ada = await wf.sign_in(ADA)
    assert ada == "github:1"
    row = await reads.session(session_id)
    assert row is not None and row["status"] == "active" and row["login"] == "ada"
    clock.now += 60
    await wf.refresh_session(session_id)
    refreshed = await reads.session(session_id)
    assert refreshed is not None and refreshed["expires_at"] == clock.now + wf.session_ttl

    # Phase 2: catalogs; an unreachable one is refused with its reason.
    await wf.select_catalog(ada, "lab")
    assert await reads.current_catalog(ada) == "lab"
    with pytest.raises(errors.CatalogUnavailable, match="unavailable"):
        await wf.select_catalog(ada, "fixtures")
    with pytest.raises(errors.UnknownCatalog):
        await wf.select_catalog(ada, "nowhere")
    assert await reads.current_catalog(ada) == "lab"
    datasets = await reads.datasets("lab")
    names = {d["dataset"]: [t["table_name"] for t in d["tables"]] for d in datasets}
    assert names["field"] == ["sites"] and "measurements" in names["main"]
    measurements = next(t for t in datasets[1]["tables"] if t["table_name"] == "measurements")
    assert measurements["row_count"] == 1000
    assert [c["name"] for c in measurements["columns"]] == ["id", "station", "value", "label"]
    assert [d["dataset"] for d in await reads.datasets("lab", search="sites")] == ["field"]

    # Phase 3: queries - completed, syntax error, timeout, cancel, and refused SQL.
    config = {"chart_type": "bar", "x": "station", "y": ["total"], "title": "Totals"}
    ok = await wf.start_query(
        ada,
        "SELECT station, sum(value) AS total FROM measurements GROUP BY station ORDER BY station",
        "lab",
        dataset="main",
        chart_config=config,
    )
    done = await settled(services, ada, ok)
    assert done["status"] == "completed" and done["row_count"] == 7
    assert done["snapshot_id"] is not None and done["result_key"]
    assert [c["name"] for c in done["columns"]] == ["station", "total"]
    chart = await reads.chart_data(ada, ok)
    assert chart is not None and chart["ready"] == 1 and chart["chart_config"]["x"] == "station"

    bad = await wf.start_query(ada, "SELECT *\nFROM measurements WHERE", "lab")
    failed = await settled(services, ada, bad)
    assert failed["status"] == "failed" and failed["failure_kind"] == "syntax"
    assert failed["failure_position"] is not None and failed["failure_message"]

    # A failure says whose it is - the SQL's, or the data's - never Ironstar's "internal".
    for sql, kind in (
        ("SELECT * FROM no_such_table", "syntax"),
        ("SELECT CAST(station AS DATE) FROM measurements", "execution"),
    ):
        refused = await settled(services, ada, await wf.start_query(ada, sql, "lab"))
        assert (refused["status"], refused["failure_kind"]) == ("failed", kind), sql

    slow = "SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3"
    timed_out = await settled(services, ada, await wf.start_query(ada, slow, "lab"))
    assert (timed_out["status"], timed_out["failure_kind"]) == ("failed", "timeout")

    long_id = await wf.start_query(ada, slow, "lab")
    await asyncio.sleep(0.3)
    await wf.cancel_query(ada, long_id)
    assert (await settled(services, ada, long_id))["status"] == "cancelled"
    assert (await wf.cancel_query(ada, long_id)).replayed  # a second click changes nothing
    with pytest.raises(errors.QueryNotRunning):
        await wf.cancel_query(ada, ok)

    head = await services.app.events.head_position()
    with pytest.raises(SandboxViolation):
        await wf.start_query(ada, "COPY measurements TO '/tmp/x.csv'", "lab")
    assert await services.app.events.head_position() == head

    # Phase 4: a dashboard with two tabs; add, move, resize, remove, rename.
    board = await wf.create_dashboard(ada, "Q4 Metrics")
    details = await wf.add_tab(ada, board, "Details")
    layout = await reads.dashboard(ada, board)
    assert layout is not None and [t["name"] for t in layout["tabs"]] == ["Overview", "Details"]
    overview = layout["tabs"][0]["tab_id"]
    first = await wf.add_chart(ada, board, ok, overview, GridRect(x=0, y=0, width=6, height=4))
    second = await wf.add_chart(ada, board, ok, overview, GridRect(x=6, y=0, width=6, height=4))
    with pytest.raises(ChartValidationError) as mismatch:
        await wf.add_chart(
            ada,
            board,
            ok,
            overview,
            GridRect(x=0, y=4, width=4, height=4),
            config={"chart_type": "pie", "x": "station", "y": ["total", "station"]},
        )
    assert mismatch.value.code == "chart_type_mismatch"
    with pytest.raises(errors.GridOverlap):
        await wf.add_chart(ada, board, ok, overview, GridRect(x=3, y=1, width=4, height=2))
    with pytest.raises(errors.QueryNotCompleted):
        await wf.add_chart(
            ada, board, bad, overview, GridRect(x=0, y=8, width=4, height=2), config=config
        )
    await wf.dashboard_command(
        ada, dashboard.MoveChartToTab, board, chart_id=second, tab_id=details
    )
    await wf.dashboard_command(ada, dashboard.MoveChart, board, chart_id=first, x=2, y=1)
    await wf.dashboard_command(ada, dashboard.ResizeChart, board, chart_id=first, width=8, height=5)
    version_with_two = (await reads.dashboard(ada, board))["version"]  # type: ignore[index]
    await wf.dashboard_command(ada, dashboard.RemoveChart, board, chart_id=second)
    await wf.dashboard_command(ada, dashboard.RenameDashboard, board, name="Q4 Review")
    layout = await reads.dashboard(ada, board)
    assert layout is not None and layout["name"] == "Q4 Review"
    placed = layout["tabs"][0]["charts"]
    assert [(c["chart_id"], c["x"], c["y"], c["width"], c["height"]) for c in placed] == [
        (first, 2, 1, 8, 5)
    ]
    assert layout["tabs"][1]["charts"] == []

    # Dashboard history: who, when, what; any past version; restore.
    history = await reads.dashboard_history(ada, board)
    assert [h["event_type"] for h in history][:3] == [
        "DashboardRenamed",
        "ChartRemoved",
        "ChartResized",
    ]
    assert all(h["user_id"] == ada for h in history)
    past = await reads.dashboard_as_of(ada, board, version_with_two)
    assert past is not None and len(past["layout"]["charts"]) == 2
    await wf.restore_dashboard(ada, board, version_with_two)
    restored = await reads.dashboard(ada, board)
    assert restored is not None and restored["name"] == "Q4 Metrics"
    assert [len(t["charts"]) for t in restored["tabs"]] == [1, 1]
    assert (await reads.dashboard_history(ada, board))[0]["event_type"] == "DashboardRestored"

    # Phase 5: saved queries.
    saved = await wf.save_query(ada, "Station totals", "SELECT 1", catalog_id="lab", dataset="main")
    with pytest.raises(errors.NameTaken):
        await wf.save_query(ada, " station TOTALS ", "SELECT 2")
    await wf.rename_saved_query(ada, saved, "Totals by station")
    await wf.update_saved_query_sql(ada, saved, "SELECT 42")
    await wf.update_saved_query_dataset(ada, saved, "lab", "field")
    [kept] = await reads.saved_queries(ada)
    assert (kept["name"], kept["sql"], kept["dataset"]) == (
        "Totals by station",
        "SELECT 42",
        "field",
    )
    await wf.delete_saved_query(ada, saved)
    assert await reads.saved_queries(ada) == []
    with pytest.raises(errors.Deleted):
        await wf.update_saved_query_sql(ada, saved, "SELECT 43")

    # Phase 6: preferences.
    await wf.preference(ada, preferences.SetTheme, theme=preferences.Theme.DARK)
    await wf.preference(ada, preferences.SetDefaultCatalog, catalog_id="lab")
    with pytest.raises(errors.UnknownCatalog):
        await wf.preference(ada, preferences.SetDefaultCatalog, catalog_id="nowhere")
    await wf.preference(ada, preferences.UpdateUiState, ui_state={"editor_height": 320})
    prefs = await reads.preferences(ada)
    assert prefs is not None and (prefs["theme"], prefs["default_catalog"]) == ("dark", "lab")
    assert prefs["ui_state"] == {"editor_height": 320}
    await wf.preference(ada, preferences.ClearDefaultCatalog)
    assert (await reads.preferences(ada))["default_catalog"] is None  # type: ignore[index]

    # Another user sees none of it and may change none of it.
    _, bob = await wf.sign_in(BOB)
    assert await reads.dashboards(bob) == [] and await reads.query(bob, ok) is None
    with pytest.raises(errors.Forbidden):
        await wf.dashboard_command(bob, dashboard.RenameDashboard, board, name="Mine")
    with pytest.raises(errors.NotFound):
        await wf.add_chart(bob, board, ok, overview, GridRect(x=0, y=9, width=2, height=2))

    # Sign out; then expiry of an idle session by the sweeper.
    await wf.sign_out(session_id)
    with pytest.raises(errors.SessionInvalidated):
        await wf.refresh_session(session_id)
    idle, _ = await wf.sign_in(ADA)
    clock.now += wf.session_ttl + 1
    with pytest.raises(errors.SessionExpired):
        await wf.refresh_session(idle)
    assert await sweep_expired_sessions(wf) >= 1
    assert (await reads.session(idle))["status"] == "expired"  # type: ignore[index]
    assert await sweep_expired_sessions(wf) == 0

    # Every read model rebuilt from zero equals the one built live.
    live = await dump_read_models(services)
    await services.app.runner.rebuild()
    assert await dump_read_models(services) == live


async def dump_read_models(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    tables = sorted(t for p in services.app.runner.projections for t in p.tables)
    return {
        t: sorted(map(tuple, await services.app.projections.query(f'SELECT * FROM "{t}"')))
        for t in tables
    }


async def test_every_version_of_a_long_lived_dashboard_is_the_fold_of_its_changes(
    services: Services,
) -> None:
    """History rows keep the whole layout every 16th version and the change otherwise:
    the layout as of any change must still be exactly the domain's fold of the stream."""
    wf, reads = services.workflow, services.app.reads
    _, ada = await wf.sign_in(ADA)
    board = await wf.create_dashboard(ada, "Long")
    for step in range(1, 40):
        if step % 3 == 0:
            await wf.dashboard_command(
                ada, dashboard.AddTab, board, tab_id=f"t{step}", name=f"Tab {step}"
            )
        else:
            await wf.dashboard_command(ada, dashboard.RenameDashboard, board, name=f"Long {step}")
    events = await services.app.events.read_stream(dashboard.stream_id(board))
    assert len(events) == 40
    state = None
    for event in events:
        state = dashboard.evolve(state, event.data)
        past = await reads.dashboard_as_of(ada, board, event.stream_version)
        assert past is not None and past["position"] == event.position
        assert past["layout"] == msgspec.to_builtins(state), event.stream_version
    assert await reads.dashboard_as_of(ada, board, 41) is None
    assert await reads.dashboard_as_of(ada, board, 0) is None

    await wf.restore_dashboard(ada, board, 30)  # between keyframes (17 and 33)
    restored = await reads.dashboard(ada, board)
    assert restored is not None and restored["name"] == "Long 29"
    assert [t["name"] for t in restored["tabs"]][-1] == "Tab 27"  # added at version 28


async def test_racing_sweepers_expire_a_session_once(services: Services) -> None:
    wf = services.workflow
    clock: Clock = wf.clock  # type: ignore[assignment]
    ids = [(await wf.sign_in(ADA))[0] for _ in range(5)]
    clock.now += wf.session_ttl + 5
    counts = await asyncio.gather(*[sweep_expired_sessions(wf) for _ in range(3)])
    assert sum(counts) == 5
    expired = await services.app.events.read_all(0, 1000)
    per_session = [e for e in expired if e.event_type == "SessionExpired"]
    assert sorted(e.data.session_id for e in per_session) == sorted(ids)
