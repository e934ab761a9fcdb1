"""Use cases of the seed workflow: commands enriched with what the domain needs to know.

The domain decides on facts passed in (registry availability, a user's saved-query
names, whether a query completed); gathering those facts is this module's job. Each
method takes an optional ``command_id`` - the caller's idempotency key.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

import msgspec

from ironstar.application.app import Ironstar
from ironstar.application.handler import CommandResult
from ironstar.domain import catalog, dashboard, errors, preferences, query_session, saved_query
from ironstar.domain import session as sessions
from ironstar.domain.grid import GridRect
from ironstar.domain.kernel import ChartDefinition, DatasetRef, UserId, user_id_for
from ironstar.ids import new_id


class CatalogDirectory(Protocol):
    """What the analytics layer tells the workflow about catalogs."""

    def view(self, catalog_id: str) -> catalog.RegistryView: ...

    def check_sql(self, sql: str) -> None:
        """Refuse, before anything is recorded, statements the sandbox never runs."""
        ...

    async def describe(
        self, catalog_id: str
    ) -> tuple[tuple[catalog.DatasetMetadata, ...], int | None]:
        """Datasets (with tables and columns) and the current snapshot id; raises if down."""
        ...


class ChartChecker(Protocol):
    async def check_chart(self, config: dict[str, Any], result_key: str) -> None:
        """Raise a chart validation error when ``config`` cannot draw this result."""
        ...


class Workflow:
    def __init__(
        self,
        app: Ironstar,
        catalogs: CatalogDirectory,
        *,
        charts: ChartChecker | None = None,
        clock: Callable[[], float] = time.time,
        session_ttl: float = 8 * 3600,
    ) -> None:
        self.app = app
        self.catalogs = catalogs
        self.charts = charts
        self.clock = clock
        self.session_ttl = session_ttl

    async def _run(self, command: Any, actor: str | None, command_id: str | None) -> CommandResult:
        return await self.app.execute(command, actor=actor, command_id=command_id or new_id())

    # ---- phase 1: sessions --------------------------------------------------------------

    async def sign_in(
        self, identity: sessions.SignInIdentity, *, session_id: str | None = None
    ) -> tuple[str, UserId]:
        """A successful sign-in becomes a session; returns (session id, user id)."""
        session_id = session_id or secrets.token_hex(32)  # a secret: not new_id()
        user = user_id_for(identity.provider, identity.provider_user_id)
        command = sessions.CreateSession(
            session_id=session_id,
            user_id=user,
            identity=identity,
            ttl_seconds=self.session_ttl,
            at=self.clock(),
        )
        await self._run(command, user, f"sign-in:{session_id}")
        return session_id, user

    async def refresh_session(self, session_id: str) -> None:
        command = sessions.RefreshSession(
            session_id=session_id, ttl_seconds=self.session_ttl, at=self.clock()
        )
        await self._run(command, None, None)

    async def sign_out(self, session_id: str) -> None:
        await self._run(
            sessions.InvalidateSession(session_id=session_id, at=self.clock()), None, None
        )

    async def expire_session(self, session_id: str) -> CommandResult:
        return await self._run(
            sessions.ExpireSession(session_id=session_id, at=self.clock()),
            None,
            f"expire:{session_id}",
        )

    # ---- phase 2: catalogs --------------------------------------------------------------

    async def select_catalog(
        self, actor: UserId, catalog_id: str, command_id: str | None = None
    ) -> CommandResult:
        """Select a catalog after checking it answers; its metadata is refreshed on the way
        (no event when unchanged), so the Dataset Browser is current."""
        view = self.catalogs.view(catalog_id)
        if view.known and view.available:
            try:
                await self.refresh_catalog(catalog_id, actor)
            except Exception as exc:  # unreachable: the domain refuses, giving the reason
                reason = getattr(exc, "reason", None) or str(exc).split("\n", 1)[0]
                view = catalog.RegistryView(known=True, available=False, reason=reason)
        command = catalog.SelectCatalog(
            catalog_id=catalog_id, actor=actor, registry=view, at=self.clock()
        )
        return await self._run(command, actor, command_id)

    async def refresh_catalog(
        self, catalog_id: str, actor: UserId | None = None, command_id: str | None = None
    ) -> CommandResult:
        view = self.catalogs.view(catalog_id)
        catalog.ensure_selectable(catalog_id, view)
        datasets, snapshot_id = await self.catalogs.describe(catalog_id)
        command = catalog.RefreshCatalogMetadata(
            catalog_id=catalog_id,
            registry=view,
            datasets=datasets,
            snapshot_id=snapshot_id,
            at=self.clock(),
            actor=actor,
        )
        return await self._run(command, actor, command_id)

    # ---- phase 3: queries ---------------------------------------------------------------

    async def start_query(
        self,
        actor: UserId,
        sql: str,
        catalog_id: str,
        *,
        dataset: str | None = None,
        chart_config: dict[str, Any] | None = None,
        query_id: str | None = None,
        command_id: str | None = None,
        pinned_snapshot_id: int | None = None,
        rerun_of: str | None = None,
    ) -> str:
        view = self.catalogs.view(catalog_id)
        catalog.ensure_selectable(catalog_id, view)
        self.catalogs.check_sql(sql)
        query_id = query_id or new_id()
        command = query_session.StartQuery(
            query_id=query_id,
            actor=actor,
            sql=sql,
            catalog_id=catalog_id,
            at=self.clock(),
            dataset_ref=None
            if dataset is None
            else DatasetRef(catalog_id=catalog_id, dataset=dataset),
            chart_config=chart_config,
            pinned_snapshot_id=pinned_snapshot_id,
            rerun_of=rerun_of,
        )
        await self._run(command, actor, command_id or f"start:{query_id}")
        return query_id

    async def rerun_query(
        self,
        actor: UserId,
        query_id: str,
        *,
        pinned: bool = True,
        command_id: str | None = None,
        new_query_id: str | None = None,
    ) -> str:
        """Run a past query again - pinned to the DuckLake snapshot it read, so the result
        is reproduced even after the data changed (or on today's data when not pinned)."""
        past = await self.app.reads.query(actor, query_id)
        if past is None:
            raise errors.NotFound(f"there is no query {query_id!r} of yours")
        if pinned and past["snapshot_id"] is None:
            raise errors.Conflict("this query has no recorded snapshot to pin to; run it again")
        return await self.start_query(
            actor,
            past["sql"],
            past["catalog_id"],
            dataset=past["dataset"],
            chart_config=past["chart_config"],
            query_id=new_query_id,
            command_id=command_id,
            pinned_snapshot_id=past["snapshot_id"] if pinned else None,
            rerun_of=query_id,
        )

    async def cancel_query(self, actor: UserId, query_id: str) -> CommandResult:
        command = query_session.CancelQuery(query_id=query_id, actor=actor, at=self.clock())
        return await self._run(command, actor, f"cancel:{query_id}")

    # ---- phase 4: dashboards ------------------------------------------------------------

    async def create_dashboard(
        self,
        actor: UserId,
        name: str,
        *,
        dashboard_id: str | None = None,
        first_tab: str = "Overview",
        command_id: str | None = None,
    ) -> str:
        dashboard_id = dashboard_id or new_id()
        command = dashboard.CreateDashboard(
            dashboard_id=dashboard_id,
            actor=actor,
            at=self.clock(),
            name=name,
            first_tab_id=new_id(),
            first_tab_name=first_tab,
        )
        await self._run(command, actor, command_id)
        return dashboard_id

    async def dashboard_command(
        self,
        actor: UserId,
        command_type: type,
        dashboard_id: str,
        command_id: str | None = None,
        **fields: Any,
    ) -> CommandResult:
        """Rename, tabs, move/resize/remove charts: commands needing no outside facts."""
        command = command_type(dashboard_id=dashboard_id, actor=actor, at=self.clock(), **fields)
        return await self._run(command, actor, command_id)

    async def add_tab(
        self, actor: UserId, dashboard_id: str, name: str, command_id: str | None = None
    ) -> str:
        tab_id = new_id()
        await self.dashboard_command(
            actor, dashboard.AddTab, dashboard_id, command_id, tab_id=tab_id, name=name
        )
        return tab_id

    async def add_chart(
        self,
        actor: UserId,
        dashboard_id: str,
        query_id: str,
        tab_id: str,
        position: GridRect,
        *,
        config: dict[str, Any] | None = None,
        chart_id: str | None = None,
        command_id: str | None = None,
    ) -> str:
        """A chart from a completed query of this user, its config checked against the
        result's columns (the chart-type-mismatch flow)."""
        query = await self.app.reads.query(actor, query_id)
        if query is None:
            raise errors.NotFound(f"there is no query {query_id!r} of yours")
        config = config if config is not None else query["chart_config"]
        if not config:
            raise errors.InvalidChart("this query has no chart configuration; configure one")
        if self.charts is not None and query["status"] == "completed":
            await self.charts.check_chart(config, query["result_key"])
        chart_id = chart_id or new_id()
        await self.dashboard_command(
            actor,
            dashboard.AddChart,
            dashboard_id,
            command_id,
            chart_id=chart_id,
            tab_id=tab_id,
            position=position,
            definition=ChartDefinition(query_id=query_id, config=config),
            query_completed=query["status"] == "completed",
        )
        return chart_id

    async def restore_dashboard(
        self, actor: UserId, dashboard_id: str, version: int, command_id: str | None = None
    ) -> CommandResult:
        past = await self.app.reads.dashboard_as_of(actor, dashboard_id, version)
        if past is None:
            raise errors.NotFound(f"dashboard {dashboard_id!r} has no version {version}")
        state = _decode_layout(past["layout"])
        return await self.dashboard_command(
            actor,
            dashboard.RestoreDashboard,
            dashboard_id,
            command_id,
            version=version,
            name=state.name,
            tabs=state.tabs,
            charts=state.charts,
        )

    # ---- phase 5: saved queries ---------------------------------------------------------

    async def save_query(
        self,
        actor: UserId,
        name: str,
        sql: str,
        *,
        catalog_id: str | None = None,
        dataset: str | None = None,
        saved_query_id: str | None = None,
        command_id: str | None = None,
    ) -> str:
        saved_query_id = saved_query_id or new_id()
        ref = (
            None
            if not (catalog_id and dataset)
            else DatasetRef(catalog_id=catalog_id, dataset=dataset)
        )
        command = saved_query.SaveQuery(
            saved_query_id=saved_query_id,
            actor=actor,
            at=self.clock(),
            name=name,
            sql=sql,
            dataset_ref=ref,
            names_taken=await self.app.reads.saved_query_names(actor),
        )
        await self._run(command, actor, command_id)
        return saved_query_id

    async def rename_saved_query(
        self, actor: UserId, saved_query_id: str, name: str, command_id: str | None = None
    ) -> CommandResult:
        command = saved_query.RenameSavedQuery(
            saved_query_id=saved_query_id,
            actor=actor,
            at=self.clock(),
            name=name,
            names_taken=await self.app.reads.saved_query_names(actor),
        )
        return await self._run(command, actor, command_id)

    async def update_saved_query_sql(
        self, actor: UserId, saved_query_id: str, sql: str, command_id: str | None = None
    ) -> CommandResult:
        command = saved_query.UpdateSavedQuerySql(
            saved_query_id=saved_query_id, actor=actor, at=self.clock(), sql=sql
        )
        return await self._run(command, actor, command_id)

    async def update_saved_query_dataset(
        self,
        actor: UserId,
        saved_query_id: str,
        catalog_id: str | None,
        dataset: str | None,
        command_id: str | None = None,
    ) -> CommandResult:
        ref = (
            None
            if not (catalog_id and dataset)
            else DatasetRef(catalog_id=catalog_id, dataset=dataset)
        )
        command = saved_query.UpdateSavedQueryDatasetRef(
            saved_query_id=saved_query_id, actor=actor, at=self.clock(), dataset_ref=ref
        )
        return await self._run(command, actor, command_id)

    async def delete_saved_query(
        self, actor: UserId, saved_query_id: str, command_id: str | None = None
    ) -> CommandResult:
        command = saved_query.DeleteSavedQuery(
            saved_query_id=saved_query_id, actor=actor, at=self.clock()
        )
        return await self._run(command, actor, command_id)

    # ---- phase 6: preferences -----------------------------------------------------------

    async def preference(
        self, actor: UserId, command_type: type, command_id: str | None = None, **fields: Any
    ) -> CommandResult:
        """InitializePreferences, SetTheme, SetDefaultCatalog, ClearDefaultCatalog,
        UpdateUiState - always on the actor's own preferences."""
        if command_type is preferences.SetDefaultCatalog:
            catalog.ensure_selectable(
                fields["catalog_id"], self.catalogs.view(fields["catalog_id"])
            )
        command = command_type(user_id=actor, actor=actor, at=self.clock(), **fields)
        return await self._run(command, actor, command_id)


def _decode_layout(layout: Any) -> dashboard.DashboardState:
    return msgspec.convert(layout, dashboard.DashboardState)
