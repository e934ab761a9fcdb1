"""Queries: start, follow, cancel and re-run SQL; page, export and chart the results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from ironstar.analytics.blobstore import BlobNotFound
from ironstar.analytics.charts.config import parse_chart_config
from ironstar.analytics.results import EXPORT_MEDIA_TYPES, MAX_PAGE_ROWS
from ironstar.domain import errors, query_session
from ironstar.web.api_models import (
    ChartConfigIn,
    ChartOut,
    ExportFormat,
    QueryAccepted,
    QueryList,
    QueryOut,
    ResultPageOut,
    StartQueryIn,
)
from ironstar.web.errors import WebError
from ironstar.web.routes.api_support import ERRORS, Command, Read, Reader, jsonable, path_id

router = APIRouter(prefix="/api/queries", tags=["queries"], responses=ERRORS)
QueryId = Annotated[str, path_id("a query run's id")]


@router.post("", status_code=202, response_model=QueryAccepted)
async def start_query(body: StartQueryIn, cmd: Command, response: Response) -> QueryAccepted:
    """Submit SQL to run on a catalog. Answers 202 at once with the run's id and Location;
    follow it with GET until its status is completed, failed or cancelled."""
    config = None
    if body.chart_config is not None:
        config = body.chart_config.as_config()
        parse_chart_config(config)  # malformed on its own: refuse before anything is stored
    query_id = cmd.derived_id("query")
    position = await cmd.create(
        query_session.stream_id(query_id),
        response,
        lambda: cmd.services.workflow.start_query(
            cmd.viewer.user_id,
            body.sql,
            body.catalog,
            dataset=body.dataset,
            chart_config=config,
            query_id=query_id,
            command_id=cmd.command_id,
        ),
    )
    return _accepted(query_id, position, response)


@router.get("", response_model=QueryList)
async def query_history(read: Read, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> QueryList:
    """This user's query runs, newest first."""
    rows = await read.services.app.reads.queries(read.user, limit)
    return QueryList(queries=[_query_out(r) for r in rows])


@router.get("/{query_id}", response_model=QueryOut)
async def get_query(query_id: QueryId, read: Read) -> QueryOut:
    """Status, timings, error (kind, message, position in the SQL) and provenance."""
    return _query_out(await _own_query(read, query_id))


@router.post("/{query_id}/cancel", response_model=QueryOut)
async def cancel_query(query_id: QueryId, cmd: Command) -> QueryOut:
    """Cancel a running query; 409 query_not_running once it has finished. Cancelling
    twice is harmless."""
    await _own_query(cmd, query_id)
    await cmd.services.workflow.cancel_query(cmd.viewer.user_id, query_id)
    return _query_out(await _own_query(cmd, query_id))


@router.post("/{query_id}/rerun", status_code=202, response_model=QueryAccepted)
async def rerun_query(
    query_id: QueryId,
    cmd: Command,
    response: Response,
    pinned: Annotated[
        bool, Query(description="read the DuckLake snapshot the first run read")
    ] = True,
) -> QueryAccepted:
    """Run a past query again: pinned to the snapshot it read (the same result even after
    the data changed), or on today's data with ``pinned=false``."""
    new_id = cmd.derived_id("rerun")
    position = await cmd.create(
        query_session.stream_id(new_id),
        response,
        lambda: cmd.services.workflow.rerun_query(
            cmd.viewer.user_id,
            query_id,
            pinned=pinned,
            command_id=cmd.command_id,
            new_query_id=new_id,
        ),
    )
    return _accepted(new_id, position, response)


@router.get("/{query_id}/results", response_model=ResultPageOut)
async def results(
    query_id: QueryId,
    read: Read,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_ROWS)] = 100,
    sort: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    desc: bool = False,
) -> ResultPageOut:
    """A page of the result, read from its Parquet file, optionally sorted by a column;
    409 query_not_completed while the query runs (or when it failed)."""
    row = await _completed(read, query_id)
    try:
        page = await read.services.engine.page(row["result_key"], offset, limit, sort, desc)
    except BlobNotFound:
        raise
    except KeyError:
        raise WebError(
            "invalid_value", f"the result has no column {sort!r}", {"column": sort}
        ) from None
    return ResultPageOut(
        query_id=query_id,
        columns=[{"name": n, "type": t} for n, t in page.columns],  # type: ignore[misc]
        rows=jsonable(page.rows()),
        total_rows=page.total_rows,
        offset=offset,
        limit=limit,
        sort=sort,
        desc=desc,
    )


@router.get(
    "/{query_id}/export.{fmt}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the whole result, streamed",
            "content": {media: {} for media in EXPORT_MEDIA_TYPES.values()},
        }
    },
)
async def export(query_id: QueryId, fmt: ExportFormat, read: Read) -> StreamingResponse:
    """The whole result as CSV, Parquet or JSON, streamed (any size, constant memory)."""
    row = await _completed(read, query_id)
    engine = read.services.engine
    if not engine.blobs.exists(row["result_key"]):
        raise BlobNotFound(row["result_key"])
    return StreamingResponse(
        engine.export(row["result_key"], fmt.value),
        media_type=EXPORT_MEDIA_TYPES[fmt.value],
        headers={"Content-Disposition": f'attachment; filename="{query_id}.{fmt.value}"'},
    )


@router.get("/{query_id}/chart", response_model=ChartOut)
async def chart(query_id: QueryId, read: Read) -> ChartOut:
    """The ECharts option for the chart configuration the query was submitted with."""
    row = await _own_query(read, query_id)
    if not row["chart_config"]:
        raise errors.NotFound("this query was run without a chart configuration")
    row = await _completed(read, query_id, row)
    return await _chart(read, row["chart_config"], row["result_key"])


@router.post("/{query_id}/chart/preview", response_model=ChartOut)
async def preview_chart(query_id: QueryId, body: ChartConfigIn, cmd: Command) -> ChartOut:
    """Draw a candidate configuration on this result without storing anything; 422
    chart_type_mismatch names the column and the rule it breaks."""
    row = await _completed(cmd, query_id)
    return await _chart(cmd, body.as_config(), row["result_key"])


async def _chart(read: Reader, config: dict[str, Any], result_key: str) -> ChartOut:
    drawn = await read.services.engine.chart(config, result_key)
    return ChartOut(option=jsonable(drawn["option"]), meta=jsonable(drawn.get("meta", {})))


async def _own_query(read: Reader, query_id: str) -> dict[str, Any]:
    row = await read.services.app.reads.query(read.user, query_id)
    if row is None:
        raise errors.NotFound(f"there is no query {query_id!r} of yours")
    return row


async def _completed(
    read: Reader, query_id: str, row: dict[str, Any] | None = None
) -> dict[str, Any]:
    row = row or await _own_query(read, query_id)
    if row["status"] != "completed":
        raise errors.QueryNotCompleted(
            f"the query is {row['status']}; results exist only once it completed"
        )
    return row


def _accepted(query_id: str, position: int, response: Response) -> QueryAccepted:
    location = f"/api/queries/{query_id}"
    response.headers["Location"] = location
    return QueryAccepted(
        query_id=query_id,
        status=query_session.QueryStatus.RUNNING,
        location=location,
        position=position,
    )


def _query_out(row: dict[str, Any]) -> QueryOut:
    failed = row["status"] == "failed"
    return QueryOut.model_validate(
        {
            **row,
            "error": {
                "kind": row["failure_kind"],
                "message": row["failure_message"],
                "position": row["failure_position"],
            }
            if failed
            else None,
            "provenance": {
                "catalog_id": row["catalog_id"],
                "dataset": row["dataset"],
                "sql": row["sql"],
                "snapshot_id": row["snapshot_id"],
                "pinned_snapshot_id": row["pinned_snapshot_id"],
                "rerun_of": row["rerun_of"],
            },
        }
    )
