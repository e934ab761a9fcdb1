"""Which catalog each user works in, and the Dataset Browser (datasets, tables, columns)."""

from __future__ import annotations

from ironstar.domain import catalog as c
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.store import Tx


class CatalogSelections:
    name = "catalog_selections"
    version = 1
    tables = ("user_catalogs",)
    event_types = frozenset({"CatalogSelected"})

    def create(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS user_catalogs (user_id TEXT PRIMARY KEY, "
            "catalog_id TEXT NOT NULL, selected_at DOUBLE PRECISION NOT NULL)"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        self.apply_page(tx, [event])

    def apply_page(self, tx: Tx, events: list[RecordedEvent]) -> None:
        # Each selection replaces the user's row whole: the last one in the page wins.
        selected: list[c.CatalogSelected] = [event.data for event in events]
        latest = {e.user_id: (e.user_id, e.catalog_id, e.at) for e in selected}
        tx.executemany(
            "INSERT INTO user_catalogs VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "catalog_id = excluded.catalog_id, selected_at = excluded.selected_at",
            list(latest.values()),
        )


class DatasetBrowser:
    """Replaced wholesale on every refresh: the event carries the complete listing."""

    name = "dataset_browser"
    version = 1
    tables = ("catalog_metadata", "catalog_datasets", "catalog_tables", "catalog_columns")
    event_types = frozenset({"CatalogMetadataRefreshed"})

    def create(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS catalog_metadata (catalog_id TEXT PRIMARY KEY, "
            "snapshot_id BIGINT, refreshed_at DOUBLE PRECISION NOT NULL, refreshed_by TEXT, "
            "dataset_count INTEGER NOT NULL, table_count INTEGER NOT NULL, "
            "position BIGINT NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS catalog_datasets (catalog_id TEXT NOT NULL, "
            "dataset TEXT NOT NULL, table_count INTEGER NOT NULL, schema_version INTEGER NOT NULL, "
            "PRIMARY KEY (catalog_id, dataset))"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS catalog_tables (catalog_id TEXT NOT NULL, "
            "dataset TEXT NOT NULL, table_name TEXT NOT NULL, row_count BIGINT, "
            "column_count INTEGER NOT NULL, PRIMARY KEY (catalog_id, dataset, table_name))"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS catalog_columns (catalog_id TEXT NOT NULL, "
            "dataset TEXT NOT NULL, table_name TEXT NOT NULL, ordinal INTEGER NOT NULL, "
            "column_name TEXT NOT NULL, column_type TEXT NOT NULL, "
            "PRIMARY KEY (catalog_id, dataset, table_name, ordinal))"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        e: c.CatalogMetadataRefreshed = event.data
        for table in ("catalog_datasets", "catalog_tables", "catalog_columns"):
            tx.execute(f"DELETE FROM {table} WHERE catalog_id = ?", (e.catalog_id,))
        datasets: list[tuple[object, ...]] = []
        tables: list[tuple[object, ...]] = []
        columns: list[tuple[object, ...]] = []
        for d in e.datasets:
            datasets.append((e.catalog_id, d.name, d.table_count, d.schema_version))
            for t in getattr(d, "tables", ()):
                tables.append((e.catalog_id, d.name, t.name, t.row_count, len(t.columns)))
                columns.extend(
                    (e.catalog_id, d.name, t.name, i, col.name, col.type)
                    for i, col in enumerate(t.columns)
                )
        tx.executemany("INSERT INTO catalog_datasets VALUES (?, ?, ?, ?)", datasets)
        tx.executemany("INSERT INTO catalog_tables VALUES (?, ?, ?, ?, ?)", tables)
        tx.executemany("INSERT INTO catalog_columns VALUES (?, ?, ?, ?, ?, ?)", columns)
        tx.execute(
            "INSERT INTO catalog_metadata VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (catalog_id) "
            "DO UPDATE SET snapshot_id = excluded.snapshot_id, "
            "refreshed_at = excluded.refreshed_at, refreshed_by = excluded.refreshed_by, "
            "dataset_count = excluded.dataset_count, table_count = excluded.table_count, "
            "position = excluded.position",
            (
                e.catalog_id,
                e.snapshot_id,
                e.at,
                e.user_id,
                len(datasets),
                sum(d.table_count for d in e.datasets),
                event.position,
            ),
        )
