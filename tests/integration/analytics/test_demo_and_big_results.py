"""The demo lake builder, and a 10-million-row result streamed with bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ironstar.analytics.catalogs import CatalogRegistry
from ironstar.analytics.demo_data import MARKER, build_demo

from .conftest import make_engine

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_demo_builds_once_deterministically(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    report = build_demo(first, sensor_rows=200_000, append_rows=2_000)
    assert report.built and (first / "lake" / MARKER).is_file()
    assert report.tables["penguins.penguins"] == 344
    assert report.tables["flights.flights"] == 336_776
    assert not build_demo(first, sensor_rows=200_000).built  # the marker makes it a no-op
    build_demo(second, sensor_rows=200_000, append_rows=2_000)

    registry = CatalogRegistry.load(first)
    assert set(registry.names()) == {
        "penguins",
        "vega",
        "flights",
        "gapminder",
        "sensors",
        "fixtures",
    }
    assert registry.get("fixtures").is_remote

    checksum = (
        "SELECT count(*), sum(hash(ts, sensor_id, temperature, humidity, pressure_hpa, fault)) "
        "FROM sensors.readings"
    )
    sums = []
    for data_dir in (first, second):
        engine = make_engine(data_dir)
        try:
            session = engine.pool.acquire()
            sums.append(session.conn.execute(checksum).fetchone())
            snapshots = session.conn.execute(
                "SELECT count(*) FROM ducklake_snapshots('sensors') "
                "WHERE changes::VARCHAR LIKE '%insert%'"
            ).fetchone()
            assert snapshots is not None and snapshots[0] >= 2  # a second data version exists
            engine.pool.release(session)
        finally:
            await engine.executor.close()
    assert sums[0] == sums[1] and sums[0] is not None and sums[0][0] == 202_000


CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from ironstar.analytics.availability import CatalogHealth
    from ironstar.analytics.blobstore import FilesystemBlobStore
    from ironstar.analytics.catalogs import CatalogRegistry
    from ironstar.analytics.executor import QueryExecutor
    from ironstar.analytics.outcomes import QueryRequest
    from ironstar.analytics.pool import SessionPool
    from ironstar.analytics.sandbox import SandboxLimits

    SQL = (
        "SELECT i AS id, TIMESTAMP '2024-01-01' + to_seconds(i) AS ts, (i % 200)::INT AS sensor, "
        "sin(i / 1000.0) * 10 + 20 AS temperature, 'reading #' || i AS note "
        "FROM range(10000000) t(i)"
    )

    async def main():
        root = Path(sys.argv[1])
        store = FilesystemBlobStore(root / "results")
        pool = SessionPool(CatalogRegistry(), SandboxLimits("400MB", 2), CatalogHealth())
        executor = QueryExecutor(pool, store)
        started = time.perf_counter()
        outcome = await executor.run(QueryRequest("big", "u", SQL, timeout_seconds=240))
        seconds = time.perf_counter() - started
        await executor.close()
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
        status = Path("/proc/self/status").read_text()
        peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
        print(json.dumps({"status": outcome.status, "rows": outcome.summary.row_count,
                          "bytes": outcome.summary.bytes, "seconds": seconds, "peak_mb": peak}))

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_ten_million_row_result_streams_in_bounded_memory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, timeout=280
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == "completed" and report["rows"] == 10_000_000
    assert report["peak_mb"] < 500, report
    import pyarrow.parquet as pq

    assert (
        pq.ParquetFile(tmp_path / "results" / "results" / "big.parquet").metadata.num_rows
        == 10_000_000
    )
