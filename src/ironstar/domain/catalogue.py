"""Every stored event under its explicit name and version, and every aggregate by stream type.

The composition root registers ``EVENT_TYPES`` with the event store's codec. Stored
names are written out here by hand: renaming a class must never rename history.
"""

from __future__ import annotations

from types import ModuleType
from typing import Final

from ironstar.domain import (
    catalog,
    dashboard,
    preferences,
    query_session,
    saved_query,
    session,
)

AGGREGATES: Final[dict[str, ModuleType]] = {
    module.STREAM_TYPE: module
    for module in (session, catalog, query_session, dashboard, saved_query, preferences)
}

EVENT_TYPES: Final[dict[str, tuple[type, int]]] = {
    # Session
    "SessionCreated": (session.SessionCreated, 1),
    "SessionRefreshed": (session.SessionRefreshed, 1),
    "SessionInvalidated": (session.SessionInvalidated, 1),
    "SessionExpired": (session.SessionExpired, 1),
    # Catalog
    "CatalogSelected": (catalog.CatalogSelected, 1),
    "CatalogMetadataRefreshed": (catalog.CatalogMetadataRefreshed, 1),
    # QuerySession
    "QueryStarted": (query_session.QueryStarted, 1),
    "QueryCompleted": (query_session.QueryCompleted, 1),
    "QueryFailed": (query_session.QueryFailed, 1),
    "QueryCancelled": (query_session.QueryCancelled, 1),
    # Dashboard
    "DashboardCreated": (dashboard.DashboardCreated, 1),
    "DashboardRenamed": (dashboard.DashboardRenamed, 1),
    "DashboardDeleted": (dashboard.DashboardDeleted, 1),
    "TabAdded": (dashboard.TabAdded, 1),
    "TabRenamed": (dashboard.TabRenamed, 1),
    "TabRemoved": (dashboard.TabRemoved, 1),
    "TabsReordered": (dashboard.TabsReordered, 1),
    "ChartAdded": (dashboard.ChartAdded, 1),
    "ChartRemoved": (dashboard.ChartRemoved, 1),
    "ChartMovedToTab": (dashboard.ChartMovedToTab, 1),
    "ChartMoved": (dashboard.ChartMoved, 1),
    "ChartResized": (dashboard.ChartResized, 1),
    "DashboardRestored": (dashboard.DashboardRestored, 1),
    # SavedQuery
    "QuerySaved": (saved_query.QuerySaved, 1),
    "QueryRenamed": (saved_query.QueryRenamed, 1),
    "QuerySqlUpdated": (saved_query.QuerySqlUpdated, 1),
    "DatasetRefUpdated": (saved_query.DatasetRefUpdated, 1),
    "QueryDeleted": (saved_query.QueryDeleted, 1),
    # UserPreferences
    "PreferencesInitialized": (preferences.PreferencesInitialized, 1),
    "ThemeSet": (preferences.ThemeSet, 1),
    "DefaultCatalogSet": (preferences.DefaultCatalogSet, 1),
    "DefaultCatalogCleared": (preferences.DefaultCatalogCleared, 1),
    "UiStateUpdated": (preferences.UiStateUpdated, 1),
}
