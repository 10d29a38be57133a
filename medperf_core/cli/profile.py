"""`medperf profile`: list, create, activate, change, view and delete server profiles."""

from __future__ import annotations

from pathlib import Path

import attrs
import typer

from medperf_core.cli.ui import JSON_HELP, dump, print_json, table, view_format
from medperf_core.errors import UserError
from medperf_core.profiles import ProfileStore

app = typer.Typer(no_args_is_help=True)


@app.command("ls")
def ls(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List the profiles; the active one is marked with *."""
    store = ProfileStore()
    active = store.active_name()
    if as_json:
        print_json([{**store.get(name).public(), "active": name == active} for name in store.names()])
        return
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
    platform: str = typer.Option(None, "--platform", help="docker, singularity or slurm."),
    local_db: Path = typer.Option(None, "--local-db", help="For the local backend: its data directory."),
    store_url: str = typer.Option(
        None, "--store-url", help="Where this profile's event log lives (sqlite:///PATH or a recorder plugin's URL)."
    ),
    certificate: Path = typer.Option(None, "--certificate", help="The server's TLS certificate (PEM)."),
    gpus: str = typer.Option(None, "--gpus", help="GPUs for containers: all, a count, or device=0,1."),
    timeout: float = typer.Option(None, "--timeout", help="Seconds to wait for the server."),
    container_timeout: str = typer.Option(
        None, "--container-timeout",
        help="Seconds a container task may run before it is killed (default 43200, 12 h); `none`: no limit.",
    ),
    slurm_partition: str = typer.Option(None, "--slurm-partition", help="Slurm: the partition (sbatch -p)."),
    slurm_account: str = typer.Option(None, "--slurm-account", help="Slurm: the account (sbatch -A)."),
    slurm_time_limit: str = typer.Option(
        None, "--slurm-time-limit", help="Slurm: each task's time limit, e.g. 90 (minutes) or 4:00:00."
    ),
    slurm_cpus: int = typer.Option(None, "--slurm-cpus", min=1, help="Slurm: CPUs per task."),
    slurm_memory: str = typer.Option(None, "--slurm-memory", help="Slurm: memory per task, e.g. 16G."),
    slurm_gpus: str = typer.Option(None, "--slurm-gpus", help="Slurm: GPUs per task, e.g. 1 or a100:2."),
    slurm_extra_args: str = typer.Option(
        None, "--slurm-extra-args", help="Slurm: more sbatch arguments, e.g. '--qos=high --exclusive'."
    ),
    slurm_shared_dir: Path = typer.Option(
        None, "--slurm-shared-dir", help="Slurm: a folder the compute nodes see, for SIF files and job folders."
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
    if store_url is not None:
        from medperf_core.store.backends import backend_for

        backend_for(store_url)  # names the known recorders when the scheme is unknown
        changes["store_url"] = store_url
    if certificate is not None:
        if not certificate.is_file():
            raise UserError(f"no certificate file at {certificate}")
        changes["certificate"] = str(certificate.expanduser().resolve())
    if gpus is not None:
        changes["gpus"] = gpus
    if timeout is not None:
        changes["timeout"] = timeout
    if container_timeout is not None:
        changes["container_timeout"] = _container_timeout(container_timeout)
    slurm = {
        "partition": slurm_partition,
        "account": slurm_account,
        "time_limit": slurm_time_limit,
        "cpus": slurm_cpus,
        "memory": slurm_memory,
        "gpus": slurm_gpus,
        "extra_args": slurm_extra_args,
        "shared_dir": str(slurm_shared_dir.expanduser().resolve()) if slurm_shared_dir is not None else None,
    }
    slurm = {k: v for k, v in slurm.items() if v is not None}
    if slurm:  # an empty string clears a setting
        merged = {**profile.slurm, **slurm}
        changes["slurm"] = {k: v for k, v in merged.items() if v != ""}
    if not changes:
        raise UserError("nothing to set", "see: medperf profile set --help")
    store.save(attrs.evolve(profile, **changes))  # type: ignore[arg-type]
    typer.echo(f"✅ updated profile {profile.name!r}: {', '.join(sorted(changes))}")


@app.command("view")
def view(
    name: str = typer.Argument(None, help="A profile (default: the active one)."),
    fmt: str = typer.Option("yaml", "--format", "-f", help="yaml or json."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show a profile's settings (the token is masked)."""
    typer.echo(dump(ProfileStore().get(name).public(), view_format(fmt, as_json)).rstrip())


@app.command("delete")
def delete(name: str = typer.Argument(..., help="The profile to delete (not the active one).")) -> None:
    """Delete a profile's settings (its local storage folder stays)."""
    ProfileStore().delete(name)
    typer.echo(f"✅ deleted profile {name!r}")


def _container_timeout(text: str) -> float:
    """Seconds (positive), or `none` for no limit (stored as 0)."""
    if text.strip().lower() == "none":
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise UserError(f"--container-timeout {text!r} is neither positive seconds nor none",
                        "give seconds, e.g. 3600, or none for no limit")
    return seconds
