"""Dashboard history: every change with who and when, and the whole layout after it.

The layout after each change is the domain's own state (folded with the domain's
``evolve``), stored as JSON: showing a dashboard as of any change, or restoring it,
needs no replay at read time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from ironstar.domain import dashboard as d
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._events import names_of
from ironstar.projections.models._rows import chunks
from ironstar.projections.store import Tx

_REMEMBERED = 4096  # dashboards whose last layout is kept between pages


def _chart_title(e: d.ChartAdded) -> object:
    return e.definition.config.get("title") or e.definition.config.get("chart_type")


# One line a person reads in the history timeline, by event type: a dict lookup rather
# than a match over every class (which tried them in turn for every event of a rebuild).
_DESCRIPTIONS: dict[type, Callable[[Any], str]] = {
    d.DashboardCreated: lambda e: f"created the dashboard “{e.name}”",
    d.DashboardRenamed: lambda e: f"renamed the dashboard to “{e.name}”",
    d.DashboardDeleted: lambda e: "deleted the dashboard",
    d.DashboardRestored: lambda e: f"restored the dashboard as of version {e.restored_version}",
    d.TabAdded: lambda e: f"added the tab “{e.name}”",
    d.TabRenamed: lambda e: f"renamed a tab to “{e.name}”",
    d.TabRemoved: lambda e: "removed a tab",
    d.TabsReordered: lambda e: "reordered the tabs",
    d.ChartAdded: lambda e: f"added the chart “{_chart_title(e)}”",
    d.ChartRemoved: lambda e: "removed a chart",
    d.ChartMovedToTab: lambda e: "moved a chart to another tab",
    d.ChartMoved: lambda e: f"moved a chart to column {e.position.x + 1}, row {e.position.y + 1}",
    d.ChartResized: lambda e: f"resized a chart to {e.position.width} by {e.position.height}",
}


def describe(e: object) -> str:
    """One line a person reads in the history timeline."""
    text = _DESCRIPTIONS.get(type(e))
    return type(e).__name__ if text is None else text(e)


class DashboardHistory:
    name = "dashboard_history"
    version = 2
    tables = ("dashboard_history",)
    event_types = names_of(d)

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(d.DashboardState)
        # The last layout this projection inserted, by dashboard: the next change of a
        # dashboard starts from it instead of reading it back and decoding it, as long as
        # the table's newest version of that dashboard is still that one (a page that
        # rolled back, or a table rebuilt meanwhile, shows as a different newest version).
        self._latest: dict[str, tuple[int, d.DashboardState]] = {}

    def create(self, tx: Tx) -> None:
        self._latest = {}
        # Rows are kept in the order they are written (by position: SQLite's rowid), so
        # each insert appends at the end of the table instead of landing somewhere inside
        # it by dashboard: the layouts are most of the table, and a rebuild wrote them
        # all over the file. The unique (dashboard, version) index is all reads need.
        position = "INTEGER" if tx.dialect == "sqlite" else "BIGINT"
        tx.execute(
            "CREATE TABLE IF NOT EXISTS dashboard_history (dashboard_id TEXT NOT NULL, "
            f"version BIGINT NOT NULL, position {position} PRIMARY KEY, "
            "event_type TEXT NOT NULL, user_id TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, "
            "summary TEXT NOT NULL, layout TEXT NOT NULL, UNIQUE (dashboard_id, version))"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        self.apply_page(tx, [event])

    def apply_page(self, tx: Tx, events: list[RecordedEvent]) -> None:
        first: dict[str, int] = {}  # each dashboard's first version in the page
        for event in events:
            first.setdefault(event.data.dashboard_id, event.stream_version)
        latest, stored = self._load(tx, first)
        encode, decode = self._encoder.encode, self._decoder.decode
        rows = []
        for event in events:
            e = event.data
            did, version = e.dashboard_id, event.stream_version
            known = latest.get(did)
            if known is not None and known[0] == version - 1:
                before: d.DashboardState | None = known[1]
            else:
                layout = stored.get((did, version - 1))
                before = None if layout is None else decode(layout)
            after = d.evolve(before, e)
            if (did, version) in stored:  # INSERT ... ON CONFLICT DO NOTHING keeps the row
                latest.pop(did, None)
                continue
            layout = encode(after).decode()
            stored[did, version] = layout
            latest[did] = (version, after)
            rows.append(
                (
                    did,
                    version,
                    event.position,
                    event.event_type,
                    e.user_id,
                    e.at,
                    describe(e),
                    layout,
                )
            )
        tx.executemany(
            "INSERT INTO dashboard_history VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            rows,
        )
        self._remember(latest)

    def _load(
        self, tx: Tx, first: dict[str, int]
    ) -> tuple[dict[str, tuple[int, d.DashboardState]], dict[tuple[str, int], str]]:
        """The remembered layouts still current, and the stored rows the page may meet
        (from the version before each dashboard's first change in the page on)."""
        newest: dict[str, int] = {}
        for part in chunks(list(first)):
            marks = ", ".join("?" * len(part))
            newest.update(
                tx.fetchall(
                    "SELECT dashboard_id, max(version) FROM dashboard_history "
                    f"WHERE dashboard_id IN ({marks}) GROUP BY dashboard_id",
                    part,
                )
            )
        latest: dict[str, tuple[int, d.DashboardState]] = {}
        stored: dict[tuple[str, int], str] = {}
        for did, version in first.items():
            top = newest.get(did)
            if top is None or top < version - 1:
                continue  # nothing stored the page's changes could meet
            known = self._latest.get(did)
            if known is not None and known[0] == top == version - 1:
                latest[did] = known
                continue
            for v, layout in tx.fetchall(
                "SELECT version, layout FROM dashboard_history "
                "WHERE dashboard_id = ? AND version >= ?",
                (did, version - 1),
            ):
                stored[did, v] = layout
        return latest, stored

    def _remember(self, latest: dict[str, tuple[int, d.DashboardState]]) -> None:
        remembered = self._latest
        for did, known in latest.items():
            remembered.pop(did, None)  # re-inserted last: evicted last
            remembered[did] = known
        while len(remembered) > _REMEMBERED:
            del remembered[next(iter(remembered))]
