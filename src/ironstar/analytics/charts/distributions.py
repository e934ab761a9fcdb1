"""Histogram and boxplot charts: bins and quartiles computed in DuckDB."""

from __future__ import annotations

from typing import Any, Final

import duckdb
import pyarrow as pa

from ironstar.analytics.charts.config import ChartConfig
from ironstar.analytics.charts.option import (
    base_option,
    category_label,
    meta,
    ranks_by_key,
    x_axis,
    y_axis,
)
from ironstar.analytics.charts.sql import (
    RESULT_VIEW,
    finite_sql,
    measure_sql,
    quote_ident,
    rank_into_table,
)
from ironstar.analytics.charts.validation import histogram_column

BOX_CATEGORIES_TABLE: Final = "chart_box_categories"


def histogram_chart(
    con: duckdb.DuckDBPyConnection, schema: pa.Schema, config: ChartConfig, budget: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Equal-width bins over [min, max]; the last bin is closed so the maximum is counted."""
    column = histogram_column(config)
    value, drawable = measure_sql(column), finite_sql(measure_sql(column))
    row = con.execute(
        f"SELECT min({value}), max({value}),"
        f" count(*) FILTER (WHERE NOT coalesce({drawable}, false)) FROM {RESULT_VIEW}"
    ).fetchone()
    low, high, skipped = row if row else (None, None, 0)
    edges: list[float] = []
    counts: list[int] = []
    if low is not None and high is not None:
        bins = config.bins if high > low else 1
        width = (high - low) / bins if high > low else 1.0
        edges = [low + i * width for i in range(bins)] + [high]
        counts = [0] * bins
        binned = con.execute(
            f"""SELECT least(CAST(floor(({value} - $low) / $width) AS BIGINT), $last) AS b,
                       count(*)
                FROM {RESULT_VIEW} WHERE {drawable} GROUP BY b""",
            {"low": low, "width": width, "last": bins - 1},
        ).fetchall()
        for index, count in binned:
            counts[index] = count
    labels = _bin_labels(edges)
    notes = [f"{skipped:,} values not drawn (null or not finite)"] if skipped else []
    option = base_option(config, notes, legend=False)
    option["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}}
    option["dataset"] = [
        {
            "source": [
                [label, count, edges[i], edges[i + 1]]
                for i, (label, count) in enumerate(zip(labels, counts, strict=True))
            ],
            "sourceHeader": False,
        }
    ]
    option["xAxis"] = x_axis("category", config.x_label or column)
    option["yAxis"] = y_axis("log" if config.log_y else "value", config.y_label or "count")
    option["series"] = [
        {"type": "bar", "name": column, "encode": {"x": 0, "y": 1}, "barCategoryGap": "2%"}
    ]
    series_meta = [{"name": column, "rows": sum(counts), "points": len(counts)}]
    return option, meta(config, series_meta, notes, bin_edges=edges)


def boxplot_chart(
    con: duckdb.DuckDBPyConnection, schema: pa.Schema, config: ChartConfig, budget: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """[min, Q1, median, Q3, max] per category (continuous quartiles, as ECharts expects)."""
    notes: list[str] = []
    if config.x is None:
        # One box per y column, all in one series.
        boxes = [_five_numbers(con, y, None) for y in config.y]
        categories = list(config.y)
        series_data = [[box.get(None) for box in boxes]]
        names = ["distribution"]
    else:
        keys, total = rank_into_table(con, BOX_CATEGORIES_TABLE, config.x, config.max_categories)
        if total > len(keys):
            notes.append(f"the {len(keys)} most frequent of {total:,} {config.x} values")
        ranks = ranks_by_key(keys)
        categories = [category_label(keys[rank - 1]) for rank in ranks]
        series_data = []
        for y in config.y:
            box = _five_numbers(con, y, config.x)
            series_data.append([box.get(rank) for rank in ranks])
        names = list(config.y)
    option = base_option(config, notes, legend=len(names) > 1)
    option["tooltip"] = {"trigger": "item"}
    option["xAxis"] = x_axis("category", config.x_label or (config.x or ""), data=categories)
    y_name = config.y_label or (config.y[0] if len(config.y) == 1 else "")
    option["yAxis"] = y_axis("log" if config.log_y else "value", y_name)
    option["series"] = [
        # ECharts draws "-" as an empty slot: a category with no values for this y.
        {"type": "boxplot", "name": name, "data": [box or "-" for box in data]}
        for name, data in zip(names, series_data, strict=True)
    ]
    series_meta = [
        {"name": name, "points": sum(1 for box in data if box)}
        for name, data in zip(names, series_data, strict=True)
    ]
    return option, meta(config, series_meta, notes)


def _five_numbers(
    con: duckdb.DuckDBPyConnection, y: str, x: str | None
) -> dict[int | None, list[float]]:
    """category rank (None without x) -> [min, Q1, median, Q3, max] of the finite y values."""
    value = measure_sql(y)
    rank_sql, join = "NULL", ""
    if x is not None:
        rank_sql = "cat.rank"
        join = (
            f" JOIN {BOX_CATEGORIES_TABLE} AS cat ON r.{quote_ident(x)} IS NOT DISTINCT FROM cat.k"
        )
    rows = con.execute(
        f"""SELECT {rank_sql} AS rank, min({value}),
                   quantile_cont({value}, [0.25, 0.5, 0.75]), max({value})
            FROM {RESULT_VIEW} AS r{join}
            WHERE {finite_sql(value)}
            GROUP BY ALL"""
    ).fetchall()
    return {rank: [low, *quartiles, high] for rank, low, quartiles, high in rows}


def _bin_labels(edges: list[float]) -> list[str]:
    """'[low, high)' per bin (the last one closed), with just enough significant digits to
    tell every edge apart."""
    texts = [f"{edge:.4g}" for edge in edges]
    for digits in range(5, 18):
        if len(set(texts)) == len(set(edges)):
            break
        texts = [f"{edge:.{digits}g}" for edge in edges]
    last = len(edges) - 2
    return [
        f"[{texts[i]}, {texts[i + 1]}" + ("]" if i == last else ")") for i in range(len(edges) - 1)
    ]
