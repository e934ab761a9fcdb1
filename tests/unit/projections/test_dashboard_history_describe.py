"""Every dashboard event reads as a sentence in the history timeline, not a class name."""

from __future__ import annotations

from ironstar.domain import dashboard as d
from ironstar.domain.grid import GridRect
from ironstar.projections.models.dashboard_history import _DESCRIPTIONS, describe


def test_every_dashboard_event_has_a_description() -> None:
    assert set(_DESCRIPTIONS) == set(d.EVENTS)


def test_descriptions_name_what_changed() -> None:
    moved = d.ChartMoved(
        dashboard_id="b",
        user_id="u",
        at=1.0,
        chart_id="c",
        tab_id="t",
        position=GridRect(x=2, y=0, width=4, height=3),
    )
    assert describe(moved) == "moved a chart to column 3, row 1"
    renamed = d.DashboardRenamed(dashboard_id="b", user_id="u", at=1.0, name="Q4")
    assert describe(renamed) == "renamed the dashboard to “Q4”"
