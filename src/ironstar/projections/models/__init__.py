"""Read models: one module per screen's data, each a Projection for the runner."""

from __future__ import annotations

from ironstar.projections.models.catalogs import CatalogSelections, DatasetBrowser
from ironstar.projections.models.dashboard_history import DashboardHistory
from ironstar.projections.models.dashboards import DashboardLayouts
from ironstar.projections.models.preferences import Preferences
from ironstar.projections.models.queries import ChartData, QueryHistory
from ironstar.projections.models.saved_queries import SavedQueries
from ironstar.projections.models.sessions import Sessions
from ironstar.projections.runner import Projection


def all_projections() -> list[Projection]:
    return [
        Sessions(),
        CatalogSelections(),
        DatasetBrowser(),
        QueryHistory(),
        ChartData(),
        DashboardLayouts(),
        DashboardHistory(),
        SavedQueries(),
        Preferences(),
    ]
