"""A first chart for a result that has none yet, chosen from its column kinds alone.

The analyst sees a drawn chart as soon as a query completes and changes what they
like; nothing is stored until they add it to a dashboard.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ironstar.analytics.charts.column_kinds import CATEGORICAL, ColumnKind, kind_of


def suggested_config(schema: pa.Schema) -> dict[str, Any] | None:
    """Over time: a line; by category: bars; two measures: a scatter; one: a histogram.
    None when no column can be drawn."""
    kinds = [(field.name, kind_of(field.type)) for field in schema]
    numeric = [name for name, kind in kinds if kind is ColumnKind.NUMERIC]
    temporal = [name for name, kind in kinds if kind is ColumnKind.TEMPORAL]
    categorical = [name for name, kind in kinds if kind in CATEGORICAL]
    if temporal and numeric:
        return {"chart_type": "line", "x": temporal[0], "y": [numeric[0]]}
    if categorical and numeric:
        return {"chart_type": "bar", "x": categorical[0], "y": [numeric[0]]}
    if len(numeric) >= 2:
        return {"chart_type": "scatter", "x": numeric[0], "y": [numeric[1]]}
    if numeric:
        return {"chart_type": "histogram", "x": numeric[0], "y": []}
    return None
