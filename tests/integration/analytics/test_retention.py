"""Opt-in result retention: old results (and their cache entries) go, recent ones stay,
only the leading process sweeps, and the setting refuses what is not a number of days."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

import pytest

from ironstar.analytics.outcomes import QueryCompleted, QueryRequest
from ironstar.application.automation.retention import purge_old_results, retention_job
from ironstar.application.leadership import FileLeadership
from ironstar.settings import Settings

from .conftest import Engine

pytestmark = pytest.mark.anyio
DAY = 86_400.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def result_path(engine: Engine, query_id: str, sql: str) -> Path:
    outcome = await engine.executor.run(QueryRequest(query_id, "u", sql, "lab"))
    assert isinstance(outcome, QueryCompleted), outcome
    return engine.store.root / outcome.summary.result_key


def age(path: Path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


async def test_old_results_go_and_recent_ones_stay(async_engine: Engine) -> None:
    old = await result_path(async_engine, "old", "SELECT 1 AS x")
    recent = await result_path(async_engine, "recent", "SELECT 2 AS x")
    age(old, 10)
    removed = await purge_old_results(async_engine.store, 7 * DAY)
    assert removed == ["results/old.parquet"]
    assert not old.exists() and recent.exists()
    # the cache no longer offers the removed result: the same SQL runs again
    again = await async_engine.executor.run(QueryRequest("again", "u", "SELECT 1 AS x", "lab"))
    assert isinstance(again, QueryCompleted) and not again.cached


async def test_only_the_leading_process_sweeps(async_engine: Engine, tmp_path: Path) -> None:
    old = await result_path(async_engine, "old", "SELECT 1 AS x")
    age(old, 10)
    leader, other = FileLeadership(tmp_path / "locks"), FileLeadership(tmp_path / "locks")
    assert leader.try_acquire("result-retention")
    try:
        follower = asyncio.create_task(
            retention_job(async_engine.store, other, max_age_seconds=DAY, interval=0.01)()
        )
        await asyncio.sleep(0.2)
        assert old.exists()  # not leading: nothing removed
        await stopped(follower)
        sweeper = asyncio.create_task(
            retention_job(async_engine.store, leader, max_age_seconds=DAY, interval=0.01)()
        )
        for _ in range(200):
            if not old.exists():
                break
            await asyncio.sleep(0.01)
        await stopped(sweeper)
        assert not old.exists()
    finally:
        leader.close()
        other.close()


async def stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_the_setting_takes_days_and_refuses_anything_else() -> None:
    assert Settings.from_env({}).result_retention_days == 0  # keep every result
    assert Settings.from_env({"IRONSTAR_RESULT_RETENTION_DAYS": "7.5"}).result_retention_days == 7.5
    for bad in ("-1", "soon", "nan"):
        with pytest.raises(ValueError, match="IRONSTAR_RESULT_RETENTION_DAYS"):
            Settings.from_env({"IRONSTAR_RESULT_RETENTION_DAYS": bad})
