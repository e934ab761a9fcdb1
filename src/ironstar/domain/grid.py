"""The dashboard grid: 12 columns, rows growing downwards, integer cells."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ironstar.domain.errors import GridOverlap, OutOfGrid
from ironstar.domain.kernel import Value

GRID_COLUMNS: Final = 12
GRID_MAX_ROWS: Final = 500  # keeps a dashboard bounded; far more than a screen shows


class GridRect(Value, frozen=True, kw_only=True):
    """Where a chart sits: top-left cell (x, y) and its size in cells."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def overlaps(self, other: GridRect) -> bool:
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )

    def inside_grid(self) -> bool:
        return (
            self.x >= 0
            and self.y >= 0
            and self.width >= 1
            and self.height >= 1
            and self.right <= GRID_COLUMNS
            and self.bottom <= GRID_MAX_ROWS
        )


def parse_grid_rect(rect: GridRect) -> GridRect:
    for value in (rect.x, rect.y, rect.width, rect.height):
        if isinstance(value, bool) or not isinstance(value, int):
            raise OutOfGrid("grid positions and sizes are whole numbers of cells")
    if not rect.inside_grid():
        raise OutOfGrid(
            f"a chart at x={rect.x}, y={rect.y} of size {rect.width}x{rect.height} does not fit "
            f"the grid ({GRID_COLUMNS} columns, {GRID_MAX_ROWS} rows, size at least 1x1)"
        )
    return rect


def ensure_free(rect: GridRect, occupied: dict[str, GridRect]) -> None:
    """Raise ``GridOverlap`` if ``rect`` overlaps any occupied rectangle (by chart id)."""
    for chart_id, other in occupied.items():
        if rect.overlaps(other):
            raise GridOverlap(f"that place overlaps chart {chart_id!r}")


def first_free(width: int, height: int, occupied: Iterable[GridRect]) -> GridRect | None:
    """The highest free place of this size, leftmost among equals; None if none is left.

    Only rows 0 and the bottoms of occupied rectangles (and columns 0 and their right
    edges) need trying: a free place anywhere else could move up or left and stay free.
    """
    taken = list(occupied)
    rows = sorted({0, *(r.bottom for r in taken)})
    columns = sorted({0, *(r.right for r in taken)})
    for y in rows:
        for x in columns:
            candidate = GridRect(x=x, y=y, width=width, height=height)
            if candidate.inside_grid() and not any(candidate.overlaps(r) for r in taken):
                return candidate
    return None
