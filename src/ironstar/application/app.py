"""The application: commands in, read models out, background work alongside.

Built by the composition root (``bootstrap.build_app``) from ports only, so the same
code runs on SQLite or PostgreSQL and in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ironstar.application.handler import CommandHandler, CommandResult
from ironstar.application.reads import ReadModels
from ironstar.application.routing import build_routes, route_for
from ironstar.eventstore.sqlstore import SqlEventStore
from ironstar.projections.models import all_projections
from ironstar.projections.runner import ProjectionRunner
from ironstar.projections.store import ProjectionStore

log = logging.getLogger(__name__)

BackgroundJob = Callable[[], Awaitable[None]]


class ProjectionsLagging(Exception):
    """The command was stored, but the read models did not catch up in time."""

    code = "projections_lagging"


class Ironstar:
    def __init__(
        self,
        events: SqlEventStore,
        projections: ProjectionStore,
        *,
        read_your_writes_timeout: float = 10.0,
    ) -> None:
        self.events = events
        self.projections = projections
        self.handler = CommandHandler(events)
        self.runner = ProjectionRunner(events, projections, all_projections())
        self.reads = ReadModels(projections)
        self._routes = build_routes()
        self._timeout = read_your_writes_timeout
        self._jobs: list[tuple[str, BackgroundJob]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.started = False

    def add_background_job(self, name: str, job: BackgroundJob) -> None:
        """A long-running coroutine started with the app and cancelled when it stops."""
        self._jobs.append((name, job))

    async def start(self, *, follow: bool = True) -> None:
        if follow:
            await self.runner.start()
        else:
            await self.runner.prepare()
            await self.runner.catch_up()
        for name, job in self._jobs:
            self._tasks.append(asyncio.create_task(self._supervise(name, job), name=name))
        self.started = True

    async def _supervise(self, name: str, job: BackgroundJob) -> None:
        while True:
            try:
                await job()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job %s failed; restarting in 1 s", name)
                await asyncio.sleep(1)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.runner.stop()
        self.started = False

    async def close(self) -> None:
        await self.stop()
        await self.events.close()
        await self.projections.close()

    async def execute(
        self,
        command: Any,
        *,
        actor: str | None,
        command_id: str,
        correlation_id: str | None = None,
        wait: bool = True,
    ) -> CommandResult:
        """Handle one command; with ``wait``, return once every read model shows it."""
        route = route_for(self._routes, command)
        result = await self.handler.handle(
            route.spec,
            route.stream_id(command),
            command,
            command_id=command_id,
            user_id=actor,
            correlation_id=correlation_id,
        )
        if wait and result.position and not self.runner.started_following:
            await self.runner.catch_up()
        if (
            wait
            and result.position
            and not await self.runner.wait_for(result.position, self._timeout)
        ):
            raise ProjectionsLagging(
                f"saved at position {result.position}, but the read models have not caught up"
            )
        return result

    async def state_of(self, command_type: type, aggregate_id: str) -> tuple[Any, int]:
        """Current state and version of the aggregate a command type goes to."""
        route = self._routes[command_type]
        return await self.handler.load_state(route.spec, route.module.stream_id(aggregate_id))
