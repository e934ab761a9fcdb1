"""Pages: home (auto-selects the default catalog), catalog picker, Dataset Browser, history."""

from __future__ import annotations

import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from ironstar.web.context import Viewer, current_viewer, require_viewer, services_of
from ironstar.web.routes.pages_support import (
    command_key,
    error_of,
    form_of,
    layout_context,
    render,
    see_other,
    wants_json,
)

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(require_viewer)]


def json_twin(request: Request, data: Any) -> Response | None:
    """Every page answers ``Accept: application/json`` (or ``?format=json``) with its data."""
    if wants_json(request) or request.query_params.get("format") == "json":
        return JSONResponse(jsonable_encoder(data))
    return None


def install(app: FastAPI) -> None:
    """Called by the app factory: HTML error pages for browsers."""
    app.state.render_error = render_error_page


HEADINGS = {
    403: "Not allowed",
    404: "Not found",
    409: "That conflicts with the current state",
    410: "Gone",
    413: "Too large",
    422: "That input is not valid",
    503: "Temporarily unavailable",
}


async def render_error_page(request: Request, status: int, body: dict[str, Any]) -> Response:
    viewer = await current_viewer(request) if hasattr(request.app.state, "services") else None
    error = {
        "code": body.get("code", "internal"),
        "message": body.get("message", ""),
        "request_id": body.get("details", {}).get("request_id"),
    }
    heading = HEADINGS.get(status, "Something went wrong")
    if viewer is None:  # no layout without a session: a plain, self-contained page
        from ironstar.web.routes.pages_support import render_fragment

        html = render_fragment(
            request, "pages/error_bare.html", {"error": error, "heading": heading}
        )
        return Response(html, status_code=status, media_type="text/html")
    context = await layout_context(request, viewer, "")
    context.update(error=error, heading=heading, status=status)
    return render(request, "pages/error.html", context, status_code=status)


@router.get("/", name="home")
async def home(request: Request, viewer: SignedIn) -> Response:
    services = services_of(request)
    reads = services.app.reads
    auto_selected, auto_error = None, None
    if await reads.current_catalog(viewer.user_id) is None:
        prefs = await reads.preferences(viewer.user_id)
        default = (prefs or {}).get("default_catalog")
        if default:
            try:
                await services.workflow.select_catalog(
                    viewer.user_id, default, command_id=f"auto-select:{viewer.session_id}"
                )
                auto_selected = default
            except Exception as exc:
                described = error_of(exc)
                if described is None:
                    raise
                auto_error = described[1]
    data = await home_data(request, viewer)
    twin = json_twin(request, data)
    if twin is not None:
        return twin
    context = await layout_context(request, viewer, "home")
    context.update(data, auto_selected=auto_selected, auto_error=auto_error)
    return render(request, "pages/home.html", context)


async def home_data(request: Request, viewer: Viewer) -> dict[str, Any]:
    reads = services_of(request).app.reads
    return {
        "queries": await reads.queries(viewer.user_id, limit=20),
        "dashboards": await reads.dashboards(viewer.user_id),
        "saved": await reads.saved_queries(viewer.user_id),
    }


# ---- catalogs ---------------------------------------------------------------------------


async def catalog_rows(request: Request) -> list[dict[str, Any]]:
    services = services_of(request)
    rows = []
    for name in services.engine.catalog_names():
        view = services.engine.view(name)
        config = services.engine.registry.get(name)
        rows.append(
            {
                "name": name,
                "available": view.available,
                "reason": view.reason or "it does not answer",
                "where": config.location or str(config.metadata or config.postgres or ""),
                "description": config.description,
                "metadata": await services.app.reads.catalog_metadata(name),
            }
        )
    return rows


async def catalogs_context(request: Request, viewer: Viewer) -> dict[str, Any]:
    prefs = await services_of(request).app.reads.preferences(viewer.user_id)
    return {
        "catalogs": await catalog_rows(request),
        "default_catalog": (prefs or {}).get("default_catalog"),
        "current_catalog": await services_of(request).app.reads.current_catalog(viewer.user_id),
    }


@router.get("/catalogs", name="catalogs")
async def catalogs(request: Request, viewer: SignedIn) -> Response:
    data = await catalogs_context(request, viewer)
    twin = json_twin(request, data)
    if twin is not None:
        return twin
    context = await layout_context(request, viewer, "catalogs")
    context.update(data)
    return render(request, "pages/catalogs.html", context)


@router.post("/catalogs/select", name="catalog_select")
async def catalog_select(request: Request, viewer: SignedIn) -> Response:
    fields = await form_of(request, viewer)
    catalog_id = fields.get("catalog_id", "")
    try:
        await services_of(request).workflow.select_catalog(
            viewer.user_id, catalog_id, command_id=command_key(request, fields)
        )
    except Exception as exc:
        described = error_of(exc)
        if described is None:
            raise
        status, body = described
        context = await layout_context(request, viewer, "catalogs")
        context.update(await catalogs_context(request, viewer), error=body)
        return render(request, "pages/catalogs.html", context, status_code=status)
    return see_other(request.url_for("datasets").path)


# ---- Dataset Browser --------------------------------------------------------------------


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def datasets_data(request: Request, viewer: Viewer, search: str) -> dict[str, Any]:
    reads = services_of(request).app.reads
    current = await reads.current_catalog(viewer.user_id)
    datasets = await reads.datasets(current, search) if current else []
    for d in datasets:
        for t in d["tables"]:
            target = quote_identifier(t["table_name"])
            if d["dataset"] != "main":
                target = f"{quote_identifier(d['dataset'])}.{target}"
            query = {"sql": f"SELECT *\nFROM {target}\nLIMIT 100", "dataset": d["dataset"]}
            t["query_href"] = request.url_for("query").path + "?" + urllib.parse.urlencode(query)
    return {
        "catalog": current,
        "metadata": await reads.catalog_metadata(current) if current else None,
        "search": search,
        "datasets": datasets,
    }


@router.get("/datasets", name="datasets")
async def datasets(request: Request, viewer: SignedIn, q: str = "") -> Response:
    data = await datasets_data(request, viewer, q[:200])
    twin = json_twin(request, data)
    if twin is not None:
        return twin
    context = await layout_context(request, viewer, "datasets")
    context.update(data)
    return render(request, "pages/datasets.html", context)


# ---- history index ----------------------------------------------------------------------


@router.get("/history", name="history")
async def history(request: Request, viewer: SignedIn) -> Response:
    reads = services_of(request).app.reads
    data = {
        "dashboards": await reads.dashboards(viewer.user_id),
        "queries": await reads.queries(viewer.user_id, limit=50),
    }
    twin = json_twin(request, data)
    if twin is not None:
        return twin
    context = await layout_context(request, viewer, "history")
    context.update(data)
    return render(request, "pages/history.html", context)
