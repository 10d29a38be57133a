"""`medperf events`: list, verify, replay and export the client's (or a server's) event log."""

from __future__ import annotations

from pathlib import Path

import typer

from medperf_core.cli.ui import print_json, table
from medperf_core.errors import IntegrityError

app = typer.Typer(no_args_is_help=True)

StoreOption = typer.Option(None, "--store", help="An event store file (default: the active profile's log).")
ServerDirOption = typer.Option(None, "--server-data-dir", help="Audit a server's log in this data directory.")
DatabaseOption = typer.Option(
    None, "--database", help="Audit a server's log in this database (sqlite:///PATH, postgresql://USER@HOST/DB)."
)


@app.command("ls")
def ls(
    stream: str = typer.Option(None, "--stream", help="Only this stream (e.g. dataset-1)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per event."),
    store: Path = StoreOption,
    server_data_dir: Path = ServerDirOption,
    database: str = DatabaseOption,
) -> None:
    """List the events of the log, oldest first."""
    from medperf_core.services import audit

    with audit.open_log(store, server_data_dir, database=database) as log:
        events = audit.events(log, stream)
    if as_json:
        print_json([e.as_row() for e in events])
        return
    rows = [[e.position, e.recorded_at, e.stream, e.version, e.type, e.actor] for e in events]
    typer.echo(table(rows, ["position", "recorded at", "stream", "version", "type", "actor"]))


@app.command("verify")
def verify(
    store: Path = StoreOption, server_data_dir: Path = ServerDirOption, database: str = DatabaseOption
) -> None:
    """Walk the hash chain; exit 0 when intact, otherwise name the first bad position."""
    from medperf_core.services import audit

    with audit.open_log(store, server_data_dir, database=database) as log:
        report = audit.verify(log)
    if not report.ok:
        raise IntegrityError(report.summary(), "restore the log from a backup; do not append to it")
    typer.echo(f"✅ {report.summary()}")


@app.command("replay")
def replay(
    store: Path = StoreOption,
    server_data_dir: Path = ServerDirOption,
    database: str = DatabaseOption,
    check_only: bool = typer.Option(False, "--check-only", help="Compare without replacing the live tables."),
) -> None:
    """Rebuild every projection from the log and report whether the rebuilt rows equal the live ones."""
    from medperf_core.services import audit

    with audit.open_log(store, server_data_dir, audit=False, database=database) as log:
        report = audit.replay(log, check_only=check_only)
    rows = [[t.table, t.live_rows, t.rebuilt_rows, "yes" if t.equal else "NO"] for t in report.tables]
    typer.echo(table(rows, ["table", "live rows", "rebuilt rows", "equal"]))
    if report.equal:
        typer.echo(f"✅ replayed {report.events} events: every projection equals the live state")
    else:
        action = "left as they were" if check_only else "replaced by the rebuilt ones"
        typer.echo(f"⚠️  replayed {report.events} events: projections differed and were {action}")
        raise typer.Exit(1)


@app.command("export")
def export(
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the JSON lines."),
    store: Path = StoreOption,
    server_data_dir: Path = ServerDirOption,
    database: str = DatabaseOption,
) -> None:
    """Write the whole log as JSON lines (one stored event per line, hashes included)."""
    from medperf_core.services import audit

    with audit.open_log(store, server_data_dir, database=database) as log:
        count = audit.export(log, output)
    typer.echo(f"exported {count} events to {output}")
