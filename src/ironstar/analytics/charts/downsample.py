"""Points for line, area and scatter charts, downsampled in DuckDB so no series exceeds a budget.

A series with at most ``budget`` points is drawn whole. A larger one is cut into buckets and
only a few points per bucket survive; the SQL keeps 10 million rows out of Python.

- ``MIN_MAX`` (line, area): equal-width buckets along x (along log x on a log axis); each keeps
  its lowest and its highest point, and the series keeps its first and last point. A spike
  is the extreme of its bucket, so it is always drawn; the envelope a pixel column shows is
  exactly the envelope of the data. At most ``2 * ((budget - 2) // 2) + 2 <= budget`` points.
  Chosen over LTTB because it is exact about extremes and is one GROUP BY in SQL.
- ``GRID`` (scatter): a g x g grid over the x/y extent (g = isqrt(budget - 4)); each occupied
  cell keeps one real point, and the series keeps its points at min/max x and min/max y.
  The cloud's shape and outliers survive; density within a cell does not.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import duckdb

from ironstar.analytics.charts.sql import RESULT_VIEW, finite_sql, quote_ident, rank_into_table

MIN_BUDGET: Final = 8
GROUPS_TABLE: Final = "chart_groups"
STATS_TABLE: Final = "chart_series_stats"


class Method(enum.StrEnum):
    MIN_MAX = "min_max_per_bucket"
    GRID = "grid"


@dataclass(frozen=True)
class PointsPlan:
    """Which points to read: numeric x and y expressions over ``result``, and how to split."""

    x_sql: str
    y_sqls: Sequence[str]
    group_column: str | None
    max_series: int
    method: Method
    log_x: bool = False
    log_y: bool = False


@dataclass
class SampledSeries:
    measure: int  # index into the plan's y_sqls
    group: int  # rank of the group (1 = most rows); 1 when there is no group column
    rows: int = 0  # drawable rows before downsampling
    points: list[tuple[Any, float]] = field(default_factory=list)

    @property
    def downsampled(self) -> bool:
        return len(self.points) < self.rows


@dataclass
class SampledPoints:
    series: list[SampledSeries]
    group_values: list[Any]  # group value per rank (index 0 = rank 1); [None] without groups
    total_groups: int
    skipped_rows: list[int]  # per measure: rows not drawn (null/NaN, or <= 0 on a log axis)


def sample_points(con: duckdb.DuckDBPyConnection, plan: PointsPlan, budget: int) -> SampledPoints:
    if budget < MIN_BUDGET:
        raise ValueError(f"budget must be at least {MIN_BUDGET} points per series")
    group_values, total_groups = _rank_groups(con, plan)
    # Per-series counts and extents first, into a tiny table the sampling query joins,
    # so the points are scanned twice rather than materialised for a shared CTE.
    stats_sql = _MIN_MAX_STATS if plan.method is Method.MIN_MAX else _GRID_STATS
    points = _points_sql(plan)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STATS_TABLE} AS " + stats_sql.format(points=points))
    stats = con.execute(f"SELECT m, s, n FROM {STATS_TABLE}").fetchall()
    found = {(m, s): SampledSeries(m, s, n) for m, s, n in stats}
    skipped = [_rows_in_kept_groups(con, plan)] * len(plan.y_sqls)
    for m, _, n in stats:
        skipped[m] -= n

    parts = []
    if any(n > budget for _, _, n in stats):
        parts.append(_MIN_MAX_KEPT if plan.method is Method.MIN_MAX else _GRID_KEPT)
    if any(0 < n <= budget for _, _, n in stats):
        parts.append(_ALL_POINTS)
    if parts:
        query = (
            f"WITH points AS NOT MATERIALIZED ({points}) "
            + "\nUNION ALL\n".join(parts).format(stats=STATS_TABLE)
            + "\nORDER BY 1, 2, 3, 4"
        )
        params = {"budget": budget}
        if _MIN_MAX_KEPT in parts:
            params["buckets"] = (budget - 2) // 2
        if _GRID_KEPT in parts:
            params["grid"] = math.isqrt(budget - 4)
        for m, s, x, y in con.execute(query, params).fetchall():
            found[(m, s)].points.append((x, y))
    series = [
        found.get((measure, group), SampledSeries(measure, group))
        for measure in range(len(plan.y_sqls))
        for group in range(1, len(group_values) + 1)
    ]
    return SampledPoints(series, group_values, total_groups, skipped)


def _rank_groups(con: duckdb.DuckDBPyConnection, plan: PointsPlan) -> tuple[list[Any], int]:
    """Keep the ``max_series`` groups with most rows (ties by value) in a temp table."""
    if plan.group_column is None:
        return [None], 1
    return rank_into_table(con, GROUPS_TABLE, plan.group_column, plan.max_series)


def _rows_in_kept_groups(con: duckdb.DuckDBPyConnection, plan: PointsPlan) -> int:
    """Rows a drawn series could come from: all of them, or those of the groups kept."""
    if plan.group_column is None:
        row = con.execute(f"SELECT count(*) FROM {RESULT_VIEW}").fetchone()
    else:
        row = con.execute(f"SELECT coalesce(sum(score), 0) FROM {GROUPS_TABLE}").fetchone()
    return int(row[0]) if row else 0


def _keep_sql(plan: PointsPlan, y_sql: str) -> str:
    """True when a row's point can be drawn: finite x and y, and > 0 on a log axis."""
    conditions = [finite_sql(f"CAST({plan.x_sql} AS DOUBLE)"), finite_sql(y_sql)]
    if plan.log_x:
        conditions.append(f"{plan.x_sql} > 0")
    if plan.log_y:
        conditions.append(f"{y_sql} > 0")
    return " AND ".join(conditions)


def _points_sql(plan: PointsPlan) -> str:
    """One row per drawable point: measure index m, group rank s, x, y, bucket coordinates."""
    bucket_x = f"ln({plan.x_sql})" if plan.log_x else f"CAST({plan.x_sql} AS DOUBLE)"
    if plan.group_column is None:
        group_rank, join = "1", ""
    else:
        group_rank = "grp.rank"
        join = (
            f" JOIN {GROUPS_TABLE} AS grp"
            f" ON {RESULT_VIEW}.{quote_ident(plan.group_column)} IS NOT DISTINCT FROM grp.k"
        )
    selects = []
    for measure, y_sql in enumerate(plan.y_sqls):
        bucket_y = f"ln({y_sql})" if plan.log_y else y_sql
        selects.append(
            f"SELECT {measure} AS m, {group_rank} AS s, {plan.x_sql} AS x, {y_sql} AS y, "
            f"{bucket_x} AS bx, {bucket_y} AS by_ FROM {RESULT_VIEW}{join} "
            f"WHERE {_keep_sql(plan, y_sql)}"
        )
    return "\nUNION ALL\n".join(selects)


def _bucket(coordinate: str, low: str, high: str, count: str) -> str:
    """Equal-width bucket index in [0, count); NULL when the extent is a single value."""
    return (
        f"least(CAST(floor(({coordinate} - {low}) / nullif({high} - {low}, 0) * {count}) "
        f"AS BIGINT), {count} - 1)"
    )


_MIN_MAX_STATS: Final = """
SELECT m, s, count(*) AS n, min(bx) AS b0, max(bx) AS b1,
       min(x) AS x_first, arg_min(y, x) AS y_first,
       max(x) AS x_last, arg_max(y, x) AS y_last
FROM ({points}) GROUP BY m, s
"""

_GRID_STATS: Final = """
SELECT m, s, count(*) AS n,
       min(bx) AS bx0, max(bx) AS bx1, min(by_) AS by0, max(by_) AS by1,
       min(x) AS x_min, arg_min(y, x) AS y_at_x_min,
       max(x) AS x_max, arg_max(y, x) AS y_at_x_max,
       arg_min(x, y) AS x_at_y_min, min(y) AS y_min,
       arg_max(x, y) AS x_at_y_max, max(y) AS y_max
FROM ({points}) GROUP BY m, s
"""

# Series with at most `budget` points: all of them.
_ALL_POINTS: Final = """
SELECT p.m, p.s, p.x, p.y FROM points AS p JOIN {stats} AS st USING (m, s)
WHERE st.n <= $budget
"""

# Larger series: per x bucket the lowest and highest point, plus first and last point.
_MIN_MAX_KEPT: Final = (
    """
SELECT * FROM (
    WITH extremes AS (
        SELECT p.m, p.s, arg_min(p.x, p.y) AS x_lo, min(p.y) AS y_lo,
               arg_max(p.x, p.y) AS x_hi, max(p.y) AS y_hi
        FROM points AS p JOIN {stats} AS st USING (m, s)
        WHERE st.n > $budget
        GROUP BY p.m, p.s, """
    + _bucket("p.bx", "st.b0", "st.b1", "$buckets")
    + """
    )
    SELECT m, s, x_lo AS x, y_lo AS y FROM extremes
    UNION SELECT m, s, x_hi, y_hi FROM extremes
    UNION SELECT m, s, x_first, y_first FROM {stats} WHERE n > $budget
    UNION SELECT m, s, x_last, y_last FROM {stats} WHERE n > $budget
)
"""
)

# Larger scatter series: one real point per occupied grid cell, plus the four extremes.
_GRID_KEPT: Final = (
    """
SELECT * FROM (
    WITH cells AS (
        SELECT p.m, p.s, min(p.x) AS x, arg_min(p.y, p.x) AS y
        FROM points AS p JOIN {stats} AS st USING (m, s)
        WHERE st.n > $budget
        GROUP BY p.m, p.s, """
    + _bucket("p.bx", "st.bx0", "st.bx1", "$grid")
    + ", "
    + _bucket("p.by_", "st.by0", "st.by1", "$grid")
    + """
    )
    SELECT m, s, x, y FROM cells
    UNION SELECT m, s, x_min, y_at_x_min FROM {stats} WHERE n > $budget
    UNION SELECT m, s, x_max, y_at_x_max FROM {stats} WHERE n > $budget
    UNION SELECT m, s, x_at_y_min, y_min FROM {stats} WHERE n > $budget
    UNION SELECT m, s, x_at_y_max, y_max FROM {stats} WHERE n > $budget
)
"""
)
