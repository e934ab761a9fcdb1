"""A catalog going down and coming back: breaker, stale metadata, automatic recovery."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ironstar.analytics.availability import CatalogUnavailable, CircuitBreaker
from ironstar.analytics.outcomes import QueryCompleted, QueryFailed, QueryRequest
from ironstar.analytics.refresh import MetadataRefresher

from .conftest import Engine, FakeClock, make_engine

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_breaker_backs_off_then_lets_one_trial_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(base_backoff=10, max_backoff=25, clock=clock)
    assert breaker.allow()
    breaker.record_failure("boom")
    assert not breaker.allow() and breaker.snapshot().state == "open"
    clock.now += 10
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # only one at a time
    breaker.record_failure("still down")
    assert breaker.snapshot().retry_at == clock.now + 20  # doubled
    clock.now += 20
    breaker.allow()
    breaker.record_failure("again")
    assert breaker.snapshot().retry_at == clock.now + 25  # capped
    clock.now += 25
    assert breaker.allow()
    breaker.record_success()
    assert breaker.snapshot().state == "closed" and breaker.allow()


async def test_catalog_down_serves_stale_metadata_and_recovers(async_engine: Engine) -> None:
    refresher = MetadataRefresher(async_engine.pool)
    fresh = await refresher.refresh("lab")
    assert not fresh.stale

    metadata = async_engine.data_dir / "lake" / "lab" / "metadata.ducklake"
    hidden = metadata.with_name("hidden.ducklake")
    async_engine.release_catalogs()
    metadata.rename(hidden)

    stale = await refresher.refresh("lab")
    assert stale.stale and stale.unavailable_reason
    assert stale.snapshot_id == fresh.snapshot_id
    failed = await async_engine.executor.run(QueryRequest("q", "u", "SELECT 1", "lab"))
    assert isinstance(failed, QueryFailed) and failed.kind == "catalog_unavailable"
    assert async_engine.health.breaker("lab").snapshot().state == "open"

    hidden.rename(metadata)
    # Still within the back-off: no retry yet, the stale copy is served.
    assert (await refresher.refresh("lab")).stale
    async_engine.clock.now += 31
    recovered = await refresher.refresh("lab")
    assert not recovered.stale
    ok = await async_engine.executor.run(
        QueryRequest("q2", "u", "SELECT count(*) FROM measurements", "lab")
    )
    assert isinstance(ok, QueryCompleted)


async def test_remote_catalog_fails_cleanly_and_others_keep_working(lab_dir: Path) -> None:
    toml = lab_dir / "catalogs.toml"
    toml.write_text(
        toml.read_text() + '\n[catalogs.fixtures]\nlocation = "hf://datasets/sciexp/fixtures"\n'
    )
    engine = make_engine(lab_dir, attach_timeout=3)
    try:
        started = time.perf_counter()
        outcome = await engine.executor.run(QueryRequest("r", "u", "SELECT * FROM fixtures.main.t"))
        assert time.perf_counter() - started < 10
        assert isinstance(outcome, QueryFailed) and outcome.kind == "catalog_unavailable"
        assert "fixtures" in outcome.message
        with pytest.raises(CatalogUnavailable) as error:
            await MetadataRefresher(engine.pool).refresh("fixtures")
        assert error.value.code == "catalog_unavailable" and error.value.reason
        local = await engine.executor.run(
            QueryRequest("l", "u", "SELECT count(*) FROM lab.measurements")
        )
        assert isinstance(local, QueryCompleted)
    finally:
        await engine.executor.close()
