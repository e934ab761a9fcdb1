"""Charts: a config validated against a result schema, and ECharts options computed from results."""

from ironstar.analytics.charts.config import (
    Aggregate,
    ChartConfig,
    ChartType,
    InvalidChartConfig,
    encode_chart_config,
    parse_chart_config,
)
from ironstar.analytics.charts.rules import RULES, rules_table
from ironstar.analytics.charts.series import DEFAULT_BUDGET, chart_data
from ironstar.analytics.charts.validation import ChartValidationError, validate

__all__ = [
    "DEFAULT_BUDGET",
    "RULES",
    "Aggregate",
    "ChartConfig",
    "ChartType",
    "ChartValidationError",
    "InvalidChartConfig",
    "chart_data",
    "encode_chart_config",
    "parse_chart_config",
    "rules_table",
    "validate",
]
