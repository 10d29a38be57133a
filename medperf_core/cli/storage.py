"""`medperf storage`: what lives under MEDPERF_HOME (ls) and removing what is temporary or orphaned (cleanup)."""

from __future__ import annotations

import typer

from medperf_core.cli.ui import JSON_HELP, confirm, print_json, table

app = typer.Typer(no_args_is_help=True)


def _used_images() -> set[str]:
    """The image digests of every container registered on the active profile's server."""
    from medperf_core.services.client import Client

    with Client() as client:
        return {str(c["image_hash"]).split(":")[-1] for c in client.backend.list_containers() if c.get("image_hash")}


@app.command("ls")
def ls(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Datasets, results, container files, SIF cache, logs and temporary files under MEDPERF_HOME, and the Docker
    images it built, with sizes."""
    from medperf_core.config import medperf_home
    from medperf_core.services import storage

    entries = storage.scan()
    if as_json:
        print_json([e.public() for e in entries])
        return
    typer.echo(f"MEDPERF_HOME: {medperf_home()}")
    typer.echo(table([[e.profile, e.kind, e.name, storage.human(e.size), e.status, e.note] for e in entries],
                     ["Profile", "Kind", "Name", "Size", "Status", "Note"]))
    total = sum(e.size for e in entries)
    freeable = sum(e.size for e in storage.removable(entries))
    typer.echo(f"Total {storage.human(total)}; `medperf storage cleanup` would free {storage.human(freeable)}")


@app.command("cleanup")
def cleanup(
    sif: bool = typer.Option(False, "--sif", help="Also remove cached SIF files no registered container uses "
                                                  "(asks the server)."),
    images: bool = typer.Option(False, "--images", help="Also remove Docker images this MEDPERF_HOME built that no "
                                                        "registered container uses (asks the server)."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Answer yes to every confirmation."),
) -> None:
    """Remove temporary files and orphaned folders (never a registered dataset or a result); shows them first."""
    from medperf_core.services import storage

    entries = storage.removable(storage.scan(used_images=_used_images() if sif or images else None), sif=sif,
                                images=images)
    busy = [(e, holder) for e in entries if (holder := storage.in_use(e))]
    for entry, holder in busy:  # a preparation or run is writing there: its `*.partial` is not a leftover
        typer.echo(f"Left alone: {entry.path} (dataset {entry.guard[1] if entry.guard else ''} is in use by "
                   f"{holder})")
    entries = [e for e in entries if all(e is not b for b, _ in busy)]
    if not entries:
        typer.echo("Nothing to remove.")
        return
    typer.echo("These will be removed:")
    typer.echo(table([[e.profile, e.kind, e.name if e.image else str(e.path), storage.human(e.size), e.note]
                      for e in entries],
                     ["Profile", "Kind", "Path", "Size", "Why"]))
    confirm(f"Remove {len(entries)} entries ({storage.human(sum(e.size for e in entries))})?", yes, destructive=True)
    freed = storage.remove(entries, say=typer.echo)
    typer.echo(f"✅ Freed {storage.human(freed)}")
