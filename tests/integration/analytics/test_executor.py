"""Running queries: cancel, timeout, memory limit, odd names, empty results, per-user limits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ironstar.analytics import results
from ironstar.analytics.outcomes import QueryCancelled, QueryCompleted, QueryFailed, QueryRequest

from .conftest import Engine, make_engine

pytestmark = pytest.mark.anyio

CPU_BOUND = "SELECT sum(hash(a.range * b.range)) FROM range(1000000000) a, range(1000) b"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_cancel_stops_a_cpu_bound_query_within_a_second(async_engine: Engine) -> None:
    executor = async_engine.executor
    task = asyncio.create_task(executor.run(QueryRequest("spin", "u", CPU_BOUND)))
    await asyncio.sleep(1.0)
    assert "spin" in executor.running()
    asked = time.perf_counter()
    assert executor.cancel("spin")
    outcome = await task
    assert time.perf_counter() - asked < 1.0
    assert isinstance(outcome, QueryCancelled)
    assert not async_engine.store.exists("results/spin.parquet")
    # The engine is still usable afterwards.
    again = await executor.run(QueryRequest("after", "u", "SELECT 42 AS x"))
    assert isinstance(again, QueryCompleted)


async def test_cancel_of_a_finished_query_is_refused(async_engine: Engine) -> None:
    await async_engine.executor.run(QueryRequest("done", "u", "SELECT 1"))
    assert async_engine.executor.cancel("done") is False


async def test_timeout_is_a_failure_of_kind_timeout(async_engine: Engine) -> None:
    started = time.perf_counter()
    outcome = await async_engine.executor.run(
        QueryRequest("slow", "u", CPU_BOUND, timeout_seconds=0.5)
    )
    assert isinstance(outcome, QueryFailed)
    assert outcome.kind == "timeout"
    assert time.perf_counter() - started < 2.0


async def test_memory_limit_gives_a_resource_failure(lab_dir: Path) -> None:
    engine = make_engine(lab_dir, memory_limit="64MB")
    try:
        outcome = await engine.executor.run(
            QueryRequest("hog", "u", "SELECT list(i) AS l FROM range(40000000) t(i)")
        )
        assert isinstance(outcome, QueryFailed), outcome
        assert outcome.kind == "resource"
    finally:
        await engine.executor.close()


async def test_unicode_and_odd_column_names_survive(async_engine: Engine) -> None:
    outcome = await async_engine.executor.run(
        QueryRequest("odd", "u", 'SELECT *, 1 AS "a", 2 AS "a" FROM "odd names"', "lab")
    )
    assert isinstance(outcome, QueryCompleted), outcome
    names = [name for name, _ in outcome.summary.columns]
    assert names == ["température °C", "with space", 'quote"inside', "名前", "a", "a_1"]
    page = results.page(async_engine.store, outcome.summary.result_key)
    assert page.rows() == [[1, 2, 3, "ünïcödé ✓ 日本", 1, 2]]


async def test_empty_result_keeps_its_schema(async_engine: Engine) -> None:
    outcome = await async_engine.executor.run(
        QueryRequest("empty", "u", "SELECT id, label FROM measurements WHERE id < 0", "lab")
    )
    assert isinstance(outcome, QueryCompleted)
    assert outcome.summary.row_count == 0
    assert outcome.summary.columns == (("id", "BIGINT"), ("label", "VARCHAR"))
    page = results.page(async_engine.store, outcome.summary.result_key)
    assert page.total_rows == 0 and page.rows() == []
    csv = b"".join(results.export(async_engine.store, outcome.summary.result_key, "csv"))
    assert csv.decode().strip() == '"id","label"'


@pytest.mark.parametrize(
    ("sql", "kind", "named"),
    [
        # no such table: the SQL binds to nothing
        ("SELECT * FROM no_such_table", "binding", "no_such_table"),
        # valid SQL the data refuses while it runs
        ("SELECT CAST(label AS INTEGER) FROM measurements", "execution", "sample-"),
    ],
)
async def test_a_failure_says_what_kind_it_is_without_traceback(
    async_engine: Engine, sql: str, kind: str, named: str
) -> None:
    outcome = await async_engine.executor.run(QueryRequest(f"fails-{kind}", "u", sql, "lab"))
    assert isinstance(outcome, QueryFailed)
    assert outcome.kind == kind
    assert named in outcome.message and "Traceback" not in outcome.message


async def test_per_user_limit_queues_a_users_queries(lab_dir: Path) -> None:
    """Observed, not timed: a loaded machine makes every duration unreliable."""
    engine = make_engine(lab_dir, per_user_limit=1, max_workers=4)
    executor = engine.executor
    sleepy = "SELECT count(*) FROM range(1000000000) a, range(1000) b"

    async def executing(ids: set[str], count: int) -> None:
        deadline = time.monotonic() + 30
        while len(ids & set(executor.executing())) < count:
            assert time.monotonic() < deadline, f"never {count} of {ids} executing at once"
            await asyncio.sleep(0.01)

    async def run_and_cancel(requests: list[QueryRequest], at_once: int) -> None:
        tasks = [asyncio.create_task(executor.run(r)) for r in requests]
        ids = {r.query_id for r in requests}
        await executing(ids, at_once)
        for _ in range(30):  # and never more than that while they run
            assert len(ids & set(executor.executing())) <= at_once
            await asyncio.sleep(0.01)
        assert ids <= set(executor.running())
        for query_id in ids:
            executor.cancel(query_id)
        outcomes = await asyncio.gather(*tasks)
        assert all(isinstance(o, QueryCancelled) for o in outcomes)

    try:
        same_user = [QueryRequest(f"q{i}", "alice", sleepy, timeout_seconds=60) for i in range(2)]
        await run_and_cancel(same_user, at_once=1)  # the second waits for alice's slot
        users = [QueryRequest(f"b{i}", f"user{i}", sleepy, timeout_seconds=60) for i in range(2)]
        await run_and_cancel(users, at_once=2)  # different users run side by side
    finally:
        await executor.close()


async def test_the_event_loop_stays_responsive_while_a_query_runs(async_engine: Engine) -> None:
    task = asyncio.create_task(
        async_engine.executor.run(QueryRequest("busy", "u", CPU_BOUND, timeout_seconds=1.0))
    )
    ticks = 0
    while not task.done():
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks > 30
