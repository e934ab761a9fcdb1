"""Line, area and scatter charts: points on continuous axes, downsampled per series."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from ironstar.analytics.charts.column_kinds import ColumnKind, kind_of
from ironstar.analytics.charts.config import ChartConfig, ChartType
from ironstar.analytics.charts.downsample import Method, PointsPlan, SampledSeries, sample_points
from ironstar.analytics.charts.option import (
    MAX_SERIES,
    base_option,
    category_label,
    meta,
    x_axis,
    y_axis,
)
from ironstar.analytics.charts.sql import measure_sql, x_value_sql


def cartesian_chart(
    con: duckdb.DuckDBPyConnection, schema: pa.Schema, config: ChartConfig, budget: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    assert config.x is not None
    x_type = schema.field(config.x).type
    method = Method.GRID if config.chart_type is ChartType.SCATTER else Method.MIN_MAX
    plan = PointsPlan(
        x_sql=x_value_sql(config.x, x_type),
        y_sqls=[measure_sql(y) for y in config.y],
        group_column=config.series,
        max_series=MAX_SERIES,
        method=method,
        log_x=config.log_x,
        log_y=config.log_y,
    )
    sampled = sample_points(con, plan, budget)

    names = [_series_name(config, s, sampled.group_values) for s in sampled.series]
    notes = _notes(config, sampled.series, sampled.total_groups, sampled.skipped_rows, method)
    option = base_option(config, notes, legend=len(names) > 1)
    if config.chart_type is ChartType.SCATTER:
        option["tooltip"] = {"trigger": "item"}
    x_kind = "time" if kind_of(x_type) is ColumnKind.TEMPORAL else "value"
    # scale: a line's axes fit the data instead of stretching to include zero
    option["xAxis"] = x_axis(
        "log" if config.log_x else x_kind, config.x_label or config.x, scale=True
    )
    option["yAxis"] = y_axis(
        "log" if config.log_y else "value", config.y_label or _y_name(config), scale=True
    )
    option["dataset"] = [
        {"dimensions": ["x", "y"], "source": [list(p) for p in s.points]} for s in sampled.series
    ]
    option["series"] = [_series_option(config, name, index) for index, name in enumerate(names)]
    series_meta = [
        {"name": name, "rows": s.rows, "points": len(s.points), "downsampled": s.downsampled}
        for name, s in zip(names, sampled.series, strict=True)
    ]
    return option, meta(
        config,
        series_meta,
        notes,
        method=str(method) if any(s.downsampled for s in sampled.series) else None,
        budget=budget,
        skipped_rows=dict(zip(config.y, sampled.skipped_rows, strict=True)),
    )


def _series_option(config: ChartConfig, name: str, index: int) -> dict[str, Any]:
    series: dict[str, Any] = {
        "name": name,
        "datasetIndex": index,
        "encode": {"x": "x", "y": "y"},
    }
    if config.chart_type is ChartType.SCATTER:
        series.update(type="scatter", symbolSize=4)
        return series
    series.update(type="line", showSymbol=False)
    if config.chart_type is ChartType.AREA:
        series["areaStyle"] = {}
    if config.stacked:
        series["stack"] = "total"
    return series


def _series_name(config: ChartConfig, series: SampledSeries, group_values: list[Any]) -> str:
    measure = config.y[series.measure]
    if config.series is None:
        return measure
    group = category_label(group_values[series.group - 1])
    return group if len(config.y) == 1 else f"{group} · {measure}"


def _y_name(config: ChartConfig) -> str:
    return config.y[0] if len(config.y) == 1 else ""


def _notes(
    config: ChartConfig,
    series: list[SampledSeries],
    total_groups: int,
    skipped_rows: list[int],
    method: Method,
) -> list[str]:
    notes = []
    if config.series is not None and total_groups > MAX_SERIES:
        notes.append(f"the {MAX_SERIES} largest of {total_groups:,} {config.series} groups")
    down = [s for s in series if s.downsampled]
    if down:
        how = (
            "lowest and highest point per x bucket"
            if method is Method.MIN_MAX
            else "one point per grid cell plus extremes"
        )
        drawn, rows = sum(len(s.points) for s in down), sum(s.rows for s in down)
        notes.append(f"downsampled {rows:,} points to {drawn:,} ({how})")
        if config.stacked:
            notes.append("stacking assumes series share x values; downsampled series may not")
    skipped = sum(skipped_rows)
    if skipped:
        reason = "null or not finite" + (", or <= 0 on a log axis" if _has_log(config) else "")
        notes.append(f"{skipped:,} values not drawn ({reason})")
    return notes


def _has_log(config: ChartConfig) -> bool:
    return config.log_x or config.log_y
