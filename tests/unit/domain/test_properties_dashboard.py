from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ironstar.domain import dashboard
from ironstar.domain.dashboard import (
    AddChart,
    AddTab,
    CreateDashboard,
    DashboardState,
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
)
from ironstar.domain.grid import GRID_COLUMNS
from ironstar.domain.kernel import ChartDefinition, UserId, name_key

from .properties import check_history, run

ADA, BOB = UserId("u:ada"), UserId("u:bob")
D = "d1"
common: dict[str, Any] = dict(
    dashboard_id=st.just(D),
    actor=st.sampled_from([ADA, ADA, ADA, ADA, BOB]),
    at=st.integers(0, 1000),
)
# Mostly valid values, so that sequences build real layouts; some invalid ones
# (unknown ids, bad names, rectangles off the grid) to exercise every refusal.
tab_ids = st.sampled_from(["t1", "t1", "t1", "t2", "t2", "t3", "nope"])
chart_ids = st.sampled_from(["a", "b", "c", "d", "e", "f"])
names = st.sampled_from(["Overview", "Details", "details ", "More", "Charts", "", "x" * 121])
rects_in_grid = st.builds(
    GridRect,
    x=st.integers(0, 10),
    y=st.integers(0, 6),
    width=st.integers(1, 6),
    height=st.integers(1, 3),
)
rects_anywhere = st.builds(
    GridRect,
    x=st.integers(-1, 12),
    y=st.integers(-1, 8),
    width=st.integers(0, 8),
    height=st.integers(0, 4),
)
rects = st.one_of(rects_in_grid, rects_in_grid, rects_anywhere)
# A cramped corner of the grid, so that well-formed additions often collide.
rects_crowded = st.builds(
    GridRect,
    x=st.integers(0, 6),
    y=st.integers(0, 2),
    width=st.integers(2, 6),
    height=st.integers(1, 3),
)
definitions = st.sampled_from(
    [
        ChartDefinition(query_id="q1", config={"chart_type": "bar", "y": ["n"]}),
        ChartDefinition(query_id="q2", config={"chart_type": "line", "x": "t", "y": ["v"]}),
        ChartDefinition(query_id="q3", config={"chart_type": "scatter", "y": ["v"]}),
        ChartDefinition(query_id="q4", config={}),
    ]
)
owner_common: dict[str, Any] = {**common, "actor": st.just(ADA)}
# Well-formed changes by the owner, drawn often so that layouts grow crowded.
good_changes = st.one_of(
    st.builds(AddTab, tab_id=st.sampled_from(["t2", "t3"]), name=names, **owner_common),
    st.builds(
        AddChart,
        chart_id=chart_ids,
        tab_id=st.sampled_from(["t1", "t2"]),
        definition=definitions.filter(lambda d: bool(d.config)),
        position=rects_crowded,
        query_completed=st.just(True),
        **owner_common,
    ),
    st.builds(
        MoveChart, chart_id=chart_ids, x=st.integers(0, 10), y=st.integers(0, 6), **owner_common
    ),
    st.builds(
        MoveChartToTab, chart_id=chart_ids, tab_id=st.sampled_from(["t1", "t2"]), **owner_common
    ),
)
any_changes = st.one_of(
    st.builds(CreateDashboard, name=names, first_tab_id=tab_ids, **common),
    st.builds(RenameDashboard, name=names, **common),
    st.builds(AddTab, tab_id=tab_ids, name=names, **common),
    st.builds(RenameTab, tab_id=tab_ids, name=names, **common),
    st.builds(RemoveTab, tab_id=tab_ids, **common),
    st.builds(
        ReorderTabs,
        tab_ids=st.lists(st.sampled_from(["t1", "t2", "t3"]), max_size=3, unique=True).map(tuple),
        **common,
    ),
    st.builds(
        AddChart,
        chart_id=chart_ids,
        tab_id=tab_ids,
        definition=definitions,
        position=rects,
        query_completed=st.sampled_from([True, True, True, False]),
        **common,
    ),
    st.builds(RemoveChart, chart_id=chart_ids, **common),
    st.builds(
        MoveChartToTab, chart_id=chart_ids, tab_id=tab_ids, position=st.none() | rects, **common
    ),
    st.builds(MoveChart, chart_id=chart_ids, x=st.integers(-1, 11), y=st.integers(-1, 7), **common),
    st.builds(
        ResizeChart, chart_id=chart_ids, width=st.integers(0, 7), height=st.integers(0, 3), **common
    ),
)
commands = st.one_of(good_changes, good_changes, any_changes)


def invariants(state: DashboardState) -> None:
    tab_ids_now = [t.tab_id for t in state.tabs]
    assert len(tab_ids_now) == len(set(tab_ids_now)) >= 1
    assert len({name_key(t.name) for t in state.tabs}) == len(state.tabs)
    assert 0 < len(state.name) <= 120
    chart_ids_now = [c.chart_id for c in state.charts]
    assert len(chart_ids_now) == len(set(chart_ids_now))
    for chart in state.charts:
        assert chart.tab_id in tab_ids_now, "every chart sits on an existing tab"
        assert chart.position.inside_grid()
        for other in state.charts:
            if other.chart_id != chart.chart_id and other.tab_id == chart.tab_id:
                assert not chart.position.overlaps(other.position)


def effect(
    command: Any, before: DashboardState | None, after: DashboardState, events: list[Any]
) -> None:
    if before is not None:
        assert not before.deleted, "nothing is accepted after delete"
        assert command.actor == before.owner, "only the owner changes a dashboard"
    if not events:
        assert after == before
        return
    match command:
        case CreateDashboard():
            assert after.owner == command.actor and after.tabs[0].tab_id == command.first_tab_id
        case RenameDashboard():
            assert after.name == command.name.strip()
        case DeleteDashboard():
            assert after.deleted
        case AddTab():
            assert after.tabs[-1].tab_id == command.tab_id
        case RenameTab():
            assert after.tab(command.tab_id).name == command.name.strip()
        case RemoveTab():
            assert command.tab_id not in [t.tab_id for t in after.tabs]
        case ReorderTabs():
            assert tuple(t.tab_id for t in after.tabs) == command.tab_ids
        case AddChart():
            chart = after.chart(command.chart_id)
            assert (chart.tab_id, chart.position) == (command.tab_id, command.position)
            assert command.query_completed
        case RemoveChart():
            assert command.chart_id not in [c.chart_id for c in after.charts]
        case MoveChartToTab():
            assert before is not None
            chart, was = after.chart(command.chart_id), before.chart(command.chart_id)
            assert chart.tab_id == command.tab_id
            if command.position is not None:
                assert chart.position == command.position
            elif was.tab_id == command.tab_id:
                assert chart.position == was.position
            else:  # the highest free place of its size: nothing free above it
                size = (chart.position.width, chart.position.height)
                assert size == (was.position.width, was.position.height)
                others = after.occupied(command.tab_id, except_chart=chart.chart_id).values()
                at = chart.position
                for y in range(at.y + 1):  # every place before it, tried one by one
                    for x in range(GRID_COLUMNS - at.width + 1 if y < at.y else at.x):
                        place = GridRect(x=x, y=y, width=at.width, height=at.height)
                        assert any(place.overlaps(o) for o in others), (place, at)
        case MoveChart():
            assert before is not None
            old, new = (
                before.chart(command.chart_id).position,
                after.chart(command.chart_id).position,
            )
            assert (new.x, new.y, new.width, new.height) == (
                command.x,
                command.y,
                old.width,
                old.height,
            )
        case ResizeChart():
            assert before is not None
            old, new = (
                before.chart(command.chart_id).position,
                after.chart(command.chart_id).position,
            )
            assert (new.x, new.y, new.width, new.height) == (
                old.x,
                old.y,
                command.width,
                command.height,
            )


@settings(max_examples=300, deadline=None)
@given(
    rest=st.lists(commands, min_size=5, max_size=40),
    delete_at=st.none() | st.integers(0, 40),
    cut=st.integers(0, 1000),
)
def test_random_commands_keep_the_layout_valid_and_replayable(
    rest: list[Any], delete_at: int | None, cut: int
) -> None:
    # Deletion ends a dashboard's life, so it is placed once rather than drawn often.
    if delete_at is not None:
        rest.insert(delete_at, DeleteDashboard(dashboard_id=D, actor=ADA, at=500))
    create = CreateDashboard(dashboard_id=D, actor=ADA, at=0, name="Q4", first_tab_id="t1")
    state, history, _ = run(dashboard, [create, *rest], invariants=invariants, effect=effect)
    check_history(dashboard, state, history, cut)
