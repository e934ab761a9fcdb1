"""Query history and results (one row per run), and chart data references."""

from __future__ import annotations

from ironstar.domain import query_session as q
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._json import dumps
from ironstar.projections.models._rows import Rows
from ironstar.projections.store import Tx

_QUERY_COLUMNS = (
    "query_id",
    "user_id",
    "catalog_id",
    "dataset",
    "sql",
    "chart_config",
    "status",
    "started_at",
    "finished_at",
    "duration_ms",
    "row_count",
    "columns",
    "result_key",
    "snapshot_id",
    "failure_kind",
    "failure_message",
    "failure_position",
    "cancelled_by",
    "pinned_snapshot_id",
    "rerun_of",
    "position",
)
_STATUS, _FINISHED, _DURATION, _ROWS, _COLUMNS, _RESULT, _SNAPSHOT = 6, 8, 9, 10, 11, 12, 13
_FAILURE_KIND, _FAILURE_MESSAGE, _FAILURE_POSITION, _CANCELLED_BY, _POSITION = 14, 15, 16, 17, 20
_UNFINISHED = (None,) * (_CANCELLED_BY - _FINISHED + 1)  # finished_at ... cancelled_by
_CHART_COLUMNS = (
    "query_id",
    "user_id",
    "chart_config",
    "result_key",
    "row_count",
    "columns",
    "ready",
)


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
        self.apply_page(tx, [event])

    def apply_page(self, tx: Tx, events: list[RecordedEvent]) -> None:
        queries = Rows("queries", _QUERY_COLUMNS)
        queries.load(tx, [event.data.query_id for event in events])
        for event in events:
            e = event.data
            if isinstance(e, q.QueryStarted):
                queries.insert(
                    [
                        e.query_id,
                        e.user_id,
                        e.catalog_id,
                        e.dataset_ref.dataset if e.dataset_ref else None,
                        e.sql,
                        None if e.chart_config is None else dumps(e.chart_config),
                        "running",
                        e.at,
                        *_UNFINISHED,
                        e.pinned_snapshot_id,
                        e.rerun_of,
                        event.position,
                    ]
                )
                continue
            row = queries.get(e.query_id)
            if row is None:
                continue
            match e:
                case q.QueryCompleted():
                    row[_STATUS], row[_FINISHED], row[_DURATION] = "completed", e.at, e.duration_ms
                    row[_ROWS], row[_COLUMNS] = e.row_count, _columns(e)
                    row[_RESULT], row[_SNAPSHOT] = e.result_key, e.catalog_snapshot_id
                case q.QueryFailed():
                    row[_STATUS], row[_FINISHED], row[_DURATION] = "failed", e.at, e.duration_ms
                    row[_FAILURE_KIND], row[_FAILURE_MESSAGE] = str(e.kind), e.message
                    row[_FAILURE_POSITION] = e.position
                case q.QueryCancelled():
                    row[_STATUS], row[_FINISHED], row[_CANCELLED_BY] = "cancelled", e.at, e.user_id
            row[_POSITION] = event.position
        queries.flush(tx)


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
        self.apply_page(tx, [event])

    def apply_page(self, tx: Tx, events: list[RecordedEvent]) -> None:
        charts = Rows("chart_data", _CHART_COLUMNS)
        charts.load(tx, [event.data.query_id for event in events])
        for event in events:
            e = event.data
            if isinstance(e, q.QueryStarted):
                if e.chart_config is not None:
                    charts.insert(
                        [e.query_id, e.user_id, dumps(e.chart_config), None, None, None, 0]
                    )
            elif isinstance(e, q.QueryCompleted):
                row = charts.get(e.query_id)
                if row is not None:
                    row[3:] = [e.result_key, e.row_count, _columns(e), 1]
        charts.flush(tx)


def _columns(e: q.QueryCompleted) -> str:
    return dumps([{"name": c.name, "type": c.type} for c in e.columns])
