"""Saved queries: an analyst's named SQL with an optional dataset reference."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response

from ironstar.application.handler import CommandResult
from ironstar.domain import errors, saved_query
from ironstar.web.api_models import (
    DatasetRefIn,
    RenameIn,
    SavedQueryList,
    SavedQueryOut,
    SavedQueryWritten,
    SaveQueryIn,
    SqlIn,
)
from ironstar.web.errors import WebError
from ironstar.web.routes.api_support import ERRORS, Command, Commander, Read, path_id, row_list

router = APIRouter(prefix="/api/saved-queries", tags=["saved queries"], responses=ERRORS)
SavedQueryId = Annotated[str, path_id("a saved query's id")]


@router.get("", response_model=SavedQueryList)
async def list_saved_queries(read: Read) -> Response:
    rows = await read.services.app.reads.saved_queries(read.user)
    return row_list(SavedQueryOut, "saved_queries", rows)


@router.post("", status_code=201, response_model=SavedQueryWritten)
async def save_query(body: SaveQueryIn, cmd: Command, response: Response) -> SavedQueryWritten:
    """Save SQL under a name unique among your saved queries (409 name_taken)."""
    _both_or_neither(body.catalog_id, body.dataset)
    saved_query_id = cmd.derived_id("saved-query")
    position = await cmd.create(
        saved_query.stream_id(saved_query_id),
        response,
        lambda: cmd.services.workflow.save_query(
            cmd.viewer.user_id,
            body.name,
            body.sql,
            catalog_id=body.catalog_id,
            dataset=body.dataset,
            saved_query_id=saved_query_id,
            command_id=cmd.command_id,
        ),
    )
    response.headers["Location"] = f"/api/saved-queries/{saved_query_id}"
    return SavedQueryWritten(saved_query_id=saved_query_id, position=position)


@router.get("/{saved_query_id}", response_model=SavedQueryOut)
async def get_saved_query(saved_query_id: SavedQueryId, read: Read) -> SavedQueryOut:
    row = await read.services.app.reads.saved_query(read.user, saved_query_id)
    if row is None:
        raise errors.NotFound(f"there is no saved query {saved_query_id!r} of yours")
    return SavedQueryOut.model_validate(row)


@router.post("/{saved_query_id}/rename", response_model=SavedQueryWritten)
async def rename_saved_query(
    saved_query_id: SavedQueryId, body: RenameIn, cmd: Command, response: Response
) -> SavedQueryWritten:
    result = await _owned(
        cmd.services.workflow.rename_saved_query(
            cmd.viewer.user_id, saved_query_id, body.name, cmd.command_id
        )
    )
    return await _written(cmd, saved_query_id, result, response)


@router.put("/{saved_query_id}/sql", response_model=SavedQueryWritten)
async def update_sql(
    saved_query_id: SavedQueryId, body: SqlIn, cmd: Command, response: Response
) -> SavedQueryWritten:
    result = await _owned(
        cmd.services.workflow.update_saved_query_sql(
            cmd.viewer.user_id, saved_query_id, body.sql, cmd.command_id
        )
    )
    return await _written(cmd, saved_query_id, result, response)


@router.put("/{saved_query_id}/dataset", response_model=SavedQueryWritten)
async def update_dataset(
    saved_query_id: SavedQueryId, body: DatasetRefIn, cmd: Command, response: Response
) -> SavedQueryWritten:
    """Point the saved query at a dataset of a catalog, or clear it (both fields empty)."""
    _both_or_neither(body.catalog_id, body.dataset)
    result = await _owned(
        cmd.services.workflow.update_saved_query_dataset(
            cmd.viewer.user_id, saved_query_id, body.catalog_id, body.dataset, cmd.command_id
        )
    )
    return await _written(cmd, saved_query_id, result, response)


@router.delete("/{saved_query_id}", response_model=SavedQueryWritten)
async def delete_saved_query(
    saved_query_id: SavedQueryId, cmd: Command, response: Response
) -> SavedQueryWritten:
    result = await _owned(
        cmd.services.workflow.delete_saved_query(cmd.viewer.user_id, saved_query_id, cmd.command_id)
    )
    return await _written(cmd, saved_query_id, result, response)


async def _written(
    cmd: Commander, saved_query_id: str, result: CommandResult, response: Response
) -> SavedQueryWritten:
    return SavedQueryWritten(
        saved_query_id=saved_query_id, position=await cmd.written(result, response)
    )


async def _owned(command: Any) -> CommandResult:
    """Await a saved-query command, answering another user's saved query as not found."""
    try:
        result: CommandResult = await command
    except errors.Forbidden:
        raise errors.NotFound("no such saved query") from None
    return result


def _both_or_neither(catalog_id: str | None, dataset: str | None) -> None:
    if (catalog_id is None) != (dataset is None):
        raise WebError(
            "invalid_value", "give both catalog_id and dataset, or neither to clear them"
        )
