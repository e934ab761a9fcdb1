"""Property tests for the smaller aggregates (the dashboard has its own module)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ironstar.domain import catalog, preferences, query_session, saved_query, session
from ironstar.domain.catalog import (
    DatasetMetadata,
    RefreshCatalogMetadata,
    RegistryView,
    SelectCatalog,
)
from ironstar.domain.kernel import DatasetRef, Name, UserId, name_key
from ironstar.domain.preferences import (
    ClearDefaultCatalog,
    InitializePreferences,
    SetDefaultCatalog,
    SetTheme,
    Theme,
    UpdateUiState,
)
from ironstar.domain.query_session import (
    CancelQuery,
    CompleteQuery,
    FailQuery,
    FailureKind,
    QueryStatus,
    StartQuery,
)
from ironstar.domain.saved_query import (
    DeleteSavedQuery,
    RenameSavedQuery,
    SaveQuery,
    UpdateSavedQueryDatasetRef,
    UpdateSavedQuerySql,
)
from ironstar.domain.session import (
    CreateSession,
    ExpireSession,
    InvalidateSession,
    RefreshSession,
    SessionStatus,
    SignInIdentity,
)

from .properties import check_history, run

ADA, BOB = UserId("u:ada"), UserId("u:bob")
actors = st.sampled_from([ADA, ADA, ADA, BOB])
times = st.integers(0, 1000)
cuts = st.integers(0, 1000)
SETTINGS = settings(max_examples=200, deadline=None)


def no_invariant(state: Any) -> None:
    return None


# -- session ---------------------------------------------------------------------------

IDENTITY = SignInIdentity(provider="github", provider_user_id="1", login="ada", display_name="Ada")
session_commands = st.one_of(
    st.builds(
        CreateSession,
        session_id=st.just("s1"),
        user_id=st.just(ADA),
        identity=st.just(IDENTITY),
        ttl_seconds=st.integers(-1, 300),
        at=times,
    ),
    st.builds(RefreshSession, session_id=st.just("s1"), ttl_seconds=st.integers(0, 300), at=times),
    st.builds(InvalidateSession, session_id=st.just("s1"), at=times),
    st.builds(ExpireSession, session_id=st.just("s1"), at=times),
)


def session_effect(command: Any, before: Any, after: Any, events: list[Any]) -> None:
    if before is not None:
        assert before.status is SessionStatus.ACTIVE, "nothing is accepted after a terminal state"
    if not events:
        assert after == before
        return
    match command:
        case CreateSession():
            assert after.expires_at == command.at + command.ttl_seconds
        case RefreshSession():
            assert (
                command.at
                < before.expires_at
                < after.expires_at
                == command.at + command.ttl_seconds
            )
        case InvalidateSession():
            assert after.status is SessionStatus.INVALIDATED
        case ExpireSession():
            assert command.at >= before.expires_at and after.status is SessionStatus.EXPIRED


def session_invariants(state: Any) -> None:
    assert state.expires_at > state.created_at
    assert (state.ended_at is None) == (state.status is SessionStatus.ACTIVE)


@SETTINGS
@given(commands=st.lists(session_commands, min_size=1, max_size=25), cut=cuts)
def test_session_sequences(commands: list[Any], cut: int) -> None:
    state, history, _ = run(session, commands, invariants=session_invariants, effect=session_effect)
    check_history(session, state, history, cut)


# -- catalog ---------------------------------------------------------------------------

views = st.builds(
    RegistryView, known=st.booleans(), available=st.booleans(), reason=st.just("down")
)
dataset_lists = st.lists(
    st.builds(
        DatasetMetadata,
        name=st.sampled_from([Name("a"), Name("b"), Name("")]),
        table_count=st.integers(-1, 3),
        schema_version=st.integers(0, 2),
    ),
    max_size=3,
).map(tuple)
catalog_commands = st.one_of(
    st.builds(SelectCatalog, catalog_id=st.just("local"), actor=actors, registry=views, at=times),
    st.builds(
        RefreshCatalogMetadata,
        catalog_id=st.just("local"),
        registry=views,
        datasets=dataset_lists,
        snapshot_id=st.none() | st.integers(0, 3),
        at=times,
    ),
)


def catalog_effect(command: Any, before: Any, after: Any, events: list[Any]) -> None:
    assert command.registry.known and command.registry.available, "only selectable catalogs"
    if isinstance(command, RefreshCatalogMetadata) and events:
        assert after.snapshot_id == command.snapshot_id
        assert sorted(d.name for d in after.datasets) == sorted(d.name for d in command.datasets)


@SETTINGS
@given(commands=st.lists(catalog_commands, max_size=20), cut=cuts)
def test_catalog_sequences(commands: list[Any], cut: int) -> None:
    state, history, _ = run(catalog, commands, invariants=no_invariant, effect=catalog_effect)
    check_history(catalog, state, history, cut)


# -- query session ---------------------------------------------------------------------

query_commands = st.one_of(
    st.builds(
        StartQuery,
        query_id=st.just("q1"),
        actor=actors,
        sql=st.sampled_from(["SELECT 1", " "]),
        catalog_id=st.just("local"),
        at=times,
        chart_config=st.none() | st.just({"chart_type": "bar", "y": ["n"]}),
    ),
    st.builds(
        CompleteQuery,
        query_id=st.just("q1"),
        result_key=st.sampled_from(["r/q1", ""]),
        row_count=st.integers(-1, 5),
        columns=st.just(()),
        duration_ms=st.integers(0, 9),
        catalog_snapshot_id=st.none() | st.integers(0, 3),
        at=times,
    ),
    st.builds(
        FailQuery,
        query_id=st.just("q1"),
        kind=st.sampled_from(FailureKind),
        message=st.just("boom"),
        duration_ms=st.integers(0, 9),
        at=times,
        position=st.none() | st.integers(-1, 20),
    ),
    st.builds(CancelQuery, query_id=st.just("q1"), actor=actors, at=times),
)


def query_effect(command: Any, before: Any, after: Any, events: list[Any]) -> None:
    if before is not None and not isinstance(command, StartQuery):
        assert before.status is QueryStatus.RUNNING, "terminal states are final"
    expected = {
        CompleteQuery: QueryStatus.COMPLETED,
        FailQuery: QueryStatus.FAILED,
        CancelQuery: QueryStatus.CANCELLED,
        StartQuery: QueryStatus.RUNNING,
    }[type(command)]
    assert after.status is expected
    if isinstance(command, CancelQuery):
        assert command.actor == after.owner


@SETTINGS
@given(commands=st.lists(query_commands, min_size=1, max_size=20), cut=cuts)
def test_query_session_sequences(commands: list[Any], cut: int) -> None:
    state, history, _ = run(query_session, commands, invariants=no_invariant, effect=query_effect)
    check_history(query_session, state, history, cut)


# -- saved query -----------------------------------------------------------------------

saved_names = st.sampled_from(["Bills", "bills", "Flights", "", "Other"])
taken = st.lists(st.sampled_from(["Bills", "Flights", "Other"]), max_size=3, unique=True).map(tuple)
refs = st.none() | st.just(DatasetRef(catalog_id="local", dataset="penguins"))
saved_commands = st.one_of(
    st.builds(
        SaveQuery,
        saved_query_id=st.just("s1"),
        actor=actors,
        at=times,
        name=saved_names,
        sql=st.sampled_from(["SELECT 1", ""]),
        dataset_ref=refs,
        names_taken=taken,
    ),
    st.builds(
        RenameSavedQuery,
        saved_query_id=st.just("s1"),
        actor=actors,
        at=times,
        name=saved_names,
        names_taken=taken,
    ),
    st.builds(
        UpdateSavedQuerySql,
        saved_query_id=st.just("s1"),
        actor=actors,
        at=times,
        sql=st.sampled_from(["SELECT 2", "SELECT 1", " "]),
    ),
    st.builds(
        UpdateSavedQueryDatasetRef,
        saved_query_id=st.just("s1"),
        actor=actors,
        at=times,
        dataset_ref=refs,
    ),
    st.builds(DeleteSavedQuery, saved_query_id=st.just("s1"), actor=actors, at=times),
)


def saved_effect(command: Any, before: Any, after: Any, events: list[Any]) -> None:
    if before is not None:
        assert not before.deleted, "nothing is accepted after delete"
        assert command.actor == before.owner
    if isinstance(command, SaveQuery | RenameSavedQuery) and events:
        own = before.name if before is not None else ""
        others = {name_key(n) for n in command.names_taken} - {name_key(own)}
        assert name_key(after.name) not in others, "names are unique per user"
        assert after.name == command.name.strip()
    if isinstance(command, UpdateSavedQuerySql):
        assert after.sql == command.sql
    if isinstance(command, DeleteSavedQuery):
        assert after.deleted


@SETTINGS
@given(commands=st.lists(saved_commands, min_size=1, max_size=20), cut=cuts)
def test_saved_query_sequences(commands: list[Any], cut: int) -> None:
    state, history, _ = run(saved_query, commands, invariants=no_invariant, effect=saved_effect)
    check_history(saved_query, state, history, cut)


# -- preferences -----------------------------------------------------------------------

pref_common: dict[str, Any] = dict(user_id=st.just(ADA), actor=actors, at=times)
pref_commands = st.one_of(
    st.builds(InitializePreferences, **pref_common),
    st.builds(SetTheme, theme=st.sampled_from(Theme), **pref_common),
    st.builds(
        SetDefaultCatalog, catalog_id=st.sampled_from(["local", "hf://x", "bad id"]), **pref_common
    ),
    st.builds(ClearDefaultCatalog, **pref_common),
    st.builds(
        UpdateUiState,
        ui_state=st.dictionaries(
            st.sampled_from("abc"), st.integers(0, 3) | st.text(max_size=3), max_size=3
        ),
        **pref_common,
    ),
)


def pref_effect(command: Any, before: Any, after: Any, events: list[Any]) -> None:
    """A model of what each command should leave behind."""
    assert command.actor == ADA
    model = {
        "theme": before.theme if before else Theme.SYSTEM,
        "default_catalog": before.default_catalog if before else None,
        "ui_state": before.ui_state if before else {},
    }
    match command:
        case SetTheme():
            model["theme"] = command.theme
        case SetDefaultCatalog():
            model["default_catalog"] = command.catalog_id
        case ClearDefaultCatalog():
            model["default_catalog"] = None
        case UpdateUiState():
            model["ui_state"] = command.ui_state
    assert model == {
        "theme": after.theme,
        "default_catalog": after.default_catalog,
        "ui_state": after.ui_state,
    }
    assert (before is None) == (
        type(events[0]).__name__ == "PreferencesInitialized" if events else False
    ) or before is not None


@SETTINGS
@given(commands=st.lists(pref_commands, min_size=1, max_size=20), cut=cuts)
def test_preferences_sequences(commands: list[Any], cut: int) -> None:
    state, history, _ = run(preferences, commands, invariants=no_invariant, effect=pref_effect)
    check_history(preferences, state, history, cut)
