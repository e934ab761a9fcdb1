"""Query engine overhead against raw DuckDB, measured in the same run.

    .venv/bin/python benchmarks/query.py [--quick]

Reports: trivial-query p50 overhead (target <= 5 ms), a ~1 s aggregation (<= 2 % extra),
a 10-million-row result (rows/s, peak RSS in a child process, target <= 500 MB),
cancellation latency (<= 1 s) and cache-hit latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from ironstar.analytics.availability import CatalogHealth
from ironstar.analytics.blobstore import FilesystemBlobStore
from ironstar.analytics.cache import ResultCache
from ironstar.analytics.catalogs import CatalogRegistry
from ironstar.analytics.executor import QueryExecutor
from ironstar.analytics.outcomes import QueryCompleted, QueryRequest
from ironstar.analytics.pool import SessionPool
from ironstar.analytics.sandbox import SandboxLimits

TRIVIAL = "SELECT 42 AS answer"
CPU_BOUND = "SELECT sum(hash(a.range * b.range)) FROM range(1000000000) a, range(1000) b"
LIMITS = SandboxLimits(memory_limit="400MB", threads=2)

BIG_CHILD = """
import asyncio, json, sys, time
from pathlib import Path
from ironstar.analytics.availability import CatalogHealth
from ironstar.analytics.blobstore import FilesystemBlobStore
from ironstar.analytics.catalogs import CatalogRegistry
from ironstar.analytics.executor import QueryExecutor
from ironstar.analytics.outcomes import QueryRequest
from ironstar.analytics.pool import SessionPool
from ironstar.analytics.sandbox import SandboxLimits

async def main():
    rows = int(sys.argv[2])
    sql = (f"SELECT i AS id, TIMESTAMP '2024-01-01' + to_seconds(i) AS ts, "
           f"(i % 200)::INT AS sensor, sin(i / 1000.0) * 10 + 20 AS temperature "
           f"FROM range({rows}) t(i)")
    pool = SessionPool(CatalogRegistry(), SandboxLimits("400MB", 2), CatalogHealth())
    executor = QueryExecutor(pool, FilesystemBlobStore(Path(sys.argv[1])))
    started = time.perf_counter()
    outcome = await executor.run(QueryRequest("big", "bench", sql, timeout_seconds=600))
    seconds = time.perf_counter() - started
    await executor.close()
    peak = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps({"rows": outcome.summary.row_count, "seconds": seconds, "peak_mb": peak}))

asyncio.run(main())
"""


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def raw_trivial(repeats: int) -> list[float]:
    conn = duckdb.connect()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        conn.execute(TRIVIAL).to_arrow_table()
        samples.append(time.perf_counter() - started)
    return samples


def aggregation_sql(rows: int) -> str:
    return (
        "SELECT i % 1000 AS k, avg(sin(i) * cos(i)) AS v, count(*) AS n "
        f"FROM range({rows}) t(i) GROUP BY ALL ORDER BY k"
    )


def raw_once(sql: str) -> float:
    conn = duckdb.connect(config={"threads": LIMITS.threads})
    started = time.perf_counter()
    conn.execute(sql).to_arrow_table()
    return time.perf_counter() - started


async def run_benchmarks(quick: bool) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = FilesystemBlobStore(Path(tmp) / "results")
        pool = SessionPool(CatalogRegistry(), LIMITS, CatalogHealth())
        executor = QueryExecutor(pool, store, ResultCache(store))
        counter = iter(range(1_000_000))

        async def run(sql: str, **extra: object) -> float:
            request = QueryRequest(f"q{next(counter)}", "bench", sql, use_cache=False)
            if extra:
                request = QueryRequest(request.query_id, "bench", sql, **extra)  # type: ignore[arg-type]
            started = time.perf_counter()
            outcome = await executor.run(request)
            elapsed = time.perf_counter() - started
            assert outcome.status in ("completed", "cancelled"), outcome
            return elapsed

        await run(TRIVIAL)  # warm the session pool
        repeats = 50 if quick else 300
        ours = [await run(TRIVIAL) for _ in range(repeats)]
        raw = raw_trivial(repeats)
        extra_ms = (p50(ours) - p50(raw)) * 1000
        rows.append(
            (
                "trivial query p50",
                f"{p50(ours) * 1000:.2f} ms",
                f"raw {p50(raw) * 1000:.2f} ms",
                f"+{extra_ms:.2f} ms (target <= 5)",
            )
        )

        sql = aggregation_sql(5_000_000)  # about 1 s on 2 idle cores
        rounds = 3 if quick else 9
        ours_agg, raw_agg = [], []
        for _ in range(rounds):  # interleaved, so background load hits both sides alike
            ours_agg.append(await run(sql))
            raw_agg.append(await asyncio.to_thread(raw_once, sql))
        ratio = p50(ours_agg) / p50(raw_agg)
        rows.append(
            (
                "aggregation",
                f"{p50(ours_agg):.3f} s",
                f"raw {p50(raw_agg):.3f} s",
                f"{(ratio - 1) * 100:+.1f} % (target <= 2 %)",
            )
        )

        task = asyncio.create_task(executor.run(QueryRequest("spin", "bench", CPU_BOUND)))
        await asyncio.sleep(0.5)
        asked = time.perf_counter()
        executor.cancel("spin")
        await task
        latency = (time.perf_counter() - asked) * 1000
        rows.append(("cancel latency", f"{latency:.1f} ms", "", "target <= 1000 ms"))

        first = await executor.run(QueryRequest("c0", "bench", sql))
        assert isinstance(first, QueryCompleted)
        hits = []
        for index in range(20):
            started = time.perf_counter()
            hit = await executor.run(QueryRequest(f"c{index + 1}", "bench", sql))
            hits.append(time.perf_counter() - started)
            assert isinstance(hit, QueryCompleted) and hit.cached
        rows.append(
            (
                "cache hit p50",
                f"{p50(hits) * 1000:.2f} ms",
                f"miss {first.summary.duration_ms:.0f} ms",
                f"{first.summary.duration_ms / (p50(hits) * 1000):.0f}x faster",
            )
        )
        await executor.close()

        big = 2_000_000 if quick else 10_000_000
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", BIG_CHILD, tmp, str(big)],
            capture_output=True,
            text=True,
            check=True,
        )
        report = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(
            (
                f"{big:,}-row result",
                f"{report['rows'] / report['seconds']:,.0f} rows/s",
                f"{report['seconds']:.1f} s",
                f"peak RSS {report['peak_mb']:.0f} MB (target <= 500)",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    args = parser.parse_args()
    rows = asyncio.run(run_benchmarks(args.quick))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
