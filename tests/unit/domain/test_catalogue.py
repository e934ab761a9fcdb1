from __future__ import annotations

import inspect
from types import ModuleType

import msgspec
import pytest

from ironstar.bootstrap import build_registry
from ironstar.domain import errors, kernel
from ironstar.domain.catalogue import AGGREGATES, EVENT_TYPES

SEED_EVENTS = {
    "SessionCreated", "SessionRefreshed", "SessionInvalidated", "SessionExpired",
    "CatalogSelected", "CatalogMetadataRefreshed",
    "QueryStarted", "QueryCompleted", "QueryFailed", "QueryCancelled",
    "DashboardCreated", "ChartAdded", "ChartRemoved", "TabAdded", "ChartMovedToTab",
    "DashboardRenamed",
    "QuerySaved", "QueryDeleted", "QueryRenamed", "QuerySqlUpdated", "DatasetRefUpdated",
    "PreferencesInitialized", "ThemeSet", "DefaultCatalogSet", "DefaultCatalogCleared",
    "UiStateUpdated",
}  # fmt: skip


def test_every_event_the_seed_names_is_stored_under_its_name() -> None:
    assert set(EVENT_TYPES) >= SEED_EVENTS
    for name, (cls, version) in EVENT_TYPES.items():
        assert cls.__name__ == name
        assert version == 1


def test_every_event_of_every_aggregate_is_in_the_catalogue_once() -> None:
    listed = [cls for cls, _ in EVENT_TYPES.values()]
    assert len(listed) == len(set(listed))
    module_events = [cls for module in AGGREGATES.values() for cls in module.EVENTS]
    assert sorted(c.__name__ for c in module_events) == sorted(c.__name__ for c in listed)
    for cls in listed:
        assert issubclass(cls, kernel.Event)
        assert cls.__struct_config__.frozen


def test_the_composition_root_registers_them_all() -> None:
    assert build_registry().names() == sorted(EVENT_TYPES)


@pytest.mark.parametrize("module", AGGREGATES.values(), ids=lambda m: m.__name__)
def test_every_aggregate_module_offers_the_same_interface(module: ModuleType) -> None:
    assert module.SNAPSHOT_SCHEMA == 1
    assert module.stream_id("x1") == f"{module.STREAM_TYPE}:x1"
    assert issubclass(module.State, msgspec.Struct) and module.State.__struct_config__.frozen
    assert list(inspect.signature(module.decide).parameters) == ["command", "state"]
    assert list(inspect.signature(module.evolve).parameters) == ["state", "event"]


def test_stream_types_are_the_agreed_ones() -> None:
    assert set(AGGREGATES) == {
        "session", "catalog", "query", "dashboard", "saved_query", "preferences"
    }  # fmt: skip


def test_error_codes_are_stable_unique_and_carry_a_message() -> None:
    classes = [
        c
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, errors.DomainError)
    ]
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes))
    assert {"forbidden", "not_found", "invalid_name", "name_taken", "session_expired",
            "session_invalidated", "query_not_running", "grid_overlap", "out_of_grid",
            "catalog_unavailable", "unknown_catalog", "deleted"} <= set(codes)  # fmt: skip
    error = errors.GridOverlap("overlaps chart 'a'")
    assert (error.code, error.message, str(error)) == (
        "grid_overlap",
        "overlaps chart 'a'",
        "overlaps chart 'a'",
    )
