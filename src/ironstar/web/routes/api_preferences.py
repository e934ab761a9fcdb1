"""Preferences: the signed-in user's own theme, default catalog and UI state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ironstar.domain import preferences
from ironstar.web.api_models import (
    DefaultCatalogIn,
    PreferencesOut,
    ThemeIn,
    UiStateIn,
    Written,
)
from ironstar.web.routes.api_support import ERRORS, Command, Commander, Read

router = APIRouter(prefix="/api/preferences", tags=["preferences"], responses=ERRORS)


@router.get("", response_model=PreferencesOut)
async def get_preferences(read: Read) -> PreferencesOut:
    """Your preferences (the defaults until you change one)."""
    row = await read.services.app.reads.preferences(read.user)
    if row is None:
        return PreferencesOut(
            theme=preferences.Theme.SYSTEM, default_catalog=None, ui_state={}, updated_at=None
        )
    return PreferencesOut.model_validate(row)


@router.put("/theme", response_model=Written)
async def set_theme(body: ThemeIn, cmd: Command, response: Response) -> Written:
    return await _run(cmd, response, preferences.SetTheme, theme=body.theme)


@router.put("/default-catalog", response_model=Written)
async def set_default_catalog(body: DefaultCatalogIn, cmd: Command, response: Response) -> Written:
    """The catalog to select on sign-in; it must be configured (404 unknown_catalog) and
    answering (503 catalog_unavailable)."""
    return await _run(cmd, response, preferences.SetDefaultCatalog, catalog_id=body.catalog_id)


@router.delete("/default-catalog", response_model=Written)
async def clear_default_catalog(cmd: Command, response: Response) -> Written:
    return await _run(cmd, response, preferences.ClearDefaultCatalog)


@router.put("/ui-state", response_model=Written)
async def update_ui_state(body: UiStateIn, cmd: Command, response: Response) -> Written:
    """Replace the UI state document (panel sizes, collapsed sections); 413 too_large
    beyond 16 KiB."""
    return await _run(cmd, response, preferences.UpdateUiState, ui_state=body.ui_state)


async def _run(cmd: Commander, response: Response, command_type: type, **fields: Any) -> Written:
    result = await cmd.services.workflow.preference(
        cmd.viewer.user_id, command_type, cmd.command_id, **fields
    )
    return Written(position=await cmd.written(result, response))
