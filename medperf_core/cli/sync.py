"""`medperf sync`: send the requests that wait, and bring this machine's log into agreement with the server."""

from __future__ import annotations

import typer

from medperf_core.cli.ui import print_json


def sync(as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """Send pending submissions (one line each), then record what the server knows of your datasets,
    associations and results that this machine's log lacks."""
    from medperf_core.services import sync as service
    from medperf_core.services.client import Client

    with Client(flush=False) as client:
        report = service.sync(client)
    if as_json:
        print_json({"sent": report.sent, "still_pending": report.still_pending, "recorded": report.recorded,
                    "notes": report.notes})
        return
    for line in report.sent:
        typer.echo(f"✅ {line}")
    for line in report.recorded:
        typer.echo(f"✅ recorded from the server: {line}")
    for line in report.notes:
        typer.echo(f"⚠️  {line}")
    if report.still_pending:
        typer.echo(f"⏳ {report.still_pending} request(s) still pending; run `medperf sync` again when the server "
                   "answers")
        raise typer.Exit(8)
    if not (report.sent or report.recorded):
        typer.echo("✅ in agreement with the server: nothing to send, nothing to record")
