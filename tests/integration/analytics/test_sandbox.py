"""Sandbox escapes are rejected before anything runs; nothing changes in the lake."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ironstar.analytics.outcomes import QueryCompleted, QueryFailed, QueryRequest
from ironstar.analytics.sandbox import QuerySyntaxError, SandboxViolation, SqlChecker

from .conftest import Engine

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def escapes(secret: Path, lake: Path) -> list[str]:
    s, data = str(secret), str(lake / "lab" / "data")
    readers = [
        f"SELECT * FROM read_csv('{s}')",
        f"SELECT * FROM read_csv_auto('{s}')",
        f"SELECT * FROM read_parquet('{data}/**/*.parquet')",
        f"SELECT * FROM parquet_scan('{data}/**/*.parquet')",
        f"SELECT * FROM parquet_metadata('{data}/**/*.parquet')",
        f"SELECT * FROM read_json('{s}')",
        f"SELECT * FROM read_json_auto('{s}')",
        f"SELECT * FROM read_ndjson('{s}')",
        f"SELECT * FROM read_text('{s}')",
        f"SELECT * FROM read_blob('{s}')",
        f"SELECT * FROM read_text('{data}/../metadata.ducklake')",
        f"SELECT * FROM glob('{secret.parent}/*')",
        f"SELECT * FROM sniff_csv('{s}')",
        f"SELECT * FROM '{s}'",
        f"SELECT 1 AS a UNION ALL SELECT count(*) FROM read_csv('{s}')",
        f"SELECT * FROM \"READ_TEXT\"('{s}')",
        f"SELECT * FROM main.read_text('{s}')",
        f"SELECT * FROM query('SELECT * FROM read_text(''{s}'')')",
        "SELECT * FROM query_table('lab.measurements')",
        "SELECT getenv('HOME')",
        "SELECT * FROM ducklake_snapshots('lab')",
    ]
    statements = [
        f"ATTACH '{lake}/lab/metadata.ducklake' AS raw",
        f"ATTACH 'ducklake:{lake}/lab/metadata.ducklake' AS again",
        "DETACH lab",
        "INSTALL httpfs",
        "LOAD httpfs",
        f"COPY (SELECT 1) TO '{secret.parent}/out.csv'",
        f"COPY lab.measurements TO '{secret.parent}/out.parquet'",
        f"EXPORT DATABASE '{secret.parent}/export'",
        f"IMPORT DATABASE '{secret.parent}'",
        "SET enable_external_access = true",
        "SET memory_limit = '100GB'",
        "RESET memory_limit",
        "SET lock_configuration = false",
        "PRAGMA version",
        "PRAGMA enable_profiling",
        "CALL pragma_version()",
        "CALL lab.merge_adjacent_files()",
        "CHECKPOINT",
        "USE lab",
        "CREATE TABLE lab.x AS SELECT 1",
        "INSERT INTO lab.measurements VALUES (1, 1, 1.0, 'x')",
        "UPDATE lab.measurements SET value = 0",
        "DELETE FROM lab.measurements",
        "DROP TABLE lab.measurements",
        "ALTER TABLE lab.measurements ADD COLUMN y INT",
        "CREATE MACRO m() AS 1",
        "CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')",
        "VACUUM",
        "BEGIN TRANSACTION",
        "SELECT 1; DROP TABLE lab.measurements",
        "SELECT 1; SELECT 2",
        "SELECT 1 /* ; */; ATTACH ':memory:' AS m",
        "-- just a comment\nDROP TABLE lab.measurements",
        "/* SELECT */ DELETE FROM lab.measurements",
        "SELECT ';' ; DELETE FROM lab.measurements",
        "SELECT $$;$$; DELETE FROM lab.measurements",
        "EXPLAIN ANALYZE DELETE FROM lab.measurements",
        "EXPLAIN ANALYZE COPY (SELECT 1) TO 'x.csv'",
        "WITH a AS (SELECT 1) DELETE FROM lab.measurements",
        "MERGE INTO lab.measurements USING (SELECT 1 AS id) s ON s.id = measurements.id "
        "WHEN MATCHED THEN DELETE",
        "",
        "   ;  ",
    ]
    return readers + statements


def lake_fingerprint(lake: Path) -> dict[str, tuple[int, float]]:
    return {
        str(path): (path.stat().st_size, path.stat().st_mtime)
        for path in sorted(lake.rglob("*"))
        if path.is_file()
    }


async def test_every_escape_is_rejected_and_nothing_changes(engine: Engine, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    lake = engine.data_dir / "lake"
    before = lake_fingerprint(lake)
    first = await engine.executor.run(
        QueryRequest("probe", "u", "SELECT count(*) FROM lab.measurements")
    )
    assert isinstance(first, QueryCompleted)
    snapshot = first.summary.snapshots["lab"]

    for index, sql in enumerate(escapes(secret, lake)):
        outcome = await engine.executor.run(QueryRequest(f"escape-{index}", "u", sql, "lab"))
        assert isinstance(outcome, QueryFailed), (sql, outcome)
        assert outcome.kind in ("sql_not_allowed", "syntax"), (sql, outcome)
        assert "hunter2" not in outcome.message
        assert not engine.store.exists(f"results/escape-{index}.parquet"), sql

    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "export").exists()
    assert lake_fingerprint(lake) == before
    after = await engine.executor.run(
        QueryRequest("probe2", "u", "SELECT count(*) FROM lab.measurements")
    )
    assert isinstance(after, QueryCompleted)
    assert after.summary.snapshots["lab"] == snapshot


async def test_read_statements_are_allowed(engine: Engine) -> None:
    allowed = [
        "SELECT count(*) FROM measurements",
        "WITH s AS (SELECT station FROM measurements) SELECT DISTINCT station FROM s",
        "VALUES (1, 'a'), (2, 'b')",
        "TABLE field.sites",
        "FROM measurements LIMIT 3",
        "DESCRIBE measurements",
        "SUMMARIZE measurements",
        "SHOW TABLES",
        "EXPLAIN SELECT * FROM measurements",
        "EXPLAIN ANALYZE SELECT count(*) FROM measurements",
        "PIVOT (SELECT station % 2 AS parity, value FROM measurements) ON parity USING sum(value)",
        "UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b INTO NAME k VALUE v",
        "(SELECT 1 AS x) UNION ALL (SELECT 2)",
        "SELECT * FROM range(3)",
        "SELECT 'DROP TABLE x; ATTACH' AS text -- DELETE FROM measurements",
    ]
    for index, sql in enumerate(allowed):
        outcome = await engine.executor.run(QueryRequest(f"ok-{index}", "u", sql, "lab"))
        assert isinstance(outcome, QueryCompleted), (sql, outcome)


def test_syntax_errors_carry_line_and_column() -> None:
    checker = SqlChecker()
    with pytest.raises(QuerySyntaxError) as error:
        checker.check("SELECT a,\n  b FROM t WHERE WHERE x")
    assert (error.value.line, error.value.column) == (2, 18)
    with pytest.raises(QuerySyntaxError) as error:
        checker.check("SELECT 1 +")
    assert error.value.line == 1
    with pytest.raises(SandboxViolation) as violation:
        checker.check("SELECT 1; SELECT 2")
    assert violation.value.code == "sql_not_allowed"
    checker.close()


def test_locked_engine_refuses_even_without_the_checker(engine: Engine, tmp_path: Path) -> None:
    """Defense in depth: the session itself cannot read files, change settings or write."""
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    session = engine.pool.acquire()
    try:
        conn = session.conn
        with pytest.raises(duckdb.PermissionException):
            conn.execute(f"SELECT * FROM read_text('{secret}')").fetchall()
        with pytest.raises(duckdb.Error, match="locked"):
            conn.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.Error, match="locked"):
            conn.execute("SET memory_limit = '64GB'")
        with pytest.raises(duckdb.Error):
            conn.execute("INSERT INTO lab.measurements VALUES (1, 1, 1.0, 'x')")
        with pytest.raises(duckdb.Error):
            conn.execute(f"ATTACH '{tmp_path}/new.duckdb' AS other")
        assert conn.execute("SELECT current_setting('memory_limit')").fetchone() is not None
    finally:
        engine.pool.release(session)
