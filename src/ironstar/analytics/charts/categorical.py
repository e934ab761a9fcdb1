"""Bar, pie and heatmap charts: measures aggregated per category in DuckDB.

Categories are capped: the ``max_categories`` with the largest absolute aggregate are drawn
and the rest are folded into one "(other: N more)" category, computed with the same
aggregate over the remaining rows. The subtitle says so.
"""

from __future__ import annotations

from typing import Any, Final

import duckdb
import pyarrow as pa

from ironstar.analytics.charts.column_kinds import ORDERABLE, kind_of
from ironstar.analytics.charts.config import Aggregate, ChartConfig
from ironstar.analytics.charts.option import (
    MAX_SERIES,
    base_option,
    category_label,
    meta,
    ranks_by_key,
    x_axis,
    y_axis,
)
from ironstar.analytics.charts.sql import RESULT_VIEW, measure_sql, quote_ident, rank_into_table

AGGREGATE_SQL: Final = {
    Aggregate.SUM: "sum({})",
    Aggregate.MEAN: "avg({})",
    Aggregate.MIN: "min({})",
    Aggregate.MAX: "max({})",
    Aggregate.COUNT: "count({})",
}
PIE_MAX_SLICES: Final = 20
CATEGORIES_TABLE: Final = "chart_categories"
GROUPS_TABLE: Final = "chart_bar_groups"


def aggregate_sql(config: ChartConfig, column: str) -> str:
    expression = AGGREGATE_SQL[config.aggregate].format(measure_sql(column))
    # count is an integer; everything drawn is a float
    return f"CAST({expression} AS DOUBLE)"


def bar_chart(
    con: duckdb.DuckDBPyConnection, schema: pa.Schema, config: ChartConfig, budget: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    assert config.x is not None
    score = f"abs({aggregate_sql(config, config.y[0])})"
    keys, total = rank_into_table(con, CATEGORIES_TABLE, config.x, config.max_categories, score)
    groups, total_groups = [None], 1
    if config.series is not None:
        groups, total_groups = rank_into_table(con, GROUPS_TABLE, config.series, MAX_SERIES)
    values = _values_by_category(con, config, grouped=config.series is not None)

    orderable = kind_of(schema.field(config.x).type) in ORDERABLE
    ranks = _display_order(keys, orderable)
    other = None in values and total > len(keys)
    labels = [category_label(keys[rank - 1]) for rank in ranks]
    if other:
        labels.append(f"(other: {total - len(keys):,} more)")
        ranks.append(None)  # type: ignore[arg-type]

    columns = [(m, g) for m in range(len(config.y)) for g in range(1, len(groups) + 1)]
    names = [_bar_series_name(config, m, groups[g - 1]) for m, g in columns]
    source = [
        [label, *(values.get(rank, {}).get((m, g)) for m, g in columns)]
        for label, rank in zip(labels, ranks, strict=True)
    ]
    notes = _category_notes(config, total, len(keys), other)
    if config.series is not None and total_groups > len(groups):
        notes.append(f"the {len(groups)} largest of {total_groups:,} {config.series} groups")
    option = base_option(config, notes, legend=len(names) > 1)
    option["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}}
    option["dataset"] = [{"source": source, "sourceHeader": False}]
    option["xAxis"] = x_axis("category", config.x_label or config.x)
    option["yAxis"] = y_axis(
        "log" if config.log_y else "value", config.y_label or _measure_name(config)
    )
    option["series"] = [
        {"type": "bar", "name": name, "encode": {"x": 0, "y": i + 1}}
        | ({"stack": "total"} if config.stacked else {})
        for i, name in enumerate(names)
    ]
    series_meta = [{"name": name, "points": len(source)} for name in names]
    return option, meta(config, series_meta, notes, categories=total)


def pie_chart(
    con: duckdb.DuckDBPyConnection, schema: pa.Schema, config: ChartConfig, budget: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    assert config.x is not None
    limit = min(config.max_categories, PIE_MAX_SLICES)
    score = f"abs({aggregate_sql(config, config.y[0])})"
    keys, total = rank_into_table(con, CATEGORIES_TABLE, config.x, limit, score)
    values = _values_by_category(con, config, grouped=False)
    slices = [
        [category_label(key), values.get(rank, {}).get((0, 1))]
        for rank, key in enumerate(keys, start=1)
    ]
    other = None in values and total > len(keys)
    if other:
        slices.append([f"(other: {total - len(keys):,} more)", values[None].get((0, 1))])
    notes = _category_notes(config, total, len(keys), other)
    if any(v is not None and v < 0 for by_group in values.values() for v in by_group.values()):
        notes.append("negative values cannot be drawn as slices")
    option = base_option(config, notes, legend=True)
    option["tooltip"] = {"trigger": "item"}
    option["dataset"] = [{"source": slices, "sourceHeader": False}]
    option["series"] = [
        {
            "type": "pie",
            "name": config.y_label or config.y[0],
            "radius": "60%",
            "encode": {"itemName": 0, "value": 1},
        }
    ]
    series_meta = [{"name": config.y[0], "points": len(slices)}]
    return option, meta(config, series_meta, notes, categories=total)


def heatmap_chart(
    con: duckdb.DuckDBPyConnection, schema: pa.Schema, config: ChartConfig, budget: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    assert config.x is not None and config.value is not None
    y_column = config.y[0]
    x_keys, x_total = rank_into_table(con, "chart_heat_x", config.x, config.max_categories)
    y_keys, y_total = rank_into_table(con, "chart_heat_y", y_column, config.max_categories)
    x_ranks, y_ranks = ranks_by_key(x_keys), ranks_by_key(y_keys)
    x_index = {rank: i for i, rank in enumerate(x_ranks)}
    y_index = {rank: i for i, rank in enumerate(y_ranks)}
    cells = con.execute(
        f"""SELECT hx.rank, hy.rank, {aggregate_sql(config, config.value)} AS v
        FROM {RESULT_VIEW} AS r
        JOIN chart_heat_x AS hx ON r.{quote_ident(config.x)} IS NOT DISTINCT FROM hx.k
        JOIN chart_heat_y AS hy ON r.{quote_ident(y_column)} IS NOT DISTINCT FROM hy.k
        GROUP BY hx.rank, hy.rank"""
    ).fetchall()
    data = [[x_index[xr], y_index[yr], v] for xr, yr, v in cells if v is not None]
    data.sort()
    finite = [cell[2] for cell in data]
    notes = []
    for column, total, kept in ((config.x, x_total, x_keys), (y_column, y_total, y_keys)):
        if total > len(kept):
            notes.append(f"the {len(kept)} most frequent of {total:,} {column} values")
    option = base_option(config, notes, legend=False)
    option["tooltip"] = {"trigger": "item"}
    option["xAxis"] = x_axis(
        "category",
        config.x_label or config.x,
        data=[category_label(x_keys[r - 1]) for r in x_ranks],
        splitArea={"show": True},
    )
    option["yAxis"] = y_axis(
        "category",
        config.y_label or y_column,
        data=[category_label(y_keys[r - 1]) for r in y_ranks],
        splitArea={"show": True},
    )
    option["grid"]["bottom"] = 96  # the colour scale sits under the x axis name
    option["visualMap"] = {
        "min": min(finite, default=0),
        "max": max(finite, default=0),
        "calculable": True,
        "orient": "horizontal",
        "left": "center",
        "bottom": 0,
    }
    option["series"] = [{"type": "heatmap", "name": config.value, "data": data}]
    series_meta = [{"name": config.value, "points": len(data)}]
    return option, meta(config, series_meta, notes)


def _values_by_category(
    con: duckdb.DuckDBPyConnection, config: ChartConfig, *, grouped: bool
) -> dict[int | None, dict[tuple[int, int], float | None]]:
    """rank (None = other) -> {(measure index, group rank): aggregate} from one scan."""
    assert config.x is not None
    group_rank, group_join = "1", ""
    if grouped and config.series is not None:
        group_rank = "grp.rank"
        group_join = (
            f" JOIN {GROUPS_TABLE} AS grp"
            f" ON r.{quote_ident(config.series)} IS NOT DISTINCT FROM grp.k"
        )
    measures = ", ".join(aggregate_sql(config, y) for y in config.y)
    rows = con.execute(
        f"""SELECT cat.rank, {group_rank} AS g, {measures}
        FROM {RESULT_VIEW} AS r
        LEFT JOIN {CATEGORIES_TABLE} AS cat ON r.{quote_ident(config.x)} IS NOT DISTINCT FROM cat.k
        {group_join}
        GROUP BY ALL"""
    ).fetchall()
    values: dict[int | None, dict[tuple[int, int], float | None]] = {}
    for rank, group, *aggregates in rows:
        for measure, value in enumerate(aggregates):
            values.setdefault(rank, {})[(measure, group)] = value
    return values


def _display_order(keys: list[Any], orderable: bool) -> list[int]:
    """Ranks in drawing order: by value for numbers and dates, else largest first."""
    ranks = list(range(1, len(keys) + 1))
    return ranks_by_key(keys) if orderable else ranks


def _category_notes(config: ChartConfig, total: int, kept: int, other: bool) -> list[str]:
    if not other:
        return []
    return [
        f"top {kept} of {total:,} {config.x} categories; "
        f"the rest combined as (other) by {config.aggregate}"
    ]


def _measure_name(config: ChartConfig) -> str:
    return config.y[0] if len(config.y) == 1 else ""


def _bar_series_name(config: ChartConfig, measure: int, group: Any) -> str:
    name = config.y[measure]
    if config.series is None:
        return name
    label = category_label(group)
    return label if len(config.y) == 1 else f"{label} · {name}"
