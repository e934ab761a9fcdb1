"""Safe SQL pieces for chart queries over one Parquet result, exposed as the view ``result``.

Column names come from users and result schemas, so they only ever enter SQL through
``quote_ident``; numbers enter as bound parameters.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ironstar.analytics.charts.column_kinds import ColumnKind, kind_of

RESULT_VIEW: Final = "result"
ParquetSource = str | os.PathLike[str] | BinaryIO


def quote_ident(name: str) -> str:
    """A DuckDB identifier for any column name: double quotes, inner quotes doubled."""
    if "\x00" in name:
        raise ValueError("column names cannot contain NUL")
    return '"' + name.replace('"', '""') + '"'


def x_value_sql(column: str, data_type: pa.DataType) -> str:
    """x as a number ECharts places on a value or time axis (temporal: epoch milliseconds)."""
    ident = quote_ident(column)
    if pa.types.is_date(data_type):
        return f"epoch_ms(CAST({ident} AS TIMESTAMP))"
    if kind_of(data_type) is ColumnKind.TEMPORAL:
        return f"epoch_ms({ident})"
    return f"CAST({ident} AS DOUBLE)"


def measure_sql(column: str) -> str:
    """A measure as DOUBLE: decimals and integers become JSON-ready floats."""
    return f"CAST({quote_ident(column)} AS DOUBLE)"


def finite_sql(expression: str) -> str:
    """True when a DOUBLE expression can be drawn (not NULL, NaN or infinite)."""
    return f"({expression} IS NOT NULL AND isfinite({expression}))"


@contextlib.contextmanager
def open_result(
    source: ParquetSource,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, pa.Schema, int]]:
    """A locked-down DuckDB connection with the Parquet result as view ``result``.

    Yields (connection, Arrow schema, row count); schema and count come from the Parquet
    footer, so nothing is scanned yet. DuckDB reads Parquet from paths: a file object open
    on a file on disk is read in place, any other is spooled to a temporary file in chunks.

    DuckDB scans a Parquet file in parallel by row group, so the connection gets no more
    threads than the file has row groups: most chart results have one, and starting (and
    stopping) a thread per core for each of a dashboard's charts cost more than the query.
    """
    with _as_path(source) as path:
        parquet = pq.ParquetFile(path)
        schema, rows = parquet.schema_arrow, parquet.metadata.num_rows
        threads = max(1, min(os.cpu_count() or 1, parquet.metadata.num_row_groups))
        con = duckdb.connect(":memory:", config={"threads": threads})
        try:
            # The connection can read this one file and nothing else, and cannot undo that.
            con.execute("SET allowed_paths = ?", [[str(path)]])
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            con.read_parquet(str(path)).create_view(RESULT_VIEW)
            yield con, schema, rows
        finally:
            con.close()


@contextlib.contextmanager
def _as_path(source: ParquetSource) -> Iterator[Path]:
    if isinstance(source, str | os.PathLike):
        yield Path(source).resolve()
        return
    local = _local_path(source)  # e.g. the filesystem blob store's open()
    if local is not None:
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="ironstar-chart-") as tmp:
        path = Path(tmp) / "result.parquet"
        with path.open("wb") as spool:
            shutil.copyfileobj(source, spool, length=1 << 20)
        yield path


def _local_path(source: BinaryIO) -> Path | None:
    """The file on disk this file object reads, if its name still leads to that file."""
    name = getattr(source, "name", None)
    if not isinstance(name, str) or not os.path.isabs(name):
        return None
    try:
        same = os.path.samestat(os.fstat(source.fileno()), os.stat(name))
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return Path(name).resolve() if same else None


def rank_into_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    column: str,
    limit: int,
    score_sql: str = "count(*)",
) -> tuple[list[Any], int]:
    """Keep the ``limit`` values of ``column`` with the highest score in temp table ``table``.

    The table has columns ``k`` (the value, NULL included), ``rank`` (1 = highest score,
    ties broken by value) and ``score``. Returns the kept values in rank order and how many distinct
    values the column has (NULL counting as one).
    """
    ident = quote_ident(column)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS
        SELECT k, rank, score FROM (
            SELECT {ident} AS k, {score_sql} AS score,
                   row_number() OVER (ORDER BY {score_sql} DESC NULLS LAST, {ident} NULLS LAST)
                       AS rank
            FROM {RESULT_VIEW} GROUP BY {ident}
        ) WHERE rank <= $limit""",
        {"limit": limit},
    )
    kept = con.execute(f"SELECT k FROM {quote_ident(table)} ORDER BY rank").fetchall()
    row = con.execute(
        f"SELECT count(DISTINCT {ident}) + coalesce(max(CASE WHEN {ident} IS NULL THEN 1 END), 0)"
        f" FROM {RESULT_VIEW}"
    ).fetchone()
    return [value for (value,) in kept], int(row[0]) if row else 0
