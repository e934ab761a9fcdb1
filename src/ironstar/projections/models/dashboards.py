"""DashboardLayoutView: dashboards, their ordered tabs and the charts placed on them."""

from __future__ import annotations

from ironstar.domain import dashboard as d
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._events import names_of
from ironstar.projections.models._json import dumps
from ironstar.projections.store import Tx


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
        e = event.data
        did = e.dashboard_id
        match e:
            case d.DashboardCreated():
                tx.execute(
                    "INSERT INTO dashboards VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) "
                    "ON CONFLICT (dashboard_id) DO NOTHING",
                    (
                        did,
                        e.user_id,
                        e.name,
                        e.at,
                        e.at,
                        e.user_id,
                        event.stream_version,
                        event.position,
                    ),
                )
                tx.execute(
                    "INSERT INTO dashboard_tabs VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING",
                    (did, e.tab_id, e.tab_name),
                )
            case d.DashboardRenamed():
                tx.execute("UPDATE dashboards SET name = ? WHERE dashboard_id = ?", (e.name, did))
            case d.DashboardDeleted():
                tx.execute("UPDATE dashboards SET deleted = 1 WHERE dashboard_id = ?", (did,))
            case d.TabAdded():
                tx.execute(
                    "INSERT INTO dashboard_tabs SELECT ?, ?, ?, coalesce(max(ordinal) + 1, 0) "
                    "FROM dashboard_tabs WHERE dashboard_id = ? ON CONFLICT DO NOTHING",
                    (did, e.tab_id, e.name, did),
                )
            case d.TabRenamed():
                tx.execute(
                    "UPDATE dashboard_tabs SET name = ? WHERE dashboard_id = ? AND tab_id = ?",
                    (e.name, did, e.tab_id),
                )
            case d.TabRemoved():
                tx.execute(
                    "DELETE FROM dashboard_tabs WHERE dashboard_id = ? AND tab_id = ?",
                    (did, e.tab_id),
                )
            case d.TabsReordered():
                tx.executemany(
                    "UPDATE dashboard_tabs SET ordinal = ? WHERE dashboard_id = ? AND tab_id = ?",
                    [(i, did, tab) for i, tab in enumerate(e.tab_ids)],
                )
            case d.ChartAdded():
                r = e.position
                tx.execute(
                    "INSERT INTO dashboard_charts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (
                        did,
                        e.chart_id,
                        e.tab_id,
                        e.definition.query_id,
                        dumps(e.definition.config),
                        r.x,
                        r.y,
                        r.width,
                        r.height,
                    ),
                )
            case d.ChartRemoved():
                tx.execute(
                    "DELETE FROM dashboard_charts WHERE dashboard_id = ? AND chart_id = ?",
                    (did, e.chart_id),
                )
            case d.ChartMovedToTab() | d.ChartMoved() | d.ChartResized():
                r = e.position
                tx.execute(
                    "UPDATE dashboard_charts SET tab_id = ?, x = ?, y = ?, width = ?, height = ? "
                    "WHERE dashboard_id = ? AND chart_id = ?",
                    (e.tab_id, r.x, r.y, r.width, r.height, did, e.chart_id),
                )
            case _ if type(e).__name__ == "DashboardRestored":
                self._replace(tx, e)
        tx.execute(
            "UPDATE dashboards SET updated_at = ?, updated_by = ?, version = ?, position = ? "
            "WHERE dashboard_id = ?",
            (e.at, e.user_id, event.stream_version, event.position, did),
        )

    @staticmethod
    def _replace(tx: Tx, e: object) -> None:
        """A restore carries the whole layout: replace tabs and charts with it."""
        did = e.dashboard_id  # type: ignore[attr-defined]
        tx.execute("DELETE FROM dashboard_tabs WHERE dashboard_id = ?", (did,))
        tx.execute("DELETE FROM dashboard_charts WHERE dashboard_id = ?", (did,))
        tx.execute(
            "UPDATE dashboards SET name = ?, deleted = 0 WHERE dashboard_id = ?",
            (e.name, did),  # type: ignore[attr-defined]
        )
        tx.executemany(
            "INSERT INTO dashboard_tabs VALUES (?, ?, ?, ?)",
            [(did, t.tab_id, t.name, i) for i, t in enumerate(e.tabs)],  # type: ignore[attr-defined]
        )
        tx.executemany(
            "INSERT INTO dashboard_charts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    did,
                    c.chart_id,
                    c.tab_id,
                    c.definition.query_id,
                    dumps(c.definition.config),
                    c.position.x,
                    c.position.y,
                    c.position.width,
                    c.position.height,
                )
                for c in e.charts  # type: ignore[attr-defined]
            ],
        )
