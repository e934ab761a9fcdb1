"""Each user's preferences: theme, default catalog, UI state."""

from __future__ import annotations

from ironstar.domain import preferences as p
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._json import dumps
from ironstar.projections.models._rows import Rows
from ironstar.projections.store import Tx

_COLUMNS = ("user_id", "theme", "default_catalog", "ui_state", "updated_at")
_THEME, _DEFAULT_CATALOG, _UI_STATE, _UPDATED = 1, 2, 3, 4


class Preferences:
    name = "preferences"
    version = 1
    tables = ("preferences",)
    event_types = frozenset(
        {
            "PreferencesInitialized",
            "ThemeSet",
            "DefaultCatalogSet",
            "DefaultCatalogCleared",
            "UiStateUpdated",
        }
    )

    def create(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS preferences (user_id TEXT PRIMARY KEY, "
            "theme TEXT NOT NULL, default_catalog TEXT, ui_state TEXT NOT NULL, "
            "updated_at DOUBLE PRECISION NOT NULL)"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        self.apply_page(tx, [event])

    def apply_page(self, tx: Tx, events: list[RecordedEvent]) -> None:
        users = Rows("preferences", _COLUMNS)
        users.load(tx, [event.data.user_id for event in events])
        for event in events:
            e = event.data
            if isinstance(e, p.PreferencesInitialized):
                users.insert([e.user_id, str(e.theme), None, "{}", e.at])
                continue
            # tolerate a stream whose first event is not PreferencesInitialized
            users.insert([e.user_id, "system", None, "{}", e.at])
            row = users.get(e.user_id)
            assert row is not None
            match e:
                case p.ThemeSet():
                    row[_THEME] = str(e.theme)
                case p.DefaultCatalogSet():
                    row[_DEFAULT_CATALOG] = e.catalog_id
                case p.DefaultCatalogCleared():
                    row[_DEFAULT_CATALOG] = None
                case p.UiStateUpdated():
                    row[_UI_STATE] = dumps(e.ui_state)
            row[_UPDATED] = e.at
        users.flush(tx)
