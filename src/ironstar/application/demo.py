"""``ironstar demo --headless``: phases 1-6 of the seed workflow through the application
layer on the configured stores, printing what every read model shows."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table

from ironstar.bootstrap import Services, build_services
from ironstar.domain import dashboard, errors, preferences
from ironstar.domain.grid import GridRect
from ironstar.domain.session import SignInIdentity
from ironstar.settings import Settings

DEMO_IDENTITY = SignInIdentity(
    provider="demo", provider_user_id="headless", login="headless", display_name="Headless Analyst"
)
CATALOG = "penguins"
SQL = (
    "SELECT species, count(*) AS penguins, round(avg(body_mass_g)) AS mean_mass_g "
    "FROM penguins GROUP BY species ORDER BY species"
)
CHART = {"chart_type": "bar", "x": "species", "y": ["mean_mass_g"], "title": "Mean body mass"}


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(c, row.get(c)) for c in columns))
    return table


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if (column == "at" or column.endswith("_at")) and isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


async def _settled(services: Services, user: str, query_id: str) -> dict[str, Any]:
    for _ in range(2400):
        row = await services.app.reads.query(user, query_id)
        if row is not None and row["status"] != "running":
            return row
        await asyncio.sleep(0.05)
    raise TimeoutError(f"query {query_id} did not finish")


async def run_headless_demo(settings: Settings, console: Console) -> None:
    services = await asyncio.to_thread(build_services, settings)
    await services.start()
    try:
        await _walk(services, console)
    finally:
        await services.close()


async def _walk(services: Services, console: Console) -> None:
    wf, reads = services.workflow, services.app.reads

    console.rule("Phase 1 · sign in (Session)")
    session_id, user = await wf.sign_in(DEMO_IDENTITY)
    await wf.refresh_session(session_id)
    console.print(
        _table(
            "sessions",
            [await reads.session(session_id) or {}],
            ["session_id", "user_id", "status", "expires_at"],
        )
    )

    console.rule("Phase 2 · catalogs (Catalog)")
    await wf.select_catalog(user, CATALOG)
    console.print(f"current catalog of {user}: [bold]{await reads.current_catalog(user)}[/]")
    try:
        await wf.select_catalog(user, "fixtures")
    except errors.DomainError as exc:
        console.print(f"[yellow]selecting 'fixtures' refused[/] ({exc.code}): {exc}")
    datasets = await reads.datasets(CATALOG)
    rows = [
        {
            "dataset": d["dataset"],
            "table": t["table_name"],
            "rows": t["row_count"],
            "columns": ", ".join(c["name"] for c in t["columns"]),
        }
        for d in datasets
        for t in d["tables"]
    ]
    console.print(
        _table(f"Dataset Browser · {CATALOG}", rows, ["dataset", "table", "rows", "columns"])
    )

    console.rule("Phase 3 · queries (QuerySession)")
    ok = await wf.start_query(user, SQL, CATALOG, dataset="main", chart_config=CHART)
    bad = await wf.start_query(user, "SELECT species FROM penguins WHERE", CATALOG)
    slow = await wf.start_query(
        user, "SELECT count(*) FROM range(10000000000) t(i) WHERE i % 3 = 1", CATALOG
    )
    await asyncio.sleep(0.5)
    await wf.cancel_query(user, slow)
    for query_id in (ok, bad, slow):
        await _settled(services, user, query_id)
    console.print(
        _table(
            "query history",
            await reads.queries(user),
            [
                "query_id",
                "status",
                "row_count",
                "duration_ms",
                "snapshot_id",
                "failure_kind",
                "failure_message",
            ],
        )
    )
    done = await reads.query(user, ok)
    if done and done["result_key"]:
        page = await services.engine.page(done["result_key"])
        console.print(
            _table(
                "QueryResults (first page)",
                [dict(zip([c for c, _ in page.columns], r, strict=True)) for r in page.rows()],
                [c for c, _ in page.columns],
            )
        )
        chart = await services.engine.chart(CHART, done["result_key"])
        console.print(f"ChartData: {chart['meta']}")

    console.rule("Phase 4 · dashboards (Dashboard)")
    board = await wf.create_dashboard(user, "Penguin metrics")
    details = await wf.add_tab(user, board, "Details")
    layout = await reads.dashboard(user, board)
    overview = layout["tabs"][0]["tab_id"] if layout else ""
    chart_id = await wf.add_chart(user, board, ok, overview, GridRect(x=0, y=0, width=6, height=4))
    await wf.dashboard_command(
        user, dashboard.MoveChartToTab, board, chart_id=chart_id, tab_id=details
    )
    await wf.dashboard_command(user, dashboard.RenameDashboard, board, name="Penguins · Q4")
    layout = await reads.dashboard(user, board)
    for tab in (layout or {}).get("tabs", []):
        console.print(
            _table(
                f"DashboardLayoutView · tab {tab['name']}",
                tab["charts"],
                ["chart_id", "query_id", "x", "y", "width", "height"],
            )
        )
    console.print(
        _table(
            "dashboard history",
            await reads.dashboard_history(user, board),
            ["version", "user_id", "at", "summary"],
        )
    )

    console.rule("Phase 5 · saved queries (SavedQuery)")
    saved = await wf.save_query(
        user, "Penguins by species", SQL, catalog_id=CATALOG, dataset="main"
    )
    await wf.rename_saved_query(user, saved, "Mass by species")
    await wf.update_saved_query_sql(user, saved, SQL + " LIMIT 10")
    scratch = await wf.save_query(user, "Scratch", "SELECT 1")
    await wf.delete_saved_query(user, scratch)
    console.print(
        _table("saved queries", await reads.saved_queries(user), ["name", "sql", "dataset"])
    )

    console.rule("Phase 6 · preferences (UserPreferences)")
    await wf.preference(user, preferences.SetTheme, theme=preferences.Theme.DARK)
    await wf.preference(user, preferences.SetDefaultCatalog, catalog_id=CATALOG)
    await wf.preference(user, preferences.UpdateUiState, ui_state={"panels": {"editor": 320}})
    console.print(
        _table(
            "preferences",
            [await reads.preferences(user) or {}],
            ["theme", "default_catalog", "ui_state"],
        )
    )

    await wf.sign_out(session_id)
    console.print(
        f"signed out: session is [bold]{(await reads.session(session_id) or {}).get('status')}[/]"
    )
    head = await services.app.events.head_position()
    console.print(
        f"[green]workflow complete[/]: {head} events in the store; tables above are read models."
    )


__all__ = ["run_headless_demo"]
