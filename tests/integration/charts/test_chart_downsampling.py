"""Downsampling in DuckDB: extremes survive, the budget holds, points stay real and x-ordered."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ironstar.analytics.charts.downsample import Method, PointsPlan, SampledPoints, sample_points
from ironstar.analytics.charts.sql import RESULT_VIEW

# One connection for all examples: DuckDB's planning, not the data, dominates small cases.
CON = duckdb.connect()
values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


def sample(xs: list[float], ys: list[float], method: Method, budget: int) -> SampledPoints:
    CON.register(RESULT_VIEW, pa.table({"x": pa.array(xs, pa.float64()), "y": ys}))
    plan = PointsPlan(
        x_sql='CAST("x" AS DOUBLE)',
        y_sqls=['CAST("y" AS DOUBLE)'],
        group_column=None,
        max_series=20,
        method=method,
    )
    return sample_points(CON, plan, budget)


@st.composite
def series(draw: st.DrawFn) -> tuple[list[float], list[float], int]:
    ys = draw(st.lists(values, min_size=0, max_size=400))
    # Sorted, shuffled, repeated and constant x all occur in real results.
    xs = draw(
        st.one_of(
            st.just([float(i) for i in range(len(ys))]),
            st.lists(values, min_size=len(ys), max_size=len(ys)),
        )
    )
    budget = draw(st.integers(min_value=8, max_value=120))
    return xs, ys, budget


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series(), st.sampled_from(list(Method)))
def test_downsampling_keeps_extremes_and_never_exceeds_the_budget(
    case: tuple[list[float], list[float], int], method: Method
) -> None:
    xs, ys, budget = case
    (result,) = sample(xs, ys, method, budget).series
    points = result.points
    assert result.rows == len(ys)
    assert len(points) <= budget
    if len(ys) <= budget:
        assert sorted(points) == sorted(zip(xs, ys, strict=True))
        assert not result.downsampled
    if ys:
        drawn = [y for _, y in points]
        assert min(drawn) == min(ys)
        assert max(drawn) == max(ys)
    assert set(points) <= set(zip(xs, ys, strict=True)), "only real points are drawn"
    assert [x for x, _ in points] == sorted(x for x, _ in points)


def test_min_max_keeps_a_spike_and_the_first_and_last_point() -> None:
    xs = [float(i) for i in range(100_000)]
    ys = [0.0] * 100_000
    ys[31_337], ys[77_777] = 1000.0, -500.0
    (result,) = sample(xs, ys, Method.MIN_MAX, 100).series
    assert (31_337.0, 1000.0) in result.points
    assert (77_777.0, -500.0) in result.points
    assert result.points[0] == (0.0, 0.0)
    assert result.points[-1] == (99_999.0, 0.0)
    assert result.downsampled and len(result.points) <= 100


def test_grid_keeps_a_lone_outlier_in_a_dense_cloud() -> None:
    xs = [float(i % 1000) for i in range(50_000)]
    ys = [float(i % 997) for i in range(50_000)]
    xs.append(500.0)
    ys.append(1e6)
    (result,) = sample(xs, ys, Method.GRID, 200).series
    assert (500.0, 1e6) in result.points
    assert len(result.points) <= 200
