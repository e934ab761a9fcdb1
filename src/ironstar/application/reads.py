"""Read-model queries: what the screens and the API ask of the projection store.

Every query names the user it reads for; rows of other users are never returned
(authorisation on the read side lives here, beside the SQL).
"""

from __future__ import annotations

from typing import Any

import msgspec

from ironstar.projections.models._json import loads
from ironstar.projections.models.dashboard_history import keyframe_of, layout_after, rows_by_version
from ironstar.projections.store import ProjectionDatabase, ProjectionStore


class ReadModels:
    def __init__(self, store: ProjectionStore) -> None:
        self._db = store

    async def _one(self, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
        rows = await self._db.query_dicts(sql, params)
        return rows[0] if rows else None

    # ---- sessions -----------------------------------------------------------------------

    async def session(self, session_id: str) -> dict[str, Any] | None:
        return await self._one("SELECT * FROM sessions WHERE session_id = ?", (session_id,))

    async def sessions_of(self, user_id: str) -> list[dict[str, Any]]:
        return await self._db.query_dicts(
            "SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC", (user_id,)
        )

    async def sessions_to_expire(self, now: float, limit: int = 500) -> list[str]:
        rows = await self._db.query(
            "SELECT session_id FROM sessions WHERE status = 'active' AND expires_at <= ? "
            "ORDER BY expires_at LIMIT ?",
            (now, limit),
        )
        return [r[0] for r in rows]

    async def user(self, user_id: str) -> dict[str, Any] | None:
        return await self._one("SELECT * FROM users WHERE user_id = ?", (user_id,))

    # ---- catalogs -----------------------------------------------------------------------

    async def current_catalog(self, user_id: str) -> str | None:
        row = await self._one("SELECT catalog_id FROM user_catalogs WHERE user_id = ?", (user_id,))
        return None if row is None else str(row["catalog_id"])

    async def catalog_metadata(self, catalog_id: str) -> dict[str, Any] | None:
        return await self._one("SELECT * FROM catalog_metadata WHERE catalog_id = ?", (catalog_id,))

    async def datasets(self, catalog_id: str, search: str = "") -> list[dict[str, Any]]:
        """The Dataset Browser: datasets with their tables and columns, optionally filtered
        by a case-insensitive search over dataset, table and column names."""
        datasets = await self._db.query_dicts(
            "SELECT dataset, table_count, schema_version FROM catalog_datasets "
            "WHERE catalog_id = ? ORDER BY dataset",
            (catalog_id,),
        )
        tables = await self._db.query_dicts(
            "SELECT dataset, table_name, row_count, column_count FROM catalog_tables "
            "WHERE catalog_id = ? ORDER BY dataset, table_name",
            (catalog_id,),
        )
        columns = await self._db.query_dicts(
            "SELECT dataset, table_name, column_name, column_type FROM catalog_columns "
            "WHERE catalog_id = ? ORDER BY dataset, table_name, ordinal",
            (catalog_id,),
        )
        by_table: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for c in columns:
            by_table.setdefault((c["dataset"], c["table_name"]), []).append(
                {"name": c["column_name"], "type": c["column_type"]}
            )
        by_dataset: dict[str, list[dict[str, Any]]] = {}
        for t in tables:
            by_dataset.setdefault(t["dataset"], []).append(
                {**t, "columns": by_table.get((t["dataset"], t["table_name"]), [])}
            )
        result = [{**d, "tables": by_dataset.get(d["dataset"], [])} for d in datasets]
        needle = search.strip().casefold()
        if not needle:
            return result
        return [d for d in (_filter(d, needle) for d in result) if d is not None]

    # ---- queries ------------------------------------------------------------------------

    async def query(self, user_id: str, query_id: str) -> dict[str, Any] | None:
        row = await self._one(
            "SELECT * FROM queries WHERE query_id = ? AND user_id = ?", (query_id, user_id)
        )
        return None if row is None else _query_row(row)

    async def queries(self, user_id: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self._db.query_dicts(
            "SELECT * FROM queries WHERE user_id = ? ORDER BY started_at DESC LIMIT ?",
            (user_id, limit),
        )
        return [_query_row(r) for r in rows]

    async def running_queries(self) -> list[dict[str, Any]]:
        rows = await self._db.query_dicts(
            "SELECT * FROM queries WHERE status = 'running' ORDER BY started_at", ()
        )
        return [_query_row(r) for r in rows]

    async def chart_data(self, user_id: str, query_id: str) -> dict[str, Any] | None:
        row = await self._one(
            "SELECT * FROM chart_data WHERE query_id = ? AND user_id = ?", (query_id, user_id)
        )
        if row is None:
            return None
        return {
            **row,
            "chart_config": loads(row["chart_config"]),
            "columns": loads(row["columns"]) or [],
        }

    # ---- dashboards ---------------------------------------------------------------------

    async def dashboards(self, user_id: str) -> list[dict[str, Any]]:
        return await self._db.query_dicts(
            "SELECT d.*, (SELECT count(*) FROM dashboard_charts c "
            "WHERE c.dashboard_id = d.dashboard_id) AS chart_count FROM dashboards d "
            "WHERE owner = ? AND deleted = 0 ORDER BY name",
            (user_id,),
        )

    async def dashboard(self, user_id: str, dashboard_id: str) -> dict[str, Any] | None:
        """DashboardLayoutView: the dashboard, its ordered tabs, each with its charts."""
        return await self._db.read_with(lambda db: _dashboard(db, user_id, dashboard_id))

    async def dashboard_history(self, user_id: str, dashboard_id: str) -> list[dict[str, Any]]:
        if not await self._owns_dashboard(user_id, dashboard_id):
            return []
        return await self._db.query_dicts(
            "SELECT version, position, event_type, user_id, at, summary FROM dashboard_history "
            "WHERE dashboard_id = ? ORDER BY version DESC",
            (dashboard_id,),
        )

    async def dashboard_as_of(
        self, user_id: str, dashboard_id: str, version: int
    ) -> dict[str, Any] | None:
        """The whole layout right after change ``version`` (the domain state, as JSON)."""
        if not await self._owns_dashboard(user_id, dashboard_id):
            return None
        return await self._db.read_with(lambda db: _dashboard_as_of(db, dashboard_id, version))

    async def _owns_dashboard(self, user_id: str, dashboard_id: str) -> bool:
        row = await self._one(
            "SELECT 1 AS ok FROM dashboards WHERE dashboard_id = ? AND owner = ?",
            (dashboard_id, user_id),
        )
        return row is not None

    # ---- saved queries and preferences --------------------------------------------------

    async def saved_queries(self, user_id: str) -> list[dict[str, Any]]:
        return await self._db.query_dicts(
            "SELECT * FROM saved_queries WHERE user_id = ? ORDER BY name_key", (user_id,)
        )

    async def saved_query(self, user_id: str, saved_query_id: str) -> dict[str, Any] | None:
        return await self._one(
            "SELECT * FROM saved_queries WHERE saved_query_id = ? AND user_id = ?",
            (saved_query_id, user_id),
        )

    async def saved_query_names(self, user_id: str) -> tuple[str, ...]:
        rows = await self._db.query("SELECT name FROM saved_queries WHERE user_id = ?", (user_id,))
        return tuple(r[0] for r in rows)

    async def preferences(self, user_id: str) -> dict[str, Any] | None:
        row = await self._one("SELECT * FROM preferences WHERE user_id = ?", (user_id,))
        return None if row is None else {**row, "ui_state": loads(row["ui_state"]) or {}}


def _dashboard(db: ProjectionDatabase, user_id: str, dashboard_id: str) -> dict[str, Any] | None:
    heads = db.read_dicts(
        "SELECT * FROM dashboards WHERE dashboard_id = ? AND owner = ?", (dashboard_id, user_id)
    )
    if not heads:
        return None
    tabs = db.read_dicts(
        "SELECT tab_id, name, ordinal FROM dashboard_tabs WHERE dashboard_id = ? ORDER BY ordinal",
        (dashboard_id,),
    )
    charts = db.read_dicts(
        "SELECT chart_id, tab_id, query_id, config, x, y, width, height "
        "FROM dashboard_charts WHERE dashboard_id = ? ORDER BY y, x",
        (dashboard_id,),
    )
    for tab in tabs:
        tab["charts"] = [
            {**c, "config": loads(c["config"])} for c in charts if c["tab_id"] == tab["tab_id"]
        ]
    return {**heads[0], "tabs": tabs}


def _query_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "chart_config": loads(row.get("chart_config")),
        "columns": loads(row.get("columns")) or [],
    }


def _filter(dataset: dict[str, Any], needle: str) -> dict[str, Any] | None:
    if needle in dataset["dataset"].casefold():
        return dataset
    tables = []
    for table in dataset["tables"]:
        if needle in table["table_name"].casefold():
            tables.append(table)
            continue
        columns = [c for c in table["columns"] if needle in c["name"].casefold()]
        if columns:
            tables.append({**table, "columns": columns})
    return {**dataset, "tables": tables} if tables else None


def _dashboard_as_of(
    db: ProjectionDatabase, dashboard_id: str, version: int
) -> dict[str, Any] | None:
    """On a reader thread: the change's row, and the layout folded from its keyframe."""
    if version < 1:
        return None
    rows = db.read_dicts(
        "SELECT version, position, user_id, at, summary, layout, event_type, change "
        "FROM dashboard_history WHERE dashboard_id = ? AND version BETWEEN ? AND ?",
        (dashboard_id, keyframe_of(version), version),
    )
    row = next((r for r in rows if r["version"] == version), None)
    if row is None:
        return None
    stored = rows_by_version(
        (r["version"], r["layout"], r["event_type"], r["change"]) for r in rows
    )
    layout = layout_after(version, stored)
    if layout is None:
        return None  # a change before it could not be projected (see projection_errors)
    return {
        "version": row["version"],
        "position": row["position"],
        "user_id": row["user_id"],
        "at": row["at"],
        "summary": row["summary"],
        "layout": msgspec.to_builtins(layout),
    }
