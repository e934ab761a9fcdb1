"""The rules a chart config must meet against a query result, as a table the UI can show.

``validation`` enforces exactly these rules; every error it raises carries one rule id.
"""

from __future__ import annotations

from typing import Final

import msgspec

from ironstar.analytics.charts.config import ChartType

L, A, S, B, P = ChartType.LINE, ChartType.AREA, ChartType.SCATTER, ChartType.BAR, ChartType.PIE
H, M, X = ChartType.HISTOGRAM, ChartType.HEATMAP, ChartType.BOXPLOT
ALL: Final = tuple(ChartType)


class Rule(msgspec.Struct, frozen=True):
    id: str
    chart_types: tuple[ChartType, ...]
    text: str


RULES: Final = (
    Rule(
        "column_exists",
        ALL,
        "Every column the chart names must exist exactly once in the query result.",
    ),
    Rule("x_required", (L, A, S, B, P, M), "The chart needs an x column."),
    Rule("y_required", (L, A, S, B, X), "The chart needs at least one y column."),
    Rule(
        "y_numeric",
        (L, A, S, B, P, H, X),
        "Measured columns must be numeric (integer, float or decimal).",
    ),
    Rule(
        "x_orderable",
        (L, A, S),
        "x must be numeric or temporal, so points sit on a continuous axis in x order. "
        "Text is refused: its alphabetical order is rarely the data's order; "
        "draw text categories as a bar chart, or cast the column in SQL.",
    ),
    Rule(
        "category_scalar",
        (B, M, X),
        "Category columns must hold plain values (text, number, date or boolean), "
        "not lists, structs or binary.",
    ),
    Rule("pie_one_measure", (P,), "A pie shows exactly one measure: one y column."),
    Rule("pie_categorical_x", (P,), "A pie's x must be categorical: text, boolean or integer."),
    Rule(
        "heatmap_shape",
        (M,),
        "A heatmap needs an x column, exactly one y column and a value column.",
    ),
    Rule("heatmap_numeric_value", (M,), "A heatmap's value column must be numeric."),
    Rule(
        "histogram_one_column",
        (H,),
        "A histogram bins exactly one numeric column, given as y or as x (not both).",
    ),
    Rule(
        "series_categorical",
        (L, A, S, B),
        "The series (colour) column must be categorical: text, boolean or integer.",
    ),
    Rule("series_unsupported", (P, H, M, X), "This chart type has no series (colour) column."),
    Rule("value_unsupported", (L, A, S, B, P, H, X), "Only a heatmap uses a value column."),
    Rule(
        "log_x_numeric",
        ALL,
        "A logarithmic x axis needs a numeric x on a continuous axis (line, area, scatter). "
        "Values <= 0 cannot be drawn on it; that is reported when the data is read.",
    ),
    Rule(
        "log_y_numeric",
        ALL,
        "A logarithmic y axis needs a numeric y axis (not pie or heatmap). "
        "Values <= 0 cannot be drawn on it; that is reported when the data is read.",
    ),
    Rule("stacked_unsupported", (S, P, H, M, X), "Only line, area and bar charts can stack."),
)

RULES_BY_ID: Final = {rule.id: rule for rule in RULES}


def rules_table() -> list[dict[str, object]]:
    """The rules as JSON-ready rows: id, the chart types they bind, and the text."""
    return [
        {"id": rule.id, "chart_types": [str(t) for t in rule.chart_types], "text": rule.text}
        for rule in RULES
    ]
