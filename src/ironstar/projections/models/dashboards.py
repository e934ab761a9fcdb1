"""DashboardLayoutView: dashboards, their ordered tabs and the charts placed on them."""

from __future__ import annotations

from ironstar.domain import dashboard as d
from ironstar.domain.grid import GridRect
from ironstar.domain.kernel import ChartDefinition
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._events import names_of
from ironstar.projections.models._json import dumps
from ironstar.projections.models._rows import Row, Rows
from ironstar.projections.store import Tx

_DASHBOARD_COLUMNS = (
    "dashboard_id",
    "owner",
    "name",
    "created_at",
    "updated_at",
    "updated_by",
    "version",
    "position",
    "deleted",
)
_NAME, _UPDATED_AT, _DELETED = 2, 4, 8
_TAB_COLUMNS = ("dashboard_id", "tab_id", "name", "ordinal")
_TAB_NAME, _ORDINAL = 2, 3
_CHART_COLUMNS = (
    "dashboard_id",
    "chart_id",
    "tab_id",
    "query_id",
    "config",
    "x",
    "y",
    "width",
    "height",
)
_CHART_TAB, _X = 2, 5
# The events that read or write each child table: a page without any leaves the table
# unread (most pages are one rename, move or resize: one or two reads, not three).
_TAB_EVENTS = frozenset(
    {d.DashboardCreated, d.TabAdded, d.TabRenamed, d.TabRemoved, d.TabsReordered}
) | {d.DashboardRestored}
_CHART_EVENTS = frozenset(
    {d.ChartAdded, d.ChartRemoved, d.ChartMovedToTab, d.ChartMoved, d.ChartResized}
) | {d.DashboardRestored}


class DashboardLayouts:
    name = "dashboard_layouts"
    version = 1
    tables = ("dashboards", "dashboard_tabs", "dashboard_charts")
    event_types = names_of(d)

    def create(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS dashboards (dashboard_id TEXT PRIMARY KEY, "
            "owner TEXT NOT NULL, name TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, "
            "updated_at DOUBLE PRECISION NOT NULL, updated_by TEXT NOT NULL, "
            "version BIGINT NOT NULL, position BIGINT NOT NULL, deleted INTEGER NOT NULL)"
        )
        tx.execute("CREATE INDEX IF NOT EXISTS dashboards_by_owner ON dashboards (owner, name)")
        tx.execute(
            "CREATE TABLE IF NOT EXISTS dashboard_tabs (dashboard_id TEXT NOT NULL, "
            "tab_id TEXT NOT NULL, name TEXT NOT NULL, ordinal INTEGER NOT NULL, "
            "PRIMARY KEY (dashboard_id, tab_id))"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS dashboard_charts (dashboard_id TEXT NOT NULL, "
            "chart_id TEXT NOT NULL, tab_id TEXT NOT NULL, query_id TEXT NOT NULL, "
            "config TEXT NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL, "
            "width INTEGER NOT NULL, height INTEGER NOT NULL, "
            "PRIMARY KEY (dashboard_id, chart_id))"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        self.apply_page(tx, [event])

    def apply_page(self, tx: Tx, events: list[RecordedEvent]) -> None:
        ids = [event.data.dashboard_id for event in events]
        dashboards = Rows("dashboards", _DASHBOARD_COLUMNS)
        tabs = Rows("dashboard_tabs", _TAB_COLUMNS, key_columns=2)
        charts = Rows("dashboard_charts", _CHART_COLUMNS, key_columns=2)
        kinds = {type(event.data) for event in events}
        dashboards.load(tx, ids)
        if not kinds.isdisjoint(_TAB_EVENTS):
            tabs.load(tx, ids)
        if not kinds.isdisjoint(_CHART_EVENTS):
            charts.load(tx, ids)
        for event in events:
            e = event.data
            did = e.dashboard_id
            dashboard = dashboards.get(did)
            match e:
                case d.DashboardCreated():
                    dashboards.insert(
                        [
                            did,
                            e.user_id,
                            e.name,
                            e.at,
                            e.at,
                            e.user_id,
                            event.stream_version,
                            event.position,
                            0,
                        ]
                    )
                    dashboard = dashboards.get(did)
                    tabs.insert([did, e.tab_id, e.tab_name, 0])
                case d.DashboardRenamed():
                    if dashboard is not None:
                        dashboard[_NAME] = e.name
                case d.DashboardDeleted():
                    if dashboard is not None:
                        dashboard[_DELETED] = 1
                case d.TabAdded():
                    ordinal = max((t[_ORDINAL] for t in tabs.group(did)), default=-1) + 1
                    tabs.insert([did, e.tab_id, e.name, ordinal])
                case d.TabRenamed():
                    if (tab := tabs.get((did, e.tab_id))) is not None:
                        tab[_TAB_NAME] = e.name
                case d.TabRemoved():
                    tabs.delete((did, e.tab_id))
                case d.TabsReordered():
                    for i, tab_id in enumerate(e.tab_ids):
                        if (tab := tabs.get((did, tab_id))) is not None:
                            tab[_ORDINAL] = i
                case d.ChartAdded():
                    charts.insert(_chart_row(did, e.chart_id, e.tab_id, e.definition, e.position))
                case d.ChartRemoved():
                    charts.delete((did, e.chart_id))
                case d.ChartMovedToTab() | d.ChartMoved() | d.ChartResized():
                    if (chart := charts.get((did, e.chart_id))) is not None:
                        r = e.position
                        chart[_CHART_TAB] = e.tab_id
                        chart[_X:] = [r.x, r.y, r.width, r.height]
                case d.DashboardRestored():
                    # A restore carries the whole layout: tabs and charts are replaced.
                    for row in tabs.group(did):
                        tabs.delete((did, row[1]))
                    for row in charts.group(did):
                        charts.delete((did, row[1]))
                    if dashboard is not None:
                        dashboard[_NAME], dashboard[_DELETED] = e.name, 0
                    for i, t in enumerate(e.tabs):
                        _insert_new(tabs, [did, t.tab_id, t.name, i])
                    for c in e.charts:
                        row = _chart_row(did, c.chart_id, c.tab_id, c.definition, c.position)
                        _insert_new(charts, row)
            if dashboard is not None:
                dashboard[_UPDATED_AT:_DELETED] = [
                    e.at,
                    e.user_id,
                    event.stream_version,
                    event.position,
                ]
        for rows in (dashboards, tabs, charts):
            rows.flush(tx)


def _chart_row(
    did: str, chart_id: str, tab_id: str, definition: ChartDefinition, r: GridRect
) -> Row:
    return [
        did,
        chart_id,
        tab_id,
        definition.query_id,
        dumps(definition.config),
        r.x,
        r.y,
        r.width,
        r.height,
    ]


def _insert_new(rows: Rows, row: Row) -> None:
    """A plain INSERT: a second row with the same key fails the whole event."""
    if rows.get((row[0], row[1])) is not None:
        raise ValueError(f"duplicate key {row[:2]} in a restored layout")
    rows.insert(row)
