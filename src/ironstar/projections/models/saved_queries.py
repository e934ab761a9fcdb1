"""Saved queries per user (deleted ones drop out; names stay unique per user)."""

from __future__ import annotations

from ironstar.domain import saved_query as sq
from ironstar.domain.kernel import name_key
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.store import Tx


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
        e = event.data
        match e:
            case sq.QuerySaved():
                ref = e.dataset_ref
                tx.execute(
                    "INSERT INTO saved_queries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (saved_query_id) DO NOTHING",
                    (
                        e.saved_query_id,
                        e.user_id,
                        e.name,
                        name_key(e.name),
                        e.sql,
                        ref.catalog_id if ref else None,
                        ref.dataset if ref else None,
                        e.at,
                        e.at,
                    ),
                )
            case sq.QueryRenamed():
                tx.execute(
                    "UPDATE saved_queries SET name = ?, name_key = ?, updated_at = ? "
                    "WHERE saved_query_id = ?",
                    (e.name, name_key(e.name), e.at, e.saved_query_id),
                )
            case sq.QuerySqlUpdated():
                tx.execute(
                    "UPDATE saved_queries SET sql = ?, updated_at = ? WHERE saved_query_id = ?",
                    (e.sql, e.at, e.saved_query_id),
                )
            case sq.DatasetRefUpdated():
                ref = e.dataset_ref
                tx.execute(
                    "UPDATE saved_queries SET catalog_id = ?, dataset = ?, updated_at = ? "
                    "WHERE saved_query_id = ?",
                    (
                        ref.catalog_id if ref else None,
                        ref.dataset if ref else None,
                        e.at,
                        e.saved_query_id,
                    ),
                )
            case sq.QueryDeleted():
                tx.execute(
                    "DELETE FROM saved_queries WHERE saved_query_id = ?", (e.saved_query_id,)
                )
