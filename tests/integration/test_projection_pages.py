"""Every read model is the same whatever the pages its events arrive in.

Projections apply a page at a time (a row touched many times in a page is written once),
so the rows after pages of 1 (each event alone, as the projections always did), of 7 (page
boundaries inside every aggregate's history), of 5,000 (catch-up) and live following must
be identical, on a realistic log (the rebuild benchmark's) plus the odd cases the domain
never produces but a projection must still treat as its SQL did: changes to rows that do
not exist, duplicate creations, two streams claiming one dashboard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from benchmarks.domain import generate_log

from ironstar.bootstrap import build_registry
from ironstar.domain import dashboard as d
from ironstar.domain import preferences as p
from ironstar.domain import query_session as q
from ironstar.domain import saved_query as sq
from ironstar.domain import session as s
from ironstar.domain.grid import GridRect
from ironstar.domain.kernel import ChartDefinition, DatasetRef
from ironstar.eventstore.model import ANY, NewEvent
from ironstar.eventstore.sqlite import open_sqlite_store
from ironstar.eventstore.sqlstore import SqlEventStore
from ironstar.projections.models import all_projections
from ironstar.projections.models.dashboard_history import layout_after, rows_by_version
from ironstar.projections.postgres_db import PostgresProjectionDatabase
from ironstar.projections.runner import ProjectionRunner
from ironstar.projections.sqlite_db import SqliteProjectionDatabase
from ironstar.projections.store import ProjectionStore

pytestmark = pytest.mark.anyio
Dump = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def events(tmp_path: Path) -> AsyncIterator[SqlEventStore]:
    store = open_sqlite_store(tmp_path / "events.db", build_registry(), poll_interval=0.02)
    await generate_log(store, 3_000, chunk=400)
    await append_odd_cases(store)
    yield store
    await store.close()


async def append_odd_cases(store: SqlEventStore) -> None:
    async def append(stream: str, *changes: Any) -> None:
        await store.append(stream, [NewEvent(e) for e in changes], ANY)

    at = 1_900_000_000.0
    who = s.SignInIdentity(provider="github", provider_user_id="9", login="z", display_name="Z")
    sid = {"session_id": "odd", "user_id": "u:odd"}
    created = s.SessionCreated(**sid, identity=who, expires_at=at + 9, at=at)
    await append("session:ghost", s.SessionRefreshed(**sid, expires_at=at, at=at))
    await append("session:odd", created, created, s.SessionExpired(**sid, expires_at=at, at=at))

    user = {"user_id": "u:odd"}
    await append(
        "preferences:u:odd",
        p.ThemeSet(**user, theme=p.Theme.DARK, at=at),
        p.PreferencesInitialized(**user, theme=p.Theme.LIGHT, at=at + 1),
        p.DefaultCatalogCleared(**user, at=at + 2),
    )

    saved = {"saved_query_id": "sq-odd", "user_id": "u:odd"}
    ref = DatasetRef(catalog_id="lab", dataset="sales")
    await append(
        "saved_query:sq-odd",
        sq.QuerySaved(**saved, name="A", sql="SELECT 1", dataset_ref=ref, at=at),
        sq.QueryDeleted(**saved, at=at + 1),
        sq.QueryRenamed(**saved, name="B", at=at + 2),
        sq.QuerySaved(**saved, name="C", sql="SELECT 2", dataset_ref=None, at=at + 3),
        sq.DatasetRefUpdated(**saved, dataset_ref=ref, at=at + 4),
    )

    run = {"query_id": "q-odd", "user_id": "u:odd"}
    config = {"chart_type": "bar"}
    started = q.QueryStarted(
        **run, sql="SELECT 1", catalog_id="lab", dataset_ref=ref, chart_config=config, at=at
    )
    cancelled = q.QueryCancelled(**run, at=at + 1)
    await append("query:q-odd", cancelled, started, started, cancelled)

    # Two streams claim one dashboard: versions collide in its history.
    dash = {"dashboard_id": "twin", "user_id": "u:odd", "at": at}
    rect = GridRect(x=0, y=0, width=4, height=3)
    chart = ChartDefinition(query_id="q-odd", config={"chart_type": "bar", "title": "T"})
    await append(
        "dashboard:twin-a",
        d.DashboardCreated(**dash, name="Twin", tab_id="t1", tab_name="One"),
        d.TabAdded(**dash, tab_id="t1", name="Again"),
        d.ChartAdded(**dash, chart_id="c1", tab_id="t1", definition=chart, position=rect),
        d.TabAdded(**dash, tab_id="t2", name="Two"),
        d.TabsReordered(**dash, tab_ids=("t2", "t1")),
        d.DashboardDeleted(**dash),
    )
    placed = d.PlacedChart(chart_id="c1", tab_id="t1", definition=chart, position=rect)
    await append(
        "dashboard:twin-b",
        d.DashboardCreated(**dash, name="Other", tab_id="t9", tab_name="Nine"),
        d.DashboardRenamed(**dash, name="Renamed"),
        d.TabRemoved(**dash, tab_id="t1"),
        d.DashboardRestored(
            **dash,
            restored_version=1,
            name="Back",
            tabs=(d.Tab(tab_id="t1", name="One"),),
            charts=(placed,),
        ),
        d.ChartMoved(**dash, chart_id="c1", tab_id="t1", position=rect),
    )
    orphan = {"dashboard_id": "orphan", "user_id": "u:odd", "at": at}
    await append("dashboard:orphan", d.TabRenamed(**orphan, tab_id="t1", name="X"))


async def dump(db: ProjectionStore, runner: ProjectionRunner) -> Dump:
    tables = sorted(t for projection in runner.projections for t in projection.tables)
    result = {t: sorted(map(tuple, await db.query(f'SELECT * FROM "{t}"'))) for t in tables}
    result["projection_errors"] = sorted(
        map(tuple, await db.query("SELECT name, position, event_type FROM projection_errors"))
    )
    return result


async def caught_up(events: SqlEventStore, db: ProjectionStore, page: int) -> Dump:
    runner = ProjectionRunner(
        events, db, all_projections(), batch_size=page, catch_up_batch_size=page
    )
    try:
        await runner.prepare()
        assert await runner.catch_up() == await events.head_position()
        return await dump(db, runner)
    finally:
        await db.close()


async def test_pages_of_any_size_give_the_same_rows(events: SqlEventStore, tmp_path: Path) -> None:
    def sqlite(name: str) -> ProjectionStore:
        return ProjectionStore(SqliteProjectionDatabase(tmp_path / f"{name}.db"))

    one_by_one = await caught_up(events, sqlite("one"), 1)
    assert_odd_cases_kept_their_meaning(one_by_one)
    assert await caught_up(events, sqlite("seven"), 7) == one_by_one
    assert await caught_up(events, sqlite("catch-up"), 5_000) == one_by_one


async def test_rebuilding_one_projection_reads_its_events_and_reaches_the_head(
    events: SqlEventStore, tmp_path: Path
) -> None:
    db = ProjectionStore(SqliteProjectionDatabase(tmp_path / "read.db"))
    runner = ProjectionRunner(events, db, all_projections(), catch_up_batch_size=100)
    try:
        await runner.prepare()
        head = await runner.catch_up()
        before = await dump(db, runner)
        for name in ("dataset_browser", "sessions", "dashboard_history"):
            # the log ends with events these do not read: their checkpoint still moves on
            assert await runner.rebuild([name]) == head
            assert runner.checkpoints() == dict.fromkeys(runner.checkpoints(), head)
            assert await dump(db, runner) == before
    finally:
        await db.close()


def assert_odd_cases_kept_their_meaning(rows: Dump) -> None:
    def odd(table: str) -> list[tuple[Any, ...]]:
        return [
            r for r in rows[table] if r[0] in ("odd", "ghost", "u:odd", "sq-odd", "q-odd", "twin")
        ]

    at = 1_900_000_000.0
    assert odd("sessions") == [
        ("odd", "u:odd", "github", "z", "Z", "expired", at, at + 9, None, at, "expired")
    ]
    assert odd("users") == [("u:odd", "github", "9", "z", "Z", at, at)]
    assert odd("preferences") == [("u:odd", "dark", None, "{}", at + 2)]
    assert odd("saved_queries") == [
        ("sq-odd", "u:odd", "C", "c", "SELECT 2", "lab", "sales", at + 3, at + 4)
    ]
    (run,) = odd("queries")
    assert run[6:9] == ("cancelled", at, at + 1) and run[17] == "u:odd"
    assert odd("chart_data") == [("q-odd", "u:odd", '{"chart_type":"bar"}', None, None, None, 0)]
    assert [r[:3] + r[-1:] for r in odd("dashboards")] == [("twin", "u:odd", "Back", 0)]
    assert odd("dashboard_tabs") == [("twin", "t1", "One", 0)]
    assert [r[:3] for r in odd("dashboard_charts")] == [("twin", "c1", "t1")]
    history = odd("dashboard_history")  # the second stream's versions collide: kept out
    assert [(r[1], r[3]) for r in history] == [
        (1, "DashboardCreated"),
        (2, "TabAdded"),
        (3, "ChartAdded"),
        (4, "TabAdded"),
        (5, "TabsReordered"),
        (6, "DashboardDeleted"),
    ]
    # Version 1 keeps the whole layout; the later ones their change, folded on read.
    assert [r[1] for r in history if r[7] is not None] == [1]
    after = layout_after(6, rows_by_version((r[1], r[7], r[3], r[8]) for r in history))
    assert after is not None and after.deleted
    assert [(t.tab_id, t.name) for t in after.tabs] == [("t2", "Two"), ("t1", "Again")]
    assert [r[0] for r in rows["projection_errors"]] == ["dashboard_history"]  # the orphan


async def test_following_live_gives_the_rows_of_a_rebuild(tmp_path: Path) -> None:
    store = open_sqlite_store(tmp_path / "events.db", build_registry(), poll_interval=0.02)
    db = ProjectionStore(SqliteProjectionDatabase(tmp_path / "live.db"))
    runner = ProjectionRunner(store, db, all_projections(), batch_size=50)
    try:
        await runner.start()
        await generate_log(store, 2_000, chunk=50)  # the runner follows: pages cut anywhere
        await append_odd_cases(store)
        assert await runner.wait_for(await store.head_position())
        live = await dump(db, runner)
        await runner.rebuild()
        assert await dump(db, runner) == live
    finally:
        await runner.stop()
        await db.close()
        await store.close()


@pytest.mark.postgres
async def test_postgres_read_models_equal_sqlite_ones(
    events: SqlEventStore, tmp_path: Path, pg_schema: tuple[str, str]
) -> None:
    url, schema = pg_schema
    on_sqlite = await caught_up(
        events, ProjectionStore(SqliteProjectionDatabase(tmp_path / "read.db")), 5_000
    )
    on_postgres = await caught_up(
        events, ProjectionStore(PostgresProjectionDatabase(url, schema=schema)), 5_000
    )
    assert on_postgres == on_sqlite
