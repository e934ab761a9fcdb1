"""A small real DuckLake catalog in tmp_path, and an executor wired to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ironstar.analytics.availability import CatalogHealth
from ironstar.analytics.blobstore import FilesystemBlobStore
from ironstar.analytics.cache import ResultCache
from ironstar.analytics.catalogs import CatalogRegistry
from ironstar.analytics.executor import ExecutorConfig, QueryExecutor
from ironstar.analytics.extensions import load_extensions, offline_connection
from ironstar.analytics.pool import SessionPool
from ironstar.analytics.sandbox import SandboxLimits

CATALOGS_TOML = """
[catalogs.lab]
kind = "ducklake"
metadata = "lake/lab/metadata.ducklake"
data_path = "lake/lab/data/"
"""


def write_lake(data_dir: Path, name: str, *statements: str) -> None:
    """Run writer statements against catalog ``name`` (created if new), then let go of it."""
    catalog_dir = data_dir / "lake" / name
    (catalog_dir / "data").mkdir(parents=True, exist_ok=True)
    conn = offline_connection()
    try:
        load_extensions(conn, ["ducklake"])
        conn.execute(
            f"ATTACH 'ducklake:{catalog_dir / 'metadata.ducklake'}' AS {name} "
            f"(DATA_PATH '{catalog_dir / 'data'}/')"
        )
        conn.execute(f"USE {name}")
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


LAB_TABLES = (
    "CREATE TABLE measurements AS SELECT i AS id, i % 7 AS station, "
    "round(i * 0.25, 2) AS value, 'sample-' || i AS label FROM range(1000) t(i)",
    'CREATE TABLE "odd names" AS SELECT 1 AS "température °C", 2 AS "with space", '
    '3 AS "quote""inside", \'ünïcödé ✓ 日本\' AS "名前"',
    "CREATE SCHEMA field",
    "CREATE TABLE field.sites AS SELECT * FROM (VALUES (1, 'north'), (2, 'south')) v(id, name)",
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Engine:
    data_dir: Path
    registry: CatalogRegistry
    health: CatalogHealth
    pool: SessionPool
    store: FilesystemBlobStore
    cache: ResultCache
    executor: QueryExecutor
    clock: FakeClock

    def release_catalogs(self) -> None:
        """Close pooled engines so a test may write to the lake (one writer per file)."""
        self.pool.invalidate()


@pytest.fixture
def lab_dir(tmp_path: Path) -> Path:
    write_lake(tmp_path, "lab", *LAB_TABLES)
    (tmp_path / "catalogs.toml").write_text(CATALOGS_TOML)
    return tmp_path


def make_engine(data_dir: Path, **config: object) -> Engine:
    limits = SandboxLimits(
        memory_limit=str(config.pop("memory_limit", "512MB")),
        threads=2,
        temp_directory=str(data_dir / "spill"),
    )
    clock = FakeClock()
    registry = CatalogRegistry.load(data_dir)
    health = CatalogHealth(base_backoff=30, clock=clock)
    pool = SessionPool(
        registry, limits, health, attach_timeout=float(config.pop("attach_timeout", 5))
    )
    store = FilesystemBlobStore(data_dir / "results")
    cache = ResultCache(store)
    executor = QueryExecutor(pool, store, cache, ExecutorConfig(**config))  # type: ignore[arg-type]
    return Engine(data_dir, registry, health, pool, store, cache, executor, clock)


@pytest.fixture
def engine(lab_dir: Path) -> Iterator[Engine]:
    built = make_engine(lab_dir)
    yield built
    asyncio.run(built.executor.close())


@pytest.fixture
async def async_engine(lab_dir: Path) -> AsyncIterator[Engine]:
    built = make_engine(lab_dir)
    yield built
    await built.executor.close()
