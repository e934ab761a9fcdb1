"""Given/when/then for restoring a dashboard to an earlier layout."""

from __future__ import annotations

from ironstar.domain import dashboard, errors
from ironstar.domain.dashboard import (
    ChartRemoved,
    DashboardDeleted,
    DashboardRenamed,
    DashboardRestored,
    PlacedChart,
    RestoreDashboard,
    Tab,
)
from ironstar.domain.kernel import Name

from .gwt import Decider
from .test_dashboard import ADA, BAR, BOB, CHART_A, CREATED, DETAILS, D, rect

dashboards = Decider(dashboard)
OVERVIEW = Tab(tab_id="t1", name=Name("Overview"))
PLACED_A = PlacedChart(
    chart_id=CHART_A.chart_id, tab_id="t1", definition=BAR, position=CHART_A.position
)


def restore(**changes: object) -> RestoreDashboard:
    fields: dict[str, object] = dict(
        dashboard_id=D,
        actor=ADA,
        at=9.0,
        version=3,
        name="Q4 Metrics",
        tabs=(OVERVIEW,),
        charts=(PLACED_A,),
    )
    fields.update(changes)
    return RestoreDashboard(**fields)  # type: ignore[arg-type]


REMOVED = ChartRemoved(dashboard_id=D, user_id=ADA, at=4.0, chart_id=CHART_A.chart_id, tab_id="t1")


def test_restoring_brings_back_the_earlier_layout() -> None:
    renamed = DashboardRenamed(dashboard_id=D, user_id=ADA, at=5.0, name=Name("Later"))
    state = (
        dashboards.given(CREATED, CHART_A, REMOVED, renamed)
        .when(restore())
        .then(
            DashboardRestored(
                dashboard_id=D,
                user_id=ADA,
                at=9.0,
                restored_version=3,
                name=Name("Q4 Metrics"),
                tabs=(OVERVIEW,),
                charts=(PLACED_A,),
            )
        )
    )
    assert state.name == "Q4 Metrics" and state.charts == (PLACED_A,)


def test_restoring_the_current_layout_changes_nothing() -> None:
    dashboards.given(CREATED, CHART_A).when(restore()).then_nothing()


def test_a_deleted_dashboard_can_be_restored() -> None:
    deleted = DashboardDeleted(dashboard_id=D, user_id=ADA, at=5.0)
    state = (
        dashboards.given(CREATED, CHART_A, deleted)
        .when(restore())
        .then(
            DashboardRestored(
                dashboard_id=D,
                user_id=ADA,
                at=9.0,
                restored_version=3,
                name=Name("Q4 Metrics"),
                tabs=(OVERVIEW,),
                charts=(PLACED_A,),
            )
        )
    )
    assert not state.deleted


def test_only_the_owner_may_restore() -> None:
    dashboards.given(CREATED, CHART_A, REMOVED).when(restore(actor=BOB)).then_rejected(
        errors.Forbidden
    )


def test_a_restored_layout_obeys_the_grid_rules() -> None:
    overlapping = PlacedChart(chart_id="c9", tab_id="t1", definition=BAR, position=rect(1, 1))
    given = dashboards.given(CREATED, DETAILS, CHART_A, REMOVED)
    given.when(restore(charts=(PLACED_A, overlapping))).then_rejected(errors.GridOverlap)
    given.when(restore(tabs=())).then_rejected(errors.InvalidValue)
    orphan = PlacedChart(chart_id="c9", tab_id="nope", definition=BAR, position=rect(0, 6))
    given.when(restore(charts=(orphan,))).then_rejected(errors.UnknownTab)
    twice = (OVERVIEW, Tab(tab_id="t2", name=Name("overview")))
    given.when(restore(tabs=twice)).then_rejected(errors.NameTaken)


def test_restore_of_an_unknown_dashboard_is_not_found() -> None:
    dashboards.given().when(restore()).then_rejected(errors.NotFound)
