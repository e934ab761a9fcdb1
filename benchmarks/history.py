"""What one more change of a dashboard costs the read models, as its history grows.

    .venv/bin/python benchmarks/history.py [--quick]

Applies single-change pages (a rename: the commonest live page) to the dashboard
projections (layouts and history) on a SQLite read-model file, on a dashboard that
already has 10, then 1,000, then 10,000 (not --quick: also 50,000) versions, and prints
the time per change at each depth and as a multiple of the 10-version case. A change must
cost the same however long the dashboard's history is: the ratio should stay near 1x.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ironstar.domain import dashboard as d
from ironstar.eventstore.model import EventMetadata, RecordedEvent
from ironstar.projections.models.dashboard_history import DashboardHistory
from ironstar.projections.models.dashboards import DashboardLayouts
from ironstar.projections.sqlite_db import SqliteProjectionDatabase
from ironstar.projections.store import Tx

DASHBOARD = "0" * 32
USER = "local:analyst"
MEASURED = 300  # single-change pages timed at each depth
SETUP_PAGE = 5_000  # history is written in pages this long (as a catch-up does)


class Log:
    """A dashboard's events, numbered as the event store would number them."""

    def __init__(self) -> None:
        self.version = 0

    def next(self, data: object) -> RecordedEvent:
        self.version += 1
        return RecordedEvent(
            position=self.version,
            stream_id=f"dashboard:{DASHBOARD}",
            stream_type="dashboard",
            stream_version=self.version,
            event_id=f"e{self.version}",
            event_type=type(data).__name__,
            event_version=1,
            data=data,
            metadata=EventMetadata(user_id=USER),
            recorded_at=float(self.version),
        )

    def created(self) -> RecordedEvent:
        return self.next(
            d.DashboardCreated(
                dashboard_id=DASHBOARD, user_id=USER, at=0.0, name="D", tab_id="t", tab_name="T"
            )
        )

    def renamed(self) -> RecordedEvent:
        return self.next(
            d.DashboardRenamed(
                dashboard_id=DASHBOARD,
                user_id=USER,
                at=float(self.version),
                name=f"v{self.version}",
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="depths up to 10,000 only")
    args = parser.parse_args()
    depths = [10, 1_000, 10_000] if args.quick else [10, 1_000, 10_000, 50_000]

    scratch = Path(tempfile.mkdtemp(prefix="ironstar-history-bench-"))
    db = SqliteProjectionDatabase(scratch / "read.db")
    projections = [DashboardLayouts(), DashboardHistory()]

    def apply(page: list[RecordedEvent]) -> None:
        def work(tx: Tx) -> None:
            for projection in projections:
                projection.apply_page(tx, page)

        db.transaction(work)

    try:
        db.transaction(lambda tx: [p.create(tx) for p in projections])
        log = Log()
        apply([log.created()])
        costs: dict[int, float] = {}
        for depth in depths:
            while log.version < depth:
                apply([log.renamed() for _ in range(min(SETUP_PAGE, depth - log.version))])
            samples = []
            for _ in range(MEASURED):
                change = log.renamed()
                started = time.perf_counter()
                apply([change])
                samples.append(time.perf_counter() - started)
            costs[depth] = statistics.median(samples)
        print("One dashboard change applied to the dashboard read models (SQLite), by history:")
        for depth, cost in costs.items():
            ratio = cost / costs[depths[0]]
            print(
                f"  after {depth:>6,} versions: {cost * 1e6:7.0f} us per change "
                f"(median of {MEASURED}), {ratio:4.1f}x the cost after {depths[0]}"
            )
        print("  target: flat (a change's cost must not grow with the dashboard's history)")
    finally:
        db.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
