"""Pieces of an ECharts ``option`` shared by every chart type, and the metadata beside it."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any, Final

from ironstar.analytics.charts.config import ChartConfig

NULL_LABEL: Final = "(null)"
MAX_SERIES: Final = 20  # colour groups drawn at most; the largest ones win


def base_option(config: ChartConfig, notes: list[str], *, legend: bool) -> dict[str, Any]:
    """Title (notes as subtitle), tooltip, legend and colours; chart builders add the rest."""
    option: dict[str, Any] = {
        "title": {"text": config.title, "subtext": "; ".join(notes)},
        "tooltip": {"trigger": "axis"},
        "legend": {"show": legend, "type": "scroll", "bottom": 0},
        "animation": False,  # large option objects; redraws should be instant
    }
    if config.colors:
        option["color"] = list(config.colors)
    return option


def axis(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    """An axis of ECharts type ``value``, ``log``, ``time`` or ``category``."""
    result: dict[str, Any] = {"type": kind, "name": name, "nameLocation": "middle"}
    result.update(extra)
    return result


def category_label(value: object) -> str:
    """How a category value reads on an axis or in a legend."""
    if value is None:
        return NULL_LABEL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float | decimal.Decimal):
        return format(value, "g")
    return str(value)


def meta(
    config: ChartConfig,
    series: list[dict[str, Any]],
    notes: list[str],
    *,
    method: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Facts about what was drawn: per-series rows and points, downsampling, notes."""
    return {
        "chart_type": str(config.chart_type),
        "series": series,
        "downsampled": any(s.get("downsampled", False) for s in series),
        "method": method,
        "notes": notes,
        **extra,
    }


def ranks_by_key(keys: list[Any]) -> list[int]:
    """Ranks (1-based positions in ``keys``) sorted by their key's value, NULL last."""
    return sorted(
        range(1, len(keys) + 1),
        key=lambda rank: (
            keys[rank - 1] is None,
            keys[rank - 1] if keys[rank - 1] is not None else 0,
        ),
    )
