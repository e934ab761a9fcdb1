"""Dashboard commands and events, and the values they carry (see ``dashboard``)."""

from __future__ import annotations

from typing import Final

from ironstar.domain.grid import GridRect
from ironstar.domain.kernel import ChartDefinition, Command, Event, Name, UserId, Value


class Tab(Value, frozen=True, kw_only=True):
    tab_id: str
    name: Name


class PlacedChart(Value, frozen=True, kw_only=True):
    chart_id: str
    tab_id: str
    definition: ChartDefinition
    position: GridRect


# -- commands: every one names the dashboard, the acting user and the time ------------


class DashboardCommand(Command, frozen=True, kw_only=True):
    dashboard_id: str
    actor: UserId
    at: float


class CreateDashboard(DashboardCommand, frozen=True, kw_only=True):
    name: str
    first_tab_id: str
    first_tab_name: str = "Overview"


class RenameDashboard(DashboardCommand, frozen=True, kw_only=True):
    name: str


class DeleteDashboard(DashboardCommand, frozen=True, kw_only=True):
    pass


class AddTab(DashboardCommand, frozen=True, kw_only=True):
    tab_id: str
    name: str


class RenameTab(DashboardCommand, frozen=True, kw_only=True):
    tab_id: str
    name: str


class RemoveTab(DashboardCommand, frozen=True, kw_only=True):
    tab_id: str


class ReorderTabs(DashboardCommand, frozen=True, kw_only=True):
    tab_ids: tuple[str, ...]  # every tab, in the new order


class AddChart(DashboardCommand, frozen=True, kw_only=True):
    """``query_completed`` is the handler's reading of the query's stream (or the
    QueryResults read model): a chart can only come from a completed query."""

    chart_id: str
    tab_id: str
    definition: ChartDefinition
    position: GridRect
    query_completed: bool


class RemoveChart(DashboardCommand, frozen=True, kw_only=True):
    chart_id: str


class MoveChartToTab(DashboardCommand, frozen=True, kw_only=True):
    chart_id: str
    tab_id: str
    position: GridRect | None = None  # None: the highest free place of the chart's size


class MoveChart(DashboardCommand, frozen=True, kw_only=True):
    chart_id: str
    x: int
    y: int


class ResizeChart(DashboardCommand, frozen=True, kw_only=True):
    chart_id: str
    width: int
    height: int


# -- events: every one names the dashboard, the acting user and the time --------------


class RestoreDashboard(DashboardCommand, frozen=True, kw_only=True):
    """Bring back the layout the dashboard had at ``version`` (read from its history)."""

    version: int
    name: str
    tabs: tuple[Tab, ...]
    charts: tuple[PlacedChart, ...]


class DashboardEvent(Event, frozen=True, kw_only=True):
    dashboard_id: str
    user_id: UserId
    at: float


class DashboardCreated(DashboardEvent, frozen=True, kw_only=True):
    """``user_id`` becomes the owner."""

    name: Name
    tab_id: str
    tab_name: Name


class DashboardRenamed(DashboardEvent, frozen=True, kw_only=True):
    name: Name


class DashboardDeleted(DashboardEvent, frozen=True, kw_only=True):
    pass


class TabAdded(DashboardEvent, frozen=True, kw_only=True):
    tab_id: str
    name: Name  # appended after the existing tabs


class TabRenamed(DashboardEvent, frozen=True, kw_only=True):
    tab_id: str
    name: Name


class TabRemoved(DashboardEvent, frozen=True, kw_only=True):
    tab_id: str


class TabsReordered(DashboardEvent, frozen=True, kw_only=True):
    tab_ids: tuple[str, ...]


class ChartAdded(DashboardEvent, frozen=True, kw_only=True):
    chart_id: str
    tab_id: str
    definition: ChartDefinition
    position: GridRect


class ChartRemoved(DashboardEvent, frozen=True, kw_only=True):
    chart_id: str
    tab_id: str


class ChartMovedToTab(DashboardEvent, frozen=True, kw_only=True):
    chart_id: str
    from_tab_id: str
    tab_id: str
    position: GridRect


class ChartMoved(DashboardEvent, frozen=True, kw_only=True):
    chart_id: str
    tab_id: str
    position: GridRect  # the whole rectangle after the move


class ChartResized(DashboardEvent, frozen=True, kw_only=True):
    chart_id: str
    tab_id: str
    position: GridRect  # the whole rectangle after the resize


class DashboardRestored(DashboardEvent, frozen=True, kw_only=True):
    """The whole layout replaced by an earlier one: history is kept, never rewritten."""

    restored_version: int
    name: Name
    tabs: tuple[Tab, ...]
    charts: tuple[PlacedChart, ...]


Commands = (
    CreateDashboard
    | RenameDashboard
    | DeleteDashboard
    | AddTab
    | RenameTab
    | RemoveTab
    | ReorderTabs
    | AddChart
    | RemoveChart
    | MoveChartToTab
    | MoveChart
    | ResizeChart
    | RestoreDashboard
)
Events = (
    DashboardCreated
    | DashboardRenamed
    | DashboardDeleted
    | TabAdded
    | TabRenamed
    | TabRemoved
    | TabsReordered
    | ChartAdded
    | ChartRemoved
    | ChartMovedToTab
    | ChartMoved
    | ChartResized
    | DashboardRestored
)
EVENTS: Final = (
    DashboardCreated,
    DashboardRenamed,
    DashboardDeleted,
    TabAdded,
    TabRenamed,
    TabRemoved,
    TabsReordered,
    ChartAdded,
    ChartRemoved,
    ChartMovedToTab,
    ChartMoved,
    ChartResized,
    DashboardRestored,
)
