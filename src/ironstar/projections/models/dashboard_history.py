"""Dashboard history: every change with who and when, and the layout after any of them.

Each row keeps its change (the event, as JSON); every ``KEYFRAME_EVERY``-th version also
keeps the whole layout after it (the domain's own state, folded with the domain's
``evolve``). The layout as of any change is the keyframe at or before it with at most
15 changes folded on top - the same fold the projection itself runs - so a read
replays little, and the table grows by a change, not a whole layout, per change (the
layouts were most of the read models' file, and most of a rebuild's writing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from ironstar.domain import dashboard as d
from ironstar.domain.catalogue import EVENT_TYPES
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._events import names_of
from ironstar.projections.models._rows import chunks
from ironstar.projections.store import Tx

_REMEMBERED = 4096  # dashboards whose last layout is kept between pages
KEYFRAME_EVERY = 16  # versions 1, 17, 33, ... keep the whole layout after them

StoredRow = tuple[str | None, str, str]  # (layout or None, event type, change) of a version


def keyframe_of(version: int) -> int:
    """The version at or before ``version`` whose row keeps the whole layout."""
    return (version - 1) // KEYFRAME_EVERY * KEYFRAME_EVERY + 1


_STATE = msgspec.json.Decoder(d.DashboardState)
_CHANGES: dict[str, msgspec.json.Decoder[Any]] = {
    name: msgspec.json.Decoder(EVENT_TYPES[name][0]) for name in names_of(d)
}


def layout_after(version: int, rows: dict[int, StoredRow]) -> d.DashboardState | None:
    """The layout right after ``version``, from its keyframe row and the changes after it
    (``rows`` by version); None when a row it needs is missing."""
    first = keyframe_of(version)
    keyframe = rows.get(first)
    if keyframe is None or keyframe[0] is None:
        return None
    state = _STATE.decode(keyframe[0])
    for v in range(first + 1, version + 1):
        row = rows.get(v)
        if row is None:
            return None
        state = d.evolve(state, _CHANGES[row[1]].decode(row[2]))
    return state


def rows_by_version(rows: Iterable[tuple[Any, ...]]) -> dict[int, StoredRow]:
    """``(version, layout, event_type, change)`` rows as ``layout_after`` takes them."""
    return {int(v): (layout, event_type, change) for v, layout, event_type, change in rows}


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
    version = 3
    tables = ("dashboard_history",)
    event_types = names_of(d)

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
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
            "summary TEXT NOT NULL, layout TEXT, change TEXT NOT NULL, "
            "UNIQUE (dashboard_id, version))"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        self.apply_page(tx, [event])

    def apply_page(self, tx: Tx, events: list[RecordedEvent]) -> None:
        first: dict[str, int] = {}  # each dashboard's first version in the page
        for event in events:
            first.setdefault(event.data.dashboard_id, event.stream_version)
        latest, stored = self._load(tx, first)
        encode = self._encoder.encode
        rows = []
        for event in events:
            e = event.data
            did, version = e.dashboard_id, event.stream_version
            known = latest.get(did)
            mine = stored.setdefault(did, {})
            if known is not None and known[0] == version - 1:
                before: d.DashboardState | None = known[1]
            else:
                before = layout_after(version - 1, mine) if version > 1 else None
            after = d.evolve(before, e)
            if version in mine:  # INSERT ... ON CONFLICT DO NOTHING keeps the row
                latest.pop(did, None)
                continue
            layout = encode(after).decode() if keyframe_of(version) == version else None
            change = encode(e).decode()
            mine[version] = (layout, event.event_type, change)
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
                    change,
                )
            )
        tx.executemany(
            "INSERT INTO dashboard_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            rows,
        )
        self._remember(latest)

    def _load(
        self, tx: Tx, first: dict[str, int]
    ) -> tuple[dict[str, tuple[int, d.DashboardState]], dict[str, dict[int, StoredRow]]]:
        """The remembered layouts still current, and the stored rows the page may meet
        (from the keyframe of the version before each dashboard's first change on)."""
        newest: dict[str, int] = {}
        for part in chunks(list(first)):
            # One index seek per dashboard. (max() over "dashboard_id IN (...) GROUP BY"
            # read every version of each dashboard instead: the 10,000th change of a
            # dashboard cost ~1 ms here, the first a few microseconds.)
            wanted = ", ".join(["(CAST(? AS TEXT))"] * len(part))
            newest.update(
                (did, version)
                for did, version in tx.fetchall(
                    f"WITH wanted(did) AS (VALUES {wanted}) SELECT did, (SELECT max(version) "
                    "FROM dashboard_history WHERE dashboard_id = wanted.did) FROM wanted",
                    part,
                )
                if version is not None
            )
        latest: dict[str, tuple[int, d.DashboardState]] = {}
        stored: dict[str, dict[int, StoredRow]] = {}
        for did, version in first.items():
            top = newest.get(did)
            if top is None or top < version - 1:
                continue  # nothing stored the page's changes could meet
            known = self._latest.get(did)
            if known is not None and known[0] == top == version - 1:
                latest[did] = known
                continue
            stored[did] = rows_by_version(
                tx.fetchall(
                    "SELECT version, layout, event_type, change FROM dashboard_history "
                    "WHERE dashboard_id = ? AND version >= ?",
                    (did, keyframe_of(max(version - 1, 1))),
                )
            )
        return latest, stored

    def _remember(self, latest: dict[str, tuple[int, d.DashboardState]]) -> None:
        remembered = self._latest
        for did, known in latest.items():
            remembered.pop(did, None)  # re-inserted last: evicted last
            remembered[did] = known
        while len(remembered) > _REMEMBERED:
            del remembered[next(iter(remembered))]
