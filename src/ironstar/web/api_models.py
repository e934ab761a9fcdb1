"""Request and response bodies of the JSON API, so the OpenAPI document says exactly what
goes in and comes out. Bounds mirror the domain's (``ironstar.domain.kernel``, ``grid``);
the domain still checks everything itself - these only make the contract visible."""

from __future__ import annotations

import enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ironstar.analytics.charts.config import (
    DEFAULT_BINS,
    DEFAULT_CATEGORIES,
    MAX_BINS,
    MAX_CATEGORIES,
    MAX_COLORS,
    MAX_Y_COLUMNS,
    Aggregate,
    ChartType,
)
from ironstar.domain.grid import GRID_COLUMNS, GRID_MAX_ROWS
from ironstar.domain.kernel import MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_SQL_LENGTH
from ironstar.domain.preferences import Theme
from ironstar.domain.query_session import FailureKind, QueryStatus

MAX_VERSION = 2**62  # stored as a 64-bit integer
ID_PATTERN = r"^[^\s\x00-\x1f\x7f/]+$"
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH)]
Sql = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SQL_LENGTH)]
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Label = Annotated[str, StringConstraints(max_length=200)]
HexColor = Annotated[
    str,
    StringConstraints(
        pattern=r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
    ),
]
Column = Annotated[int, Field(ge=0, le=GRID_COLUMNS - 1)]
Row = Annotated[int, Field(ge=0, le=GRID_MAX_ROWS - 1)]
Width = Annotated[int, Field(ge=1, le=GRID_COLUMNS)]
Height = Annotated[int, Field(ge=1, le=GRID_MAX_ROWS)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- errors and command answers ---------------------------------------------------------


class Error(BaseModel):
    """Every error: a stable code (one HTTP status per code), a message for people, details."""

    code: str
    message: str
    details: dict[str, Any]


class Written(BaseModel):
    """What a command did: the global event position it wrote (0 when it changed nothing).
    Reads issued after this answer already see the change (read-your-writes)."""

    position: int


# ---- catalogs ---------------------------------------------------------------------------


class CatalogOut(BaseModel):
    catalog_id: str
    description: str
    available: bool
    reason: str | None = None
    current: bool
    snapshot_id: int | None = None
    refreshed_at: float | None = None
    dataset_count: int | None = None
    table_count: int | None = None


class CatalogList(BaseModel):
    current: str | None
    catalogs: list[CatalogOut]


class CatalogWritten(Written):
    catalog_id: str


class ColumnOut(BaseModel):
    name: str
    type: str


class TableOut(BaseModel):
    table_name: str
    row_count: int | None
    column_count: int
    columns: list[ColumnOut]


class DatasetOut(BaseModel):
    dataset: str
    table_count: int
    schema_version: int
    tables: list[TableOut]


class DatasetList(BaseModel):
    catalog_id: str
    search: str
    snapshot_id: int | None
    datasets: list[DatasetOut]


# ---- queries and charts -----------------------------------------------------------------


class ChartConfigIn(Body):
    """A chart configuration (see ``ironstar.analytics.charts.config.ChartConfig``)."""

    chart_type: ChartType
    x: ColumnName | None = None
    y: Annotated[list[ColumnName], Field(max_length=MAX_Y_COLUMNS)] = []
    series: ColumnName | None = None
    value: ColumnName | None = None
    aggregate: Aggregate = Aggregate.SUM
    title: Label = ""
    x_label: Label = ""
    y_label: Label = ""
    colors: Annotated[list[HexColor], Field(max_length=MAX_COLORS)] = []
    log_x: bool = False
    log_y: bool = False
    bins: Annotated[int, Field(ge=1, le=MAX_BINS)] = DEFAULT_BINS
    stacked: bool = False
    max_categories: Annotated[int, Field(ge=1, le=MAX_CATEGORIES)] = DEFAULT_CATEGORIES

    def as_config(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class StartQueryIn(Body):
    sql: Sql
    catalog: Id
    dataset: Name | None = None
    chart_config: ChartConfigIn | None = None


class QueryAccepted(Written):
    query_id: str
    status: QueryStatus
    location: str


class QueryError(BaseModel):
    kind: FailureKind
    message: str | None
    position: int | None = Field(description="0-based character offset in the SQL, if known")


class Provenance(BaseModel):
    catalog_id: str
    dataset: str | None
    sql: str
    snapshot_id: int | None = Field(description="the DuckLake snapshot the query read")
    pinned_snapshot_id: int | None
    rerun_of: str | None


class QueryOut(BaseModel):
    query_id: str
    status: QueryStatus
    started_at: float
    finished_at: float | None
    duration_ms: int | None
    row_count: int | None
    columns: list[ColumnOut]
    chart_config: dict[str, Any] | None
    error: QueryError | None
    cancelled_by: str | None
    provenance: Provenance
    position: int


class QueryList(BaseModel):
    queries: list[QueryOut]


class ResultPageOut(BaseModel):
    query_id: str
    columns: list[ColumnOut]
    rows: list[list[Any]]
    total_rows: int
    offset: int
    limit: int
    sort: str | None
    desc: bool


class ChartOut(BaseModel):
    """An ECharts option and what was drawn (downsampling, row counts)."""

    option: dict[str, Any]
    meta: dict[str, Any]


# ---- dashboards -------------------------------------------------------------------------


class CreateDashboardIn(Body):
    name: Name
    first_tab: Name = "Overview"


class RenameIn(Body):
    name: Name


class RestoreIn(Body):
    version: Annotated[int, Field(ge=1, le=MAX_VERSION)]


class ReorderTabsIn(Body):
    tab_ids: Annotated[list[Id], Field(min_length=1, max_length=50)]


class AddChartIn(Body):
    query_id: Id
    tab_id: Id
    x: Column
    y: Row
    w: Width
    h: Height
    config: ChartConfigIn | None = None


class MoveChartToTabIn(Body):
    tab_id: Id
    x: Column | None = None
    y: Row | None = None
    w: Width | None = None
    h: Height | None = None


class MoveChartIn(Body):
    x: Column
    y: Row


class ResizeChartIn(Body):
    w: Width
    h: Height


class DashboardSummary(BaseModel):
    dashboard_id: str
    name: str
    chart_count: int
    created_at: float
    updated_at: float
    version: int
    position: int


class DashboardList(BaseModel):
    dashboards: list[DashboardSummary]


class ChartOnGrid(BaseModel):
    chart_id: str
    tab_id: str
    query_id: str
    config: dict[str, Any]
    x: int
    y: int
    w: int
    h: int


class TabOut(BaseModel):
    tab_id: str
    name: str
    charts: list[ChartOnGrid]


class DashboardOut(BaseModel):
    """The DashboardLayoutView: tabs in order, each with its charts."""

    dashboard_id: str
    name: str
    owner: str
    created_at: float
    updated_at: float
    updated_by: str
    version: int
    position: int
    tabs: list[TabOut]


class DashboardWritten(Written):
    dashboard_id: str


class TabWritten(DashboardWritten):
    tab_id: str


class ChartWritten(DashboardWritten):
    chart_id: str


class HistoryEntry(BaseModel):
    version: int
    position: int
    event_type: str
    user_id: str
    at: float
    summary: str


class DashboardHistory(BaseModel):
    dashboard_id: str
    history: list[HistoryEntry]


class DashboardVersion(BaseModel):
    """The whole layout right after change ``version``."""

    dashboard_id: str
    version: int
    position: int
    user_id: str
    at: float
    summary: str
    layout: dict[str, Any]


# ---- saved queries ----------------------------------------------------------------------


class SaveQueryIn(Body):
    name: Name
    sql: Sql
    catalog_id: Id | None = None
    dataset: Name | None = None


class SqlIn(Body):
    sql: Sql


class DatasetRefIn(Body):
    """Both set, or both empty to clear the reference."""

    catalog_id: Id | None = None
    dataset: Name | None = None


class SavedQueryOut(BaseModel):
    saved_query_id: str
    name: str
    sql: str
    catalog_id: str | None
    dataset: str | None
    created_at: float
    updated_at: float


class SavedQueryList(BaseModel):
    saved_queries: list[SavedQueryOut]


class SavedQueryWritten(Written):
    saved_query_id: str


# ---- preferences ------------------------------------------------------------------------


class PreferencesOut(BaseModel):
    theme: Theme
    default_catalog: str | None
    ui_state: dict[str, Any]
    updated_at: float | None


class ThemeIn(Body):
    theme: Theme


class DefaultCatalogIn(Body):
    catalog_id: Id


class UiStateIn(Body):
    ui_state: dict[str, Any] = Field(description="replaces the whole document; at most 16 KiB")


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    JSON = "json"
