"""`medperf dataset`: submit, prepare, set_operational, associate, ls, view, check, export, import."""

from __future__ import annotations

from pathlib import Path

import typer

from medperf_core.cli.ui import JSON_HELP, confirm, dump, print_json, queued, table, view_format

app = typer.Typer(no_args_is_help=True)

Yes = typer.Option(False, "-y", "--yes", help="Answer yes to every confirmation.")
DataUid = typer.Option(..., "--data_uid", "-d", help="The dataset's server UID.")


@app.command("submit")
def submit(
    name: str = typer.Option(..., "--name", help="A name for your dataset."),
    description: str = typer.Option("", "--description", help="A short description."),
    location: str = typer.Option("", "--location", help="Where the data comes from (e.g. hospital)."),
    data_path: Path = typer.Option(..., "--data_path", "-d", help="Folder with the raw data records."),
    labels_path: Path = typer.Option(..., "--labels_path", "-l", help="Folder with the labels."),
    benchmark: int = typer.Option(None, "--benchmark", "-b", help="The benchmark the data is for."),
    data_prep: int = typer.Option(None, "--data_prep", "-p", help="The preparation container (instead of -b)."),
    yes: bool = Yes,
) -> None:
    """Register your dataset's metadata (never the data itself) with the server."""
    from medperf_core.services import datasets
    from medperf_core.services.client import Client

    with Client() as client:
        plan = datasets.plan_submission(client, name=name, description=description, location=location,
                                        data_path=data_path, labels_path=labels_path, benchmark=benchmark,
                                        data_prep=data_prep)
        if "existing" in plan:
            found = datasets.submit(client, plan)
            typer.echo(f"✅ This data is already registered as dataset {found['id']} ({found['name']}); recorded on "
                       f"this machine with its paths. Next: medperf dataset prepare --data_uid {found['id']}")
            return
        shown = {k: plan["body"][k] for k in ("name", "description", "location", "input_data_hash",
                                              "data_preparation_mlcube", "state")}
        shown["benchmark"] = benchmark
        typer.echo("This information will be sent to the server (your data stays on this machine):")
        typer.echo(dump(shown))
        confirm("Submit this dataset?", yes)
        created = datasets.submit(client, plan)
    typer.echo(f"✅ Dataset registered with UID {created['id']}")


@app.command("prepare")
def prepare(
    data_uid: int = DataUid,
    force: bool = typer.Option(False, "--force", help="Redo every step, even finished ones."),
    yes: bool = Yes,
) -> None:
    """Run the benchmark's preparation container on your data (resumable: finished steps are skipped)."""
    from medperf_core.cli.progress import steps
    from medperf_core.services import datasets
    from medperf_core.services.client import Client

    with Client() as client, steps(f"preparing dataset {data_uid}") as say:
        result = datasets.prepare(client, data_uid, force=force, say=say)
    typer.echo(f"✅ Dataset {data_uid} prepared in {result['folder']}")
    typer.echo("Statistics (sent only when you set the dataset operational):")
    typer.echo(dump(result["statistics"]))


@app.command("set_operational")
def set_operational(data_uid: int = DataUid, yes: bool = Yes) -> None:
    """Send the prepared data's hash and statistics and mark the dataset operational (irreversible)."""
    from medperf_core.services import datasets
    from medperf_core.services.client import Client
    from medperf_core.services.outbox import Pending

    with Client() as client:
        body = datasets.plan_operational(client, data_uid)
        typer.echo(f"Dataset {data_uid} will be marked operational; this cannot be undone. To be sent:")
        typer.echo(dump(body))
        confirm("Mark it operational?", yes)
        try:
            datasets.set_operational(client, data_uid, body)
        except Pending as e:
            if queued(client, e):
                return
            raise
    typer.echo(f"✅ Dataset {data_uid} is operational")


@app.command("associate")
def associate(
    data_uid: int = DataUid,
    benchmark_uid: int = typer.Option(..., "--benchmark_uid", "-b", help="The benchmark to join."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Rerun the compatibility test."),
    yes: bool = Yes,
) -> None:
    """Run the compatibility test (reference model + metrics) and request to join the benchmark."""
    from medperf_core.services import associations
    from medperf_core.services.client import Client
    from medperf_core.services.outbox import Pending

    with Client() as client:
        associations.require_not_requested(client, benchmark_uid, data_uid)
        typer.echo(f"Running the compatibility test of benchmark {benchmark_uid} on dataset {data_uid} …")
        from medperf_core.cli.progress import steps

        with steps("compatibility test") as say:
            outcome = associations.compatibility_test(client, benchmark_uid, data_uid, no_cache=no_cache, say=say)
        typer.echo("Executive summary (to be sent with the association request):")
        typer.echo(dump({"dataset": data_uid, "benchmark": benchmark_uid, "test_result": outcome.metrics}))
        confirm(f"Request association of dataset {data_uid} with benchmark {benchmark_uid}?", yes)
        try:
            row = associations.request(client, benchmark_uid, data_uid, outcome)
        except Pending as e:
            if queued(client, e):
                return
            raise
    typer.echo(f"✅ Association requested (status {row.get('approval_status')})")


@app.command("ls")
def ls(
    mine: bool = typer.Option(False, "--mine", help="Only your datasets."),
    unregistered: bool = typer.Option(False, "--unregistered", help="Only datasets known only locally."),
    prep: int = typer.Option(None, "--data-preparation-container", "-m", help="Only those of this container."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List datasets visible to you on the server, with their local state."""
    from medperf_core.services import catalog
    from medperf_core.services.client import Client

    with Client() as client:
        rows = catalog.datasets(client, mine=mine, unregistered=unregistered, preparation=prep)
    if as_json:
        print_json(rows)
        return
    typer.echo(table([[r["id"], r["name"], r.get("data_preparation_mlcube"), r.get("state"), r["local_state"]]
                      for r in rows],
                     ["UID", "Name", "Data Preparation Container", "State", "Local state"]))


@app.command("view")
def view(
    data_uid: int = typer.Argument(None, help="The dataset's UID (default: all of yours)."),
    fmt: str = typer.Option("yaml", "--format", "-f", help="yaml or json."),
    output: Path = typer.Option(None, "--output", "-o", help="Write to this file."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show a dataset as the server has it, with its local state."""
    from medperf_core.services import catalog
    from medperf_core.services.client import Client

    with Client() as client:
        rows = [catalog.dataset(client, data_uid)] if data_uid is not None else catalog.my_datasets(client)
    text = dump(rows[0] if data_uid is not None else rows, view_format(fmt, as_json))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text)


@app.command("check")
def check(
    data_uid: int = DataUid,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Recompute the raw and prepared data hashes and compare them with the server's; exit 1 if one changed."""
    from medperf_core.cli.progress import hashing_progress
    from medperf_core.services import dataset_check
    from medperf_core.services.client import Client

    with Client() as client, hashing_progress("hashing") as progress:
        parts = dataset_check.check(client, data_uid, progress=progress)
    if as_json:
        print_json([{"part": p.part, "status": p.status, "expected": p.expected, "actual": p.actual,
                     "paths": list(p.paths), "advice": p.advice} for p in parts])
    else:
        for p in parts:
            mark = "✅" if p.status == dataset_check.UNCHANGED else "⚠️ "
            typer.echo(f"{mark} {p.part} data: {p.status} ({', '.join(p.paths)})")
            if p.status == dataset_check.CHANGED:
                typer.echo(f"   registered {p.expected}\n   now        {p.actual}")
            if p.advice:
                typer.echo(f"   → {p.advice}")
    if any(p.status == dataset_check.CHANGED for p in parts):
        raise typer.Exit(1)


@app.command("export")
def export(
    data_uid: int = DataUid,
    output: Path = typer.Option(..., "--output", "-o", help="The archive to write (.tar.gz, or .tar uncompressed)."),
) -> None:
    """Write the prepared dataset, its local results and their history to one archive, for another machine."""
    from medperf_core.cli.progress import hashing_progress
    from medperf_core.services import dataset_transfer
    from medperf_core.services.client import Client

    with Client() as client, hashing_progress("hashing files") as progress:
        manifest = dataset_transfer.export(client, data_uid, output, progress=progress)
    size = sum(int(f["size"]) for f in manifest["files"].values())
    typer.echo(f"✅ Dataset {data_uid} exported to {output}: {len(manifest['files'])} files ({size} bytes), "
               f"{len(manifest['executions'])} results, the log up to position {manifest['log_head']['position']}")
    typer.echo("The raw data is not in the archive; on the other machine pass --raw_dataset_path if it is there.")


@app.command("import")
def import_(
    input_file: Path = typer.Option(..., "--input", "-i", help="An archive written by `medperf dataset export`."),
    raw_dataset_path: Path = typer.Option(
        None, "--raw_dataset_path", help="The folder holding the raw data folders on this machine (optional)."),
) -> None:
    """Check every hash of an exported dataset and its history, then adopt it on this machine (all or nothing)."""
    from medperf_core.cli.progress import hashing_progress
    from medperf_core.services import dataset_transfer
    from medperf_core.services.client import Client

    with Client() as client, hashing_progress("checking files") as progress:
        done = dataset_transfer.import_archive(client, input_file, raw_dataset_path=raw_dataset_path,
                                               progress=progress)
    typer.echo(f"✅ Dataset {done['dataset_id']} imported ({done['state']}, {len(done['executions'])} results, "
               f"{done['events']} events from {done['source']['exported_by']})")
    if not done["raw_data"]:
        typer.echo("The raw data is not linked here; it is only needed to prepare again.")
