"""Dashboards: the layout view, tabs, charts on the grid, history and restore.

Another user's dashboard is answered as not found - for reads and for commands alike -
so nobody learns which dashboard ids exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from ironstar.application.handler import CommandResult
from ironstar.domain import dashboard, errors
from ironstar.domain.grid import GridRect
from ironstar.web.api_models import (
    AddChartIn,
    ChartWritten,
    CreateDashboardIn,
    DashboardHistory,
    DashboardList,
    DashboardOut,
    DashboardSummary,
    DashboardVersion,
    DashboardWritten,
    MoveChartIn,
    MoveChartToTabIn,
    RenameIn,
    ReorderTabsIn,
    ResizeChartIn,
    RestoreIn,
    TabWritten,
)
from ironstar.web.routes.api_support import (
    ERRORS,
    Command,
    Commander,
    Read,
    Reader,
    path_id,
    row_list,
)

router = APIRouter(prefix="/api/dashboards", tags=["dashboards"], responses=ERRORS)
DashboardId = Annotated[str, path_id("a dashboard's id")]
TabId = Annotated[str, path_id("a tab's id")]
ChartId = Annotated[str, path_id("a chart's id")]


@router.get("", response_model=DashboardList)
async def list_dashboards(read: Read) -> Response:
    """This user's dashboards (not the deleted ones), by name."""
    rows = await read.services.app.reads.dashboards(read.user)
    return row_list(DashboardSummary, "dashboards", rows)


@router.post("", status_code=201, response_model=DashboardWritten)
async def create_dashboard(
    body: CreateDashboardIn, cmd: Command, response: Response
) -> DashboardWritten:
    dashboard_id = cmd.derived_id("dashboard")
    position = await cmd.create(
        dashboard.stream_id(dashboard_id),
        response,
        lambda: cmd.services.workflow.create_dashboard(
            cmd.viewer.user_id,
            body.name,
            dashboard_id=dashboard_id,
            first_tab=body.first_tab,
            command_id=cmd.command_id,
        ),
    )
    response.headers["Location"] = f"/api/dashboards/{dashboard_id}"
    return DashboardWritten(dashboard_id=dashboard_id, position=position)


@router.get("/{dashboard_id}", response_model=DashboardOut)
async def get_dashboard(dashboard_id: DashboardId, read: Read) -> DashboardOut:
    """The DashboardLayoutView: tabs in order, each with its charts; 410 once deleted
    (its history stays readable, and it can be restored)."""
    layout = await read.services.app.reads.dashboard(read.user, dashboard_id)
    if layout is None:
        raise errors.NotFound(f"there is no dashboard {dashboard_id!r} of yours")
    if layout["deleted"]:
        raise errors.Deleted("this dashboard was deleted; restore a version from its history")
    return DashboardOut.model_validate(
        {
            **layout,
            "tabs": [
                {**tab, "charts": [_chart(c) for c in tab["charts"]]} for tab in layout["tabs"]
            ],
        }
    )


@router.post("/{dashboard_id}/rename", response_model=DashboardWritten)
async def rename_dashboard(
    dashboard_id: DashboardId, body: RenameIn, cmd: Command, response: Response
) -> DashboardWritten:
    result = await _run(cmd, dashboard.RenameDashboard, dashboard_id, name=body.name)
    return DashboardWritten(dashboard_id=dashboard_id, position=await cmd.written(result, response))


@router.delete("/{dashboard_id}", response_model=DashboardWritten)
async def delete_dashboard(
    dashboard_id: DashboardId, cmd: Command, response: Response
) -> DashboardWritten:
    result = await _run(cmd, dashboard.DeleteDashboard, dashboard_id)
    return DashboardWritten(dashboard_id=dashboard_id, position=await cmd.written(result, response))


@router.post("/{dashboard_id}/restore", response_model=DashboardWritten)
async def restore_dashboard(
    dashboard_id: DashboardId, body: RestoreIn, cmd: Command, response: Response
) -> DashboardWritten:
    """Bring back the layout right after change ``version`` (also undeletes)."""
    result = await _owned(
        cmd.services.workflow.restore_dashboard(
            cmd.viewer.user_id, dashboard_id, body.version, cmd.command_id
        )
    )
    return DashboardWritten(dashboard_id=dashboard_id, position=await cmd.written(result, response))


@router.post("/{dashboard_id}/tabs", status_code=201, response_model=TabWritten)
async def add_tab(
    dashboard_id: DashboardId, body: RenameIn, cmd: Command, response: Response
) -> TabWritten:
    tab_id = cmd.derived_id("tab")
    result = await _run(cmd, dashboard.AddTab, dashboard_id, tab_id=tab_id, name=body.name)
    return TabWritten(
        dashboard_id=dashboard_id, tab_id=tab_id, position=await cmd.written(result, response)
    )


@router.post("/{dashboard_id}/tabs/{tab_id}/rename", response_model=TabWritten)
async def rename_tab(
    dashboard_id: DashboardId, tab_id: TabId, body: RenameIn, cmd: Command, response: Response
) -> TabWritten:
    result = await _run(cmd, dashboard.RenameTab, dashboard_id, tab_id=tab_id, name=body.name)
    return TabWritten(
        dashboard_id=dashboard_id, tab_id=tab_id, position=await cmd.written(result, response)
    )


@router.delete("/{dashboard_id}/tabs/{tab_id}", response_model=TabWritten)
async def remove_tab(
    dashboard_id: DashboardId, tab_id: TabId, cmd: Command, response: Response
) -> TabWritten:
    """Remove an empty tab (409 tab_not_empty, 409 last_tab)."""
    result = await _run(cmd, dashboard.RemoveTab, dashboard_id, tab_id=tab_id)
    return TabWritten(
        dashboard_id=dashboard_id, tab_id=tab_id, position=await cmd.written(result, response)
    )


@router.put("/{dashboard_id}/tabs/order", response_model=DashboardWritten)
async def reorder_tabs(
    dashboard_id: DashboardId, body: ReorderTabsIn, cmd: Command, response: Response
) -> DashboardWritten:
    """Every tab id, in the new order."""
    result = await _run(cmd, dashboard.ReorderTabs, dashboard_id, tab_ids=tuple(body.tab_ids))
    return DashboardWritten(dashboard_id=dashboard_id, position=await cmd.written(result, response))


@router.post("/{dashboard_id}/charts", status_code=201, response_model=ChartWritten)
async def add_chart(
    dashboard_id: DashboardId, body: AddChartIn, cmd: Command, response: Response
) -> ChartWritten:
    """A chart of a completed query of yours at (x, y) of size (w, h) on a 12-column grid;
    ``config`` defaults to the query's own chart configuration. 422 chart_type_mismatch
    when the configuration cannot draw the result, 409 grid_overlap, 422 out_of_grid."""
    chart_id = cmd.derived_id("chart")
    position = await cmd.create(
        dashboard.stream_id(dashboard_id),
        response,
        lambda: _owned(
            cmd.services.workflow.add_chart(
                cmd.viewer.user_id,
                dashboard_id,
                body.query_id,
                body.tab_id,
                GridRect(x=body.x, y=body.y, width=body.w, height=body.h),
                config=None if body.config is None else body.config.as_config(),
                chart_id=chart_id,
                command_id=cmd.command_id,
            )
        ),
    )
    return ChartWritten(dashboard_id=dashboard_id, chart_id=chart_id, position=position)


@router.delete("/{dashboard_id}/charts/{chart_id}", response_model=ChartWritten)
async def remove_chart(
    dashboard_id: DashboardId, chart_id: ChartId, cmd: Command, response: Response
) -> ChartWritten:
    result = await _run(cmd, dashboard.RemoveChart, dashboard_id, chart_id=chart_id)
    return ChartWritten(
        dashboard_id=dashboard_id, chart_id=chart_id, position=await cmd.written(result, response)
    )


@router.post("/{dashboard_id}/charts/{chart_id}/move-to-tab", response_model=ChartWritten)
async def move_chart_to_tab(
    dashboard_id: DashboardId,
    chart_id: ChartId,
    body: MoveChartToTabIn,
    cmd: Command,
    response: Response,
) -> ChartWritten:
    """Move a chart to another tab: to (x, y, w, h) if all are given, else to the highest
    place there that fits its size."""
    rect = None
    if None not in (body.x, body.y, body.w, body.h):
        rect = GridRect(x=body.x, y=body.y, width=body.w, height=body.h)  # type: ignore[arg-type]
    result = await _run(
        cmd,
        dashboard.MoveChartToTab,
        dashboard_id,
        chart_id=chart_id,
        tab_id=body.tab_id,
        position=rect,
    )
    return ChartWritten(
        dashboard_id=dashboard_id, chart_id=chart_id, position=await cmd.written(result, response)
    )


@router.post("/{dashboard_id}/charts/{chart_id}/move", response_model=ChartWritten)
async def move_chart(
    dashboard_id: DashboardId,
    chart_id: ChartId,
    body: MoveChartIn,
    cmd: Command,
    response: Response,
) -> ChartWritten:
    result = await _run(
        cmd, dashboard.MoveChart, dashboard_id, chart_id=chart_id, x=body.x, y=body.y
    )
    return ChartWritten(
        dashboard_id=dashboard_id, chart_id=chart_id, position=await cmd.written(result, response)
    )


@router.post("/{dashboard_id}/charts/{chart_id}/resize", response_model=ChartWritten)
async def resize_chart(
    dashboard_id: DashboardId,
    chart_id: ChartId,
    body: ResizeChartIn,
    cmd: Command,
    response: Response,
) -> ChartWritten:
    result = await _run(
        cmd, dashboard.ResizeChart, dashboard_id, chart_id=chart_id, width=body.w, height=body.h
    )
    return ChartWritten(
        dashboard_id=dashboard_id, chart_id=chart_id, position=await cmd.written(result, response)
    )


@router.get("/{dashboard_id}/history", response_model=DashboardHistory)
async def history(dashboard_id: DashboardId, read: Read) -> DashboardHistory:
    """Every change, newest first: who, when, what, and at which version."""
    await _own(read, dashboard_id)
    rows = await read.services.app.reads.dashboard_history(read.user, dashboard_id)
    return DashboardHistory.model_validate({"dashboard_id": dashboard_id, "history": rows})


@router.get("/{dashboard_id}/versions/{version}", response_model=DashboardVersion)
async def version(
    dashboard_id: DashboardId,
    version: Annotated[int, Path(ge=1, le=2**62, description="a version from the history")],
    read: Read,
) -> DashboardVersion:
    """The whole layout as it was right after change ``version``."""
    row = await read.services.app.reads.dashboard_as_of(read.user, dashboard_id, version)
    if row is None:
        raise errors.NotFound(f"dashboard {dashboard_id!r} has no version {version} of yours")
    return DashboardVersion.model_validate({**row, "dashboard_id": dashboard_id})


async def _run(
    cmd: Commander, command_type: type, dashboard_id: str, **fields: Any
) -> CommandResult:
    return await _owned(
        cmd.services.workflow.dashboard_command(
            cmd.viewer.user_id, command_type, dashboard_id, cmd.command_id, **fields
        )
    )


async def _owned(command: Any) -> Any:
    """Await a dashboard command, answering another user's dashboard as not found."""
    try:
        return await command
    except errors.Forbidden:
        raise errors.NotFound("no such dashboard") from None


async def _own(read: Reader, dashboard_id: str) -> None:
    if await read.services.app.reads.dashboard(read.user, dashboard_id) is None:
        raise errors.NotFound(f"there is no dashboard {dashboard_id!r} of yours")


def _chart(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "w": row["width"], "h": row["height"]}
