"""Dashboard history: every change with who and when, and the whole layout after it.

The layout after each change is the domain's own state (folded with the domain's
``evolve``), stored as JSON: showing a dashboard as of any change, or restoring it,
needs no replay at read time.
"""

from __future__ import annotations

import msgspec

from ironstar.domain import dashboard as d
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._events import names_of
from ironstar.projections.store import Tx


def describe(e: object) -> str:
    """One line a person reads in the history timeline."""
    match e:
        case d.DashboardCreated():
            return f"created the dashboard “{e.name}”"
        case d.DashboardRenamed():
            return f"renamed the dashboard to “{e.name}”"
        case d.DashboardDeleted():
            return "deleted the dashboard"
        case d.TabAdded():
            return f"added the tab “{e.name}”"
        case d.TabRenamed():
            return f"renamed a tab to “{e.name}”"
        case d.TabRemoved():
            return "removed a tab"
        case d.TabsReordered():
            return "reordered the tabs"
        case d.ChartAdded():
            title = e.definition.config.get("title") or e.definition.config.get("chart_type")
            return f"added the chart “{title}”"
        case d.ChartRemoved():
            return "removed a chart"
        case d.ChartMovedToTab():
            return "moved a chart to another tab"
        case d.ChartMoved():
            return f"moved a chart to column {e.position.x + 1}, row {e.position.y + 1}"
        case d.ChartResized():
            return f"resized a chart to {e.position.width} by {e.position.height}"
    if type(e).__name__ == "DashboardRestored":
        return f"restored the dashboard as of version {e.restored_version}"  # type: ignore[attr-defined]
    return type(e).__name__


class DashboardHistory:
    name = "dashboard_history"
    version = 1
    tables = ("dashboard_history",)
    event_types = names_of(d)

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(d.DashboardState)
        # The layouts this projection inserted in the current transaction, by dashboard:
        # the next change of a dashboard starts from it instead of reading it back.
        self._tx: Tx | None = None
        self._written: dict[str, tuple[int, d.DashboardState]] = {}

    def create(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS dashboard_history (dashboard_id TEXT NOT NULL, "
            "version BIGINT NOT NULL, position BIGINT NOT NULL, event_type TEXT NOT NULL, "
            "user_id TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, summary TEXT NOT NULL, "
            "layout TEXT NOT NULL, PRIMARY KEY (dashboard_id, version))"
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS dashboard_history_by_position "
            "ON dashboard_history (dashboard_id, position)"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        e = event.data
        if tx is not self._tx:  # remembered layouts are only good in their transaction
            self._tx = tx
            self._written = {}
        written = self._written.get(e.dashboard_id)
        if written is not None and written[0] == event.stream_version - 1:
            before: d.DashboardState | None = written[1]
        else:
            row = tx.fetchone(
                "SELECT layout FROM dashboard_history WHERE dashboard_id = ? AND version = ?",
                (e.dashboard_id, event.stream_version - 1),
            )
            before = None if row is None else self._decoder.decode(row[0])
        after = d.evolve(before, e)
        inserted = tx.execute(
            "INSERT INTO dashboard_history VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (dashboard_id, version) DO NOTHING",
            (
                e.dashboard_id,
                event.stream_version,
                event.position,
                event.event_type,
                e.user_id,
                e.at,
                describe(e),
                self._encoder.encode(after).decode(),
            ),
        )
        if getattr(inserted, "rowcount", 0) == 1:  # the stored layout is exactly ``after``
            self._written[e.dashboard_id] = (event.stream_version, after)
        else:
            self._written.pop(e.dashboard_id, None)
