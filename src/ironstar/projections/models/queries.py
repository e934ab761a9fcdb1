"""Query history and results (one row per run), and chart data references."""

from __future__ import annotations

from ironstar.domain import query_session as q
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._json import dumps
from ironstar.projections.store import Tx


class QueryHistory:
    name = "query_history"
    version = 1
    tables = ("queries",)
    event_types = frozenset({"QueryStarted", "QueryCompleted", "QueryFailed", "QueryCancelled"})

    def create(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS queries (query_id TEXT PRIMARY KEY, "
            "user_id TEXT NOT NULL, catalog_id TEXT NOT NULL, dataset TEXT, sql TEXT NOT NULL, "
            "chart_config TEXT, status TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL, "
            "finished_at DOUBLE PRECISION, duration_ms BIGINT, row_count BIGINT, columns TEXT, "
            "result_key TEXT, snapshot_id BIGINT, failure_kind TEXT, failure_message TEXT, "
            "failure_position INTEGER, cancelled_by TEXT, pinned_snapshot_id BIGINT, "
            "rerun_of TEXT, position BIGINT NOT NULL)"
        )
        tx.execute("CREATE INDEX IF NOT EXISTS queries_by_user ON queries (user_id, started_at)")

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        e = event.data
        match e:
            case q.QueryStarted():
                tx.execute(
                    "INSERT INTO queries (query_id, user_id, catalog_id, dataset, sql, "
                    "chart_config, status, started_at, pinned_snapshot_id, rerun_of, position) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?) "
                    "ON CONFLICT (query_id) DO NOTHING",
                    (
                        e.query_id,
                        e.user_id,
                        e.catalog_id,
                        e.dataset_ref.dataset if e.dataset_ref else None,
                        e.sql,
                        None if e.chart_config is None else dumps(e.chart_config),
                        e.at,
                        e.pinned_snapshot_id,
                        e.rerun_of,
                        event.position,
                    ),
                )
            case q.QueryCompleted():
                tx.execute(
                    "UPDATE queries SET status = 'completed', finished_at = ?, duration_ms = ?, "
                    "row_count = ?, columns = ?, result_key = ?, snapshot_id = ?, position = ? "
                    "WHERE query_id = ?",
                    (
                        e.at,
                        e.duration_ms,
                        e.row_count,
                        dumps([{"name": c.name, "type": c.type} for c in e.columns]),
                        e.result_key,
                        e.catalog_snapshot_id,
                        event.position,
                        e.query_id,
                    ),
                )
            case q.QueryFailed():
                tx.execute(
                    "UPDATE queries SET status = 'failed', finished_at = ?, duration_ms = ?, "
                    "failure_kind = ?, failure_message = ?, failure_position = ?, position = ? "
                    "WHERE query_id = ?",
                    (
                        e.at,
                        e.duration_ms,
                        str(e.kind),
                        e.message,
                        e.position,
                        event.position,
                        e.query_id,
                    ),
                )
            case q.QueryCancelled():
                tx.execute(
                    "UPDATE queries SET status = 'cancelled', finished_at = ?, cancelled_by = ?, "
                    "position = ? WHERE query_id = ?",
                    (e.at, e.user_id, event.position, e.query_id),
                )


class ChartData:
    """Query -> chart config -> series reference (the Parquet result the series come from).

    Series themselves are computed from the result on demand and cached by the
    analytics layer; this read model says which config draws from which result."""

    name = "chart_data"
    version = 1
    tables = ("chart_data",)
    event_types = frozenset({"QueryStarted", "QueryCompleted"})

    def create(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS chart_data (query_id TEXT PRIMARY KEY, "
            "user_id TEXT NOT NULL, chart_config TEXT NOT NULL, result_key TEXT, "
            "row_count BIGINT, columns TEXT, ready INTEGER NOT NULL)"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        e = event.data
        if isinstance(e, q.QueryStarted):
            if e.chart_config is not None:
                tx.execute(
                    "INSERT INTO chart_data (query_id, user_id, chart_config, ready) "
                    "VALUES (?, ?, ?, 0) ON CONFLICT (query_id) DO NOTHING",
                    (e.query_id, e.user_id, dumps(e.chart_config)),
                )
        elif isinstance(e, q.QueryCompleted):
            tx.execute(
                "UPDATE chart_data SET result_key = ?, row_count = ?, columns = ?, ready = 1 "
                "WHERE query_id = ?",
                (
                    e.result_key,
                    e.row_count,
                    dumps([{"name": c.name, "type": c.type} for c in e.columns]),
                    e.query_id,
                ),
            )
