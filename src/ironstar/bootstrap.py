"""Composition root: the one place that picks adapters and wires services together."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ironstar.analytics.engine import AnalyticsEngine
from ironstar.application.app import Ironstar
from ironstar.application.automation.expiry import expiry_job
from ironstar.application.automation.queries import QueryRunner
from ironstar.application.automation.retention import retention_job
from ironstar.application.leadership import (
    READ_MODELS,
    FileLeadership,
    Leadership,
    PostgresLeadership,
    ReadModelsInUse,
)
from ironstar.application.workflow import Workflow
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


@dataclass
class Services:
    """Everything a running Ironstar process needs, wired once."""

    settings: Settings
    app: Ironstar
    engine: AnalyticsEngine
    workflow: Workflow
    queries: QueryRunner
    leadership: Leadership

    async def start(self) -> None:
        if not self.leadership.try_share(READ_MODELS):
            raise ReadModelsInUse(
                "a projection rebuild is running on these read models; "
                "start the server again once it has finished"
            )
        await self.app.start()

    async def close(self) -> None:
        await self.app.stop()
        await self.engine.close()
        await self.app.close()
        self.leadership.close()


def open_leadership(settings: Settings) -> Leadership:
    if settings.uses_postgres:
        return PostgresLeadership(settings.database_url, scope=settings.postgres_schema)
    return FileLeadership(settings.data_dir / "locks")


def build_services(settings: Settings, *, clock: Callable[[], float] = time.time) -> Services:
    """The app, the analytics engine, the workflow and their background jobs."""
    app = build_app(settings)
    engine = AnalyticsEngine(settings.data_dir)
    leadership = open_leadership(settings)
    workflow = Workflow(
        app, engine, charts=engine, clock=clock, session_ttl=settings.session_ttl_seconds
    )
    queries = QueryRunner(app, engine, leadership, timeout_seconds=settings.query_timeout_seconds)
    app.add_background_job("query-runner", queries.run)
    app.add_background_job(
        "session-expiry",
        expiry_job(workflow, leadership, interval=settings.expiry_sweep_seconds),
    )
    if settings.result_retention_days > 0:
        app.add_background_job(
            "result-retention",
            retention_job(
                engine.blobs, leadership, max_age_seconds=settings.result_retention_days * 86_400
            ),
        )
    return Services(settings, app, engine, workflow, queries, leadership)
