"""The analytics engine as the application sees it: one object wiring the catalog
registry, breakers, warm sandbox sessions, the executor, results and charts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ironstar.analytics.availability import CatalogHealth, CatalogUnavailable
from ironstar.analytics.blobstore import FilesystemBlobStore
from ironstar.analytics.cache import ResultCache
from ironstar.analytics.catalogs import CatalogConfigError, CatalogRegistry
from ironstar.analytics.charts.cache import ChartCache
from ironstar.analytics.charts.config import encode_chart_config, parse_chart_config
from ironstar.analytics.charts.series import chart_data
from ironstar.analytics.charts.validation import validate
from ironstar.analytics.executor import ExecutorConfig, QueryExecutor
from ironstar.analytics.metadata import CatalogMetadata
from ironstar.analytics.outcomes import QueryOutcome, QueryRequest
from ironstar.analytics.pool import SessionPool
from ironstar.analytics.refresh import MetadataRefresher
from ironstar.analytics.results import ExportFormat, ResultPage, export, page
from ironstar.analytics.sandbox import SandboxLimits, SandboxViolation, SqlChecker
from ironstar.domain import catalog as domain_catalog
from ironstar.domain.kernel import parse_name


class AnalyticsEngine:
    def __init__(
        self,
        data_dir: Path,
        *,
        catalog_overrides: Mapping[str, Mapping[str, Any]] | None = None,
        limits: SandboxLimits | None = None,
        executor: ExecutorConfig | None = None,
        attach_timeout: float = 10.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.registry = CatalogRegistry.load(self.data_dir, catalog_overrides)
        self.health = CatalogHealth()
        self.blobs = FilesystemBlobStore(self.data_dir / "results")
        # Spill to the data directory, never to whatever the working directory is.
        limits = limits or SandboxLimits(temp_directory=str(self.data_dir / "spill"))
        self.pool = SessionPool(self.registry, limits, self.health, attach_timeout)
        self.refresher = MetadataRefresher(self.pool)
        self.executor = QueryExecutor(self.pool, self.blobs, ResultCache(self.blobs), executor)
        self.checker = SqlChecker()
        self.charts = ChartCache()

    # ---- the workflow's CatalogDirectory ------------------------------------------------

    def catalog_names(self) -> list[str]:
        return self.registry.names()

    def view(self, catalog_id: str) -> domain_catalog.RegistryView:
        if catalog_id not in self.registry:
            return domain_catalog.RegistryView(known=False, available=False)
        state = self.health.breaker(catalog_id).snapshot()
        if state.state == "open":
            return domain_catalog.RegistryView(
                known=True, available=False, reason=state.last_reason or "it does not answer"
            )
        return domain_catalog.RegistryView(known=True, available=True)

    async def describe(
        self, catalog_id: str
    ) -> tuple[tuple[domain_catalog.DatasetMetadata, ...], int | None]:
        metadata = await self.refresher.refresh(catalog_id)
        if metadata.stale:
            raise CatalogUnavailable(catalog_id, metadata.unavailable_reason or "unavailable", None)
        return to_domain_datasets(metadata), metadata.snapshot_id

    async def metadata(self, catalog_id: str) -> CatalogMetadata:
        """Fresh metadata, or the last known marked stale, or CatalogUnavailable."""
        return await self.refresher.refresh(catalog_id)

    # ---- queries ------------------------------------------------------------------------

    def check_sql(self, sql: str) -> None:
        """Refuse statements the sandbox never runs (raises SandboxViolation)."""
        try:
            self.checker.check(sql, frozenset(self.registry.names()))
        except SandboxViolation:
            raise
        except Exception:  # a syntax error is the query's own outcome, reported as it runs
            return

    async def run(self, request: QueryRequest) -> QueryOutcome:
        return await self.executor.run(request)

    def cancel(self, query_id: str) -> bool:
        return self.executor.cancel(query_id)

    # ---- results and charts -------------------------------------------------------------

    async def page(
        self,
        result_key: str,
        offset: int = 0,
        limit: int = 100,
        sort_by: str | None = None,
        descending: bool = False,
    ) -> ResultPage:
        return await asyncio.to_thread(
            page, self.blobs, result_key, offset, limit, sort_by, descending
        )

    def export(self, result_key: str, fmt: ExportFormat) -> Iterator[bytes]:
        return export(self.blobs, result_key, fmt)

    async def check_chart(self, config: dict[str, Any], result_key: str) -> None:
        """Raise ChartValidationError (chart_type_mismatch) when the config cannot draw
        this result; InvalidChartConfig when the config itself is malformed."""
        parsed = parse_chart_config(config)

        def read_schema() -> Any:  # a file read (or a remote one): off the event loop
            with self.blobs.open(result_key) as handle:
                return pq.read_schema(handle)

        validate(parsed, await asyncio.to_thread(read_schema))

    async def chart(
        self, config: dict[str, Any], result_key: str, budget: int = 2000
    ) -> dict[str, Any]:
        """``{"option", "meta"}`` for this config over this result (see ``chart_data``);
        shared with other callers through the chart cache, so read it, do not modify it."""
        parsed = parse_chart_config(config)
        # A stat (raises BlobNotFound like open()), off the loop: on shared storage it
        # is a round trip, not a local syscall.
        stored = await asyncio.to_thread(self.blobs.info, result_key)
        key = (result_key, stored.size, stored.modified_at, encode_chart_config(parsed), budget)

        def compute() -> dict[str, Any]:
            with self.blobs.open(result_key) as handle:
                return chart_data(parsed, handle, budget=budget)  # validates first

        return await self.charts.get(key, compute)

    async def warm_up(self) -> None:
        """Open one sandbox session now, so the first query does not pay for attaching."""

        def warm() -> None:
            self.pool.release(self.pool.acquire())

        await asyncio.to_thread(warm)

    async def close(self) -> None:
        await self.executor.close()


def to_domain_datasets(metadata: CatalogMetadata) -> tuple[domain_catalog.DatasetMetadata, ...]:
    return tuple(
        domain_catalog.DatasetMetadata(
            name=parse_name(dataset.name, what="dataset name"),
            table_count=len(dataset.tables),
            schema_version=metadata.schema_version,
            tables=tuple(
                domain_catalog.TableMetadata(
                    name=table.name,
                    row_count=table.row_count,
                    columns=tuple(
                        domain_catalog.ColumnMetadata(name=c.name, type=c.type)
                        for c in table.columns
                    ),
                )
                for table in dataset.tables
            ),
        )
        for dataset in metadata.datasets
    )


__all__ = ["AnalyticsEngine", "CatalogConfigError", "to_domain_datasets"]
