"""`medperf test run`: the compatibility test, locally; its results are never submitted."""

from __future__ import annotations

from pathlib import Path

import typer

from medperf_core.cli.ui import dump

app = typer.Typer(no_args_is_help=True)


@app.command("run")
def run(
    benchmark: int = typer.Option(None, "--benchmark", "-b", help="A registered benchmark: demo data, containers."),
    data_uid: int = typer.Option(None, "--data_uid", "-d", help="Test on your prepared dataset instead."),
    data_path: Path = typer.Option(None, "--data_path", help="Raw data to prepare (local configs)."),
    labels_path: Path = typer.Option(None, "--labels_path", help="Labels of the raw data."),
    data_preparator: str = typer.Option(None, "--data_preparator", "-p", help="UID or local container config."),
    model: str = typer.Option(None, "--model", "-m", help="UID or local container config."),
    evaluator: str = typer.Option(None, "--evaluator", "-e", help="UID or local container config."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run again even if this test already ran."),
    offline: bool = typer.Option(False, "--offline", help="Never contact the server (local configs only)."),
) -> None:
    """Prepare data, infer with a model and compute the metrics, all on this machine; nothing is sent."""
    from medperf_core.services import compatibility
    from medperf_core.services.client import Client

    # --offline: the client itself refuses any use of the server, whatever the plan would otherwise ask
    with Client(offline=True if offline else None) as client:
        plan = compatibility.plan_test_run(client, benchmark=benchmark, data_uid=data_uid, data_path=data_path,
                                           labels_path=labels_path, data_preparator=data_preparator, model=model,
                                           evaluator=evaluator, offline=offline)
        outcome = compatibility.run(client, plan, no_cache=no_cache, offline=offline, say=typer.echo)
    typer.echo(dump({"test_uid": outcome.uid, "from_cache": outcome.from_cache, "results": outcome.metrics}))
    typer.echo(f"✅ Compatibility test {outcome.uid} done; results in {outcome.folder} (never submitted)")
