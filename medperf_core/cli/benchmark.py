"""`medperf benchmark`: list, view, run every model on a dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from medperf_core.cli.ui import JSON_HELP, dump, print_json, table, view_format

app = typer.Typer(no_args_is_help=True)


@app.command("ls")
def ls(
    mine: bool = typer.Option(False, "--mine", help="Only your benchmarks."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the benchmarks on the server."""
    from medperf_core.services import catalog
    from medperf_core.services.client import Client

    with Client() as client:
        rows = catalog.benchmarks(client, mine=mine)
    if as_json:
        print_json(rows)
        return
    typer.echo(table([[r["id"], r["name"], r.get("description", ""), r.get("state"), r.get("approval_status")]
                      for r in rows], ["UID", "Name", "Description", "State", "Approval Status"]))


@app.command("view")
def view(
    benchmark_id: int = typer.Argument(None),
    fmt: str = typer.Option("yaml", "--format", "-f"),
    output: Path = typer.Option(None, "--output", "-o"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show a benchmark (or all)."""
    from medperf_core.services import catalog
    from medperf_core.services.client import Client

    with Client() as client:
        data = catalog.benchmark(client, benchmark_id) if benchmark_id else catalog.benchmarks(client)
    text = dump(data, view_format(fmt, as_json))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text)


@app.command("run")
def run(
    benchmark: int = typer.Option(..., "--benchmark", "-b", help="The benchmark's UID."),
    data_uid: int = typer.Option(..., "--data_uid", "-d", help="Your dataset's UID."),
    models_file: Path = typer.Option(None, "--models-from-file", "-f", help="A file with model UIDs, one per line."),
    ignore_model_errors: bool = typer.Option(False, "--ignore-model-errors", help="Go on when a model fails."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Rerun models that already ran."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Accepted for MedPerf compatibility: a run sends nothing."),
    parallel: int = typer.Option(
        None, "--parallel", min=1,
        help="Run up to N models at once (default 1; on Slurm as many as the partition has CPUs for).",
    ),
) -> None:
    """Run every model of the benchmark on your prepared dataset and compute the metrics locally."""
    from medperf_core.errors import UserError
    from medperf_core.services.client import Client
    from medperf_core.services.execution import run_benchmark

    models = None
    if models_file is not None:
        try:
            models = [int(x) for x in models_file.read_text(encoding="utf-8").replace(",", " ").split()]
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read model UIDs from {models_file}: {e}", "one integer UID per line") from e
    with Client() as client:
        outcomes = run_benchmark(client, benchmark, data_uid, models=models, no_cache=no_cache,
                                 ignore_model_errors=ignore_model_errors, parallel=parallel, say=typer.echo)
    rows = [[o.model, o.uid, o.partial, o.from_cache, o.error] for o in outcomes]
    typer.echo(table(rows, ["model", "local result UID", "partial result", "from cache", "error"]))
    cached = [o for o in outcomes if o.from_cache]
    failed = [o for o in outcomes if o.error]
    ran = [o for o in outcomes if not o.from_cache and not o.error]
    typer.echo(f"Total number of models: {len(outcomes)}")
    typer.echo(f"\t{len(cached)} were skipped (already executed), of which "
               f"{sum(o.partial for o in cached)} have partial results")
    typer.echo(f"\t{len(failed)} failed")
    typer.echo(f"\t{len(ran)} ran successfully, of which {sum(o.partial for o in ran)} have partial results")
    typer.echo("✅ Done!")
