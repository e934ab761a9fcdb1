"""What the benchmarks share for printing: a results table with a verdict column, the
notes under it, and the versions of what was measured."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Sequence

Column = tuple[str, bool]  # heading, right-justified
_VERDICT_STYLES = {"PASS": "green", "MISS": "bold red"}


def verdict_cell(verdict: str) -> str:
    style = _VERDICT_STYLES.get(verdict, "")
    return f"[{style}]{verdict}[/]" if style else verdict


def print_table(
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[str]],
    notes: Iterable[str] = (),
    *,
    width: int = 150,
) -> None:
    """A rich table at least ``width`` wide (figures are not wrapped in a narrow
    terminal), then one indented line per note."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for heading, right in columns:
        table.add_column(heading, justify="right" if right else "left")
    for row in rows:
        table.add_row(*row)
    console = Console(width=max(Console().width, width))
    console.print(table)
    for line in notes:
        console.print(f"  {line}")


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"
