"""Pages: the SQL editor, a query (status, provenance, results, chart configurator),
run / cancel / re-run pinned to a snapshot, chart preview, export."""

from __future__ import annotations

import json
import math
import urllib.parse
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ironstar.analytics.charts.config import ChartType
from ironstar.analytics.charts.suggest import suggested_config
from ironstar.domain import errors
from ironstar.domain.grid import GridRect
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
    render_fragment,
    see_other,
)

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(require_viewer)]
PAGE_SIZE = 50
CHART_FIELDS = ("chart_type", "x", "series", "value", "title", "x_label", "y_label")
EXPORT_TYPES = {"csv": "text/csv", "json": "application/json", "parquet": "application/x-parquet"}


def chart_config_from(fields: Any, prefix: str = "") -> dict[str, Any] | None:
    """A chart config from form/query fields (``chart_type``, ``x``, ``y`` (repeated or
    comma-separated), ...); None when no chart type was chosen."""
    chart_type = (fields.get(prefix + "chart_type") or "").strip()
    if not chart_type:
        return None
    config: dict[str, Any] = {}
    for name in CHART_FIELDS:
        value = (fields.get(prefix + name) or "").strip()
        if value:
            config[name] = value
    getlist = getattr(fields, "getlist", None)
    raw_y = getlist(prefix + "y") if getlist else [fields.get(prefix + "y") or ""]
    y = [part.strip() for raw in raw_y for part in str(raw).split(",") if part.strip()]
    if y:
        config["y"] = y
    return config


async def owned_query(request: Request, viewer: Viewer, query_id: str) -> dict[str, Any]:
    query = await services_of(request).app.reads.query(viewer.user_id, query_id)
    if query is None:
        raise errors.NotFound(f"there is no query {query_id!r} of yours")
    return query


# ---- the editor -------------------------------------------------------------------------


async def editor_context(request: Request, viewer: Viewer) -> dict[str, Any]:
    reads = services_of(request).app.reads
    context = await layout_context(request, viewer, "query")
    prefs = context["prefs"] or {}
    catalog = context["current_catalog"]
    context.update(
        recent=await reads.queries(viewer.user_id, limit=15),
        datasets=await reads.datasets(catalog) if catalog else [],
        chart_types=[t.value for t in ChartType],
        browser_width=(prefs.get("ui_state") or {}).get("panels", {}).get("browser", 280),
        dashboards=await reads.dashboards(viewer.user_id),
    )
    return context


@router.get("/query", name="query")
async def query_editor(
    request: Request, viewer: SignedIn, sql: str = "", dataset: str = "", saved: str = ""
) -> Response:
    context = await editor_context(request, viewer)
    if saved:
        row = await services_of(request).app.reads.saved_query(viewer.user_id, saved)
        if row is None:
            raise errors.NotFound(f"there is no saved query {saved!r} of yours")
        sql, dataset = row["sql"], row["dataset"] or ""
        context["saved_row"] = row
    twin = json_twin(request, {"recent": context["recent"]})
    if twin is not None:
        return twin
    context.update(sql=sql, dataset=dataset, query=None)
    return render(request, "pages/query.html", context)


@router.post("/queries", name="query_run")
async def query_run(request: Request, viewer: SignedIn) -> Response:
    form = await request.form()
    fields = await form_of(request, viewer)
    sql = fields.get("sql", "")
    dataset = fields.get("dataset", "").strip() or None
    key = command_key(request, fields)
    services = services_of(request)
    try:
        catalog = await services.app.reads.current_catalog(viewer.user_id)
        if catalog is None:
            raise WebError("bad_request", "choose a catalog before running a query")
        if not sql.strip():
            raise WebError("invalid_sql", "write some SQL first")
        query_id = await services.workflow.start_query(
            viewer.user_id,
            sql,
            catalog,
            dataset=dataset,
            chart_config=chart_config_from(form),
            query_id=derived_id(viewer, key, "query"),
            command_id=key,
        )
    except Exception as exc:
        described = error_of(exc)
        if described is None:
            raise
        status, body = described
        context = await editor_context(request, viewer)
        context.update(sql=sql, dataset=dataset or "", query=None, error=body)
        return render(request, "pages/query.html", context, status_code=status)
    return see_other(request.url_for("query_detail", query_id=query_id).path)


# ---- one query --------------------------------------------------------------------------


async def result_context(
    request: Request, viewer: Viewer, query: dict[str, Any], params: Any
) -> dict[str, Any]:
    """Everything the live part of the query page shows (partials/query_live.html)."""
    services = services_of(request)
    page = max(1, _int(params.get("page"), 1))
    sort = params.get("sort") or None
    direction = "desc" if params.get("dir") == "desc" else "asc"
    result = None
    result_error = None
    if query["status"] == "completed" and query["result_key"]:
        names = {c["name"] for c in query["columns"]}
        try:
            result = await services.engine.page(
                query["result_key"],
                offset=(page - 1) * PAGE_SIZE,
                limit=PAGE_SIZE,
                sort_by=sort if sort in names else None,
                descending=direction == "desc",
            )
        except Exception as exc:
            described = error_of(exc)
            if described is None:
                raise
            result_error = described[1]
    base = request.url_for("query_detail", query_id=query["query_id"]).path

    def href(**changes: Any) -> str:
        merged = {"page": page, "sort": sort or "", "dir": direction, **changes}
        return base + "?" + urllib.parse.urlencode({k: v for k, v in merged.items() if v})

    columns = [
        {
            "key": name,
            "label": name,
            "type": kind,
            "sortable": True,
            "numeric": _numeric(kind),
        }
        for name, kind in (result.columns if result else ())
    ]
    preview_config = chart_config_from(params, "cfg_") or query["chart_config"]
    suggested = None
    if not preview_config and result is not None:
        # Nothing chosen yet: a first chart from the column kinds (valid by construction).
        suggested = preview_config = suggested_config(result.table.schema)
    preview = await chart_preview(request, query, preview_config)
    return {
        "query": query,
        "result": result,
        "result_rows": result.rows() if result else [],
        "result_error": result_error,
        "columns": columns,
        "page": page,
        "page_count": max(1, math.ceil((result.total_rows if result else 0) / PAGE_SIZE)),
        "sort": sort,
        "direction": direction,
        "page_href": lambda n: href(page=n),
        "sort_href": lambda key, d: href(sort=key, dir=d, page=1),
        "preview": preview,
        "config": preview_config or {},
        "config_suggested": suggested is not None,
        "chart_types": [t.value for t in ChartType],
        "dashboards": await services.app.reads.dashboards(viewer.user_id),
        "live_query": urllib.parse.urlencode(
            {k: v for k, v in (("page", page), ("sort", sort or ""), ("dir", direction)) if v}
        ),
    }


def _int(raw: Any, fallback: int) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return fallback


def _numeric(arrow_type: str) -> bool:
    return arrow_type.startswith(("int", "uint", "float", "double", "decimal", "halffloat"))


async def chart_preview(
    request: Request, query: dict[str, Any], config: dict[str, Any] | None
) -> dict[str, Any]:
    """{"src": chart JSON URL} when the config draws this result, {"error": ...} when not."""
    if not config:
        return {}
    if query["status"] != "completed" or not query["result_key"]:
        return {"config": config}
    try:
        await services_of(request).engine.check_chart(config, query["result_key"])
    except Exception as exc:
        described = error_of(exc)
        if described is None:
            raise
        return {"error": described[1], "config": config}
    src = request.url_for("chart_json", query_id=query["query_id"]).path
    return {"src": src + "?" + urllib.parse.urlencode({"config": json.dumps(config)})}


@router.get("/queries/{query_id}", name="query_detail")
async def query_detail(request: Request, viewer: SignedIn, query_id: str) -> Response:
    query = await owned_query(request, viewer, query_id)
    twin = json_twin(request, query)
    if twin is not None:
        return twin
    context = await editor_context(request, viewer)
    context.update(await result_context(request, viewer, query, request.query_params))
    context.update(sql=query["sql"], dataset=query["dataset"] or "")
    return render(request, "pages/query.html", context)


@router.get("/queries/{query_id}/live", name="query_live")
async def query_live(request: Request, viewer: SignedIn, query_id: str) -> Response:
    """The live part alone (what SSE messages carry), for htmx refreshes."""
    html = await query_live_html(request, viewer, query_id, request.query_params)
    return Response(html, media_type="text/html")


async def query_live_html(
    request: Request,
    viewer: Viewer,
    query_id: str,
    params: Any,
    *,
    slots: Mapping[str, Any] | None = None,
) -> str:
    """The live part of a query page; ``slots`` (templating.SLOTS) stand in for per-session
    values when one rendering goes to many browsers."""
    query = await owned_query(request, viewer, query_id)
    context = await layout_context(request, viewer, "query")
    context.update(await result_context(request, viewer, query, params))
    context.update(slots or {})
    return render_fragment(request, "partials/query_live.html", context)


@router.get("/queries/{query_id}/chart-preview", name="chart_preview")
async def chart_preview_fragment(request: Request, viewer: SignedIn, query_id: str) -> Response:
    query = await owned_query(request, viewer, query_id)
    preview = await chart_preview(request, query, chart_config_from(request.query_params, "cfg_"))
    context = await layout_context(request, viewer, "query")
    context.update(query=query, preview=preview)
    return render(request, "partials/chart_preview.html", context)


@router.post("/queries/{query_id}/cancel", name="query_cancel")
async def query_cancel(request: Request, viewer: SignedIn, query_id: str) -> Response:
    await form_of(request, viewer)
    try:
        await services_of(request).workflow.cancel_query(viewer.user_id, query_id)
    except errors.QueryNotRunning:
        pass  # it finished first: the page shows how
    return see_other(request.url_for("query_detail", query_id=query_id).path)


@router.post("/queries/{query_id}/rerun", name="query_rerun")
async def query_rerun(request: Request, viewer: SignedIn, query_id: str) -> Response:
    fields = await form_of(request, viewer)
    key = command_key(request, fields)
    new_id = await services_of(request).workflow.rerun_query(
        viewer.user_id, query_id, pinned=fields.get("pinned", "1") != "0", command_id=key
    )
    return see_other(request.url_for("query_detail", query_id=new_id).path)


@router.post("/queries/{query_id}/add-to-dashboard", name="query_add_to_dashboard")
async def query_add_to_dashboard(request: Request, viewer: SignedIn, query_id: str) -> Response:
    """Adds the configured chart to a dashboard, below what is already on the chosen tab."""
    form = await request.form()
    fields = await form_of(request, viewer)
    services = services_of(request)
    query = await owned_query(request, viewer, query_id)
    dashboard_id = fields.get("dashboard_id", "")
    try:
        layout = await services.app.reads.dashboard(viewer.user_id, dashboard_id)
        if layout is None:
            raise errors.NotFound("choose one of your dashboards")
        tab = layout["tabs"][0]
        bottom = max((c["y"] + c["height"] for c in tab["charts"]), default=0)
        width = min(12, max(1, _int(fields.get("w"), 6)))
        height = min(12, max(1, _int(fields.get("h"), 4)))
        key = command_key(request, fields)
        await services.workflow.add_chart(
            viewer.user_id,
            dashboard_id,
            query_id,
            tab["tab_id"],
            GridRect(x=0, y=bottom, width=width, height=height),
            config=chart_config_from(form, "cfg_") or query["chart_config"],
            chart_id=derived_id(viewer, key, "chart"),
            command_id=key,
        )
    except Exception as exc:
        described = error_of(exc)
        if described is None:
            raise
        status, body = described
        context = await editor_context(request, viewer)
        context.update(await result_context(request, viewer, query, form))
        context.update(sql=query["sql"], dataset=query["dataset"] or "", error=body)
        return render(request, "pages/query.html", context, status_code=status)
    return see_other(request.url_for("dashboard", dashboard_id=dashboard_id).path)


# ---- chart data and export --------------------------------------------------------------


@router.get("/charts/{query_id}.json", name="chart_json")
async def chart_json(request: Request, viewer: SignedIn, query_id: str) -> Response:
    """The ECharts option for this query's result (its own config, or ``?config=<json>``)."""
    query = await owned_query(request, viewer, query_id)
    raw = request.query_params.get("config")
    try:
        config = json.loads(raw) if raw else query["chart_config"]
    except ValueError:
        raise WebError("invalid_chart_config", "the chart config is not valid JSON") from None
    return await chart_option(request, query, config)


async def chart_option(
    request: Request, query: dict[str, Any], config: dict[str, Any] | None
) -> Response:
    if not config:
        raise errors.InvalidChart("this query has no chart configuration; configure one")
    if query["status"] != "completed" or not query["result_key"]:
        raise errors.QueryNotCompleted(f"the query is {query['status']}, so there is no data")
    data = await services_of(request).engine.chart(config, query["result_key"])
    return JSONResponse(data["option"])


@router.get("/queries/{query_id}/export.{fmt}", name="query_export")
async def query_export(request: Request, viewer: SignedIn, query_id: str, fmt: str) -> Response:
    if fmt not in EXPORT_TYPES:
        raise WebError("bad_request", f"export as csv, json or parquet, not {fmt!r}")
    query = await owned_query(request, viewer, query_id)
    if query["status"] != "completed" or not query["result_key"]:
        raise errors.QueryNotCompleted("only a completed query has results to export")
    chunks = services_of(request).engine.export(query["result_key"], fmt)  # type: ignore[arg-type]
    return StreamingResponse(
        chunks,
        media_type=EXPORT_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="query-{query_id[:8]}.{fmt}"'},
    )
