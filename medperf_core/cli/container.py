"""`medperf container` (alias `mlcube`): list, view, register, associate with a benchmark, run one task."""

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


@app.command("run_test")
def run_test(
    container: str = typer.Option(..., "--container", "-m", help="A registered UID or a local container config."),
    task: str = typer.Option(..., "--task", "-t", help="The task to run, e.g. prepare, infer, evaluate."),
    parameters: Path = typer.Option(None, "--parameters_file_path", help="parameters.yaml (default: the container's)."),
    additional: Path = typer.Option(None, "--additional_files_path",
                                    help="The additional files folder (default: the container's)."),
    logs: Path = typer.Option(None, "--output_logs", "-o", help="Write the container's output to this file."),
    timeout: float = typer.Option(None, "--timeout", min=1, help="Seconds before the container is stopped."),
    mounts: str = typer.Option(None, "--mounts", help="The task's volumes: NAME=PATH,NAME=PATH."),
    env: str = typer.Option(None, "--env", "-e", help="Environment variables: NAME=VALUE,NAME=VALUE."),
    allow_network: bool = typer.Option(False, "--allow_network", help="Refused: containers never get a network."),
) -> None:
    """Run one task of a container on paths you name (no data is registered, nothing is recorded)."""
    from medperf_core.errors import UserError
    from medperf_core.services import run_test as service
    from medperf_core.services.client import Client

    if allow_network:
        raise UserError("--allow_network: medperf runs every container without a network",
                        "drop --allow_network (put what the container downloads in its image or additional files)")
    with Client() as client:
        result = service.run_test(
            client, container, task, mounts=service.parse_pairs(mounts, "--mounts"),
            env=service.parse_pairs(env, "--env"), parameters_file=parameters, additional_files=additional,
            log_path=logs, timeout=timeout,
        )
    typer.echo(f"✅ Task {task} of {container} finished in {result.duration_s:.1f} s; logs in {result.log_path}")
