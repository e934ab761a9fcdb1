from __future__ import annotations

import msgspec
import pytest

from ironstar.domain import dashboard, errors
from ironstar.domain.dashboard import (
    AddChart,
    AddTab,
    ChartAdded,
    ChartMoved,
    ChartMovedToTab,
    ChartRemoved,
    ChartResized,
    CreateDashboard,
    DashboardCreated,
    DashboardDeleted,
    DashboardRenamed,
    DeleteDashboard,
    GridRect,
    MoveChart,
    MoveChartToTab,
    RemoveChart,
    RemoveTab,
    RenameDashboard,
    RenameTab,
    ReorderTabs,
    ResizeChart,
    TabAdded,
    TabRemoved,
    TabRenamed,
    TabsReordered,
)
from ironstar.domain.kernel import ChartDefinition, Name, UserId

from .gwt import Decider

dashboards = Decider(dashboard)
ADA = UserId("github:1")
BOB = UserId("github:2")
D = "d1"
BAR = ChartDefinition(query_id="q1", config={"chart_type": "bar", "x": "species", "y": ["n"]})


def rect(x: int, y: int, width: int = 4, height: int = 3) -> GridRect:
    return GridRect(x=x, y=y, width=width, height=height)


CREATED = DashboardCreated(
    dashboard_id=D,
    user_id=ADA,
    at=1.0,
    name=Name("Q4 Metrics"),
    tab_id="t1",
    tab_name=Name("Overview"),
)
DETAILS = TabAdded(dashboard_id=D, user_id=ADA, at=2.0, tab_id="t2", name=Name("Details"))
CHART_A = ChartAdded(
    dashboard_id=D,
    user_id=ADA,
    at=3.0,
    chart_id="a",
    tab_id="t1",
    definition=BAR,
    position=rect(0, 0),
)
CHART_B = ChartAdded(
    dashboard_id=D,
    user_id=ADA,
    at=4.0,
    chart_id="b",
    tab_id="t1",
    definition=BAR,
    position=rect(4, 0),
)
DELETED = DashboardDeleted(dashboard_id=D, user_id=ADA, at=9.0)


def add_chart(chart_id: str = "c", tab_id: str = "t1", **changes: object) -> AddChart:
    fields: dict[str, object] = dict(
        dashboard_id=D,
        actor=ADA,
        at=5,
        chart_id=chart_id,
        tab_id=tab_id,
        definition=BAR,
        position=rect(0, 3),
        query_completed=True,
    )
    fields.update(changes)
    return AddChart(**fields)  # type: ignore[arg-type]


def test_stream_id() -> None:
    assert dashboard.stream_id(D) == "dashboard:d1"


# -- the dashboard itself --------------------------------------------------------------


def test_create_makes_the_actor_owner_with_a_first_tab() -> None:
    state = (
        dashboards.given()
        .when(
            CreateDashboard(dashboard_id=D, actor=ADA, at=1, name=" Q4 Metrics ", first_tab_id="t1")
        )
        .then(CREATED)
    )
    assert state.owner == ADA
    assert [t.tab_id for t in state.tabs] == ["t1"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 121, "two\nlines"])
def test_create_with_a_bad_name_is_refused(name: str) -> None:
    dashboards.given().when(
        CreateDashboard(dashboard_id=D, actor=ADA, at=1, name=name, first_tab_id="t1")
    ).then_rejected(errors.InvalidName)


def test_create_twice_is_refused() -> None:
    dashboards.given(CREATED).when(
        CreateDashboard(dashboard_id=D, actor=ADA, at=1, name="Again", first_tab_id="t1")
    ).then_rejected(errors.AlreadyExists)


def test_rename() -> None:
    state = (
        dashboards.given(CREATED)
        .when(RenameDashboard(dashboard_id=D, actor=ADA, at=2, name="Q1 Metrics"))
        .then(DashboardRenamed(dashboard_id=D, user_id=ADA, at=2.0, name=Name("Q1 Metrics")))
    )
    assert state.name == "Q1 Metrics"


def test_rename_to_the_same_name_changes_nothing() -> None:
    dashboards.given(CREATED).when(
        RenameDashboard(dashboard_id=D, actor=ADA, at=2, name="Q4 Metrics ")
    ).then_nothing()


def test_a_command_on_a_missing_dashboard_is_not_found() -> None:
    dashboards.given().when(
        RenameDashboard(dashboard_id=D, actor=ADA, at=2, name="x")
    ).then_rejected(errors.NotFound)


ALL_CHANGES = [
    RenameDashboard(dashboard_id=D, actor=BOB, at=5, name="Mine now"),
    DeleteDashboard(dashboard_id=D, actor=BOB, at=5),
    AddTab(dashboard_id=D, actor=BOB, at=5, tab_id="t3", name="More"),
    RenameTab(dashboard_id=D, actor=BOB, at=5, tab_id="t2", name="More"),
    RemoveTab(dashboard_id=D, actor=BOB, at=5, tab_id="t2"),
    ReorderTabs(dashboard_id=D, actor=BOB, at=5, tab_ids=("t2", "t1")),
    msgspec.structs.replace(add_chart(), actor=BOB),
    RemoveChart(dashboard_id=D, actor=BOB, at=5, chart_id="a"),
    MoveChartToTab(dashboard_id=D, actor=BOB, at=5, chart_id="a", tab_id="t2"),
    MoveChart(dashboard_id=D, actor=BOB, at=5, chart_id="a", x=0, y=6),
    ResizeChart(dashboard_id=D, actor=BOB, at=5, chart_id="a", width=2, height=2),
]


@pytest.mark.parametrize("command", ALL_CHANGES, ids=lambda c: type(c).__name__)
def test_another_user_is_forbidden_everything(command: object) -> None:
    dashboards.given(CREATED, DETAILS, CHART_A).when(command).then_rejected(errors.Forbidden)


@pytest.mark.parametrize("command", ALL_CHANGES, ids=lambda c: type(c).__name__)
def test_nothing_is_accepted_after_delete(command: object) -> None:
    as_owner = msgspec.structs.replace(command, actor=ADA)  # type: ignore[type-var]
    dashboards.given(CREATED, DETAILS, CHART_A, DELETED).when(as_owner).then_rejected(
        errors.Deleted
    )


def test_delete() -> None:
    state = (
        dashboards.given(CREATED)
        .when(DeleteDashboard(dashboard_id=D, actor=ADA, at=9))
        .then(DELETED)
    )
    assert state.deleted


# -- tabs ------------------------------------------------------------------------------


def test_add_tab_appends_it() -> None:
    state = (
        dashboards.given(CREATED)
        .when(AddTab(dashboard_id=D, actor=ADA, at=2, tab_id="t2", name="Details"))
        .then(DETAILS)
    )
    assert [t.name for t in state.tabs] == ["Overview", "Details"]


def test_tab_ids_and_names_are_unique_in_a_dashboard() -> None:
    given = dashboards.given(CREATED, DETAILS)
    given.when(AddTab(dashboard_id=D, actor=ADA, at=2, tab_id="t2", name="Other")).then_rejected(
        errors.AlreadyExists
    )
    given.when(AddTab(dashboard_id=D, actor=ADA, at=2, tab_id="t3", name="details")).then_rejected(
        errors.NameTaken
    )
    given.when(
        RenameTab(dashboard_id=D, actor=ADA, at=2, tab_id="t1", name="DETAILS")
    ).then_rejected(errors.NameTaken)


def test_rename_tab() -> None:
    state = (
        dashboards.given(CREATED, DETAILS)
        .when(RenameTab(dashboard_id=D, actor=ADA, at=3, tab_id="t2", name="Deep dive"))
        .then(TabRenamed(dashboard_id=D, user_id=ADA, at=3.0, tab_id="t2", name=Name("Deep dive")))
    )
    assert state.tab("t2").name == "Deep dive"


def test_renaming_a_tab_to_its_own_name_changes_nothing() -> None:
    dashboards.given(CREATED, DETAILS).when(
        RenameTab(dashboard_id=D, actor=ADA, at=3, tab_id="t2", name="Details")
    ).then_nothing()


@pytest.mark.parametrize(
    "command",
    [
        RenameTab(dashboard_id=D, actor=ADA, at=3, tab_id="nope", name="x"),
        RemoveTab(dashboard_id=D, actor=ADA, at=3, tab_id="nope"),
        add_chart(tab_id="nope"),
        MoveChartToTab(dashboard_id=D, actor=ADA, at=3, chart_id="a", tab_id="nope"),
    ],
    ids=lambda c: type(c).__name__,
)
def test_unknown_tabs_are_refused(command: object) -> None:
    dashboards.given(CREATED, CHART_A).when(command).then_rejected(errors.UnknownTab)


def test_remove_an_empty_tab() -> None:
    state = (
        dashboards.given(CREATED, DETAILS)
        .when(RemoveTab(dashboard_id=D, actor=ADA, at=3, tab_id="t2"))
        .then(TabRemoved(dashboard_id=D, user_id=ADA, at=3.0, tab_id="t2"))
    )
    assert [t.tab_id for t in state.tabs] == ["t1"]


def test_a_tab_holding_charts_cannot_be_removed() -> None:
    dashboards.given(CREATED, DETAILS, CHART_A).when(
        RemoveTab(dashboard_id=D, actor=ADA, at=3, tab_id="t1")
    ).then_rejected(errors.TabNotEmpty)


def test_the_last_tab_cannot_be_removed() -> None:
    dashboards.given(CREATED).when(
        RemoveTab(dashboard_id=D, actor=ADA, at=3, tab_id="t1")
    ).then_rejected(errors.LastTab)


def test_reorder_tabs() -> None:
    state = (
        dashboards.given(CREATED, DETAILS)
        .when(ReorderTabs(dashboard_id=D, actor=ADA, at=3, tab_ids=("t2", "t1")))
        .then(TabsReordered(dashboard_id=D, user_id=ADA, at=3.0, tab_ids=("t2", "t1")))
    )
    assert [t.tab_id for t in state.tabs] == ["t2", "t1"]


def test_reorder_to_the_current_order_changes_nothing() -> None:
    dashboards.given(CREATED, DETAILS).when(
        ReorderTabs(dashboard_id=D, actor=ADA, at=3, tab_ids=("t1", "t2"))
    ).then_nothing()


@pytest.mark.parametrize("order", [("t1",), ("t1", "t1"), ("t1", "t2", "t3"), ("t2", "x")])
def test_reorder_must_list_every_tab_once(order: tuple[str, ...]) -> None:
    dashboards.given(CREATED, DETAILS).when(
        ReorderTabs(dashboard_id=D, actor=ADA, at=3, tab_ids=order)
    ).then_rejected(errors.InvalidValue)


# -- charts ----------------------------------------------------------------------------


def test_add_a_chart_from_a_completed_query() -> None:
    state = dashboards.given(CREATED).when(add_chart("a", position=rect(0, 0), at=3)).then(CHART_A)
    (chart,) = state.charts
    assert (chart.tab_id, chart.position, chart.definition) == ("t1", rect(0, 0), BAR)


def test_a_chart_needs_a_completed_query() -> None:
    dashboards.given(CREATED).when(add_chart(query_completed=False)).then_rejected(
        errors.QueryNotCompleted
    )


def test_a_chart_needs_a_chart_config_naming_its_type() -> None:
    bad = ChartDefinition(query_id="q1", config={})
    dashboards.given(CREATED).when(add_chart(definition=bad)).then_rejected(errors.InvalidChart)


def test_chart_ids_are_unique() -> None:
    dashboards.given(CREATED, CHART_A).when(add_chart("a")).then_rejected(errors.AlreadyExists)


@pytest.mark.parametrize(
    "position",
    [
        rect(9, 0, width=4),
        rect(-1, 0),
        rect(0, -1),
        rect(0, 0, width=0),
        rect(0, 0, height=0),
        rect(0, 499, height=2),
        rect(12, 0, width=1),
    ],
)
def test_a_chart_outside_the_grid_is_refused(position: GridRect) -> None:
    dashboards.given(CREATED).when(add_chart(position=position)).then_rejected(errors.OutOfGrid)


def test_a_chart_spanning_the_full_width_fits() -> None:
    state = dashboards.given(CREATED).when(add_chart(position=rect(0, 0, width=12))).state
    assert state is not None
    assert dashboard.decide(add_chart(position=rect(0, 0, width=12)), state)


@pytest.mark.parametrize("position", [rect(2, 1), rect(3, 2, 1, 1), rect(0, 0, 12, 1)])
def test_overlapping_charts_on_one_tab_are_refused(position: GridRect) -> None:
    dashboards.given(CREATED, CHART_A).when(add_chart(position=position)).then_rejected(
        errors.GridOverlap
    )


def test_touching_edges_do_not_overlap_and_other_tabs_do_not_count() -> None:
    given = dashboards.given(CREATED, DETAILS, CHART_A)
    assert dashboard.decide(add_chart(position=rect(4, 0)), given.state)
    assert dashboard.decide(add_chart(position=rect(0, 3)), given.state)
    assert dashboard.decide(add_chart(tab_id="t2", position=rect(0, 0)), given.state)


def test_remove_chart() -> None:
    state = (
        dashboards.given(CREATED, CHART_A)
        .when(RemoveChart(dashboard_id=D, actor=ADA, at=6, chart_id="a"))
        .then(ChartRemoved(dashboard_id=D, user_id=ADA, at=6.0, chart_id="a", tab_id="t1"))
    )
    assert state.charts == ()


@pytest.mark.parametrize(
    "command",
    [
        RemoveChart(dashboard_id=D, actor=ADA, at=6, chart_id="zz"),
        MoveChartToTab(dashboard_id=D, actor=ADA, at=6, chart_id="zz", tab_id="t1"),
        MoveChart(dashboard_id=D, actor=ADA, at=6, chart_id="zz", x=0, y=0),
        ResizeChart(dashboard_id=D, actor=ADA, at=6, chart_id="zz", width=1, height=1),
    ],
    ids=lambda c: type(c).__name__,
)
def test_unknown_charts_are_refused(command: object) -> None:
    dashboards.given(CREATED, CHART_A).when(command).then_rejected(errors.UnknownChart)


def moved_to_details(position: GridRect) -> ChartMovedToTab:
    return ChartMovedToTab(
        dashboard_id=D,
        user_id=ADA,
        at=6.0,
        chart_id="a",
        from_tab_id="t1",
        tab_id="t2",
        position=position,
    )


def test_move_chart_to_an_empty_tab_lands_at_its_top() -> None:
    low = msgspec.structs.replace(CHART_A, position=rect(6, 20))
    state = (
        dashboards.given(CREATED, DETAILS, low)
        .when(MoveChartToTab(dashboard_id=D, actor=ADA, at=6, chart_id="a", tab_id="t2"))
        .then(moved_to_details(rect(0, 0)))
    )
    assert state.chart("a").tab_id == "t2"


def test_move_chart_to_another_tab_takes_the_highest_place_its_size_fits() -> None:
    # Details holds a 4x3 chart at the top left and a full-width one below it: the
    # moved 4x3 chart fits beside the first, not below everything.
    corner = msgspec.structs.replace(CHART_B, tab_id="t2", chart_id="b", position=rect(0, 0))
    wide = msgspec.structs.replace(
        CHART_B, tab_id="t2", chart_id="c", position=rect(0, 3, width=12, height=2)
    )
    dashboards.given(CREATED, DETAILS, CHART_A, corner, wide).when(
        MoveChartToTab(dashboard_id=D, actor=ADA, at=6, chart_id="a", tab_id="t2")
    ).then(moved_to_details(rect(4, 0)))


def test_move_chart_to_a_full_row_goes_below_it() -> None:
    full = msgspec.structs.replace(
        CHART_B, tab_id="t2", chart_id="b", position=rect(0, 0, width=12, height=4)
    )
    dashboards.given(CREATED, DETAILS, CHART_A, full).when(
        MoveChartToTab(dashboard_id=D, actor=ADA, at=6, chart_id="a", tab_id="t2")
    ).then(moved_to_details(rect(0, 4)))


def test_move_chart_to_a_taken_place_given_explicitly_is_refused() -> None:
    on_details = msgspec.structs.replace(CHART_B, tab_id="t2", chart_id="b", position=rect(2, 2))
    given = dashboards.given(CREATED, DETAILS, CHART_A, on_details)
    given.when(
        MoveChartToTab(
            dashboard_id=D, actor=ADA, at=6, chart_id="a", tab_id="t2", position=rect(0, 0)
        )
    ).then_rejected(errors.GridOverlap)
    assert dashboard.decide(
        MoveChartToTab(
            dashboard_id=D, actor=ADA, at=6, chart_id="a", tab_id="t2", position=rect(6, 0)
        ),
        given.state,
    )


def test_move_chart_to_its_own_tab_changes_nothing() -> None:
    dashboards.given(CREATED, CHART_A).when(
        MoveChartToTab(dashboard_id=D, actor=ADA, at=6, chart_id="a", tab_id="t1")
    ).then_nothing()


def test_move_chart_within_its_tab_may_overlap_its_old_place() -> None:
    state = (
        dashboards.given(CREATED, CHART_A)
        .when(MoveChart(dashboard_id=D, actor=ADA, at=6, chart_id="a", x=1, y=1))
        .then(
            ChartMoved(
                dashboard_id=D, user_id=ADA, at=6.0, chart_id="a", tab_id="t1", position=rect(1, 1)
            )
        )
    )
    assert state.chart("a").position == rect(1, 1)


def test_move_chart_onto_another_or_off_the_grid_is_refused() -> None:
    given = dashboards.given(CREATED, CHART_A, CHART_B)
    given.when(MoveChart(dashboard_id=D, actor=ADA, at=6, chart_id="a", x=2, y=0)).then_rejected(
        errors.GridOverlap
    )
    given.when(MoveChart(dashboard_id=D, actor=ADA, at=6, chart_id="b", x=9, y=0)).then_rejected(
        errors.OutOfGrid
    )


def test_resize_chart() -> None:
    state = (
        dashboards.given(CREATED, CHART_A)
        .when(ResizeChart(dashboard_id=D, actor=ADA, at=6, chart_id="a", width=12, height=5))
        .then(
            ChartResized(
                dashboard_id=D,
                user_id=ADA,
                at=6.0,
                chart_id="a",
                tab_id="t1",
                position=rect(0, 0, 12, 5),
            )
        )
    )
    assert state.chart("a").position.right == 12


def test_resize_into_a_neighbour_or_to_nothing_is_refused() -> None:
    given = dashboards.given(CREATED, CHART_A, CHART_B)
    given.when(
        ResizeChart(dashboard_id=D, actor=ADA, at=6, chart_id="a", width=5, height=3)
    ).then_rejected(errors.GridOverlap)
    given.when(
        ResizeChart(dashboard_id=D, actor=ADA, at=6, chart_id="a", width=0, height=3)
    ).then_rejected(errors.OutOfGrid)


def test_resize_to_the_same_size_changes_nothing() -> None:
    dashboards.given(CREATED, CHART_A).when(
        ResizeChart(dashboard_id=D, actor=ADA, at=6, chart_id="a", width=4, height=3)
    ).then_nothing()
