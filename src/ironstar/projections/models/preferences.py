"""Each user's preferences: theme, default catalog, UI state."""

from __future__ import annotations

from ironstar.domain import preferences as p
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._json import dumps
from ironstar.projections.store import Tx


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
        e = event.data
        match e:
            case p.PreferencesInitialized():
                tx.execute(
                    "INSERT INTO preferences VALUES (?, ?, NULL, '{}', ?) "
                    "ON CONFLICT (user_id) DO NOTHING",
                    (e.user_id, str(e.theme), e.at),
                )
            case p.ThemeSet():
                self._set(tx, e, "theme", str(e.theme))
            case p.DefaultCatalogSet():
                self._set(tx, e, "default_catalog", e.catalog_id)
            case p.DefaultCatalogCleared():
                self._set(tx, e, "default_catalog", None)
            case p.UiStateUpdated():
                self._set(tx, e, "ui_state", dumps(e.ui_state))

    @staticmethod
    def _set(tx: Tx, e: p.PreferencesEvent, column: str, value: object) -> None:
        tx.execute(  # tolerate a stream whose first event is not PreferencesInitialized
            "INSERT INTO preferences VALUES (?, 'system', NULL, '{}', ?) "
            "ON CONFLICT (user_id) DO NOTHING",
            (e.user_id, e.at),
        )
        tx.execute(
            f"UPDATE preferences SET {column} = ?, updated_at = ? WHERE user_id = ?",
            (value, e.at, e.user_id),
        )
