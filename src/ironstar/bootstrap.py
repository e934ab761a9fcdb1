"""Composition root: the one place that picks adapters and wires services together."""

from __future__ import annotations

from ironstar.application.app import Ironstar
from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.sqlstore import SqlEventStore
from ironstar.projections.store import ProjectionStore
from ironstar.settings import Settings


def build_registry() -> EventRegistry:
    """Every event type Ironstar stores, under its explicit name."""
    from ironstar.domain.catalogue import EVENT_TYPES

    registry = EventRegistry()
    for name, (cls, version) in EVENT_TYPES.items():
        registry.register(name, cls, version)
    return registry


def open_event_store(settings: Settings, registry: EventRegistry | None = None) -> SqlEventStore:
    """Open the configured event store, creating and migrating its schema."""
    registry = registry or build_registry()
    if settings.uses_postgres:
        from ironstar.eventstore.postgres import open_postgres_store

        return open_postgres_store(settings.database_url, registry, schema=settings.postgres_schema)
    from ironstar.eventstore.sqlite import open_sqlite_store

    return open_sqlite_store(
        settings.event_db_path, registry, synchronous=settings.sqlite_synchronous
    )


def open_projection_store(settings: Settings) -> ProjectionStore:
    """Read models live beside the events: a second SQLite file, or their own PG schema."""
    if settings.uses_postgres:
        from ironstar.projections.postgres_db import PostgresProjectionDatabase

        return ProjectionStore(
            PostgresProjectionDatabase(
                settings.database_url, schema=f"{settings.postgres_schema}_read"
            )
        )
    from ironstar.projections.sqlite_db import SqliteProjectionDatabase

    return ProjectionStore(SqliteProjectionDatabase(settings.data_dir / "read.db"))


def build_app(settings: Settings) -> Ironstar:
    """The application on the configured adapters (not started)."""
    return Ironstar(open_event_store(settings), open_projection_store(settings))
