"""`medperf benchmark`: list, view (with ranked results), submit, associate, approve or reject, policy, run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    benchmark_id: int = typer.Argument(None, help="The benchmark's UID (none: every benchmark)."),
    fmt: str = typer.Option("yaml", "--format", "-f", help="yaml or json."),
    output: Path = typer.Option(None, "--output", "-o", help="Write to this file instead of the screen."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    results: bool = typer.Option(
        False, "--results",
        help="Its submitted results, ranked by its primary metric (its owner sees all, others their own)."),
    mine: bool = typer.Option(False, "--mine", help="Without an ID: only your benchmarks."),
) -> None:
    """Show a benchmark (or all); with --results, its submitted results ranked by the benchmark's primary metric."""
    from medperf_core.errors import UserError
    from medperf_core.services import catalog
    from medperf_core.services.client import Client

    chosen = view_format(fmt, as_json)
    if results and not benchmark_id:
        raise UserError("--results needs a benchmark", "e.g. medperf benchmark view 1 --results")
    with Client() as client:
        if results:
            from medperf_core.services.leaderboard import benchmark_results

            ranked = benchmark_results(client, benchmark_id)
            # yaml, the default, is the readable table; --json / -f json the figures for scripts
            text = dump(ranked, "json") if chosen == "json" else _results_text(ranked)
        else:
            data = catalog.benchmark(client, benchmark_id) if benchmark_id else catalog.benchmarks(client, mine=mine)
            text = dump(data, chosen)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text)


_SOURCES = {
    "benchmark setting": "the benchmark's primary metric",
    "first metric": "the first metric of the results: the benchmark names no primary metric",
    "none": "no metric yet",
}


def _named(name: str | None, entity_id: int | None, kind: str = "") -> str:
    """`name (id)` when the name is known, else the id (`user 7` for a kind)."""
    if entity_id is None:
        return ""
    if name:
        return f"{name} ({entity_id})"
    return f"{kind} {entity_id}".strip()


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}"


def _results_text(view: dict[str, Any]) -> str:
    """The view as the CLI prints it: a heading, the ranking, then every result."""
    count = len(view["results"])
    if view["scope"] == "all":
        heading = f"Benchmark {view['benchmark']} ({view['name']}): {count} submitted results"
    else:
        heading = (f"Benchmark {view['benchmark']} ({view['name']}): {count} of your results "
                   "(only the benchmark's owner sees everyone's)")
    lines = [heading]
    metric = view["primary_metric"]
    if metric is None:
        return "\n".join([*lines, "No results yet."])
    lines += ["", f"Ranking by {metric} ({_SOURCES[view['primary_metric_source']]}):"]
    metrics = [metric, *(m for m in view["metrics"] if m != metric)]
    lines.append(table(
        [[r["rank"] or "-", _named(r["model_name"], r["model"]), r["sites"], r["cases"] or "",
          *(_fmt(r["pooled"][m]["value"]) if m in r["pooled"] else "" for m in metrics)] for r in view["rows"]],
        ["Rank", "Model", "Sites", "Cases", *metrics],
    ))
    lines += ["", "Results per model and dataset:"]
    lines.append(table(
        [[r["result"], _named(r["model_name"], r["model"]), _named(r["dataset_name"], r["dataset"]),
          r["owner_email"] or _named(None, r["owner"], "user"), *(_fmt(r["metrics"].get(m)) for m in metrics)]
         for r in sorted(view["results"], key=lambda r: (r["model"], r["dataset"]))],
        ["Result", "Model", "Dataset", "Submitted by", *metrics],
    ))
    return "\n".join(lines)


@app.command("submit")
def submit(
    name: str = typer.Option(..., "--name", "-n"),
    description: str = typer.Option("", "--description", "-d"),
    docs_url: str = typer.Option("", "--docs-url", "-u"),
    demo_url: str = typer.Option(..., "--demo-url", help="The demo dataset tarball (data, labels, paths.yaml)."),
    demo_hash: str = typer.Option(None, "--demo-hash", help="Its expected sha256."),
    prep: int = typer.Option(..., "--data-preparation-container", "-p"),
    model: int = typer.Option(..., "--reference-model-container", "-m"),
    evaluator: int = typer.Option(..., "--evaluator-container", "-e"),
    skip_preparation: bool = typer.Option(False, "--skip-demo-data-preparation",
                                          help="The demo tarball holds prepared data."),
    operational: bool = typer.Option(False, "--operational", help="Register it operational."),
    primary_metric: str = typer.Option(
        "", "--primary-metric",
        help="The metric the leaderboard ranks by (higher is better; e.g. accuracy or per_class.a.auc); "
             "default: the first metric of the results."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Rerun the compatibility test."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Answer yes to every confirmation."),
) -> None:
    """Test the three containers on the demo dataset, show the results, then register the benchmark (pending
    until an admin approves it)."""
    from medperf_core.cli.ui import confirm
    from medperf_core.services import registration
    from medperf_core.services.client import Client

    with Client() as client:
        plan = registration.plan_benchmark(
            client, name=name, description=description, docs_url=docs_url, demo_url=demo_url, demo_hash=demo_hash,
            prep=prep, model=model, evaluator=evaluator, operational=operational,
            skip_preparation=skip_preparation, no_cache=no_cache, primary_metric=primary_metric, say=typer.echo,
        )
        typer.echo("This will be sent to the server (a local demo tarball is uploaded to it):")
        typer.echo(dump(plan["body"]))
        confirm(f"Register benchmark {name!r}?", yes)
        created = registration.submit_benchmark(client, plan)
    typer.echo(f"✅ Benchmark registered with UID {created['id']} ({created['state']}, approval "
               f"{created['approval_status']})")


@app.command("associate")
def associate(
    benchmark: int = typer.Option(..., "--benchmark_uid", "-b", help="The benchmark's UID."),
    model: int = typer.Option(None, "--model_uid", "-m", help="Your model container's UID."),
    dataset: int = typer.Option(None, "--data_uid", "-d", help="Your dataset's UID."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Answer yes to every confirmation."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Rerun the compatibility test."),
) -> None:
    """Ask to join a benchmark with a model (as `container associate`) or a dataset (as `dataset associate`)."""
    from medperf_core.errors import UserError

    if (model is None) == (dataset is None):
        raise UserError("give exactly one of --model_uid/-m or --data_uid/-d",
                        "e.g. medperf benchmark associate -b 1 -m 4")
    if model is not None:
        from medperf_core.cli import container

        container.associate(benchmark=benchmark, model=model, yes=yes, no_cache=no_cache)
    else:
        from medperf_core.cli import dataset as dataset_cli

        dataset_cli.associate(data_uid=dataset, benchmark_uid=benchmark, no_cache=no_cache, yes=yes)


def _approval(benchmark: int, status: str) -> None:
    from medperf_core.services.client import Client
    from medperf_core.services.decisions import decide_benchmark

    with Client() as client:
        row = decide_benchmark(client, benchmark, status)
    typer.echo(f"✅ Benchmark {benchmark}: {row['approval_status']}")


@app.command("approve")
def approve(benchmark: int = typer.Option(..., "--benchmark", "-b")) -> None:
    """Approve a benchmark (admins)."""
    _approval(benchmark, "APPROVED")


@app.command("reject")
def reject(benchmark: int = typer.Option(..., "--benchmark", "-b")) -> None:
    """Reject a benchmark (admins)."""
    _approval(benchmark, "REJECTED")


@app.command("update_associations_policy")
def update_associations_policy(
    benchmark: int = typer.Option(..., "--benchmark", "-b"),
    dataset_mode: str = typer.Option(None, "--dataset_auto_approve_mode", help="NEVER, ALWAYS or ALLOWLIST."),
    dataset_allow: str = typer.Option(None, "--dataset_auto_approve_allowlist", help="Comma-separated emails."),
    model_mode: str = typer.Option(None, "--model_auto_approve_mode", help="NEVER, ALWAYS or ALLOWLIST."),
    model_allow: str = typer.Option(None, "--model_auto_approve_allowlist", help="Comma-separated emails."),
) -> None:
    """Which association requests the server approves at once (benchmark owner)."""
    from medperf_core.errors import UserError
    from medperf_core.services.client import Client

    body: dict[str, object] = {}
    for kind, mode, allow in (("dataset", dataset_mode, dataset_allow), ("model", model_mode, model_allow)):
        if mode is not None:
            if mode.upper() not in ("NEVER", "ALWAYS", "ALLOWLIST"):
                raise UserError(f"--{kind}_auto_approve_mode {mode!r} is not a mode", "use NEVER, ALWAYS or ALLOWLIST")
            body[f"{kind}_auto_approval_mode"] = mode.upper()
        if allow is not None:
            body[f"{kind}_auto_approval_allow_list"] = [e.strip() for e in allow.split(",") if e.strip()]
    if not body:
        raise UserError("nothing to change", "give --dataset_auto_approve_mode or --model_auto_approve_mode")
    from medperf_core.services.decisions import set_policy

    with Client() as client:
        row = set_policy(client, benchmark, body)
    typer.echo(dump({k: row[k] for k in ("dataset_auto_approval_mode", "dataset_auto_approval_allow_list",
                                         "model_auto_approval_mode", "model_auto_approval_allow_list",
                                         "association_policy_version")}))
    typer.echo(f"✅ Association policy of benchmark {benchmark} updated")


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
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would run and what the site's policy would refuse; run nothing."),
) -> None:
    """Run every model of the benchmark on your prepared dataset and compute the metrics locally."""
    from medperf_core.cli.progress import steps
    from medperf_core.errors import UserError
    from medperf_core.services.client import Client
    from medperf_core.services.execution import run_benchmark

    models = None
    if models_file is not None:
        try:
            models = [int(x) for x in models_file.read_text(encoding="utf-8").replace(",", " ").split()]
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read model UIDs from {models_file}: {e}", "one integer UID per line") from e
    if dry_run:
        from medperf_core.services.execution import plan_run

        with Client() as client:
            planned = plan_run(client, benchmark, models)
        typer.echo(table([[p.container, p.name, "runs" if p.allowed else "REFUSED", p.why] for p in planned],
                         ["container", "name", "policy", "why"]))
        refusing = [p for p in planned if not p.allowed]
        typer.echo(f"{len(planned) - len(refusing)} would run, {len(refusing)} the site's policy would refuse "
                   "(nothing was run)")
        return
    with Client() as client:
        with steps(f"benchmark {benchmark} on dataset {data_uid}") as say:
            outcomes = run_benchmark(client, benchmark, data_uid, models=models, no_cache=no_cache,
                                     ignore_model_errors=ignore_model_errors, parallel=parallel, say=say)
        unsent = [o.uid for o in outcomes
                  if not o.error and (client.local.execution(o.uid) or {}).get("state") == "finished"]
    rows = [[o.model, o.uid, o.partial, o.from_cache, o.error] for o in outcomes]
    typer.echo(table(rows, ["model", "local result UID", "partial result", "from cache", "error"]))
    cached = [o for o in outcomes if o.from_cache]
    refused = [o for o in outcomes if o.refused]
    failed = [o for o in outcomes if o.error and not o.refused]
    ran = [o for o in outcomes if not o.from_cache and not o.error]
    typer.echo(f"Total number of models: {len(outcomes)}")
    typer.echo(f"\t{len(cached)} were skipped (already executed), of which "
               f"{sum(o.partial for o in cached)} have partial results")
    if refused:
        typer.echo(f"\t{len(refused)} refused by the site's policy: models "
                   f"{', '.join(str(o.model) for o in refused)} (see: medperf policy show)")
    typer.echo(f"\t{len(failed)} failed")
    typer.echo(f"\t{len(ran)} ran successfully, of which {sum(o.partial for o in ran)} have partial results")
    typer.echo("✅ Done!")
    if unsent:  # what MedPerf's tutorial says next, as commands to copy
        typer.echo("Next, send the results to the benchmark (only their metrics leave this machine):")
        for uid in unsent:
            typer.echo(f"  medperf result submit --result {uid}")
