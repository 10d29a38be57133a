"""`medperf result`: list and view local results, submit one (metrics only, once)."""

from __future__ import annotations

from pathlib import Path

import typer

from medperf_core.cli.ui import JSON_HELP, confirm, dump, print_json, queued, table, view_format

app = typer.Typer(no_args_is_help=True)


@app.command("ls")
def ls(
    benchmark: int = typer.Option(None, "--benchmark", "-b", help="Only this benchmark's results."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the results computed on this machine and whether they were submitted; with --benchmark, also every
    result submitted to that benchmark when you own it."""
    from medperf_core.errors import PermissionDeniedError
    from medperf_core.services import results
    from medperf_core.services.client import Client

    with Client() as client:
        rows = results.list_local(client, benchmark)
        submitted = []
        if benchmark is not None:
            try:
                submitted = client.backend.list_benchmark_results(benchmark)
            except PermissionDeniedError:
                submitted = []
    if submitted:
        if as_json:
            print_json(submitted)
            return
        typer.echo(table([[r["id"], r["benchmark"], r["model"], r["dataset"], r.get("owner"),
                           ", ".join(f"{k}={v}" for k, v in (r.get("results") or {}).items()
                                     if isinstance(v, int | float))]
                          for r in submitted],
                         ["Server UID", "Benchmark", "Model", "Dataset", "Owner", "Metrics"]))
        return
    if as_json:
        print_json(rows)
        return
    typer.echo(table([[r["uid"], r["benchmark"], r["model"], r["dataset"], r["state"], r["result_id"] or "",
                       r["finished_at"] or ""] for r in rows],
                     ["UID", "Benchmark", "Model", "Dataset", "State", "Server UID", "Finished at"]))


@app.command("view")
def view(
    uid: str = typer.Argument(..., help="The local result UID, e.g. b1m4d1."),
    fmt: str = typer.Option("yaml", "--format", "-f"),
    output: Path = typer.Option(None, "--output", "-o"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show a local result: metrics, model, dataset, when, and the images' digests."""
    from medperf_core.services import results
    from medperf_core.services.client import Client

    with Client() as client:
        row = results.get_local(client, uid)
    shown = {k: row[k] for k in ("uid", "benchmark", "model", "dataset", "state", "metrics", "images",
                                 "started_at", "finished_at", "duration_s", "result_id", "error")}
    text = dump(shown, view_format(fmt, as_json))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text)


@app.command("submit")
def submit(
    result: str = typer.Option(..., "--result", "-r", help="The local result UID, e.g. b1m4d1."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Answer yes to every confirmation."),
) -> None:
    """Send one result's metrics to the server (once)."""
    from medperf_core.services import results
    from medperf_core.services.client import Client
    from medperf_core.services.outbox import Pending

    with Client() as client:
        body = results.plan_submission(client, result)
        typer.echo("This will be sent to the server:")
        typer.echo(dump(body))
        confirm(f"Submit result {result}?", yes)
        try:
            created = results.submit(client, result, body)
        except Pending as e:
            if queued(client, e):
                return
            raise
    typer.echo(f"✅ Result {result} submitted (server UID {created['id']})")
