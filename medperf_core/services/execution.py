"""Run a benchmark's models on a prepared dataset: infer, then evaluate; each execution is in the client's log."""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

import attrs
import yaml

from medperf_core.domain import executions as machine
from medperf_core.errors import InvalidTransitionError, MedperfError
from medperf_core.services.client import Client
from medperf_core.services.containers import materialize
from medperf_core.services.datasets import Say, dataset_folder, local_dataset
from medperf_core.services.tasks import run_task


@attrs.frozen
class ModelOutcome:
    model: int
    uid: str
    from_cache: bool
    metrics: dict[str, Any]
    error: str = ""
    partial: bool = False


def stream(uid: str) -> str:
    return f"execution-{uid}"


def local_execution(client: Client, uid: str) -> dict[str, Any] | None:
    rows = list(client.store.db.table("local_executions").rows_where("uid = ?", [uid]))
    if not rows:
        return None
    row = rows[0]
    row["metrics"] = json.loads(row["metrics"])
    row["images"] = json.loads(row["images"])
    return row


def run_model(client: Client, benchmark: dict[str, Any], model_id: int, dataset_id: int, *,
              no_cache: bool = False, say: Say = print) -> ModelOutcome:
    """Infer with one model, evaluate with the benchmark's metrics container; cached unless `no_cache`."""
    bid = int(benchmark["id"])
    uid = machine.result_uid(bid, model_id, dataset_id)
    cached = local_execution(client, uid)
    if cached and cached["state"] == "submitted":
        # A submitted result is final (its stream refuses a new start): --no-cache keeps it instead of failing
        # after the other models already ran.
        if no_cache:
            say(f"  model {model_id}: result {uid} was submitted (server UID {cached['result_id']}); kept")
        return ModelOutcome(model_id, uid, True, cached["metrics"])
    if cached and cached["state"] == "finished" and not no_cache:
        return ModelOutcome(model_id, uid, True, cached["metrics"])
    dataset = local_dataset(client, dataset_id)
    if dataset["state"] != "operational" and dataset["state"] != "prepared":
        raise InvalidTransitionError(f"dataset {dataset_id} is not prepared",
                                     f"run: medperf dataset prepare --data_uid {dataset_id}")
    events, _ = client.store.load(stream(uid))
    current = machine.fold(events)
    client.record(stream(uid), machine.start(current, benchmark=bid, model=model_id, dataset=dataset_id))
    folder = client.storage / "executions" / uid
    logs = folder / "logs"
    started = time.monotonic()
    try:
        cache = client.storage / "containers"
        model = materialize(client.backend.get_container(model_id), cache)
        evaluator = materialize(client.backend.get_container(int(benchmark["data_evaluator_mlcube"])), cache)
        data_folder = dataset_folder(client, dataset_id)
        predictions, results = folder / "predictions", folder / "results.yaml"
        shutil.rmtree(predictions, ignore_errors=True)
        results.unlink(missing_ok=True)
        say(f"  model {model_id}: infer …")
        run_task(client, model, "infer", {"data_path": data_folder / "data"}, {"output_path": predictions},
                 logs / "infer.log")
        say(f"  model {model_id}: evaluate …")
        run_task(client, evaluator, "evaluate", {"predictions": predictions, "labels": data_folder / "labels"},
                 {"output_path": results}, logs / "evaluate.log")
        metrics = yaml.safe_load(results.read_text(encoding="utf-8")) or {}
    except MedperfError as e:
        events, _ = client.store.load(stream(uid))
        client.record(stream(uid), machine.fail(machine.fold(events), error=e.one_line(), log_path=str(logs)))
        raise
    events, _ = client.store.load(stream(uid))
    client.record(stream(uid), machine.finish(
        machine.fold(events), metrics=metrics, duration_s=round(time.monotonic() - started, 3),
        images={"model": model.image_hash, "evaluator": evaluator.image_hash},
    ))
    return ModelOutcome(model_id, uid, False, metrics)


def benchmark_models(client: Client, benchmark: dict[str, Any]) -> list[int]:
    """The reference model plus every model whose latest association with the benchmark is approved."""
    latest: dict[int, dict[str, Any]] = {}
    for row in sorted(client.backend.benchmark_models(int(benchmark["id"])),
                      key=lambda r: (str(r.get("created_at", "")), int(r.get("id") or 0))):
        latest[int(row["model_mlcube"])] = row
    approved = {m for m, row in latest.items() if row.get("approval_status") == "APPROVED"}
    return sorted(approved | {int(benchmark["reference_model_mlcube"])})


def run_benchmark(client: Client, benchmark_id: int, dataset_id: int, *, models: list[int] | None = None,
                  no_cache: bool = False, ignore_model_errors: bool = False, say: Say = print) -> list[ModelOutcome]:
    from medperf_core.services.associations import require_approved

    benchmark = client.backend.get_benchmark(benchmark_id)
    require_approved(client, benchmark_id, dataset_id)
    wanted = benchmark_models(client, benchmark)
    if models:
        unknown = sorted(set(models) - set(wanted))
        if unknown:
            raise InvalidTransitionError(f"models {unknown} are not approved in benchmark {benchmark_id}",
                                         f"its models are: {', '.join(map(str, wanted))}")
        wanted = [m for m in wanted if m in models]
    outcomes = []
    for model_id in wanted:
        try:
            outcomes.append(run_model(client, benchmark, model_id, dataset_id, no_cache=no_cache, say=say))
        except MedperfError as e:
            if not ignore_model_errors:
                raise
            outcomes.append(ModelOutcome(model_id, machine.result_uid(benchmark_id, model_id, dataset_id), False,
                                         {}, error=e.message))
    return outcomes
