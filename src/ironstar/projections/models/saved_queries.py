"""Saved queries per user (deleted ones drop out; names stay unique per user)."""

from __future__ import annotations

from ironstar.domain import saved_query as sq
from ironstar.domain.kernel import name_key
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._rows import Rows
from ironstar.projections.store import Tx

_COLUMNS = (
    "saved_query_id",
    "user_id",
    "name",
    "name_key",
    "sql",
    "catalog_id",
    "dataset",
    "created_at",
    "updated_at",
)
_NAME, _NAME_KEY, _SQL, _CATALOG, _DATASET, _UPDATED = 2, 3, 4, 5, 6, 8


class SavedQueries:
    name = "saved_queries"
    version = 1
    tables = ("saved_queries",)
    event_types = frozenset(
        {"QuerySaved", "QueryRenamed", "QuerySqlUpdated", "DatasetRefUpdated", "QueryDeleted"}
    )

    def create(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS saved_queries (saved_query_id TEXT PRIMARY KEY, "
            "user_id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL, "
            "sql TEXT NOT NULL, catalog_id TEXT, dataset TEXT, "
            "created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL)"
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS saved_queries_by_user ON saved_queries (user_id, name_key)"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        self.apply_page(tx, [event])

    def apply_page(self, tx: Tx, events: list[RecordedEvent]) -> None:
        saved = Rows("saved_queries", _COLUMNS)
        saved.load(tx, [event.data.saved_query_id for event in events])
        for event in events:
            e = event.data
            if isinstance(e, sq.QuerySaved):
                ref = e.dataset_ref
                saved.insert(
                    [
                        e.saved_query_id,
                        e.user_id,
                        e.name,
                        name_key(e.name),
                        e.sql,
                        ref.catalog_id if ref else None,
                        ref.dataset if ref else None,
                        e.at,
                        e.at,
                    ]
                )
                continue
            row = saved.get(e.saved_query_id)
            if row is None:
                continue
            match e:
                case sq.QueryRenamed():
                    row[_NAME], row[_NAME_KEY] = e.name, name_key(e.name)
                case sq.QuerySqlUpdated():
                    row[_SQL] = e.sql
                case sq.DatasetRefUpdated():
                    ref = e.dataset_ref
                    row[_CATALOG] = ref.catalog_id if ref else None
                    row[_DATASET] = ref.dataset if ref else None
                case sq.QueryDeleted():
                    saved.delete(e.saved_query_id)
                    continue
            row[_UPDATED] = e.at
        saved.flush(tx)
