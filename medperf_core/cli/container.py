"""`medperf container` (alias `mlcube`): list, view, register, associate with a benchmark."""

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


@app.command("submit")
def submit(
    name: str = typer.Option(..., "--name", "-n", help="A unique name for the container."),
    config: str = typer.Option(..., "--container-config-file", "-m", help="container_config.yaml: path or URL."),
    config_hash: str = typer.Option(None, "--container-config-hash", help="Its expected sha256."),
    parameters: str = typer.Option(None, "--parameters-file", "-p", help="parameters.yaml: path or URL."),
    parameters_hash: str = typer.Option(None, "--parameters-hash", help="Its expected sha256."),
    additional: str = typer.Option(None, "--additional-file", "-a", help="Additional files tarball: path or URL."),
    additional_hash: str = typer.Option(None, "--additional-hash", help="Its expected sha256."),
    image_hash: str = typer.Option(None, "--image-hash", help="The image's expected digest."),
    operational: bool = typer.Option(False, "--operational", help="Register it operational (hashes frozen)."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Answer yes to every confirmation."),
) -> None:
    """Register a container: its config, parameters and additional files (hashed here), its image's digest."""
    from medperf_core.cli.ui import confirm
    from medperf_core.services import registration
    from medperf_core.services.client import Client

    with Client() as client:
        plan = registration.plan_container(
            client, name=name, config=config, config_hash=config_hash, parameters=parameters,
            parameters_hash=parameters_hash, additional=additional, additional_hash=additional_hash,
            image_hash=image_hash, operational=operational,
        )
        body = plan["body"]
        shown = {k: body[k] for k in ("name", "state", "image_hash", "mlcube_hash", "parameters_hash",
                                      "additional_files_tarball_hash") if k in body}
        shown["files"] = {k: a.source for k, a in plan["files"].items()}
        typer.echo("This will be sent to the server (local files are uploaded to it):")
        typer.echo(dump(shown))
        confirm(f"Register container {name!r}?", yes)
        created = registration.submit_container(client, plan)
    typer.echo(f"✅ Container registered with UID {created['id']} ({created['state']})")


@app.command("associate")
def associate(
    benchmark: int = typer.Option(..., "--benchmark", "-b", help="The benchmark's UID."),
    model: int = typer.Option(..., "--model_uid", "-m", help="Your model container's UID."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Answer yes to every confirmation."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Rerun the compatibility test."),
) -> None:
    """Test your model on the benchmark's demo data, then ask to join the benchmark."""
    from medperf_core.cli.ui import confirm
    from medperf_core.services import registration
    from medperf_core.services.client import Client

    with Client() as client:
        plan = registration.plan_model_association(client, benchmark, model, no_cache=no_cache, say=typer.echo)
        typer.echo("The association request will carry the compatibility test's results:")
        typer.echo(dump(plan["metadata"]))
        confirm(f"Request the association of model {model} with benchmark {benchmark}?", yes)
        row = registration.request_model_association(client, benchmark, model, plan["metadata"])
    typer.echo(f"✅ Association requested (status {row['approval_status']})")
