"""`medperf profile`: list, create, activate, change, view and delete server profiles."""

from __future__ import annotations

from pathlib import Path

import attrs
import typer

from medperf_core.cli.ui import dump, table
from medperf_core.errors import UserError
from medperf_core.profiles import ProfileStore

app = typer.Typer(no_args_is_help=True)


@app.command("ls")
def ls() -> None:
    """List the profiles; the active one is marked with *."""
    store = ProfileStore()
    active = store.active_name()
    rows = []
    for name in store.names():
        p = store.get(name)
        rows.append(
            [
                "*" if name == active else "",
                name,
                p.backend,
                p.server if p.backend == "rest" else p.local_db or "(profile storage)",
                p.email or "",
            ]
        )
    typer.echo(table(rows, ["", "name", "backend", "server", "logged in as"]))


@app.command("create")
def create(name: str = typer.Option(..., "--name", "-n", help="The new profile's name.")) -> None:
    """Create a profile with the defaults (then: medperf profile activate NAME; medperf profile set ...)."""
    ProfileStore().create(name)
    typer.echo(f"✅ created profile {name!r}")


@app.command("activate")
def activate(name: str = typer.Argument(..., help="The profile to use from now on.")) -> None:
    """Make a profile the active one."""
    ProfileStore().activate(name)
    typer.echo(f"✅ active profile: {name}")


@app.command("set")
def set_(
    server: str = typer.Option(None, "--server", help="The server's URL, e.g. https://medperf.example.org"),
    backend: str = typer.Option(None, "--backend", help="rest (HTTP) or local (in-process, no server)."),
    platform: str = typer.Option(None, "--platform", help="docker or singularity."),
    local_db: Path = typer.Option(None, "--local-db", help="For the local backend: its data directory."),
    certificate: Path = typer.Option(None, "--certificate", help="The server's TLS certificate (PEM)."),
    gpus: str = typer.Option(None, "--gpus", help="GPUs for containers: all, a count, or device=0,1."),
    timeout: float = typer.Option(None, "--timeout", help="Seconds to wait for the server."),
    container_timeout: float = typer.Option(
        None, "--container-timeout", help="Seconds a container task may run before it is killed."
    ),
) -> None:
    """Change settings of the active profile."""
    store = ProfileStore()
    profile = store.active()
    changes: dict[str, object] = {}
    if server is not None:
        if not server.startswith(("http://", "https://")):
            raise UserError(f"invalid server URL {server!r}", "give it with its scheme: https://host[:port]")
        changes["server"] = server.rstrip("/")
    if backend is not None:
        from medperf_core.plugins import get_plugin_host

        get_plugin_host().server_backends.get(backend)  # names the known backends when unknown
        changes["backend"] = backend
    if platform is not None:
        changes["platform"] = platform
    if local_db is not None:
        changes["local_db"] = str(local_db.expanduser().resolve())
    if certificate is not None:
        if not certificate.is_file():
            raise UserError(f"no certificate file at {certificate}")
        changes["certificate"] = str(certificate.expanduser().resolve())
    if gpus is not None:
        changes["gpus"] = gpus
    if timeout is not None:
        changes["timeout"] = timeout
    if container_timeout is not None:
        if container_timeout <= 0:
            raise UserError("--container-timeout must be positive", "give seconds, e.g. 3600")
        changes["container_timeout"] = container_timeout
    if not changes:
        raise UserError("nothing to set", "see: medperf profile set --help")
    store.save(attrs.evolve(profile, **changes))  # type: ignore[arg-type]
    typer.echo(f"✅ updated profile {profile.name!r}: {', '.join(sorted(changes))}")


@app.command("view")
def view(
    name: str = typer.Argument(None, help="A profile (default: the active one)."),
    fmt: str = typer.Option("yaml", "--format", "-f", help="yaml or json."),
) -> None:
    """Show a profile's settings (the token is masked)."""
    typer.echo(dump(ProfileStore().get(name).public(), fmt).rstrip())


@app.command("delete")
def delete(name: str = typer.Argument(..., help="The profile to delete (not the active one).")) -> None:
    """Delete a profile's settings (its local storage folder stays)."""
    ProfileStore().delete(name)
    typer.echo(f"✅ deleted profile {name!r}")
