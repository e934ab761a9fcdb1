"""A DuckLake whose metadata lives in PostgreSQL: attached READ_ONLY, queried in the sandbox,
its snapshot recorded, and time travel pinned to an older snapshot."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ironstar.analytics.engine import AnalyticsEngine
from ironstar.analytics.extensions import load_extensions, offline_connection
from ironstar.analytics.outcomes import QueryCompleted, QueryRequest
from tests.conftest import postgres_url

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def lake_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for the DuckLake metadata; yields a libpq string."""
    url = postgres_url()
    name = f"ironstar_lake_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(url)
    yield (
        " ".join(f"{key}={info[key]}" for key in ("host", "port", "user") if info.get(key))
        + f" dbname={name}"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write(libpq: str, data: Path, *statements: str) -> None:
    conn = offline_connection()
    try:
        load_extensions(conn, ["ducklake", "postgres_scanner"])
        conn.execute(f"ATTACH 'ducklake:postgres:{libpq}' AS pglake (DATA_PATH '{data}/')")
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


async def test_a_postgres_backed_lake_is_queried_and_time_travels(
    tmp_path: Path, lake_database: str
) -> None:
    data = tmp_path / "pgdata"
    data.mkdir()
    write(
        lake_database,
        data,
        "CREATE TABLE pglake.readings AS SELECT i AS id, i * 1.5 AS value FROM range(100) t(i)",
    )
    overrides = {
        "pglake": {"kind": "ducklake-postgres", "postgres": lake_database, "data_path": str(data)}
    }
    engine = AnalyticsEngine(tmp_path, catalog_overrides=overrides)
    try:
        first = await engine.run(
            QueryRequest("q1", "u", "SELECT count(*) AS n FROM readings", "pglake")
        )
        assert isinstance(first, QueryCompleted), first
        assert first.summary.row_count == 1
        before = first.summary.snapshots["pglake"]
        page = await engine.page(first.summary.result_key)
        assert page.rows() == [[100]]
        metadata = await engine.metadata("pglake")
        assert [t.name for d in metadata.datasets for t in d.tables] == ["readings"]

        engine.pool.invalidate()  # one writer per lake: let go before writing
        write(lake_database, data, "INSERT INTO pglake.readings SELECT 1000, 1.0")
        now = await engine.run(QueryRequest("q2", "u", "SELECT count(*) FROM readings", "pglake"))
        assert isinstance(now, QueryCompleted)
        assert (await engine.page(now.summary.result_key)).rows() == [[101]]
        assert now.summary.snapshots["pglake"] > before

        pinned = await engine.run(
            QueryRequest(
                "q3",
                "u",
                "SELECT count(*) FROM readings",
                "pglake",
                snapshot_pins={"pglake": before},
                use_cache=False,
            )
        )
        assert isinstance(pinned, QueryCompleted)
        assert (await engine.page(pinned.summary.result_key)).rows() == [[100]]
    finally:
        await engine.close()
