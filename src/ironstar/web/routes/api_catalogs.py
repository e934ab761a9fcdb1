"""Catalogs: the configured DuckLake catalogs, selecting one, refreshing its metadata, and
the Dataset Browser."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ironstar.domain import catalog
from ironstar.web.api_models import CatalogList, CatalogOut, CatalogWritten, DatasetList
from ironstar.web.routes.api_support import ERRORS, Command, Read, path_id

router = APIRouter(prefix="/api/catalogs", tags=["catalogs"], responses=ERRORS)
CatalogId = Annotated[str, path_id("a configured catalog's name")]


@router.get("", response_model=CatalogList)
async def list_catalogs(read: Read) -> CatalogList:
    """Every configured catalog with its availability (circuit breaker) and last metadata;
    ``current`` is the catalog this user selected last."""
    engine, reads = read.services.engine, read.services.app.reads
    current = await reads.current_catalog(read.user)
    catalogs = []
    for name in engine.catalog_names():
        view = engine.view(name)
        meta = await reads.catalog_metadata(name) or {}
        catalogs.append(
            CatalogOut(
                catalog_id=name,
                description=engine.registry.get(name).description,
                available=view.available,
                reason=view.reason,
                current=name == current,
                snapshot_id=meta.get("snapshot_id"),
                refreshed_at=meta.get("refreshed_at"),
                dataset_count=meta.get("dataset_count"),
                table_count=meta.get("table_count"),
            )
        )
    return CatalogList(current=current, catalogs=catalogs)


@router.post("/{catalog_id}/select", response_model=CatalogWritten)
async def select_catalog(catalog_id: CatalogId, cmd: Command, response: Response) -> CatalogWritten:
    """Select a catalog to work with; an unknown (404) or unreachable (503) one is refused."""
    result = await cmd.services.workflow.select_catalog(
        cmd.viewer.user_id, catalog_id, cmd.command_id
    )
    return CatalogWritten(catalog_id=catalog_id, position=await cmd.written(result, response))


@router.post("/{catalog_id}/refresh", response_model=CatalogWritten)
async def refresh_catalog(
    catalog_id: CatalogId, cmd: Command, response: Response
) -> CatalogWritten:
    """Refresh the catalog's metadata (datasets, tables, columns, snapshot); position 0 when
    nothing changed since the last refresh."""
    result = await cmd.services.workflow.refresh_catalog(
        catalog_id, cmd.viewer.user_id, cmd.command_id
    )
    return CatalogWritten(catalog_id=catalog_id, position=await cmd.written(result, response))


@router.get("/{catalog_id}/datasets", response_model=DatasetList)
async def datasets(
    catalog_id: CatalogId,
    read: Read,
    search: Annotated[str, Query(max_length=200, description="dataset, table or column")] = "",
) -> DatasetList:
    """The Dataset Browser: datasets with their tables and columns, optionally filtered."""
    engine, reads = read.services.engine, read.services.app.reads
    catalog.ensure_selectable(catalog_id, _known(engine.view(catalog_id)))
    meta = await reads.catalog_metadata(catalog_id) or {}
    return DatasetList.model_validate(
        {
            "catalog_id": catalog_id,
            "search": search,
            "snapshot_id": meta.get("snapshot_id"),
            "datasets": await reads.datasets(catalog_id, search),
        }
    )


def _known(view: catalog.RegistryView) -> catalog.RegistryView:
    """Browsing serves the last known metadata even while the catalog is down."""
    return catalog.RegistryView(known=view.known, available=view.known)
