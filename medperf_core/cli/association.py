"""`medperf association`: list your associations, and (benchmark owners) approve or reject them."""

from __future__ import annotations

import typer

from medperf_core.cli.ui import JSON_HELP, print_json, table

app = typer.Typer(no_args_is_help=True)


@app.command("ls")
def ls(
    benchmark: bool = typer.Option(False, "-b", help="Benchmark associations (all of them: combine as -bd, -bm)."),
    dataset: bool = typer.Option(False, "-d", help="Only dataset associations."),
    model: bool = typer.Option(False, "-m", help="Only model associations."),
    status: str = typer.Option(None, "--approval-status", help="PENDING, APPROVED or REJECTED."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List your dataset and model associations (and, for your benchmarks, the requests to join them) with their
    approval status; -d or -m shows one kind."""
    from medperf_core.services import associations, catalog
    from medperf_core.services.client import Client

    show_datasets = dataset or not model  # no kind named: both
    show_models = model or not dataset
    with Client() as client:
        rows = []
        if show_datasets:
            rows += [{"kind": "dataset", "entity": r["dataset"], **r} for r in associations.list_mine(client)]
        if show_models:
            rows += [{"kind": "model", "entity": r["model_mlcube"], **r}
                     for r in catalog.my_model_associations(client)]
    if status:
        rows = [r for r in rows if r.get("approval_status") == status.upper()]
    if as_json:
        print_json(rows)
        return
    typer.echo(table([[r["kind"], r["entity"], r["benchmark"], r.get("initiated_by"), r.get("approval_status"),
                       r.get("approved_at") or ""] for r in rows],
                     ["Kind", "UID", "Benchmark UID", "Initiated by", "Status", "Approved at"]))


def _decide(benchmark: int, dataset: int | None, model: int | None, status: str) -> None:
    from medperf_core.errors import UserError
    from medperf_core.services import associations, catalog
    from medperf_core.services.client import Client

    if (dataset is None) == (model is None):
        raise UserError("give exactly one of --dataset/-d or --model/-m", "e.g. medperf association approve -b 1 -d 1")
    with Client() as client:
        if dataset is not None:
            associations.decide(client, benchmark, dataset, status)
        else:
            catalog.decide_model_association(client, benchmark, int(model), status)  # type: ignore[arg-type]
    what = f"dataset {dataset}" if dataset is not None else f"model {model}"
    typer.echo(f"✅ Association of {what} with benchmark {benchmark}: {status}")


@app.command("approve")
def approve(
    benchmark: int = typer.Option(..., "--benchmark", "-b"),
    dataset: int = typer.Option(None, "--dataset", "-d"),
    model: int = typer.Option(None, "--model", "-m"),
) -> None:
    """Approve an association request (benchmark owner)."""
    _decide(benchmark, dataset, model, "APPROVED")


@app.command("reject")
def reject(
    benchmark: int = typer.Option(..., "--benchmark", "-b"),
    dataset: int = typer.Option(None, "--dataset", "-d"),
    model: int = typer.Option(None, "--model", "-m"),
) -> None:
    """Reject an association request (benchmark owner)."""
    _decide(benchmark, dataset, model, "REJECTED")


@app.command("set_priority")
def set_priority(
    benchmark: int = typer.Option(..., "--benchmark", "-b"),
    model: int = typer.Option(..., "--model", "-m"),
    priority: int = typer.Option(..., "--priority", "-p", help="Higher runs first in `benchmark run`."),
) -> None:
    """Set the order in which a benchmark's models run (benchmark owner)."""
    from medperf_core.services.client import Client
    from medperf_core.services.decisions import set_priority

    with Client() as client:
        row = set_priority(client, benchmark, model, priority)
    typer.echo(f"✅ Model {model} in benchmark {benchmark}: priority {row['priority']}")
