"""Template filters every page shares: times, durations, counts, result-table numbers.

Registered on the shared environment when it is created, before any template compiles:
a template compiled without a filter keeps failing for it even once it is added.
"""

from __future__ import annotations

import math
import time

import jinja2


def add_filters(env: jinja2.Environment) -> None:
    env.filters.setdefault("when", format_time)
    env.filters.setdefault("thousands", lambda n: "" if n is None else f"{int(n):,}")
    env.filters.setdefault("duration", format_duration)
    env.filters.setdefault("decimal", format_float)


def format_float(value: float) -> str:
    """A float as a table cell shows it: at most six decimals, so binary noise
    (0.30000000000000004) and long quotients do not swamp the column; tiny and huge
    magnitudes in scientific notation. The cell's title keeps the exact value."""
    magnitude = abs(value)
    if not math.isfinite(value) or (magnitude and not 1e-4 <= magnitude < 1e15):
        return f"{value:.6g}"
    text = f"{value:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text  # "81.0": still reads as a float


def format_time(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(epoch)))


def format_duration(ms: float | None) -> str:
    if ms is None:
        return ""
    ms = float(ms)
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    return f"{int(ms // 60_000)} min {ms % 60_000 / 1000:.0f} s"
