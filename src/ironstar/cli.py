"""The ``ironstar`` command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import time

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from ironstar.application.leadership import READ_MODELS
from ironstar.bootstrap import (
    build_app,
    build_registry,
    open_event_store,
    open_leadership,
)
from ironstar.eventstore.model import EventFilter, RecordedEvent
from ironstar.logs import configure_logging, stop_logging
from ironstar.projections.runner import UnknownProjection
from ironstar.settings import Settings

app = typer.Typer(
    help="Ironstar: scientific data analysis with a complete history.", no_args_is_help=True
)
events_app = typer.Typer(help="Inspect the event store.", no_args_is_help=True)
db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
projections_app = typer.Typer(help="Read models built from events.", no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(db_app, name="db")
app.add_typer(projections_app, name="projections")
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


@projections_app.command("rebuild")
def projections_rebuild(
    names: list[str] = typer.Argument(None, help="Projections to rebuild (see 'list')."),
    all_: bool = typer.Option(False, "--all", help="Rebuild every projection."),
) -> None:
    """Drop read models and rebuild them from the first event (refused while a server
    uses them: stop it first)."""
    if not names and not all_:
        console.print("[red]name one or more projections, or pass --all[/]")
        raise typer.Exit(2)
    settings = Settings.from_env()

    async def run() -> tuple[int, float, list[str]]:
        ironstar = build_app(settings)
        try:
            await ironstar.runner.prepare()
            chosen = None if all_ else list(names)
            started = time.perf_counter()
            position = await ironstar.runner.rebuild(chosen)
            done = [p.name for p in ironstar.runner.projections] if all_ else list(names)
            return position, time.perf_counter() - started, done
        finally:
            await ironstar.close()

    leadership = open_leadership(settings)
    try:
        if not leadership.try_acquire(READ_MODELS):
            console.print(
                "[red]read_models_in_use: a running server (or another rebuild) uses these "
                "read models; stop it, rebuild, then start it again[/]"
            )
            raise typer.Exit(3)
        position, seconds, done = asyncio.run(run())
    except UnknownProjection as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    finally:
        leadership.close()
    console.print(f"rebuilt {', '.join(done)} up to position {position} in {seconds:.2f} s")


@projections_app.command("list")
def projections_list() -> None:
    """Each projection with its checkpoint."""
    settings = Settings.from_env()

    async def run() -> tuple[dict[str, int], int]:
        ironstar = build_app(settings)
        try:
            await ironstar.runner.prepare()
            return ironstar.runner.checkpoints(), await ironstar.events.head_position()
        finally:
            await ironstar.close()

    checkpoints, head = asyncio.run(run())
    table = Table(title=f"Projections (event head {head})")
    table.add_column("projection")
    table.add_column("checkpoint", justify="right")
    table.add_column("behind", justify="right")
    for name, position in checkpoints.items():
        table.add_row(name, str(position), str(head - position))
    console.print(table)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default 8000)."),
) -> None:
    """Start the web server (building the demo data first when there is none)."""
    import uvicorn

    from ironstar.web.app import create_app

    settings = Settings.from_env()
    host = host or settings.host
    port = port or settings.port
    if settings.local_mode and host not in LOOPBACK:
        console.print(
            f"[red]refusing to listen on {host}: no sign-in provider is configured, so Ironstar "
            "runs in local single-user mode, which serves 127.0.0.1 only.[/] Configure GitHub "
            "(IRONSTAR_GITHUB_CLIENT_ID/SECRET) or OpenID Connect (IRONSTAR_OIDC_DISCOVERY_URL, "
            "IRONSTAR_OIDC_CLIENT_ID/SECRET) to serve other hosts."
        )
        raise typer.Exit(2)

    async def prepare(chosen: Settings) -> None:
        if chosen.demo_on_start:
            await asyncio.to_thread(_build_demo, chosen, False)

    console.print(f"Ironstar on http://{host}:{port}/ (data in {settings.data_dir.resolve()})")
    configure_logging()
    # uvicorn stops gracefully on SIGTERM, then raises it again with its default action,
    # which ends the process at once: write out the queued log lines first.
    signal.signal(signal.SIGTERM, _write_logs_then_stop)
    try:
        uvicorn.run(
            create_app(settings, prepare=prepare),
            host=host,
            port=port,
            log_config=None,
            timeout_graceful_shutdown=10,
        )
    finally:
        stop_logging()


def _write_logs_then_stop(signum: int, frame: object) -> None:
    stop_logging()
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)


def _build_demo(settings: Settings, verbose: bool) -> None:
    from ironstar.analytics.demo_data import build_demo

    report = build_demo(settings.data_dir, log=console.print if verbose else lambda _: None)
    if report.built:
        console.print(f"demo catalogs ready: {', '.join(report.catalogs)}")


@app.command("demo")
def demo(
    headless: bool = typer.Option(
        False, "--headless", help="Also walk the workflow and print what every read model shows."
    ),
) -> None:
    """Build the demo DuckLake catalogs (once); with --headless, run the seed workflow."""
    settings = Settings.from_env()
    _build_demo(settings, True)
    if headless:
        from ironstar.application.demo import run_headless_demo

        asyncio.run(run_headless_demo(settings, console))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
