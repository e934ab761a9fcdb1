"""Composition root: the one place that picks adapters and wires services together."""

from __future__ import annotations

from ironstar.eventstore.codec import EventRegistry
from ironstar.eventstore.sqlstore import SqlEventStore
from ironstar.settings import Settings


def build_registry() -> EventRegistry:
    """Every event type Ironstar stores, under its explicit name."""
    registry = EventRegistry()
    try:
        from ironstar.domain.catalogue import EVENT_TYPES
    except ImportError:  # the domain is added by a later change
        return registry
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
