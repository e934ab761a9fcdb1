"""Pages: dashboards (list, create, rename, tabs, charts placed on a 12-column grid, move
between tabs, remove, move/resize) and their history (as of any change, restore)."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ironstar.domain import dashboard as commands
from ironstar.domain import errors
from ironstar.domain.grid import GridRect, first_free
from ironstar.web.context import Viewer, require_viewer, services_of
from ironstar.web.routes.pages_home import json_twin
from ironstar.web.routes.pages_query import chart_option, owned_query
from ironstar.web.routes.pages_support import (
    command_key,
    derived_id,
    error_of,
    form_of,
    int_field,
    layout_context,
    no_content,
    render,
    render_fragment,
    see_other,
    wants_json,
)

_NEW_CHART_WIDTH, _NEW_CHART_HEIGHT = 6, 4  # half the grid wide: two charts side by side
router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(require_viewer)]


async def owned_dashboard(request: Request, viewer: Viewer, dashboard_id: str) -> dict[str, Any]:
    layout = await services_of(request).app.reads.dashboard(viewer.user_id, dashboard_id)
    if layout is None or layout["deleted"]:
        raise errors.NotFound(f"there is no dashboard {dashboard_id!r} of yours")
    return layout


# ---- list and create --------------------------------------------------------------------


@router.get("/dashboards", name="dashboards")
async def dashboards(request: Request, viewer: SignedIn) -> Response:
    rows = await services_of(request).app.reads.dashboards(viewer.user_id)
    twin = json_twin(request, rows)
    if twin is not None:
        return twin
    context = await layout_context(request, viewer, "dashboards")
    context.update(dashboards=rows)
    return render(request, "pages/dashboards.html", context)


@router.post("/dashboards", name="dashboard_create")
async def dashboard_create(request: Request, viewer: SignedIn) -> Response:
    fields = await form_of(request, viewer)
    key = command_key(request, fields)
    try:
        dashboard_id = await services_of(request).workflow.create_dashboard(
            viewer.user_id,
            fields.get("name", ""),
            dashboard_id=derived_id(viewer, key, "dashboard"),
            first_tab=fields.get("first_tab", "").strip() or "Overview",
            command_id=key,
        )
    except Exception as exc:
        described = error_of(exc)
        if described is None:
            raise
        status, body = described
        context = await layout_context(request, viewer, "dashboards")
        context.update(
            dashboards=await services_of(request).app.reads.dashboards(viewer.user_id),
            error=body,
            name=fields.get("name", ""),
        )
        return render(request, "pages/dashboards.html", context, status_code=status)
    return see_other(request.url_for("dashboard", dashboard_id=dashboard_id).path)


# ---- one dashboard ----------------------------------------------------------------------


async def dashboard_body_context(
    request: Request, viewer: Viewer, layout: dict[str, Any], tab_id: str | None
) -> dict[str, Any]:
    tabs = layout["tabs"]
    current = next((t for t in tabs if t["tab_id"] == tab_id), tabs[0] if tabs else None)
    queries = await services_of(request).app.reads.queries(viewer.user_id, limit=100)
    chartable = [q for q in queries if q["status"] == "completed" and q["chart_config"]]
    return {
        "dashboard": layout,
        "tab": current,
        "chartable": chartable,
        "next_place": _suggested_place((current or {}).get("charts", [])),
        "titles": {q["query_id"]: q for q in queries},
    }


def _suggested_place(charts: list[dict[str, Any]]) -> GridRect:
    """Where the add-chart form proposes a new chart of the default size: the highest
    free place on the tab (the bottom when the tab is full)."""
    taken = [GridRect(x=c["x"], y=c["y"], width=c["width"], height=c["height"]) for c in charts]
    place = first_free(_NEW_CHART_WIDTH, _NEW_CHART_HEIGHT, taken)
    if place is None:
        bottom = max((r.bottom for r in taken), default=0)
        place = GridRect(x=0, y=bottom, width=_NEW_CHART_WIDTH, height=_NEW_CHART_HEIGHT)
    return place


@router.get("/dashboards/{dashboard_id}", name="dashboard")
async def dashboard(
    request: Request, viewer: SignedIn, dashboard_id: str, tab: str = ""
) -> Response:
    layout = await owned_dashboard(request, viewer, dashboard_id)
    twin = json_twin(request, layout)
    if twin is not None:
        return twin
    context = await layout_context(request, viewer, "dashboards")
    context.update(await dashboard_body_context(request, viewer, layout, tab or None))
    context["error"] = request.query_params.get("error")
    context["carried"] = await carried_chart_data(
        request, viewer, dashboard_id, context["tab"], context["titles"]
    )
    return render(request, "pages/dashboard.html", context)


CARRY_SECONDS = 0.25  # how long a page waits for its charts' data before it goes without
CARRY_BYTES = 256 * 1024  # how much chart data (JSON) a page carries at most


async def carried_chart_data(
    request: Request,
    viewer: Viewer,
    dashboard_id: str,
    tab: dict[str, Any] | None,
    queries: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The open tab's ECharts options by data URL path, for the page to carry: ironstar.js
    draws them as soon as ECharts has loaded, without a request each. Only what is ready
    within CARRY_SECONDS (usually from the chart cache) and fits in CARRY_BYTES; the rest,
    and any chart that cannot be drawn, is fetched (and preloaded) as before. A computation
    still running goes on and fills the cache for that fetch. ``queries``: the viewer's
    queries the page has read already, by id (others are read here)."""
    engine, reads = services_of(request).engine, services_of(request).app.reads

    async def option(chart: dict[str, Any]) -> tuple[str, Any, int]:
        query = queries.get(chart["query_id"]) or await reads.query(
            viewer.user_id, chart["query_id"]
        )
        if not chart["config"] or not query or query["status"] != "completed":
            raise errors.QueryNotCompleted("left to its own request, which reports why")
        data = await engine.chart(chart["config"], query["result_key"])
        path = request.url_for(
            "dashboard_chart_json", dashboard_id=dashboard_id, chart_id=chart["chart_id"]
        ).path
        return path, data["option"], len(json.dumps(data["option"]))

    tasks = [asyncio.ensure_future(option(c)) for c in (tab or {}).get("charts", [])]
    if not tasks:
        return {}
    done, pending = await asyncio.wait(tasks, timeout=CARRY_SECONDS)
    for task in pending:
        task.cancel()  # only the wait: the chart cache's computation is shielded, goes on
    carried: dict[str, Any] = {}
    room = CARRY_BYTES
    for task in tasks:  # in the tab's order: the first charts are carried first
        if task in done and task.exception() is None:
            path, chart_option, size = task.result()
            if size <= room:
                carried[path] = chart_option
                room -= size
    return carried


async def dashboard_body_html(
    request: Request,
    viewer: Viewer,
    dashboard_id: str,
    tab_id: str | None,
    *,
    slots: Mapping[str, Any] | None = None,
) -> str:
    """The live part of a dashboard; ``slots`` (templating.SLOTS) stand in for per-session
    values when one rendering goes to many browsers."""
    layout = await owned_dashboard(request, viewer, dashboard_id)
    context = await layout_context(request, viewer, "dashboards")
    context.update(await dashboard_body_context(request, viewer, layout, tab_id))
    context.update(slots or {})
    return render_fragment(request, "partials/dashboard_body.html", context)


Change = Callable[[Viewer, dict[str, str], str | None], Awaitable[Any]]


async def change(
    request: Request,
    viewer: Viewer,
    dashboard_id: str,
    apply: Change,
    *,
    tab: str | None = None,
) -> Response:
    """One dashboard change from a form: PRG back to the dashboard; a refused change is
    shown inline on the dashboard with its code; scripts (grid moves) get 204 or the error."""
    fields = await form_of(request, viewer)
    await owned_dashboard(request, viewer, dashboard_id)
    scripted = wants_json(request)  # ironstar.js grid moves: 204, or the error as JSON
    tab = fields.get("tab") or tab
    try:
        await apply(viewer, fields, command_key(request, fields))
    except Exception as exc:
        described = error_of(exc)
        if described is None or scripted:
            raise
        status, body = described
        layout = await owned_dashboard(request, viewer, dashboard_id)
        context = await layout_context(request, viewer, "dashboards")
        context.update(await dashboard_body_context(request, viewer, layout, tab))
        context["error"] = body
        return render(request, "pages/dashboard.html", context, status_code=status)
    if scripted:
        return no_content()
    url = request.url_for("dashboard", dashboard_id=dashboard_id).path
    return see_other(url + ("?" + urllib.parse.urlencode({"tab": tab}) if tab else ""))


def _run(request: Request, dashboard_id: str, command: type, **fields: Any) -> Change:
    async def apply(viewer: Viewer, form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.dashboard_command(
            viewer.user_id, command, dashboard_id, key, **fields
        )

    return apply


@router.post("/dashboards/{dashboard_id}/rename", name="dashboard_rename")
async def dashboard_rename(request: Request, viewer: SignedIn, dashboard_id: str) -> Response:
    async def apply(v: Viewer, form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.dashboard_command(
            v.user_id, commands.RenameDashboard, dashboard_id, key, name=form.get("name", "")
        )

    return await change(request, viewer, dashboard_id, apply)


@router.post("/dashboards/{dashboard_id}/tabs", name="dashboard_add_tab")
async def dashboard_add_tab(request: Request, viewer: SignedIn, dashboard_id: str) -> Response:
    created: dict[str, str] = {}

    async def apply(v: Viewer, form: dict[str, str], key: str | None) -> Any:
        created["tab"] = await services_of(request).workflow.add_tab(
            v.user_id, dashboard_id, form.get("name", ""), key
        )

    response = await change(request, viewer, dashboard_id, apply)
    if response.status_code == 303 and created:
        layout = await owned_dashboard(request, viewer, dashboard_id)
        names = {t["tab_id"] for t in layout["tabs"]}
        tab = created["tab"] if created["tab"] in names else layout["tabs"][-1]["tab_id"]
        url = request.url_for("dashboard", dashboard_id=dashboard_id).path
        return see_other(f"{url}?tab={tab}")
    return response


@router.post("/dashboards/{dashboard_id}/charts", name="dashboard_add_chart")
async def dashboard_add_chart(request: Request, viewer: SignedIn, dashboard_id: str) -> Response:
    async def apply(v: Viewer, form: dict[str, str], key: str | None) -> Any:
        position = GridRect(
            x=int_field(form, "x", high=11),
            y=int_field(form, "y", high=499),
            width=int_field(form, "w", low=1, high=12),
            height=int_field(form, "h", low=1, high=50),
        )
        return await services_of(request).workflow.add_chart(
            v.user_id,
            dashboard_id,
            form.get("query_id", ""),
            form.get("tab", ""),
            position,
            chart_id=derived_id(v, key, "chart"),
            command_id=key,
        )

    return await change(request, viewer, dashboard_id, apply)


@router.post("/dashboards/{dashboard_id}/charts/{chart_id}/tab", name="dashboard_chart_tab")
async def dashboard_chart_tab(
    request: Request, viewer: SignedIn, dashboard_id: str, chart_id: str
) -> Response:
    async def apply(v: Viewer, form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.dashboard_command(
            v.user_id,
            commands.MoveChartToTab,
            dashboard_id,
            key,
            chart_id=chart_id,
            tab_id=form.get("to_tab", ""),
        )

    return await change(request, viewer, dashboard_id, apply)


@router.post("/dashboards/{dashboard_id}/charts/{chart_id}/remove", name="dashboard_chart_remove")
async def dashboard_chart_remove(
    request: Request, viewer: SignedIn, dashboard_id: str, chart_id: str
) -> Response:
    return await change(
        request,
        viewer,
        dashboard_id,
        _run(request, dashboard_id, commands.RemoveChart, chart_id=chart_id),
    )


@router.post("/dashboards/{dashboard_id}/charts/{chart_id}/place", name="dashboard_chart_place")
async def dashboard_chart_place(
    request: Request, viewer: SignedIn, dashboard_id: str, chart_id: str
) -> Response:
    """A drag or keyboard move/resize: MoveChart and/or ResizeChart, as far as changed."""

    async def apply(v: Viewer, form: dict[str, str], key: str | None) -> Any:
        layout = await owned_dashboard(request, v, dashboard_id)
        placed = next(
            (c for t in layout["tabs"] for c in t["charts"] if c["chart_id"] == chart_id), None
        )
        if placed is None:
            raise errors.UnknownChart(f"this dashboard has no chart {chart_id!r}")
        x, y = int_field(form, "x", high=11), int_field(form, "y", high=499)
        w, h = int_field(form, "w", low=1, high=12), int_field(form, "h", low=1, high=50)
        workflow = services_of(request).workflow
        moved = (x, y) != (placed["x"], placed["y"])
        resized = (w, h) != (placed["width"], placed["height"])
        # Shrinking first and growing last never collides with the chart's own old place.
        steps: list[tuple[type, dict[str, Any]]] = []
        if resized:
            steps.append((commands.ResizeChart, {"width": w, "height": h}))
        if moved:
            steps.insert(
                0 if not resized or w * h < placed["width"] * placed["height"] else 1,
                (commands.MoveChart, {"x": x, "y": y}),
            )
        for index, (command, values) in enumerate(steps):
            await workflow.dashboard_command(
                v.user_id,
                command,
                dashboard_id,
                f"{key}:{index}" if key else None,
                chart_id=chart_id,
                **values,
            )

    return await change(request, viewer, dashboard_id, apply)


@router.get("/dashboards/{dashboard_id}/charts/{chart_id}.json", name="dashboard_chart_json")
async def dashboard_chart_json(
    request: Request, viewer: SignedIn, dashboard_id: str, chart_id: str
) -> Response:
    layout = await owned_dashboard(request, viewer, dashboard_id)
    placed = next(
        (c for t in layout["tabs"] for c in t["charts"] if c["chart_id"] == chart_id), None
    )
    if placed is None:
        raise errors.UnknownChart(f"this dashboard has no chart {chart_id!r}")
    query = await owned_query(request, viewer, placed["query_id"])
    return await chart_option(request, query, placed["config"])


# ---- history ----------------------------------------------------------------------------


@router.get("/dashboards/{dashboard_id}/history", name="dashboard_history")
async def dashboard_history(
    request: Request, viewer: SignedIn, dashboard_id: str, version: int | None = None
) -> Response:
    reads = services_of(request).app.reads
    layout = await owned_dashboard(request, viewer, dashboard_id)
    history = await reads.dashboard_history(viewer.user_id, dashboard_id)
    as_of = None
    if version is not None:
        as_of = await reads.dashboard_as_of(viewer.user_id, dashboard_id, version)
        if as_of is None:
            raise errors.NotFound(f"this dashboard has no version {version}")
    twin = json_twin(request, {"dashboard": layout, "history": history, "as_of": as_of})
    if twin is not None:
        return twin
    people: dict[str, str] = {}
    for entry in history:
        if entry["user_id"] not in people:
            user = await reads.user(entry["user_id"])
            people[entry["user_id"]] = (
                (user["display_name"] or user["login"]) if user else entry["user_id"]
            )
    context = await layout_context(request, viewer, "dashboards")
    context.update(
        dashboard=layout,
        history=history,
        people=people,
        as_of=as_of,
        as_of_tabs=_as_of_tabs(as_of),
    )
    return render(request, "pages/dashboard_history.html", context)


def _as_of_tabs(as_of: dict[str, Any] | None) -> list[dict[str, Any]]:
    if as_of is None:
        return []
    layout = as_of["layout"]
    tabs = []
    for tab in layout.get("tabs", []):
        charts = []
        for chart in layout.get("charts", []):
            if chart["tab_id"] != tab["tab_id"]:
                continue
            definition, position = chart["definition"], chart["position"]
            charts.append(
                {
                    "chart_id": chart["chart_id"],
                    "query_id": definition["query_id"],
                    "config": definition.get("config") or {},
                    "config_json": json.dumps(definition.get("config") or {}),
                    **position,
                }
            )
        tabs.append({"tab_id": tab["tab_id"], "name": tab["name"], "charts": charts})
    return tabs


@router.post("/dashboards/{dashboard_id}/restore", name="dashboard_restore")
async def dashboard_restore(request: Request, viewer: SignedIn, dashboard_id: str) -> Response:
    async def apply(v: Viewer, form: dict[str, str], key: str | None) -> Any:
        return await services_of(request).workflow.restore_dashboard(
            v.user_id, dashboard_id, int_field(form, "version", low=1, high=10**9), key
        )

    return await change(request, viewer, dashboard_id, apply)
