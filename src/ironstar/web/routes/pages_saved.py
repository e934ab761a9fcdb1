"""Pages: saved queries (save from the editor, rename, update SQL or dataset, delete, open)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ironstar.web.context import Viewer, require_viewer, services_of
from ironstar.web.errors import WebError
from ironstar.web.routes.pages_home import json_twin
from ironstar.web.routes.pages_support import (
    command_key,
    derived_id,
    error_of,
    form_of,
    layout_context,
    render,
    see_other,
)

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(require_viewer)]


async def saved_context(request: Request, viewer: Viewer) -> dict[str, Any]:
    services = services_of(request)
    context = await layout_context(request, viewer, "saved_queries")
    context.update(
        saved=await services.app.reads.saved_queries(viewer.user_id),
        catalog_options=[(name, name) for name in services.engine.catalog_names()],
    )
    return context


@router.get("/saved-queries", name="saved_queries")
async def saved_queries(request: Request, viewer: SignedIn) -> Response:
    context = await saved_context(request, viewer)
    twin = json_twin(request, context["saved"])
    if twin is not None:
        return twin
    return render(request, "pages/saved_queries.html", context)


async def _apply(
    request: Request,
    viewer: Viewer,
    action: Callable[[dict[str, str], str | None], Awaitable[Any]],
    *,
    from_editor: bool = False,
) -> Response:
    fields = await form_of(request, viewer)
    try:
        await action(fields, command_key(request, fields))
    except Exception as exc:
        described = error_of(exc)
        if described is None:
            raise
        status, body = described
        if from_editor:
            from ironstar.web.routes.pages_query import editor_context

            context = await editor_context(request, viewer)
            context.update(sql=fields.get("sql", ""), dataset=fields.get("dataset", ""))
            context.update(query=None, error=body)
            return render(request, "pages/query.html", context, status_code=status)
        context = await saved_context(request, viewer)
        context["error"] = body
        return render(request, "pages/saved_queries.html", context, status_code=status)
    return see_other(request.url_for("saved_queries").path)


@router.post("/saved-queries", name="saved_query_create")
async def saved_query_create(request: Request, viewer: SignedIn) -> Response:
    async def action(form: dict[str, str], key: str | None) -> Any:
        name = form.get("name", "").strip()
        if not name:
            raise WebError("invalid_name", "give the saved query a name")
        dataset = form.get("dataset", "").strip() or None
        catalog = await services_of(request).app.reads.current_catalog(viewer.user_id)
        return await services_of(request).workflow.save_query(
            viewer.user_id,
            name,
            form.get("sql", ""),
            catalog_id=catalog if dataset else None,
            dataset=dataset,
            saved_query_id=derived_id(viewer, key, "saved"),
            command_id=key,
        )

    return await _apply(request, viewer, action, from_editor=True)


@router.post("/saved-queries/{saved_query_id}/rename", name="saved_query_rename")
async def saved_query_rename(request: Request, viewer: SignedIn, saved_query_id: str) -> Response:
    async def action(form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.rename_saved_query(
            viewer.user_id, saved_query_id, form.get("name", ""), key
        )

    return await _apply(request, viewer, action)


@router.post("/saved-queries/{saved_query_id}/sql", name="saved_query_sql")
async def saved_query_sql(request: Request, viewer: SignedIn, saved_query_id: str) -> Response:
    async def action(form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.update_saved_query_sql(
            viewer.user_id, saved_query_id, form.get("sql", ""), key
        )

    return await _apply(request, viewer, action)


@router.post("/saved-queries/{saved_query_id}/dataset", name="saved_query_dataset")
async def saved_query_dataset(request: Request, viewer: SignedIn, saved_query_id: str) -> Response:
    async def action(form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.update_saved_query_dataset(
            viewer.user_id,
            saved_query_id,
            form.get("catalog_id", "").strip() or None,
            form.get("dataset", "").strip() or None,
            key,
        )

    return await _apply(request, viewer, action)


@router.post("/saved-queries/{saved_query_id}/delete", name="saved_query_delete")
async def saved_query_delete(request: Request, viewer: SignedIn, saved_query_id: str) -> Response:
    async def action(form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.delete_saved_query(
            viewer.user_id, saved_query_id, key
        )

    return await _apply(request, viewer, action)
