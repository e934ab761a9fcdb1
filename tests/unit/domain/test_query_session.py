from __future__ import annotations

import pytest

from ironstar.domain import errors, query_session
from ironstar.domain.kernel import DatasetRef, SqlText, UserId
from ironstar.domain.query_session import (
    CancelQuery,
    CompleteQuery,
    FailQuery,
    FailureKind,
    QueryCancelled,
    QueryCompleted,
    QueryFailed,
    QueryStarted,
    QueryStatus,
    ResultColumn,
    StartQuery,
)

from .gwt import Decider

queries = Decider(query_session)
ADA = UserId("github:1")
BOB = UserId("github:2")
REF = DatasetRef(catalog_id="local", dataset="penguins")
SQL = "SELECT species, avg(bill_length_mm) FROM penguins GROUP BY 1"
CONFIG = {"chart_type": "bar", "x": "species", "y": ["avg"]}
STARTED = QueryStarted(
    query_id="q1",
    user_id=ADA,
    sql=SqlText(SQL),
    catalog_id="local",
    dataset_ref=REF,
    chart_config=CONFIG,
    at=10.0,
)
COLUMNS = (ResultColumn(name="species", type="VARCHAR"), ResultColumn(name="avg", type="DOUBLE"))
COMPLETE = CompleteQuery(
    query_id="q1",
    result_key="results/q1.parquet",
    row_count=3,
    columns=COLUMNS,
    duration_ms=42,
    catalog_snapshot_id=7,
    at=11,
)
COMPLETED = QueryCompleted(
    query_id="q1",
    user_id=ADA,
    result_key="results/q1.parquet",
    row_count=3,
    columns=COLUMNS,
    duration_ms=42,
    catalog_snapshot_id=7,
    at=11.0,
)
TIMEOUT = FailQuery(
    query_id="q1", kind=FailureKind.TIMEOUT, message="took > 30 s", duration_ms=30_000, at=40
)
FAILED = QueryFailed(
    query_id="q1",
    user_id=ADA,
    kind=FailureKind.TIMEOUT,
    message="took > 30 s",
    position=None,
    duration_ms=30_000,
    at=40.0,
)
CANCELLED = QueryCancelled(query_id="q1", user_id=ADA, at=12.0)


def start(**changes: object) -> StartQuery:
    fields: dict[str, object] = dict(
        query_id="q1",
        actor=ADA,
        sql=SQL,
        catalog_id="local",
        dataset_ref=REF,
        chart_config=CONFIG,
        at=10,
    )
    fields.update(changes)
    return StartQuery(**fields)  # type: ignore[arg-type]


def test_stream_id_is_one_per_run() -> None:
    assert query_session.stream_id("q1") == "query:q1"


def test_start_records_sql_catalog_dataset_and_chart_config() -> None:
    state = queries.given().when(start()).then(STARTED)
    assert state.status is QueryStatus.RUNNING
    assert state.owner == ADA


def test_start_without_dataset_or_chart() -> None:
    (event,) = query_session.decide(start(dataset_ref=None, chart_config=None), None)
    assert isinstance(event, QueryStarted)
    assert (event.dataset_ref, event.chart_config) == (None, None)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"sql": "   "}, errors.InvalidSql),
        ({"sql": "x" * 100_001}, errors.InvalidSql),
        ({"dataset_ref": DatasetRef(catalog_id="other", dataset="penguins")}, errors.InvalidValue),
        ({"chart_config": {"x": "species"}}, errors.InvalidChart),
        ({"chart_config": {"chart_type": "bar", "title": "t" * 9_000}}, errors.TooLarge),
        ({"catalog_id": ""}, errors.InvalidId),
    ],
)
def test_start_refuses_what_it_can_see_is_wrong(
    changes: dict[str, object], error: type[errors.DomainError]
) -> None:
    queries.given().when(start(**changes)).then_rejected(error)


def test_the_same_run_cannot_start_twice() -> None:
    queries.given(STARTED).when(start()).then_rejected(errors.AlreadyExists)


def test_complete_records_result_shape_duration_and_snapshot() -> None:
    state = queries.given(STARTED).when(COMPLETE).then(COMPLETED)
    assert state.status is QueryStatus.COMPLETED
    assert state.result_key == "results/q1.parquet"
    assert state.columns == COLUMNS


def test_complete_needs_a_result_key_and_sane_counts() -> None:
    import msgspec

    no_key = msgspec.structs.replace(COMPLETE, result_key="")
    negative = msgspec.structs.replace(COMPLETE, row_count=-1)
    queries.given(STARTED).when(no_key).then_rejected(errors.InvalidValue)
    queries.given(STARTED).when(negative).then_rejected(errors.InvalidValue)


def test_timeout_is_recorded_as_a_failure_of_kind_timeout() -> None:
    state = queries.given(STARTED).when(TIMEOUT).then(FAILED)
    assert state.status is QueryStatus.FAILED
    assert state.failure_kind is FailureKind.TIMEOUT


def test_invalid_sql_is_recorded_as_a_syntax_failure_with_its_position() -> None:
    syntax = FailQuery(
        query_id="q1",
        kind=FailureKind.SYNTAX,
        message='syntax error at or near "FORM"',
        position=9,
        duration_ms=1,
        at=10.5,
    )
    state = (
        queries.given(STARTED)
        .when(syntax)
        .then(
            QueryFailed(
                query_id="q1",
                user_id=ADA,
                kind=FailureKind.SYNTAX,
                message='syntax error at or near "FORM"',
                position=9,
                duration_ms=1,
                at=10.5,
            )
        )
    )
    assert state.failure_kind is FailureKind.SYNTAX


@pytest.mark.parametrize("kind", list(FailureKind))
def test_every_failure_kind_is_accepted(kind: FailureKind) -> None:
    (event,) = query_session.decide(
        FailQuery(query_id="q1", kind=kind, message="m", duration_ms=0, at=11),
        queries.given(STARTED).state,
    )
    assert isinstance(event, QueryFailed)
    assert event.kind is kind


def test_an_unknown_failure_kind_is_refused() -> None:
    bad = FailQuery(query_id="q1", kind="meteor", message="m", duration_ms=0, at=11)  # type: ignore[arg-type]
    queries.given(STARTED).when(bad).then_rejected(errors.InvalidValue)


def test_the_owner_can_cancel_a_running_query() -> None:
    state = (
        queries.given(STARTED).when(CancelQuery(query_id="q1", actor=ADA, at=12)).then(CANCELLED)
    )
    assert state.status is QueryStatus.CANCELLED


def test_another_user_cannot_cancel_it() -> None:
    queries.given(STARTED).when(CancelQuery(query_id="q1", actor=BOB, at=12)).then_rejected(
        errors.Forbidden
    )


@pytest.mark.parametrize("terminal", [COMPLETED, FAILED, CANCELLED])
@pytest.mark.parametrize(
    "command", [COMPLETE, TIMEOUT, CancelQuery(query_id="q1", actor=ADA, at=50)]
)
def test_terminal_states_are_final(terminal: object, command: object) -> None:
    queries.given(STARTED, terminal).when(command).then_rejected(errors.QueryNotRunning)


@pytest.mark.parametrize(
    "command", [COMPLETE, TIMEOUT, CancelQuery(query_id="q1", actor=ADA, at=1)]
)
def test_nothing_happens_to_a_run_that_never_started(command: object) -> None:
    queries.given().when(command).then_rejected(errors.NotFound)
