"""Catalog: a DuckLake catalog as the workspace sees it (one stream per catalog).

The catalog registry is outside the domain. Commands carry the registry's view
(``RegistryView``) so the decider can refuse unknown or unavailable catalogs
without doing I/O. A user's *current* catalog is a read model over CatalogSelected.
"""

from __future__ import annotations

from typing import Final, assert_never

import msgspec

from ironstar.domain import errors
from ironstar.domain.kernel import (
    Command,
    Event,
    Name,
    UserId,
    Value,
    parse_id,
    parse_instant,
    parse_name,
    parse_text,
    parse_user_id,
)

STREAM_TYPE: Final = "catalog"
SNAPSHOT_SCHEMA: Final = 1
MAX_DATASETS: Final = 10_000
MAX_TABLES_LISTED: Final = 50_000  # over all datasets: bounds the event's size


def stream_id(catalog_id: str) -> str:
    return f"{STREAM_TYPE}:{catalog_id}"


class RegistryView(Value, frozen=True, kw_only=True):
    """What the catalog registry said about a catalog when the command was made."""

    known: bool
    available: bool
    reason: str = ""  # why it is unavailable, shown to the user


class ColumnMetadata(Value, frozen=True, kw_only=True):
    name: str
    type: str  # the engine's type name


class TableMetadata(Value, frozen=True, kw_only=True):
    name: str
    row_count: int | None  # None when the engine could not count it cheaply
    columns: tuple[ColumnMetadata, ...] = ()


class DatasetMetadata(Value, frozen=True, kw_only=True):
    """A dataset (a DuckLake schema) with its tables, for the Dataset Browser."""

    name: Name
    table_count: int
    schema_version: int
    tables: tuple[TableMetadata, ...] = ()


# -- commands --------------------------------------------------------------------------


class SelectCatalog(Command, frozen=True, kw_only=True):
    catalog_id: str
    actor: UserId
    registry: RegistryView
    at: float


class RefreshCatalogMetadata(Command, frozen=True, kw_only=True):
    """Record what the catalog holds now; ``actor`` is None when automation refreshes."""

    catalog_id: str
    registry: RegistryView
    datasets: tuple[DatasetMetadata, ...]
    snapshot_id: int | None  # the DuckLake snapshot the metadata was read from
    at: float
    actor: UserId | None = None


# -- events ----------------------------------------------------------------------------


class CatalogSelected(Event, frozen=True, kw_only=True):
    catalog_id: str
    user_id: UserId
    at: float


class CatalogMetadataRefreshed(Event, frozen=True, kw_only=True):
    catalog_id: str
    datasets: tuple[DatasetMetadata, ...]
    snapshot_id: int | None
    user_id: UserId | None  # None when automation refreshed
    at: float


Commands = SelectCatalog | RefreshCatalogMetadata
Events = CatalogSelected | CatalogMetadataRefreshed
EVENTS: Final = (CatalogSelected, CatalogMetadataRefreshed)


class CatalogState(msgspec.Struct, frozen=True, kw_only=True):
    catalog_id: str
    datasets: tuple[DatasetMetadata, ...] = ()
    snapshot_id: int | None = None
    refreshed_at: float | None = None
    selection_count: int = 0


State = CatalogState


def ensure_selectable(catalog_id: str, registry: RegistryView) -> None:
    if not registry.known:
        raise errors.UnknownCatalog(f"there is no catalog {catalog_id!r}")
    if not registry.available:
        reason = parse_text(registry.reason, what="reason") or "it does not answer"
        raise errors.CatalogUnavailable(f"catalog {catalog_id!r} is unavailable: {reason}")


def _datasets(datasets: tuple[DatasetMetadata, ...]) -> tuple[DatasetMetadata, ...]:
    if len(datasets) > MAX_DATASETS:
        raise errors.TooLarge(f"a catalog lists at most {MAX_DATASETS} datasets")
    if sum(len(d.tables) for d in datasets) > MAX_TABLES_LISTED:
        raise errors.TooLarge(f"a catalog lists at most {MAX_TABLES_LISTED} tables")
    seen: set[str] = set()
    checked = []
    for dataset in datasets:
        name = parse_name(dataset.name, what="dataset name")
        if name in seen:
            raise errors.InvalidValue(f"dataset {name!r} is listed twice")
        seen.add(name)
        for count in (dataset.table_count, dataset.schema_version):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise errors.InvalidValue(f"dataset {name!r}: counts must be whole and >= 0")
        checked.append(msgspec.structs.replace(dataset, name=name))
    return tuple(sorted(checked, key=lambda d: d.name))  # order-insensitive "no change"


def decide(command: Commands, state: CatalogState | None) -> list[Events]:
    catalog_id = parse_id(command.catalog_id, what="catalog id")
    ensure_selectable(catalog_id, command.registry)
    at = parse_instant(command.at)
    match command:
        case SelectCatalog():
            return [
                CatalogSelected(catalog_id=catalog_id, user_id=parse_user_id(command.actor), at=at)
            ]
        case RefreshCatalogMetadata():
            datasets = _datasets(command.datasets)
            if state is not None and (state.datasets, state.snapshot_id) == (
                datasets,
                command.snapshot_id,
            ):
                return []  # periodic refreshes of an unchanged catalog leave no trace
            actor = None if command.actor is None else parse_user_id(command.actor)
            return [
                CatalogMetadataRefreshed(
                    catalog_id=catalog_id,
                    datasets=datasets,
                    snapshot_id=command.snapshot_id,
                    user_id=actor,
                    at=at,
                )
            ]
        case _:
            assert_never(command)


def evolve(state: CatalogState | None, event: Events) -> CatalogState:
    current = state or CatalogState(catalog_id=event.catalog_id)
    match event:
        case CatalogSelected():
            return msgspec.structs.replace(current, selection_count=current.selection_count + 1)
        case CatalogMetadataRefreshed():
            return msgspec.structs.replace(
                current,
                datasets=event.datasets,
                snapshot_id=event.snapshot_id,
                refreshed_at=event.at,
            )
        case _:
            assert_never(event)
