"""Pages: preferences (theme, default catalog set/clear, layout reset) and the UI-state
endpoint."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ironstar.domain import preferences
from ironstar.web.context import Viewer, check_csrf, require_viewer, services_of
from ironstar.web.errors import WebError
from ironstar.web.routes.pages_home import json_twin
from ironstar.web.routes.pages_support import (
    command_key,
    error_of,
    form_of,
    layout_context,
    no_content,
    render,
    see_other,
)

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(require_viewer)]
UI_STATE_LIMIT = 16 * 1024


async def preferences_context(request: Request, viewer: Viewer) -> dict[str, Any]:
    context = await layout_context(request, viewer, "preferences")
    names = services_of(request).engine.catalog_names()
    context["catalog_options"] = [(name, name) for name in names]
    context["layout_choices"] = layout_choices((context["prefs"] or {}).get("ui_state") or {})
    return context


_PANEL_NAMES = {"browser": "Dataset browser beside the SQL editor"}


def layout_choices(ui_state: dict[str, Any]) -> list[tuple[str, str]]:
    """The kept UI state in words: (what, how) pairs for the preferences page."""
    choices = []
    for name, value in sorted(ui_state.items()):
        if name == "panels" and isinstance(value, dict):
            for panel, size in sorted(value.items()):
                label = _PANEL_NAMES.get(panel, f"Panel “{panel}”")
                shown = f"{size} px" if isinstance(size, int | float) else str(size)
                choices.append((label, shown))
        else:
            choices.append((name.replace("_", " ").capitalize(), json.dumps(value)))
    return choices


@router.get("/preferences", name="preferences")
async def preferences_page(request: Request, viewer: SignedIn) -> Response:
    context = await preferences_context(request, viewer)
    twin = json_twin(request, context["prefs"] or {})
    if twin is not None:
        return twin
    saved = request.query_params.get("saved")
    if saved:
        context["saved_message"] = {
            "theme": "Theme saved.",
            "default": "Default catalog saved.",
            "cleared": "Default catalog cleared.",
            "layout": "Layout reset: panels are back to their default sizes.",
        }.get(saved)
    return render(request, "pages/preferences.html", context)


async def _apply(
    request: Request,
    viewer: Viewer,
    action: Callable[[dict[str, str], str | None], Awaitable[Any]],
    saved: str,
) -> Response:
    fields = await form_of(request, viewer)
    try:
        await action(fields, command_key(request, fields))
    except Exception as exc:
        described = error_of(exc)
        if described is None:
            raise
        status, body = described
        context = await preferences_context(request, viewer)
        context["error"] = body
        return render(request, "pages/preferences.html", context, status_code=status)
    return see_other(request.url_for("preferences").path + f"?saved={saved}")


@router.post("/preferences/theme", name="preferences_theme")
async def preferences_theme(request: Request, viewer: SignedIn) -> Response:
    async def action(form: dict[str, str], key: str | None) -> Any:
        try:
            theme = preferences.Theme(form.get("theme", ""))
        except ValueError:
            raise WebError("invalid_value", "the theme is light, dark or system") from None
        return await services_of(request).workflow.preference(
            viewer.user_id, preferences.SetTheme, key, theme=theme
        )

    return await _apply(request, viewer, action, "theme")


@router.post("/preferences/default-catalog", name="preferences_default_catalog")
async def preferences_default_catalog(request: Request, viewer: SignedIn) -> Response:
    async def action(form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.preference(
            viewer.user_id,
            preferences.SetDefaultCatalog,
            key,
            catalog_id=form.get("catalog_id", ""),
        )

    return await _apply(request, viewer, action, "default")


@router.post("/preferences/default-catalog/clear", name="preferences_default_catalog_clear")
async def preferences_default_catalog_clear(request: Request, viewer: SignedIn) -> Response:
    async def action(form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.preference(
            viewer.user_id, preferences.ClearDefaultCatalog, key
        )

    return await _apply(request, viewer, action, "cleared")


@router.post("/preferences/ui-state/reset", name="preferences_ui_state_reset")
async def preferences_ui_state_reset(request: Request, viewer: SignedIn) -> Response:
    async def action(form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.preference(
            viewer.user_id, preferences.UpdateUiState, key, ui_state={}
        )

    return await _apply(request, viewer, action, "layout")


@router.post("/preferences/ui-state", name="ui_state")
async def ui_state(request: Request, viewer: SignedIn) -> Response:
    """JSON {"panels": {name: px}, ...} from ironstar.js, merged into the stored UI state."""
    check_csrf(request, viewer)
    body = await request.body()
    if len(body) > UI_STATE_LIMIT:
        raise WebError("too_large", f"UI state is at most {UI_STATE_LIMIT} bytes")
    try:
        update = json.loads(body or b"{}")
    except ValueError:
        raise WebError("bad_request", "UI state must be a JSON object") from None
    if not isinstance(update, dict):
        raise WebError("bad_request", "UI state must be a JSON object")
    services = services_of(request)
    prefs = await services.app.reads.preferences(viewer.user_id)
    state = dict((prefs or {}).get("ui_state") or {})
    for name, value in update.items():
        if isinstance(value, dict) and isinstance(state.get(name), dict):
            state[name] = {**state[name], **value}
        else:
            state[name] = value
    await services.workflow.preference(
        viewer.user_id, preferences.UpdateUiState, command_key(request, {}), ui_state=state
    )
    return no_content()
