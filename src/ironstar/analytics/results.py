"""Query results as Parquet in a BlobStore: streamed in, paged and exported back out.

Batches go from DuckDB's Arrow reader straight into a ParquetWriter, so a result of any size
costs memory for one batch, not for the whole table. Pages and exports read the Parquet file
row group by row group for the same reason.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ironstar.analytics.blobstore import BlobStore

ExportFormat = Literal["csv", "parquet", "json"]
EXPORT_MEDIA_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
}
MAX_PAGE_ROWS = 10_000


class ResultStopped(Exception):
    """Raised inside the writer when the caller asks to stop (cancel or timeout)."""


@dataclass(frozen=True)
class ResultSummary:
    row_count: int
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type)
    bytes: int
    duration_ms: float
    result_key: str
    snapshots: dict[str, int] = field(default_factory=dict)  # catalog -> DuckLake snapshot id


@dataclass(frozen=True)
class ResultPage:
    columns: tuple[tuple[str, str], ...]  # (name, Arrow type)
    table: pa.Table
    total_rows: int
    offset: int
    limit: int

    def rows(self) -> list[list[Any]]:
        columns = [column.to_pylist() for column in self.table.columns]
        return [list(row) for row in zip(*columns, strict=True)] if columns else []


def write_parquet(
    reader: pa.RecordBatchReader,
    store: BlobStore,
    key: str,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[int, int]:
    """Stream ``reader`` into ``key``; return (rows, bytes). Nothing is stored if it stops."""
    rows = 0
    schema = unique_names(reader.schema)
    with (
        store.writer(key) as handle,
        pq.ParquetWriter(handle, schema, compression="zstd") as writer,
    ):
        for batch in reader:
            if should_stop():
                raise ResultStopped()
            if batch.num_rows:
                writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
                rows += batch.num_rows
    return rows, store.info(key).size


def dedupe(names: list[str]) -> list[str]:
    """``a, a`` -> ``a, a_1``: Parquet readers cannot select duplicate column names."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, suffix = name, 0
        while candidate in seen:
            suffix += 1
            candidate = f"{name}_{suffix}"
        seen.add(candidate)
        result.append(candidate)
    return result


def unique_names(schema: pa.Schema) -> pa.Schema:
    names = dedupe(schema.names)
    return pa.schema([field.with_name(name) for field, name in zip(schema, names, strict=True)])


@contextmanager
def _open(store: BlobStore, key: str) -> Iterator[pq.ParquetFile]:
    with store.open(key) as handle, pq.ParquetFile(handle) as parquet:
        yield parquet


def page(
    store: BlobStore,
    key: str,
    offset: int = 0,
    limit: int = 100,
    sort_by: str | None = None,
    descending: bool = False,
) -> ResultPage:
    """Rows ``offset`` .. ``offset + limit`` of a stored result, optionally sorted by a column."""
    offset, limit = max(0, offset), max(0, min(limit, MAX_PAGE_ROWS))
    with _open(store, key) as parquet:
        return _page(parquet, offset, limit, sort_by, descending)


def _page(
    parquet: pq.ParquetFile, offset: int, limit: int, sort_by: str | None, descending: bool
) -> ResultPage:
    schema = parquet.schema_arrow
    total = parquet.metadata.num_rows
    if sort_by is not None and sort_by not in schema.names:
        raise KeyError(f"no column named {sort_by!r} in this result")
    if sort_by is None:
        table = _slice(parquet, offset, limit)
    else:
        # Only the sort column is read in full; then just the row groups holding the page.
        keys = parquet.read(columns=[sort_by]).column(0)
        order = "descending" if descending else "ascending"
        indices = pc.sort_indices(pa.table({"k": keys}), sort_keys=[("k", order, "at_end")])
        table = _take(parquet, indices.slice(offset, limit).to_pylist())
    columns = tuple((f.name, str(f.type)) for f in schema)
    return ResultPage(columns, table, total, offset, limit)


def _slice(parquet: pq.ParquetFile, offset: int, limit: int) -> pa.Table:
    pieces, start = [], 0
    for group in range(parquet.num_row_groups):
        size = parquet.metadata.row_group(group).num_rows
        end = start + size
        if end > offset and start < offset + limit:
            table = parquet.read_row_group(group)
            pieces.append(table.slice(max(0, offset - start), offset + limit - start))
        start = end
        if start >= offset + limit:
            break
    return pa.concat_tables(pieces) if pieces else parquet.schema_arrow.empty_table()


def _take(parquet: pq.ParquetFile, positions: list[int]) -> pa.Table:
    bounds, start = [], 0
    for group in range(parquet.num_row_groups):
        start += parquet.metadata.row_group(group).num_rows
        bounds.append(start)
    loaded: dict[int, pa.Table] = {}
    pieces = []
    for position in positions:
        group = next(i for i, end in enumerate(bounds) if position < end)
        if group not in loaded:
            loaded[group] = parquet.read_row_group(group)
        first = bounds[group - 1] if group else 0
        pieces.append(loaded[group].slice(position - first, 1))
    return pa.concat_tables(pieces) if pieces else parquet.schema_arrow.empty_table()


def export(
    store: BlobStore, key: str, fmt: ExportFormat, chunk_size: int = 1 << 20
) -> Iterator[bytes]:
    """The stored result as CSV, Parquet or a JSON array, yielded in chunks."""
    if fmt == "parquet":
        with store.open(key) as handle:
            while chunk := handle.read(chunk_size):
                yield chunk
        return
    if fmt not in ("csv", "json"):
        raise ValueError(f"unknown export format {fmt!r}")
    with _open(store, key) as parquet:
        yield from _export_csv(parquet) if fmt == "csv" else _export_json(parquet)


def _export_csv(parquet: pq.ParquetFile) -> Iterator[bytes]:
    buffer = io.BytesIO()
    with pacsv.CSVWriter(buffer, parquet.schema_arrow) as writer:
        for batch in parquet.iter_batches():
            writer.write_batch(batch)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue() or parquet.metadata.num_rows == 0:
        yield buffer.getvalue()


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _export_json(parquet: pq.ParquetFile) -> Iterator[bytes]:
    yield b"["
    first = True
    for batch in parquet.iter_batches():
        for row in batch.to_pylist():
            text = json.dumps({k: _json_value(v) for k, v in row.items()}, ensure_ascii=False)
            yield (b"\n" if first else b",\n") + text.encode()
            first = False
    yield b"\n]\n"


def purge_results(store: BlobStore, max_age_seconds: float, now: float | None = None) -> list[str]:
    """Retention: delete results older than ``max_age_seconds``; return the deleted keys."""
    cutoff = (time.time() if now is None else now) - max_age_seconds
    expired = [info.key for info in store.list() if info.modified_at < cutoff]
    for key in expired:
        store.delete(key)
    return expired
