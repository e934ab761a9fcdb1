"""Stored results: pages, sorting, exports, retention."""

from __future__ import annotations

import io
import json
import time

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from ironstar.analytics import results
from ironstar.analytics.blobstore import BlobNotFound
from ironstar.analytics.cache import INDEX_PREFIX
from ironstar.analytics.outcomes import QueryCompleted, QueryRequest

from .conftest import Engine

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def stored(engine: Engine, sql: str, query_id: str = "r") -> str:
    outcome = await engine.executor.run(QueryRequest(query_id, "u", sql, "lab"))
    assert isinstance(outcome, QueryCompleted), outcome
    return outcome.summary.result_key


async def test_pages_follow_offset_limit_and_sort(async_engine: Engine) -> None:
    key = await stored(async_engine, "SELECT id, value, label FROM measurements ORDER BY id")
    store = async_engine.store
    first = results.page(store, key, offset=0, limit=5)
    assert first.total_rows == 1000
    assert [row[0] for row in first.rows()] == [0, 1, 2, 3, 4]
    middle = results.page(store, key, offset=998, limit=10)
    assert [row[0] for row in middle.rows()] == [998, 999]
    by_label = results.page(store, key, offset=0, limit=3, sort_by="label", descending=True)
    assert [row[2] for row in by_label.rows()] == ["sample-999", "sample-998", "sample-997"]
    by_value = results.page(store, key, offset=10, limit=2, sort_by="value")
    assert [row[0] for row in by_value.rows()] == [10, 11]
    with pytest.raises(KeyError):
        results.page(store, key, sort_by="nope")


async def test_pages_span_row_groups(async_engine: Engine) -> None:
    async_engine.executor.config = type(async_engine.executor.config)(batch_rows=2048)
    key = await stored(async_engine, "SELECT i FROM range(10000) t(i) ORDER BY i")
    with async_engine.store.open(key) as handle:
        assert pq.ParquetFile(handle).num_row_groups > 1
    page = results.page(async_engine.store, key, offset=2040, limit=20)
    assert [row[0] for row in page.rows()] == list(range(2040, 2060))
    page = results.page(async_engine.store, key, offset=0, limit=3, sort_by="i", descending=True)
    assert [row[0] for row in page.rows()] == [9999, 9998, 9997]


async def test_exports_round_trip(async_engine: Engine) -> None:
    key = await stored(async_engine, "SELECT id, label FROM measurements WHERE id < 5 ORDER BY id")
    store = async_engine.store
    parquet = b"".join(results.export(store, key, "parquet"))
    assert pq.read_table(io.BytesIO(parquet)).column("id").to_pylist() == [0, 1, 2, 3, 4]
    csv = b"".join(results.export(store, key, "csv"))
    assert pacsv.read_csv(io.BytesIO(csv)).column("label").to_pylist()[0] == "sample-0"
    rows = json.loads(b"".join(results.export(store, key, "json")))
    assert rows[1] == {"id": 1, "label": "sample-1"}


async def test_retention_removes_old_results(async_engine: Engine) -> None:
    old = await stored(async_engine, "SELECT 1 AS x", "old")
    new = await stored(async_engine, "SELECT 2 AS x", "new")
    now = time.time()
    removed = results.purge_results(async_engine.store, max_age_seconds=3600, now=now + 7200)
    # the results, and the result cache's index entries stored beside them
    assert sorted(k for k in removed if k.startswith("results/")) == sorted([old, new])
    assert len([k for k in removed if k.startswith(f"{INDEX_PREFIX}/")]) == 2
    assert list(async_engine.store.list()) == []
    assert results.purge_results(async_engine.store, 3600, now) == []
    with pytest.raises(BlobNotFound):
        results.page(async_engine.store, old)
