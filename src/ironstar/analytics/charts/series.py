"""The ChartData read model's computation: a Parquet result plus a config -> an ECharts option.

``chart_data`` validates the config against the result's schema, then lets DuckDB do every
grouping, binning and downsampling; only the few thousand points drawn reach Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import duckdb
import pyarrow as pa

from ironstar.analytics.charts.cartesian import cartesian_chart
from ironstar.analytics.charts.categorical import bar_chart, heatmap_chart, pie_chart
from ironstar.analytics.charts.config import ChartConfig, ChartType
from ironstar.analytics.charts.distributions import boxplot_chart, histogram_chart
from ironstar.analytics.charts.downsample import MIN_BUDGET
from ironstar.analytics.charts.sql import ParquetSource, open_result
from ironstar.analytics.charts.validation import validate

DEFAULT_BUDGET: Final = 2000

Builder = Callable[
    [duckdb.DuckDBPyConnection, pa.Schema, ChartConfig, int],
    tuple[dict[str, Any], dict[str, Any]],
]

BUILDERS: Final[dict[ChartType, Builder]] = {
    ChartType.LINE: cartesian_chart,
    ChartType.AREA: cartesian_chart,
    ChartType.SCATTER: cartesian_chart,
    ChartType.BAR: bar_chart,
    ChartType.PIE: pie_chart,
    ChartType.HEATMAP: heatmap_chart,
    ChartType.HISTOGRAM: histogram_chart,
    ChartType.BOXPLOT: boxplot_chart,
}


def chart_data(
    config: ChartConfig, source: ParquetSource, budget: int = DEFAULT_BUDGET
) -> dict[str, Any]:
    """Compute ``{"option": ..., "meta": ...}`` for one chart over one Parquet result.

    ``option`` goes to ECharts' ``chart.setOption`` unchanged; it is plain JSON (numbers,
    strings, lists, dicts). Time axes carry epoch milliseconds. ``meta`` says what was
    drawn: total rows, rows and points per series, whether and how it was downsampled.
    Raises ``ChartValidationError`` when the config does not fit the result's schema.
    """
    if budget < MIN_BUDGET:
        raise ValueError(f"budget must be at least {MIN_BUDGET} points per series")
    with open_result(source) as (con, schema, total_rows):
        validate(config, schema)
        option, meta = BUILDERS[config.chart_type](con, schema, config, budget)
    meta["total_rows"] = total_rows
    return {"option": option, "meta": meta}
