"""The ``ironstar`` command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from ironstar.bootstrap import build_registry, open_event_store
from ironstar.eventstore.model import EventFilter, RecordedEvent
from ironstar.settings import Settings

app = typer.Typer(
    help="Ironstar: scientific data analysis with a complete history.", no_args_is_help=True
)
events_app = typer.Typer(help="Inspect the event store.", no_args_is_help=True)
db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(db_app, name="db")
console = Console()


def _describe(event: RecordedEvent) -> str:
    when = dt.datetime.fromtimestamp(event.recorded_at, dt.UTC).isoformat(timespec="milliseconds")
    payload = json.dumps(msgspec.to_builtins(event.data), ensure_ascii=False)
    if len(payload) > 200:
        payload = payload[:197] + "..."
    who = f" by {event.metadata.user_id}" if event.metadata.user_id else ""
    return (
        f"[bold cyan]{event.position:>8}[/] {when} [green]{event.stream_id}[/]"
        f"@{event.stream_version} [bold]{event.event_type}[/]{who} {payload}"
    )


@events_app.command("tail")
def events_tail(
    after: int = typer.Option(0, help="Start after this global position (0 = from the start)."),
    stream_type: list[str] = typer.Option([], "--stream-type", help="Only these stream types."),
    event_type: list[str] = typer.Option([], "--event-type", help="Only these event types."),
    follow: bool = typer.Option(True, help="Keep following live events."),
) -> None:
    """Print the global event stream in order, then follow it live."""
    settings = Settings.from_env()
    selection = EventFilter(tuple(stream_type), tuple(event_type))

    async def run() -> None:
        store = open_event_store(settings)
        try:
            if follow:
                async for event in store.subscribe(after, selection):
                    console.print(_describe(event), highlight=False)
            else:
                position = after
                while page := await store.read_all(position, 1000, selection):
                    for event in page:
                        console.print(_describe(event), highlight=False)
                    position = page[-1].position
        finally:
            await store.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


@events_app.command("stats")
def events_stats() -> None:
    """Count events by stream type and event type."""
    settings = Settings.from_env()

    async def run() -> tuple[list[tuple[str, str, int]], int]:
        store = open_event_store(settings)
        try:
            return await store.stats(), await store.head_position()
        finally:
            await store.close()

    rows, head = asyncio.run(run())
    table = Table(title=f"Events (head position {head})")
    table.add_column("stream type")
    table.add_column("event type")
    table.add_column("count", justify="right")
    for stream_type, event_type, count in rows:
        table.add_row(stream_type, event_type, str(count))
    table.add_row("[bold]all[/]", "", f"[bold]{sum(r[2] for r in rows)}[/]")
    console.print(table)


@db_app.command("migrate")
def db_migrate() -> None:
    """Create or upgrade the event store schema."""
    settings = Settings.from_env()

    async def run() -> list[str]:
        store = open_event_store(settings, build_registry())
        try:
            return list(store.applied_migrations)
        finally:
            await store.close()

    applied = asyncio.run(run())
    where = settings.database_url or str(settings.event_db_path)
    if applied:
        console.print(f"applied {', '.join(applied)} to {where}")
    else:
        console.print(f"{where} is up to date")


def main() -> None:
    app()
