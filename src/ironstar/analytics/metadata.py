"""What a catalog contains: datasets (schemas), tables, columns, row counts, DuckLake versions."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import duckdb


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    row_count: int


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    tables: tuple[TableInfo, ...]


@dataclass(frozen=True)
class CatalogMetadata:
    catalog: str
    datasets: tuple[DatasetInfo, ...]
    snapshot_id: int
    schema_version: int
    refreshed_at: float  # unix seconds when this was read
    stale: bool = False  # True when served from memory because the catalog is unavailable
    unavailable_reason: str | None = None

    def as_stale(self, reason: str) -> CatalogMetadata:
        return replace(self, stale=True, unavailable_reason=reason)

    def table(self, dataset: str, table: str) -> TableInfo:
        for candidate in self.datasets:
            if candidate.name == dataset:
                for info in candidate.tables:
                    if info.name == table:
                        return info
        raise KeyError(f"{dataset}.{table}")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def current_snapshot(conn: duckdb.DuckDBPyConnection, catalog: str) -> int:
    row = conn.execute(f"SELECT id FROM {_quote(catalog)}.current_snapshot()").fetchone()
    assert row is not None
    return int(row[0])


def read_metadata(
    conn: duckdb.DuckDBPyConnection, catalog: str, now: float | None = None
) -> CatalogMetadata:
    """Read one attached catalog's metadata in a single transaction (one consistent snapshot)."""
    conn.execute("BEGIN TRANSACTION")
    try:
        snapshot_id = current_snapshot(conn, catalog)
        version = conn.execute(
            "SELECT schema_version FROM ducklake_snapshots(?) WHERE snapshot_id = ?",
            [catalog, snapshot_id],
        ).fetchone()
        columns = conn.execute(
            "SELECT c.schema_name, c.table_name, c.column_name, c.data_type "
            "FROM duckdb_columns() c JOIN duckdb_tables() t "
            "ON c.database_name = t.database_name AND c.schema_name = t.schema_name "
            "AND c.table_name = t.table_name "
            "WHERE c.database_name = ? ORDER BY c.schema_name, c.table_name, c.column_index",
            [catalog],
        ).fetchall()
        grouped: dict[str, dict[str, list[ColumnInfo]]] = {}
        for schema, table, column, data_type in columns:
            grouped.setdefault(schema, {}).setdefault(table, []).append(
                ColumnInfo(column, data_type)
            )
        datasets = []
        for schema, tables in grouped.items():
            infos = []
            for table, cols in tables.items():
                name = f"{_quote(catalog)}.{_quote(schema)}.{_quote(table)}"
                count = conn.execute(f"SELECT count(*) FROM {name}").fetchone()
                infos.append(TableInfo(table, tuple(cols), int(count[0]) if count else 0))
            datasets.append(DatasetInfo(schema, tuple(infos)))
    finally:
        conn.execute("ROLLBACK")
    return CatalogMetadata(
        catalog=catalog,
        datasets=tuple(datasets),
        snapshot_id=snapshot_id,
        schema_version=int(version[0]) if version else 0,
        refreshed_at=time.time() if now is None else now,
    )
