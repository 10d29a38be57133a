"""`medperf container` (alias `mlcube`): list and view registered containers."""

from __future__ import annotations

from pathlib import Path

import typer

from medperf_core.cli.ui import JSON_HELP, dump, print_json, table, view_format

app = typer.Typer(no_args_is_help=True)


@app.command("ls")
def ls(
    mine: bool = typer.Option(False, "--mine", help="Only your containers."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the containers registered on the server."""
    from medperf_core.services import catalog
    from medperf_core.services.client import Client

    with Client() as client:
        rows = catalog.containers(client, mine=mine)
    if as_json:
        print_json(rows)
        return
    typer.echo(table([[r["id"], r["name"], r.get("owner"), r.get("state"), r.get("image_hash") or ""] for r in rows],
                     ["UID", "Name", "Owner", "State", "Image hash"]))


@app.command("view")
def view(
    container_id: int = typer.Argument(..., help="The container's UID."),
    fmt: str = typer.Option("yaml", "--format", "-f"),
    output: Path = typer.Option(None, "--output", "-o"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show one container as registered: config, parameters, hashes."""
    from medperf_core.services import catalog
    from medperf_core.services.client import Client

    with Client() as client:
        text = dump(catalog.container(client, container_id), view_format(fmt, as_json))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text)
