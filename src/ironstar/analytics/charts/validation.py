"""Check a chart config against a result schema, naming the column and the rule it breaks."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from ironstar.analytics.charts.column_kinds import (
    CATEGORICAL,
    NUMERIC,
    ORDERABLE,
    SCALAR,
    ColumnKind,
    is_integer,
    kind_of,
)
from ironstar.analytics.charts.config import ChartConfig, ChartType
from ironstar.analytics.charts.rules import RULES_BY_ID

CONTINUOUS_X = frozenset({ChartType.LINE, ChartType.AREA, ChartType.SCATTER})
NUMERIC_Y = frozenset(
    {
        ChartType.LINE,
        ChartType.AREA,
        ChartType.SCATTER,
        ChartType.BAR,
        ChartType.PIE,
        ChartType.BOXPLOT,
    }
)
WITH_SERIES = frozenset({ChartType.LINE, ChartType.AREA, ChartType.SCATTER, ChartType.BAR})
STACKABLE = frozenset({ChartType.LINE, ChartType.AREA, ChartType.BAR})
NEEDS_X = frozenset(
    {
        ChartType.LINE,
        ChartType.AREA,
        ChartType.SCATTER,
        ChartType.BAR,
        ChartType.PIE,
        ChartType.HEATMAP,
    }
)
NEEDS_Y = frozenset(
    {ChartType.LINE, ChartType.AREA, ChartType.SCATTER, ChartType.BAR, ChartType.BOXPLOT}
)


class ChartValidationError(ValueError):
    """The config does not fit the result: ``column`` is the offending column (``None`` when
    a required one is missing from the config), ``rule`` the id of the broken rule."""

    code = "chart_type_mismatch"

    def __init__(self, rule: str, column: str | None, detail: str) -> None:
        subject = f"column {column!r}" if column is not None else "chart config"
        super().__init__(f"{subject}: {detail} [rule {rule}: {RULES_BY_ID[rule].text}]")
        self.rule = rule
        self.column = column
        self.detail = detail


def validate(config: ChartConfig, schema: pa.Schema) -> None:
    """Raise ``ChartValidationError`` for the first rule the config breaks on this schema."""
    _check_shape(config)
    for field_name, column in referenced_columns(config):
        _require_column(schema, field_name, column)
    _check_types(config, schema)


def referenced_columns(config: ChartConfig) -> Iterator[tuple[str, str]]:
    """(config field, column) for every column the config names, in a stable order."""
    if config.x is not None:
        yield "x", config.x
    for column in config.y:
        yield "y", column
    if config.series is not None:
        yield "series", config.series
    if config.value is not None:
        yield "value", config.value


def histogram_column(config: ChartConfig) -> str:
    """The single column a histogram bins (y when given, else x)."""
    column = config.y[0] if config.y else config.x
    assert column is not None, "validate() guarantees a histogram column"
    return column


def _check_shape(config: ChartConfig) -> None:
    """Rules about which fields a chart type needs or refuses: no schema required."""
    kind = config.chart_type
    if kind in NEEDS_X and config.x is None:
        raise ChartValidationError("x_required", None, f"a {kind} chart needs x")
    if kind in NEEDS_Y and not config.y:
        raise ChartValidationError("y_required", None, f"a {kind} chart needs y")
    if kind is ChartType.PIE and len(config.y) != 1:
        column = config.y[1] if config.y else None
        raise ChartValidationError(
            "pie_one_measure", column, f"a pie takes one y column, got {len(config.y)}"
        )
    if kind is ChartType.HEATMAP and (len(config.y) != 1 or config.value is None):
        column = config.y[1] if len(config.y) > 1 else None
        raise ChartValidationError(
            "heatmap_shape", column, "a heatmap takes one y column and a value column"
        )
    if kind is ChartType.HISTOGRAM and len(config.y) + (config.x is not None) != 1:
        column = config.y[-1] if config.y else None
        raise ChartValidationError(
            "histogram_one_column", column, "give the binned column as y or as x, once"
        )
    if config.series is not None and kind not in WITH_SERIES:
        raise ChartValidationError(
            "series_unsupported", config.series, f"a {kind} chart has no series column"
        )
    if config.value is not None and kind is not ChartType.HEATMAP:
        raise ChartValidationError(
            "value_unsupported", config.value, f"a {kind} chart has no value column"
        )
    if config.stacked and kind not in STACKABLE:
        raise ChartValidationError("stacked_unsupported", None, f"a {kind} chart cannot stack")
    if config.log_x and kind not in CONTINUOUS_X:
        raise ChartValidationError(
            "log_x_numeric", config.x, f"a {kind} chart has no continuous x axis"
        )
    if config.log_y and kind in (ChartType.PIE, ChartType.HEATMAP):
        column = config.y[0] if config.y else None
        raise ChartValidationError("log_y_numeric", column, f"a {kind} chart has no numeric y axis")


def _require_column(schema: pa.Schema, field_name: str, column: str) -> None:
    matches = schema.get_all_field_indices(column)
    if not matches:
        raise ChartValidationError(
            "column_exists", column, f"{field_name} names a column the result does not have"
        )
    if len(matches) > 1:
        raise ChartValidationError(
            "column_exists", column, f"the result has {len(matches)} columns with this name"
        )


def _check_types(config: ChartConfig, schema: pa.Schema) -> None:
    kind = config.chart_type

    def kind_of_column(column: str) -> ColumnKind:
        return kind_of(schema.field(column).type)

    def is_categorical(column: str) -> bool:
        return kind_of_column(column) in CATEGORICAL or is_integer(schema.field(column).type)

    measured = list(config.y) if kind in NUMERIC_Y else []
    if kind is ChartType.HISTOGRAM:
        measured = [histogram_column(config)]
    for column in measured:
        if kind_of_column(column) not in NUMERIC:
            found = _describe(schema, column)
            raise ChartValidationError("y_numeric", column, f"is {found}, not numeric")

    if config.x is not None and kind in CONTINUOUS_X and kind_of_column(config.x) not in ORDERABLE:
        found = _describe(schema, config.x)
        raise ChartValidationError("x_orderable", config.x, f"is {found}, not numeric or temporal")
    if config.log_x and config.x is not None and kind_of_column(config.x) not in NUMERIC:
        found = _describe(schema, config.x)
        raise ChartValidationError("log_x_numeric", config.x, f"is {found}, not numeric")

    categories: list[str | None] = []
    if kind in (ChartType.BAR, ChartType.BOXPLOT):
        categories = [config.x]
    if kind is ChartType.HEATMAP:
        categories = [config.x, config.y[0]]
    for category in categories:
        if category is not None and kind_of_column(category) not in SCALAR:
            found = _describe(schema, category)
            raise ChartValidationError("category_scalar", category, f"is {found}")

    if kind is ChartType.PIE and config.x is not None and not is_categorical(config.x):
        found = _describe(schema, config.x)
        raise ChartValidationError("pie_categorical_x", config.x, f"is {found}, not categorical")
    value = config.value
    if kind is ChartType.HEATMAP and value is not None and kind_of_column(value) not in NUMERIC:
        found = _describe(schema, value)
        raise ChartValidationError("heatmap_numeric_value", value, f"is {found}, not numeric")
    if config.series is not None and not is_categorical(config.series):
        found = _describe(schema, config.series)
        raise ChartValidationError(
            "series_categorical", config.series, f"is {found}, not categorical"
        )


def _describe(schema: pa.Schema, column: str) -> str:
    data_type = schema.field(column).type
    return f"{kind_of(data_type)} ({data_type})"
