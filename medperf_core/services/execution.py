"""Run a benchmark's models on a prepared dataset: infer, then evaluate; each execution is in the client's log."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import yaml

from medperf_core.domain import executions as machine
from medperf_core.domain import streams
from medperf_core.domain.datasets import DatasetState
from medperf_core.domain.executions import ExecutionState
from medperf_core.errors import InvalidTransitionError, MedperfError, PolicyRefusedError
from medperf_core.services import server_cache
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
    refused: bool = False  # the site's policy kept it from running


def local_execution(client: Client, uid: str) -> dict[str, Any] | None:
    return client.local.execution(uid)


def run_model(client: Client, benchmark: dict[str, Any], model_id: int, dataset_id: int, *,
              no_cache: bool = False, say: Say = print) -> ModelOutcome:
    """Infer with one model, evaluate with the benchmark's metrics container; cached unless `no_cache`."""
    bid = int(benchmark["id"])
    uid = machine.result_uid(bid, model_id, dataset_id)
    cached = local_execution(client, uid)
    if cached and cached["state"] == ExecutionState.SUBMITTED:
        # A submitted result is final (its stream refuses a new start): --no-cache keeps it instead of failing
        # after the other models already ran.
        if no_cache:
            say(f"  model {model_id}: result {uid} was submitted (server UID {cached['result_id']}); kept")
        return ModelOutcome(model_id, uid, True, cached["metrics"])
    if cached and cached["state"] == ExecutionState.FINISHED and not no_cache:
        return ModelOutcome(model_id, uid, True, cached["metrics"])
    dataset = local_dataset(client, dataset_id)
    if dataset["state"] not in (DatasetState.OPERATIONAL, DatasetState.PREPARED):
        raise InvalidTransitionError(f"dataset {dataset_id} is not prepared",
                                     f"run: medperf dataset prepare --data_uid {dataset_id}")
    from medperf_core.services import policy

    for container_id in (model_id, int(benchmark["data_evaluator_mlcube"])):  # before anything starts
        policy.require_allowed(client, server_cache.container(client, container_id), bid, dataset_id)
    events, version = client.store.load(streams.execution(uid))
    started_event = machine.start(machine.fold(events), benchmark=bid, model=model_id, dataset=dataset_id)
    version = client.record(streams.execution(uid), version, started_event)
    current = machine.fold([*events, started_event])
    folder = client.storage / "executions" / uid
    logs = folder / "logs"
    started = time.monotonic()
    try:
        cache = client.storage / "containers"
        verify = client.profile.certificate or True
        model = materialize(server_cache.container(client, model_id), cache, verify=verify)
        evaluator = materialize(
            server_cache.container(client, int(benchmark["data_evaluator_mlcube"])), cache, verify=verify
        )
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
        client.record(streams.execution(uid), version, machine.fail(current, error=e.one_line(), log_path=str(logs)))
        raise
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C or SIGTERM: the runner stopped the container
        client.record(streams.execution(uid), version, machine.fail(current, error="interrupted", log_path=str(logs)))
        raise
    elapsed = time.monotonic() - started
    say(f"  model {model_id}: done in {elapsed:.1f} s")
    client.record(streams.execution(uid), version, machine.finish(
        current, metrics=metrics, duration_s=round(elapsed, 3),
        images={"model": model.image_hash, "evaluator": evaluator.image_hash},
    ))
    return ModelOutcome(model_id, uid, False, metrics)


def benchmark_models(client: Client, benchmark: dict[str, Any]) -> list[int]:
    """The reference model plus every model whose latest association with the benchmark is approved, in priority
    order (higher first; equal priorities by UID)."""
    latest: dict[int, dict[str, Any]] = {}
    for row in sorted(server_cache.benchmark_models(client, int(benchmark["id"])),
                      key=lambda r: (str(r.get("created_at", "")), int(r.get("id") or 0))):
        latest[int(row["model_mlcube"])] = row
    approved = {m for m, row in latest.items() if row.get("approval_status") == "APPROVED"}
    models = approved | {int(benchmark["reference_model_mlcube"])}
    return sorted(models, key=lambda m: (-int(latest.get(m, {}).get("priority") or 0), m))


def run_benchmark(client: Client, benchmark_id: int, dataset_id: int, *, models: list[int] | None = None,
                  no_cache: bool = False, ignore_model_errors: bool = False, parallel: int | None = None,
                  say: Say = print) -> list[ModelOutcome]:
    """Every model on the dataset, up to `parallel` at once (None: the runner's default_parallel(), else 1);
    one command at a time on the dataset."""
    from medperf_core.services.datasets import dataset_lock

    with dataset_lock(client, dataset_id):
        return _run_benchmark(client, benchmark_id, dataset_id, models=models, no_cache=no_cache,
                              ignore_model_errors=ignore_model_errors, parallel=parallel, say=say)


def _run_benchmark(client: Client, benchmark_id: int, dataset_id: int, *, models: list[int] | None,
                   no_cache: bool, ignore_model_errors: bool, parallel: int | None, say: Say) -> list[ModelOutcome]:
    from medperf_core.services.associations import require_approved

    benchmark = server_cache.benchmark(client, benchmark_id)
    require_approved(client, benchmark_id, dataset_id)
    wanted = benchmark_models(client, benchmark)
    if models:
        unknown = sorted(set(models) - set(wanted))
        if unknown:
            raise InvalidTransitionError(f"models {unknown} are not approved in benchmark {benchmark_id}",
                                         f"its models are: {', '.join(map(str, wanted))}")
        wanted = [m for m in wanted if m in models]

    wanted, refused = _allowed_by_policy(client, benchmark, wanted, dataset_id)

    def one(c: Client, model_id: int) -> ModelOutcome:
        try:
            return run_model(c, benchmark, model_id, dataset_id, no_cache=no_cache, say=say)
        except MedperfError as e:
            if not ignore_model_errors:
                raise
            return ModelOutcome(model_id, machine.result_uid(benchmark_id, model_id, dataset_id), False, {},
                                error=e.message)

    if parallel is None:
        parallel = default_parallel(client)
    if parallel <= 1 or len(wanted) <= 1:
        ran = [one(client, model_id) for model_id in wanted]
    else:
        ran = run_parallel(client, wanted, one, parallel)
    return [*ran, *refused]


def _allowed_by_policy(client: Client, benchmark: dict[str, Any], wanted: list[int],
                       dataset_id: int) -> tuple[list[int], list[ModelOutcome]]:
    """The models the site's policy lets run, and an outcome for each one it refuses (recorded, never started).
    The metrics container runs with every model: when the policy refuses it, nothing runs."""
    from medperf_core.services import policy

    bid = int(benchmark["id"])
    policy.require_allowed(client, server_cache.container(client, int(benchmark["data_evaluator_mlcube"])), bid,
                           dataset_id)
    allowed, refused = [], []
    for model_id in wanted:
        try:
            policy.require_allowed(client, server_cache.container(client, model_id), bid, dataset_id)
            allowed.append(model_id)
        except PolicyRefusedError as e:
            refused.append(ModelOutcome(model_id, machine.result_uid(bid, model_id, dataset_id), False, {},
                                        error=e.message, refused=True))
    return allowed, refused


@attrs.frozen
class Planned:
    """One container of a benchmark as the site's policy sees it, before anything runs."""

    role: str  # preparation, metrics or model
    container: int
    name: str
    image_hash: str
    allowed: bool
    why: str


def plan_run(client: Client, benchmark_id: int, models: list[int] | None = None, *,
             preparation: bool = False) -> list[Planned]:
    """What `benchmark run` would run, without running it, and what the site's policy says of each: the metrics
    container and the models (`models`: only these), and with `preparation` the preparation container first."""
    from medperf_core.services import policy

    current = policy.load()
    benchmark = server_cache.benchmark(client, benchmark_id)
    roles = [("preparation", int(benchmark["data_preparation_mlcube"]))] if preparation else []
    roles += [("metrics", int(benchmark["data_evaluator_mlcube"]))]
    roles += [("model", m) for m in benchmark_models(client, benchmark) if not models or m in models]
    planned = []
    for role, container_id in roles:
        row = server_cache.container(client, container_id)
        decision = policy.decide(row, benchmark_id, current)
        planned.append(Planned(role, container_id, str(row.get("name") or ""), str(row.get("image_hash") or ""),
                               decision.allowed, decision.reason))
    return planned


def default_parallel(client: Client) -> int:
    """The runner's `default_parallel()` when its class declares one (`ChoosesParallelism`; Slurm: what the
    partition accepts), else 1."""
    from medperf_core.containers.runner import ChoosesParallelism
    from medperf_core.plugins import get_plugin_host

    factory = get_plugin_host().runners.get(client.profile.platform)
    if not (isinstance(factory, type) and issubclass(factory, ChoosesParallelism)):
        return 1  # known from the class, without opening the engine: a run of cached models needs none
    runner = client.runner
    return runner.default_parallel() if isinstance(runner, ChoosesParallelism) else 1


def run_parallel(client: Client, wanted: list[int], one: Callable[[Client, int], ModelOutcome],
                 parallel: int) -> list[ModelOutcome]:
    """Up to `parallel` models at once, each with a client of its own; outcomes in the benchmark's model order.

    A model error (without --ignore-model-errors) lets the running models finish and starts no new one; an
    interrupt also tells the runners to stop their runs (`containers.cancel`).
    """
    from medperf_core.containers import cancel

    def worker(model_id: int) -> ModelOutcome:
        with Client(client.profile, offline=client.offline, flush=False) as own:
            return one(own, model_id)

    cancel.reset()
    pool = ThreadPoolExecutor(max_workers=min(parallel, len(wanted)), thread_name_prefix="model")
    try:
        with cancel.sigterm_unwinds():
            futures = [pool.submit(worker, model_id) for model_id in wanted]
            return [future.result() for future in futures]
    except MedperfError:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    except BaseException:
        cancel.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
