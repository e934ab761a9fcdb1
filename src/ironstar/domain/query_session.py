"""QuerySession: one run of one SQL query (a stream per run, so runs never queue
behind a global slot). The analyst starts and may cancel it; the query runner
completes or fails it. Completed, failed and cancelled are final.

Results live in a blob store; events carry only the key, the shape and timings.
"""

from __future__ import annotations

import enum
from typing import Final, assert_never

import msgspec

from ironstar.domain import errors
from ironstar.domain.access import ensure_owner
from ironstar.domain.kernel import (
    MAX_NAME_LENGTH,
    ChartConfig,
    Command,
    DatasetRef,
    Event,
    SqlText,
    UserId,
    Value,
    parse_chart_config,
    parse_dataset_ref,
    parse_id,
    parse_instant,
    parse_sql,
    parse_text,
    parse_user_id,
)

STREAM_TYPE: Final = "query"
SNAPSHOT_SCHEMA: Final = 1
MAX_RESULT_COLUMNS: Final = 2_000
MAX_RESULT_KEY_LENGTH: Final = 500


def stream_id(query_id: str) -> str:
    return f"{STREAM_TYPE}:{query_id}"


class QueryStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class FailureKind(enum.StrEnum):
    SYNTAX = "syntax"  # the SQL does not parse (or binds to nothing: no such table, column)
    NOT_ALLOWED = "not_allowed"  # a statement the sandbox refuses (writes, files, ATTACH)
    EXECUTION = "execution"  # valid SQL the data refused while it ran (a failed cast, say)
    TIMEOUT = "timeout"
    RESOURCE = "resource"  # memory or other limits of the sandbox
    CATALOG_UNAVAILABLE = "catalog_unavailable"
    INTERNAL = "internal"  # Ironstar itself failed: not the query's fault


class ResultColumn(Value, frozen=True, kw_only=True):
    name: str
    type: str  # the engine's type name, e.g. "BIGINT", "TIMESTAMP WITH TIME ZONE"


# -- commands --------------------------------------------------------------------------


class StartQuery(Command, frozen=True, kw_only=True):
    query_id: str
    actor: UserId
    sql: str
    catalog_id: str
    at: float
    dataset_ref: DatasetRef | None = None
    chart_config: ChartConfig | None = None
    pinned_snapshot_id: int | None = None  # re-run against this DuckLake snapshot
    rerun_of: str | None = None  # the query run this one reproduces


class CompleteQuery(Command, frozen=True, kw_only=True):
    query_id: str
    result_key: str  # where the result's Parquet lives in the blob store
    row_count: int
    columns: tuple[ResultColumn, ...]
    duration_ms: int
    catalog_snapshot_id: int | None  # the DuckLake snapshot the query read
    at: float


class FailQuery(Command, frozen=True, kw_only=True):
    query_id: str
    kind: FailureKind
    message: str
    duration_ms: int
    at: float
    position: int | None = None  # 0-based character offset in the SQL, where known


class CancelQuery(Command, frozen=True, kw_only=True):
    query_id: str
    actor: UserId
    at: float


# -- events ----------------------------------------------------------------------------


class QueryStarted(Event, frozen=True, kw_only=True):
    query_id: str
    user_id: UserId
    sql: SqlText
    catalog_id: str
    dataset_ref: DatasetRef | None
    chart_config: ChartConfig | None
    at: float
    pinned_snapshot_id: int | None = None
    rerun_of: str | None = None


class QueryCompleted(Event, frozen=True, kw_only=True):
    query_id: str
    user_id: UserId  # who started the query
    result_key: str
    row_count: int
    columns: tuple[ResultColumn, ...]
    duration_ms: int
    catalog_snapshot_id: int | None
    at: float


class QueryFailed(Event, frozen=True, kw_only=True):
    query_id: str
    user_id: UserId  # who started the query
    kind: FailureKind
    message: str
    position: int | None
    duration_ms: int
    at: float


class QueryCancelled(Event, frozen=True, kw_only=True):
    query_id: str
    user_id: UserId  # who cancelled it (the owner)
    at: float


Commands = StartQuery | CompleteQuery | FailQuery | CancelQuery
Events = QueryStarted | QueryCompleted | QueryFailed | QueryCancelled
EVENTS: Final = (QueryStarted, QueryCompleted, QueryFailed, QueryCancelled)


class QueryState(msgspec.Struct, frozen=True, kw_only=True):
    query_id: str
    owner: UserId
    sql: SqlText
    catalog_id: str
    dataset_ref: DatasetRef | None
    chart_config: ChartConfig | None
    status: QueryStatus
    started_at: float
    finished_at: float | None = None
    result_key: str | None = None
    row_count: int | None = None
    columns: tuple[ResultColumn, ...] = ()
    failure_kind: FailureKind | None = None


State = QueryState


def _running(state: QueryState | None) -> QueryState:
    if state is None:
        raise errors.NotFound("no such query run")
    if state.status is not QueryStatus.RUNNING:
        raise errors.QueryNotRunning(f"the query is {state.status.value}, no longer running")
    return state


def _count(value: int, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise errors.InvalidValue(f"{what} must be a whole number >= 0")
    return value


def _columns(columns: tuple[ResultColumn, ...]) -> tuple[ResultColumn, ...]:
    if len(columns) > MAX_RESULT_COLUMNS:
        raise errors.TooLarge(f"a result has at most {MAX_RESULT_COLUMNS} columns")
    for column in columns:
        parse_text(column.name, what="column name", limit=MAX_NAME_LENGTH * 2)
        parse_text(column.type, what="column type", limit=MAX_NAME_LENGTH * 2)
    return columns


def _start(command: StartQuery, state: QueryState | None) -> QueryStarted:
    if state is not None:
        raise errors.AlreadyExists(f"query run {command.query_id!r} already exists")
    catalog_id = parse_id(command.catalog_id, what="catalog id")
    ref = command.dataset_ref
    if ref is not None and parse_dataset_ref(ref).catalog_id != catalog_id:
        raise errors.InvalidValue("the dataset must belong to the catalog the query runs on")
    config = command.chart_config
    return QueryStarted(
        query_id=parse_id(command.query_id, what="query id"),
        user_id=parse_user_id(command.actor),
        sql=parse_sql(command.sql),
        catalog_id=catalog_id,
        dataset_ref=ref,
        chart_config=None if config is None else parse_chart_config(config),
        at=parse_instant(command.at),
        pinned_snapshot_id=None
        if command.pinned_snapshot_id is None
        else _count(command.pinned_snapshot_id, what="snapshot id"),
        rerun_of=None if command.rerun_of is None else parse_id(command.rerun_of, what="query id"),
    )


def _fail(command: FailQuery, running: QueryState) -> QueryFailed:
    try:
        kind = FailureKind(command.kind)
    except ValueError:
        raise errors.InvalidValue(f"unknown failure kind {command.kind!r}") from None
    position = command.position
    if position is not None:
        _count(position, what="error position")
    return QueryFailed(
        query_id=running.query_id,
        user_id=running.owner,
        kind=kind,
        message=parse_text(command.message, what="error message"),
        position=position,
        duration_ms=_count(command.duration_ms, what="duration"),
        at=parse_instant(command.at),
    )


def decide(command: Commands, state: QueryState | None) -> list[Events]:
    match command:
        case StartQuery():
            return [_start(command, state)]
        case CompleteQuery():
            running = _running(state)
            key = parse_text(command.result_key, what="result key", limit=MAX_RESULT_KEY_LENGTH)
            if not key:
                raise errors.InvalidValue("a completed query must say where its result is")
            return [
                QueryCompleted(
                    query_id=running.query_id,
                    user_id=running.owner,
                    result_key=key,
                    row_count=_count(command.row_count, what="row count"),
                    columns=_columns(command.columns),
                    duration_ms=_count(command.duration_ms, what="duration"),
                    catalog_snapshot_id=command.catalog_snapshot_id,
                    at=parse_instant(command.at),
                )
            ]
        case FailQuery():
            return [_fail(command, _running(state))]
        case CancelQuery():
            running = _running(state)
            ensure_owner(running.owner, command.actor)
            return [
                QueryCancelled(
                    query_id=running.query_id, user_id=command.actor, at=parse_instant(command.at)
                )
            ]
        case _:
            assert_never(command)


def evolve(state: QueryState | None, event: Events) -> QueryState:
    if isinstance(event, QueryStarted):
        return QueryState(
            query_id=event.query_id,
            owner=event.user_id,
            sql=event.sql,
            catalog_id=event.catalog_id,
            dataset_ref=event.dataset_ref,
            chart_config=event.chart_config,
            status=QueryStatus.RUNNING,
            started_at=event.at,
        )
    if state is None:
        raise ValueError(f"{type(event).__name__} before QueryStarted")
    match event:
        case QueryCompleted():
            return msgspec.structs.replace(
                state,
                status=QueryStatus.COMPLETED,
                finished_at=event.at,
                result_key=event.result_key,
                row_count=event.row_count,
                columns=event.columns,
            )
        case QueryFailed():
            return msgspec.structs.replace(
                state, status=QueryStatus.FAILED, finished_at=event.at, failure_kind=event.kind
            )
        case QueryCancelled():
            return msgspec.structs.replace(
                state, status=QueryStatus.CANCELLED, finished_at=event.at
            )
        case _:
            assert_never(event)
