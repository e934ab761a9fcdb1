from __future__ import annotations

import pytest

from ironstar.domain import catalog, errors
from ironstar.domain.catalog import (
    CatalogMetadataRefreshed,
    CatalogSelected,
    DatasetMetadata,
    RefreshCatalogMetadata,
    RegistryView,
    SelectCatalog,
)
from ironstar.domain.kernel import Name, UserId

from .gwt import Decider

catalogs = Decider(catalog)
ADA = UserId("github:1")
HF = "hf://datasets/sciexp/fixtures"
UP = RegistryView(known=True, available=True)
DOWN = RegistryView(known=True, available=False, reason="no network")
UNKNOWN = RegistryView(known=False, available=False)
PENGUINS = DatasetMetadata(name=Name("penguins"), table_count=2, schema_version=3)
FLIGHTS = DatasetMetadata(name=Name("flights"), table_count=5, schema_version=1)


def refresh(registry: RegistryView = UP, **changes: object) -> RefreshCatalogMetadata:
    fields: dict[str, object] = dict(
        catalog_id=HF, registry=registry, datasets=(PENGUINS, FLIGHTS), snapshot_id=7, at=50
    )
    fields.update(changes)
    return RefreshCatalogMetadata(**fields)  # type: ignore[arg-type]


REFRESHED = CatalogMetadataRefreshed(
    catalog_id=HF, datasets=(FLIGHTS, PENGUINS), snapshot_id=7, user_id=None, at=50.0
)


def test_stream_id_keeps_the_catalog_url_after_the_type() -> None:
    assert catalog.stream_id(HF) == "catalog:hf://datasets/sciexp/fixtures"


def test_select_an_available_catalog_records_who_selected_it() -> None:
    state = (
        catalogs.given()
        .when(SelectCatalog(catalog_id=HF, actor=ADA, registry=UP, at=10))
        .then(CatalogSelected(catalog_id=HF, user_id=ADA, at=10.0))
    )
    assert state.selection_count == 1


def test_select_an_unavailable_catalog_fails_with_the_registry_reason() -> None:
    catalogs.given().when(
        SelectCatalog(catalog_id=HF, actor=ADA, registry=DOWN, at=10)
    ).then_rejected(errors.CatalogUnavailable, match="no network")


def test_select_an_unknown_catalog_fails() -> None:
    catalogs.given().when(
        SelectCatalog(catalog_id="nope", actor=ADA, registry=UNKNOWN, at=10)
    ).then_rejected(errors.UnknownCatalog)


def test_refresh_records_datasets_sorted_with_snapshot_and_time() -> None:
    state = catalogs.given().when(refresh()).then(REFRESHED)
    assert state.snapshot_id == 7
    assert state.refreshed_at == 50.0
    assert [d.name for d in state.datasets] == ["flights", "penguins"]


def test_refresh_by_a_user_names_them() -> None:
    (event,) = catalog.decide(refresh(actor=ADA), None)
    assert isinstance(event, CatalogMetadataRefreshed)
    assert event.user_id == ADA


def test_refresh_of_an_unchanged_catalog_changes_nothing() -> None:
    catalogs.given(REFRESHED).when(refresh(datasets=(FLIGHTS, PENGUINS), at=99)).then_nothing()


def test_refresh_with_a_new_snapshot_is_recorded() -> None:
    state = (
        catalogs.given(REFRESHED)
        .when(refresh(snapshot_id=8, at=60))
        .then(
            CatalogMetadataRefreshed(
                catalog_id=HF, datasets=(FLIGHTS, PENGUINS), snapshot_id=8, user_id=None, at=60.0
            )
        )
    )
    assert (state.snapshot_id, state.refreshed_at) == (8, 60.0)


def test_refresh_of_an_unavailable_catalog_fails() -> None:
    catalogs.given(REFRESHED).when(refresh(registry=DOWN)).then_rejected(errors.CatalogUnavailable)


@pytest.mark.parametrize(
    "datasets",
    [
        (PENGUINS, PENGUINS),
        (DatasetMetadata(name=Name(""), table_count=1, schema_version=1),),
        (DatasetMetadata(name=Name("x"), table_count=-1, schema_version=1),),
    ],
)
def test_refresh_with_malformed_metadata_is_refused(datasets: tuple[DatasetMetadata, ...]) -> None:
    with pytest.raises(errors.InvalidValue):
        catalog.decide(refresh(datasets=datasets), None)
