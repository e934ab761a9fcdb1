"""The result cache follows DuckLake snapshots exactly; pinned re-runs reproduce old results."""

from __future__ import annotations

import pytest

from ironstar.analytics import results
from ironstar.analytics.cache import cache_key, normalise_sql
from ironstar.analytics.outcomes import QueryCompleted, QueryRequest

from .conftest import Engine, make_engine, write_lake

pytestmark = pytest.mark.anyio

TOTAL = "SELECT count(*) AS n, sum(value) AS total FROM measurements"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def completed(engine: Engine, query_id: str, sql: str, **extra: object) -> QueryCompleted:
    outcome = await engine.executor.run(QueryRequest(query_id, "u", sql, "lab", **extra))  # type: ignore[arg-type]
    assert isinstance(outcome, QueryCompleted), outcome
    return outcome


def test_normalisation_ignores_layout_but_not_meaning() -> None:
    assert normalise_sql("select  a\n -- why\n FROM t;") == normalise_sql("SELECT a FROM t")
    assert normalise_sql("SELECT 'a  b'") != normalise_sql("SELECT 'a b'")
    assert normalise_sql('SELECT a AS "X"') != normalise_sql('SELECT a AS "x"')
    assert cache_key("SELECT 1", "lab", {"lab": 1}) != cache_key("SELECT 1", "lab", {"lab": 2})


async def test_same_sql_on_same_snapshot_reuses_the_result(async_engine: Engine) -> None:
    first = await completed(async_engine, "a", TOTAL)
    again = await completed(
        async_engine, "b", "select count(*) AS n,\n  sum(value) AS total -- x\nfrom measurements;"
    )
    assert not first.cached and again.cached
    assert again.summary.result_key == first.summary.result_key
    assert not async_engine.store.exists("results/b.parquet")
    fresh = await completed(async_engine, "c", TOTAL, use_cache=False)
    assert not fresh.cached and fresh.summary.result_key == "results/c.parquet"


async def test_a_restarted_engine_still_finds_the_results_it_computed(
    async_engine: Engine,
) -> None:
    first = await completed(async_engine, "a", TOTAL)
    restarted = make_engine(async_engine.data_dir)  # a fresh process: nothing in memory
    try:
        again = await completed(restarted, "b", TOTAL)
        assert again.cached and again.summary == first.summary
        # retention removed the result: the entry goes too, and the query runs again
        restarted.store.delete(first.summary.result_key)
        gone = await completed(restarted, "c", TOTAL)
        assert not gone.cached and gone.summary.result_key == "results/c.parquet"
    finally:
        await restarted.executor.close()
    once_more = make_engine(async_engine.data_dir)
    try:
        latest = await completed(once_more, "d", TOTAL)
        assert latest.cached and latest.summary.result_key == "results/c.parquet"
    finally:
        await once_more.executor.close()


async def test_new_snapshot_invalidates_and_pins_reproduce(async_engine: Engine) -> None:
    before = await completed(async_engine, "before", TOTAL)
    old_snapshot = before.summary.snapshots["lab"]
    old_rows = results.page(async_engine.store, before.summary.result_key).rows()

    async_engine.release_catalogs()
    write_lake(
        async_engine.data_dir, "lab", "INSERT INTO measurements VALUES (5000, 1, 99.5, 'late')"
    )

    after = await completed(async_engine, "after", TOTAL)
    assert not after.cached
    assert after.summary.snapshots["lab"] > old_snapshot
    new_rows = results.page(async_engine.store, after.summary.result_key).rows()
    assert new_rows != old_rows and new_rows[0][0] == 1001

    pinned = await completed(async_engine, "pinned", TOTAL, snapshot_pins={"lab": old_snapshot})
    assert pinned.summary.snapshots == {"lab": old_snapshot}
    assert results.page(async_engine.store, pinned.summary.result_key).rows() == old_rows
    # Same SQL, same snapshot: the cache recognises the old version too.
    repeat = await completed(async_engine, "pinned2", TOTAL, snapshot_pins={"lab": old_snapshot})
    assert repeat.cached and repeat.summary.result_key in (
        before.summary.result_key,
        pinned.summary.result_key,
    )


async def test_snapshots_cover_every_catalog_read(async_engine: Engine) -> None:
    outcome = await completed(async_engine, "x", "SELECT 1 AS one")
    assert set(outcome.summary.snapshots) == {"lab"}
    plain = await async_engine.executor.run(QueryRequest("y", "u", "SELECT 1 AS one"))
    assert isinstance(plain, QueryCompleted) and plain.summary.snapshots == {}
