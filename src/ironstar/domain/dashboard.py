"""Dashboard: charts arranged on a 12-column grid, grouped in ordered tabs.

Rules: names are non-empty and bounded, tab names unique within the dashboard;
every chart sits on an existing tab, inside the grid, overlapping no other chart
of its tab; a chart comes from a query that completed. A dashboard starts with
one tab; its last tab cannot be removed, nor a tab that still holds charts.

Commands and events live in ``dashboard_messages`` and are re-exported here.
"""

from __future__ import annotations

from typing import Final, assert_never

import msgspec

from ironstar.domain import errors
from ironstar.domain.access import ensure_owner
from ironstar.domain.dashboard_messages import (
    EVENTS,
    AddChart,
    AddTab,
    ChartAdded,
    ChartMoved,
    ChartMovedToTab,
    ChartRemoved,
    ChartResized,
    Commands,
    CreateDashboard,
    DashboardCommand,
    DashboardCreated,
    DashboardDeleted,
    DashboardEvent,
    DashboardRenamed,
    DashboardRestored,
    DeleteDashboard,
    Events,
    MoveChart,
    MoveChartToTab,
    PlacedChart,
    RemoveChart,
    RemoveTab,
    RenameDashboard,
    RenameTab,
    ReorderTabs,
    ResizeChart,
    RestoreDashboard,
    Tab,
    TabAdded,
    TabRemoved,
    TabRenamed,
    TabsReordered,
)
from ironstar.domain.grid import GridRect, ensure_free, first_free, parse_grid_rect
from ironstar.domain.kernel import (
    Name,
    UserId,
    name_key,
    parse_chart_definition,
    parse_id,
    parse_instant,
    parse_name,
    parse_user_id,
)

__all__ = [
    "EVENTS",
    "MAX_TABS",
    "SNAPSHOT_SCHEMA",
    "STREAM_TYPE",
    "AddChart",
    "AddTab",
    "ChartAdded",
    "ChartMoved",
    "ChartMovedToTab",
    "ChartRemoved",
    "ChartResized",
    "Commands",
    "CreateDashboard",
    "DashboardCommand",
    "DashboardCreated",
    "DashboardDeleted",
    "DashboardEvent",
    "DashboardRenamed",
    "DashboardRestored",
    "DashboardState",
    "DeleteDashboard",
    "Events",
    "GridRect",
    "MoveChart",
    "MoveChartToTab",
    "PlacedChart",
    "RemoveChart",
    "RemoveTab",
    "RenameDashboard",
    "RenameTab",
    "ReorderTabs",
    "ResizeChart",
    "RestoreDashboard",
    "State",
    "Tab",
    "TabAdded",
    "TabRemoved",
    "TabRenamed",
    "TabsReordered",
    "decide",
    "evolve",
    "stream_id",
]

STREAM_TYPE: Final = "dashboard"
SNAPSHOT_SCHEMA: Final = 1
MAX_TABS: Final = 50


def stream_id(dashboard_id: str) -> str:
    return f"{STREAM_TYPE}:{dashboard_id}"


class DashboardState(msgspec.Struct, frozen=True, kw_only=True):
    dashboard_id: str
    owner: UserId
    name: Name
    tabs: tuple[Tab, ...]
    charts: tuple[PlacedChart, ...] = ()
    deleted: bool = False

    def tab(self, tab_id: str) -> Tab:
        for tab in self.tabs:
            if tab.tab_id == tab_id:
                return tab
        raise errors.UnknownTab(f"this dashboard has no tab {tab_id!r}")

    def chart(self, chart_id: str) -> PlacedChart:
        for chart in self.charts:
            if chart.chart_id == chart_id:
                return chart
        raise errors.UnknownChart(f"this dashboard has no chart {chart_id!r}")

    def occupied(self, tab_id: str, *, except_chart: str = "") -> dict[str, GridRect]:
        return {
            c.chart_id: c.position
            for c in self.charts
            if c.tab_id == tab_id and c.chart_id != except_chart
        }


State = DashboardState


def _writable(state: DashboardState | None, actor: UserId) -> DashboardState:
    if state is None:
        raise errors.NotFound("no such dashboard")
    ensure_owner(state.owner, actor)
    if state.deleted:
        raise errors.Deleted("this dashboard was deleted")
    return state


def _unique_tab_name(state: DashboardState, name: Name, *, except_tab: str = "") -> Name:
    for tab in state.tabs:
        if tab.tab_id != except_tab and name_key(tab.name) == name_key(name):
            raise errors.NameTaken(f"this dashboard already has a tab called {tab.name!r}")
    return name


def _placed(state: DashboardState, tab_id: str, rect: GridRect, *, chart_id: str) -> GridRect:
    """``rect`` if it fits the grid and is free on ``tab_id`` (ignoring ``chart_id``)."""
    rect = parse_grid_rect(rect)
    ensure_free(rect, state.occupied(tab_id, except_chart=chart_id))
    return rect


def _first_free_place(state: DashboardState, tab_id: str, chart: PlacedChart) -> GridRect:
    """Where a chart moved to another tab without a place lands: the highest place
    there that fits its size, so it never hides below blank rows or fails on a taken
    spot."""
    size = chart.position
    rect = first_free(size.width, size.height, state.occupied(tab_id).values())
    if rect is None:
        raise errors.GridOverlap(
            f"the tab has no free place for a chart of {size.width}x{size.height} cells"
        )
    return rect


def _create(command: CreateDashboard, state: DashboardState | None) -> list[Events]:
    if state is not None:
        raise errors.AlreadyExists(f"dashboard {command.dashboard_id!r} already exists")
    return [
        DashboardCreated(
            dashboard_id=parse_id(command.dashboard_id, what="dashboard id"),
            user_id=parse_user_id(command.actor),
            at=parse_instant(command.at),
            name=parse_name(command.name, what="dashboard name"),
            tab_id=parse_id(command.first_tab_id, what="tab id"),
            tab_name=parse_name(command.first_tab_name, what="tab name"),
        )
    ]


def _decide_tabs(command: Commands, state: DashboardState, at: float) -> list[Events]:
    d, u = state.dashboard_id, command.actor
    match command:
        case AddTab():
            tab_id = parse_id(command.tab_id, what="tab id")
            if any(t.tab_id == tab_id for t in state.tabs):
                raise errors.AlreadyExists(f"this dashboard already has a tab {tab_id!r}")
            if len(state.tabs) >= MAX_TABS:
                raise errors.InvalidValue(f"a dashboard has at most {MAX_TABS} tabs")
            name = _unique_tab_name(state, parse_name(command.name, what="tab name"))
            return [TabAdded(dashboard_id=d, user_id=u, at=at, tab_id=tab_id, name=name)]
        case RenameTab():
            tab = state.tab(command.tab_id)
            name = parse_name(command.name, what="tab name")
            if name == tab.name:
                return []
            _unique_tab_name(state, name, except_tab=tab.tab_id)
            return [TabRenamed(dashboard_id=d, user_id=u, at=at, tab_id=tab.tab_id, name=name)]
        case RemoveTab():
            tab = state.tab(command.tab_id)
            if state.occupied(tab.tab_id):
                raise errors.TabNotEmpty("move or remove this tab's charts before removing it")
            if len(state.tabs) == 1:
                raise errors.LastTab("a dashboard keeps at least one tab")
            return [TabRemoved(dashboard_id=d, user_id=u, at=at, tab_id=tab.tab_id)]
        case ReorderTabs():
            current = tuple(t.tab_id for t in state.tabs)
            if sorted(command.tab_ids) != sorted(current):
                raise errors.InvalidValue("a new tab order must list every tab exactly once")
            if tuple(command.tab_ids) == current:
                return []
            return [TabsReordered(dashboard_id=d, user_id=u, at=at, tab_ids=tuple(command.tab_ids))]
    raise TypeError(f"not a tab command: {command!r}")


def _decide_charts(command: Commands, state: DashboardState, at: float) -> list[Events]:
    d, u = state.dashboard_id, command.actor
    match command:
        case AddChart():
            chart_id = parse_id(command.chart_id, what="chart id")
            if any(c.chart_id == chart_id for c in state.charts):
                raise errors.AlreadyExists(f"this dashboard already has a chart {chart_id!r}")
            definition = parse_chart_definition(command.definition)
            if not command.query_completed:
                raise errors.QueryNotCompleted("a chart can only show a completed query's result")
            tab = state.tab(command.tab_id)
            rect = _placed(state, tab.tab_id, command.position, chart_id=chart_id)
            return [
                ChartAdded(
                    dashboard_id=d,
                    user_id=u,
                    at=at,
                    chart_id=chart_id,
                    tab_id=tab.tab_id,
                    definition=definition,
                    position=rect,
                )
            ]
        case RemoveChart():
            chart = state.chart(command.chart_id)
            return [
                ChartRemoved(
                    dashboard_id=d, user_id=u, at=at, chart_id=chart.chart_id, tab_id=chart.tab_id
                )
            ]
        case MoveChartToTab():
            chart = state.chart(command.chart_id)
            target = state.tab(command.tab_id)
            if target.tab_id == chart.tab_id:
                wanted = command.position or chart.position
                return _reposition(ChartMoved, state, chart, wanted, u, at)
            if command.position is not None:
                rect = _placed(state, target.tab_id, command.position, chart_id=chart.chart_id)
            else:
                rect = _first_free_place(state, target.tab_id, chart)
            return [
                ChartMovedToTab(
                    dashboard_id=d,
                    user_id=u,
                    at=at,
                    chart_id=chart.chart_id,
                    from_tab_id=chart.tab_id,
                    tab_id=target.tab_id,
                    position=rect,
                )
            ]
        case MoveChart():
            chart = state.chart(command.chart_id)
            wanted = msgspec.structs.replace(chart.position, x=command.x, y=command.y)
            return _reposition(ChartMoved, state, chart, wanted, u, at)
        case ResizeChart():
            chart = state.chart(command.chart_id)
            wanted = msgspec.structs.replace(
                chart.position, width=command.width, height=command.height
            )
            return _reposition(ChartResized, state, chart, wanted, u, at)
    raise TypeError(f"not a chart command: {command!r}")


def _reposition(
    event_type: type[ChartMoved] | type[ChartResized],
    state: DashboardState,
    chart: PlacedChart,
    wanted: GridRect,
    actor: UserId,
    at: float,
) -> list[Events]:
    if wanted == chart.position:
        return []
    rect = _placed(state, chart.tab_id, wanted, chart_id=chart.chart_id)
    return [
        event_type(
            dashboard_id=state.dashboard_id,
            user_id=actor,
            at=at,
            chart_id=chart.chart_id,
            tab_id=chart.tab_id,
            position=rect,
        )
    ]


def _restore(command: RestoreDashboard, state: DashboardState | None) -> list[Events]:
    """Replace the layout with an earlier one; a deleted dashboard may be restored too."""
    if state is None:
        raise errors.NotFound("no such dashboard")
    ensure_owner(state.owner, command.actor)
    if not command.tabs:
        raise errors.InvalidValue("a restored dashboard needs at least one tab")
    target = DashboardState(
        dashboard_id=state.dashboard_id,
        owner=state.owner,
        name=parse_name(command.name, what="dashboard name"),
        tabs=(),
    )
    for tab in command.tabs:  # the same rules as adding them one by one
        if any(t.tab_id == tab.tab_id for t in target.tabs):
            raise errors.AlreadyExists(f"tab {tab.tab_id!r} is listed twice")
        name = _unique_tab_name(target, parse_name(tab.name, what="tab name"))
        tab_id = parse_id(tab.tab_id, what="tab id")
        target = msgspec.structs.replace(target, tabs=(*target.tabs, Tab(tab_id=tab_id, name=name)))
    for chart in command.charts:
        if any(c.chart_id == chart.chart_id for c in target.charts):
            raise errors.AlreadyExists(f"chart {chart.chart_id!r} is listed twice")
        tab = target.tab(chart.tab_id)
        rect = _placed(target, tab.tab_id, chart.position, chart_id=chart.chart_id)
        placed = msgspec.structs.replace(
            chart, position=rect, definition=parse_chart_definition(chart.definition)
        )
        target = msgspec.structs.replace(target, charts=(*target.charts, placed))
    if (target.name, target.tabs, target.charts, False) == (
        state.name,
        state.tabs,
        state.charts,
        state.deleted,
    ):
        return []
    return [
        DashboardRestored(
            dashboard_id=state.dashboard_id,
            user_id=command.actor,
            at=parse_instant(command.at),
            restored_version=command.version,
            name=target.name,
            tabs=target.tabs,
            charts=target.charts,
        )
    ]


def decide(command: Commands, state: DashboardState | None) -> list[Events]:
    if isinstance(command, CreateDashboard):
        return _create(command, state)
    if isinstance(command, RestoreDashboard):
        return _restore(command, state)
    current = _writable(state, command.actor)
    at = parse_instant(command.at)
    d, u = current.dashboard_id, command.actor
    match command:
        case RenameDashboard():
            name = parse_name(command.name, what="dashboard name")
            if name == current.name:
                return []
            return [DashboardRenamed(dashboard_id=d, user_id=u, at=at, name=name)]
        case DeleteDashboard():
            return [DashboardDeleted(dashboard_id=d, user_id=u, at=at)]
        case AddTab() | RenameTab() | RemoveTab() | ReorderTabs():
            return _decide_tabs(command, current, at)
        case AddChart() | RemoveChart() | MoveChartToTab() | MoveChart() | ResizeChart():
            return _decide_charts(command, current, at)
        case _:
            assert_never(command)


def _with_chart(state: DashboardState, chart_id: str, **changes: object) -> DashboardState:
    charts = tuple(
        msgspec.structs.replace(c, **changes) if c.chart_id == chart_id else c for c in state.charts
    )
    return msgspec.structs.replace(state, charts=charts)


def evolve(state: DashboardState | None, event: Events) -> DashboardState:
    if isinstance(event, DashboardCreated):
        first = Tab(tab_id=event.tab_id, name=event.tab_name)
        return DashboardState(
            dashboard_id=event.dashboard_id, owner=event.user_id, name=event.name, tabs=(first,)
        )
    if state is None:
        raise ValueError(f"{type(event).__name__} before DashboardCreated")
    replace = msgspec.structs.replace
    match event:
        case DashboardRenamed():
            return replace(state, name=event.name)
        case DashboardDeleted():
            return replace(state, deleted=True)
        case TabAdded():
            return replace(state, tabs=(*state.tabs, Tab(tab_id=event.tab_id, name=event.name)))
        case TabRenamed():
            tabs = tuple(
                replace(t, name=event.name) if t.tab_id == event.tab_id else t for t in state.tabs
            )
            return replace(state, tabs=tabs)
        case TabRemoved():
            return replace(state, tabs=tuple(t for t in state.tabs if t.tab_id != event.tab_id))
        case TabsReordered():
            by_id = {t.tab_id: t for t in state.tabs}
            return replace(state, tabs=tuple(by_id[i] for i in event.tab_ids))
        case ChartAdded():
            chart = PlacedChart(
                chart_id=event.chart_id,
                tab_id=event.tab_id,
                definition=event.definition,
                position=event.position,
            )
            return replace(state, charts=(*state.charts, chart))
        case ChartRemoved():
            charts = tuple(c for c in state.charts if c.chart_id != event.chart_id)
            return replace(state, charts=charts)
        case ChartMovedToTab():
            return _with_chart(state, event.chart_id, tab_id=event.tab_id, position=event.position)
        case ChartMoved() | ChartResized():
            return _with_chart(state, event.chart_id, position=event.position)
        case DashboardRestored():
            return replace(
                state, name=event.name, tabs=event.tabs, charts=event.charts, deleted=False
            )
        case _:
            assert_never(event)
