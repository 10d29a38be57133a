"""Data-owner use cases for a dataset: submit, prepare (resumable), set operational, associate."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import yaml

from medperf_core.domain import datasets as dataset_machine
from medperf_core.domain import events as ev
from medperf_core.domain import streams
from medperf_core.domain.datasets import DatasetState
from medperf_core.errors import (
    ConflictError,
    ContainerFailedError,
    InvalidTransitionError,
    MedperfError,
    NotFoundError,
    ServerError,
    UserError,
)
from medperf_core.services import report_progress, server_cache
from medperf_core.services.client import Client
from medperf_core.services.containers import LocalContainer, materialize
from medperf_core.services.hashing import folders_hash
from medperf_core.services.tasks import run_task

STEPS = ("prepare", "sanity_check", "statistics")
Say = Callable[[str], None]


def dataset_folder(client: Client, dataset_id: int) -> Path:
    return client.storage / "datasets" / str(dataset_id)


def local_dataset(client: Client, dataset_id: int) -> dict[str, Any]:
    row = client.local.dataset(dataset_id)
    if row is None:
        raise NotFoundError(
            f"dataset {dataset_id} is not registered from this machine",
            "see your datasets with: medperf dataset ls --mine",
        )
    return row


def _known(dataset: dataset_machine.Dataset | None, dataset_id: int) -> dataset_machine.Dataset:
    """The dataset as its stream folds, which must hold its registration."""
    if dataset is None:
        raise NotFoundError(
            f"dataset {dataset_id} is not registered from this machine",
            "see your datasets with: medperf dataset ls --mine",
        )
    return dataset


def _readable_folder(path: Path, what: str) -> Path:
    path = path.expanduser()
    if not path.exists():
        raise UserError(f"{what} {path} does not exist", f"pass the folder that holds your {what.split()[0]}")
    if not path.is_dir():
        raise UserError(f"{what} {path} is not a folder", "pass a folder, not a file")
    if not any(path.iterdir()):
        raise UserError(f"{what} {path} is empty", "point it at the folder with your files")
    return path.resolve()


def plan_submission(
    client: Client, *, name: str, description: str, location: str, data_path: Path, labels_path: Path,
    benchmark: int | None, data_prep: int | None,
) -> dict[str, Any]:
    """Check the inputs and compute what would be sent (nothing is sent)."""
    data = _readable_folder(data_path, "data path")
    labels = _readable_folder(labels_path, "labels path")
    if benchmark is None and data_prep is None:
        raise UserError("no benchmark and no preparation container given", "pass --benchmark ID (or --data_prep ID)")
    if benchmark is not None:
        try:
            prep = int(server_cache.warm_benchmark(client, benchmark)["data_preparation_mlcube"])
        except NotFoundError as e:
            raise NotFoundError(f"benchmark {benchmark} does not exist on the server ({e.message})",
                                "see the benchmarks with: medperf benchmark ls") from e
        if data_prep is not None and data_prep != prep:
            raise UserError(f"benchmark {benchmark} prepares data with container {prep}, not {data_prep}",
                            "drop --data_prep or give the benchmark's")
    else:
        prep = int(data_prep)  # type: ignore[arg-type]
        try:
            server_cache.container(client, prep)
        except NotFoundError as e:
            raise NotFoundError(f"container {prep} does not exist on the server ({e.message})",
                                "pass the benchmark instead: --benchmark ID (see medperf benchmark ls)") from e
    data_hash = folders_hash([data, labels])
    for row in client.backend.list_my_datasets():
        if row.get("input_data_hash") == data_hash and row.get("data_preparation_mlcube") == prep:
            local = client.local.dataset(int(row["id"]))
            if local is None or not local.get("data_path"):  # registered elsewhere, or the local log was lost
                return {"existing": row, "benchmark": benchmark, "data_path": str(data), "labels_path": str(labels)}
            from medperf_core.services import outbox

            if outbox.earlier_attempt(client, "dataset.create", data_path=str(data), labels_path=str(labels)):
                raise outbox.went_through(f"dataset registered with UID {row['id']} (next: medperf dataset prepare "
                                          f"--data_uid {row['id']})")
            raise ConflictError(
                f"this data is already registered as dataset {row['id']} ({row.get('name')})",
                f"use it: medperf dataset prepare --data_uid {row['id']}",
            )
    return {
        "body": {
            "name": name, "description": description, "location": location, "input_data_hash": data_hash,
            "generated_uid": data_hash, "data_preparation_mlcube": prep, "split_seed": 0,
            "state": "DEVELOPMENT", "submitted_as_prepared": False, "is_valid": True,
            "generated_metadata": {}, "user_metadata": {}, "report": {},
        },
        "benchmark": benchmark,
        "data_path": str(data),
        "labels_path": str(labels),
    }


def submit(client: Client, plan: dict[str, Any]) -> dict[str, Any]:
    """Register the dataset on the server, then in the local log (with the local paths, never sent): the request
    is recorded before it is sent, so a kill at any moment is finished by the next command."""
    from medperf_core.services import outbox

    if "existing" in plan:
        return adopt(client, plan)
    context = {k: plan[k] for k in ("benchmark", "data_path", "labels_path")}
    return outbox.send(client, "dataset.create", plan["body"], context)


def adopt(client: Client, plan: dict[str, Any]) -> dict[str, Any]:
    """Record on this machine a dataset the server has from this data (registered before the local log was lost,
    or from another machine), with the local paths; nothing is sent."""
    from medperf_core.services.sync import registered_from, sync_actor

    row = plan["existing"]
    dataset_id = int(row["id"])
    events, version = client.store.load(streams.dataset(dataset_id))
    if dataset_machine.fold(events) is None:
        event: ev.DomainEvent = registered_from(row, plan["data_path"], plan["labels_path"])
        client.store.append(streams.dataset(dataset_id), version, [event], sync_actor(client))
    else:
        client.record(streams.dataset(dataset_id), version, ev.DatasetLocated(
            dataset_id=dataset_id, data_path=plan["data_path"], labels_path=plan["labels_path"]))
    return dict(row)


def _report(client: Client, dataset_id: int, version: int, status: str) -> int:
    """Progress for the server's dataset `report`: best effort (offline or unreachable, only the local log has
    it; the server learns the outcome when the dataset is set operational, keyed). Sent without an Idempotency-Key:
    it replaces the whole `report` and the server appends nothing when it is unchanged, so a retry of the same
    report is harmless."""
    report = {"execution_status": status}
    if not client.offline:
        with contextlib.suppress(ServerError):
            client.backend.update_dataset(dataset_id, {"report": report})
    return client.record(streams.dataset(dataset_id), version,
                         ev.DatasetReportUpdated(dataset_id=dataset_id, report=report))


def _reset_output(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def dataset_lock(client: Client, dataset_id: int) -> AbstractContextManager[None]:
    """One command at a time on a dataset's folders (prepare, compatibility test, benchmark run)."""
    from medperf_core.locks import command_lock

    return command_lock(client.storage, streams.dataset(dataset_id), f"dataset {dataset_id}")


def prepare(client: Client, dataset_id: int, *, force: bool = False, say: Say = print) -> dict[str, Any]:
    """Run prepare → sanity_check → statistics; finished steps are skipped unless `force`."""
    local_dataset(client, dataset_id)
    with dataset_lock(client, dataset_id):
        return _prepare(client, dataset_id, force=force, say=say)


def _prepare(client: Client, dataset_id: int, *, force: bool, say: Say) -> dict[str, Any]:
    row = local_dataset(client, dataset_id)
    events, version = client.store.load(streams.dataset(dataset_id))
    current = _known(dataset_machine.fold(events), dataset_id)
    if current.is_operational:
        raise InvalidTransitionError(f"dataset {dataset_id} is operational and cannot be prepared again",
                                     "register the data as a new dataset to prepare it differently")
    folder = dataset_folder(client, dataset_id)
    data, labels, stats = folder / "data", folder / "labels", folder / "statistics.yaml"
    if not force and row["state"] == DatasetState.PREPARED and set(STEPS) <= set(row["steps_done"]) and data.is_dir():
        for index, step in enumerate(STEPS, start=1):  # finished: nothing to run, append or send
            say(f"[{index}/{len(STEPS)}] {step}: already done, skipped")
        return {"generated_uid": row["generated_uid"], "statistics": row["statistics"], "folder": str(folder)}
    if not row.get("data_path"):
        raise UserError(f"this machine does not know where the raw data of dataset {dataset_id} is",
                        "give it with: medperf dataset submit (same data, paths and benchmark) — it recognises the "
                        "dataset and records the paths")
    from medperf_core.services import policy

    prep_row = server_cache.container(client, row["data_preparation_mlcube"])
    policy.require_allowed(client, prep_row, row.get("benchmark"), dataset_id)
    prep = materialize(prep_row, client.storage / "containers", verify=client.profile.certificate or True)
    done = [] if force else list(row["steps_done"])
    if force or "prepare" not in done:
        done = []  # a new preparation invalidates the later steps
    version = _report(client, dataset_id, version, "started")
    for index, step in enumerate(STEPS, start=1):
        if step in done:
            say(f"[{index}/{len(STEPS)}] {step}: already done, skipped")
            continue
        say(f"[{index}/{len(STEPS)}] {step}: running …")
        log = folder / "logs" / f"{step}.log"
        started = time.monotonic()
        try:
            _run_step(client, prep, step, row, folder, log, say)
        except (KeyboardInterrupt, SystemExit):  # Ctrl-C or SIGTERM: the runner stopped the container
            version = client.record(streams.dataset(dataset_id), version, ev.DatasetPreparationFailed(
                dataset_id=dataset_id, step=step, error="interrupted", log_path=str(log)))
            _report(client, dataset_id, version, "interrupted")
            raise
        except MedperfError as e:
            version = client.record(streams.dataset(dataset_id), version, ev.DatasetPreparationFailed(
                dataset_id=dataset_id, step=step, error=e.message, log_path=str(log)))
            _report(client, dataset_id, version, "failed")
            if isinstance(e, ContainerFailedError):
                # e.hint names the log and its last line (usually the container's own reason): keep it
                raise ContainerFailedError(
                    f"dataset preparation failed at step {step}: {e.message}",
                    f"{e.hint or f'see {log}'}; fix the data and re-run "
                    f"`medperf dataset prepare --data_uid {dataset_id}` to resume from this step",
                ) from e
            raise
        elapsed = time.monotonic() - started
        version = client.record(streams.dataset(dataset_id), version, ev.DatasetPreparationStepFinished(
            dataset_id=dataset_id, step=step, duration_s=round(elapsed, 3), log_path=str(log)))
        say(f"[{index}/{len(STEPS)}] {step}: done in {elapsed:.1f} s")
    statistics = yaml.safe_load(stats.read_text(encoding="utf-8")) or {}
    generated_uid = folders_hash([data, labels])
    version = client.record(streams.dataset(dataset_id), version,
                            dataset_machine.prepare(current, generated_uid, statistics))
    _report(client, dataset_id, version, "finished")
    return {"generated_uid": generated_uid, "statistics": statistics, "folder": str(folder)}


METADATA_VOLUME = "metadata_path"  # MedPerf's: prepare writes it, sanity_check / statistics read it


def declares_metadata(prep: LocalContainer) -> bool:
    """MedPerf's rule: a preparator has a metadata folder when its prepare task has a `metadata_path` output."""
    return prep.config.task("prepare").output(METADATA_VOLUME) is not None


def metadata_inputs(prep: LocalContainer, step: str, metadata: Path) -> dict[str, Path]:
    """The metadata folder for a later step that declares MedPerf's `metadata_path` input (mounted read-only, like
    every input); created empty when prepare declared none, so the step still finds a folder."""
    if prep.config.task(step).input(METADATA_VOLUME) is None:
        return {}
    metadata.mkdir(parents=True, exist_ok=True)
    return {METADATA_VOLUME: metadata}


def _run_step(client: Client, prep: LocalContainer, step: str, row: dict[str, Any], folder: Path, log: Path,
              say: Say) -> None:
    data, labels, stats = folder / "data", folder / "labels", folder / "statistics.yaml"
    metadata = folder / "metadata"
    if step == "prepare":
        partial_data, partial_labels = data.with_name("data.partial"), labels.with_name("labels.partial")
        outputs = {"output_path": partial_data, "output_labels_path": partial_labels}
        # MedPerf's metadata folder, when prepare declares one: written here, kept next to data/ (not hashed,
        # never sent, exported with the dataset)
        with_metadata = declares_metadata(prep)
        if with_metadata:
            outputs[METADATA_VOLUME] = metadata.with_name("metadata.partial")
        # MedPerf's report file, when the container declares one: read while it runs, kept as report.yaml
        report = prep.config.task("prepare").output(report_progress.REPORT_OUTPUT)
        if report is not None:
            outputs[report.name] = folder / "report.yaml"
        for path in (*outputs.values(), data, labels, metadata):
            _reset_output(path)
        watching = (report_progress.watch(outputs[report.name], report.mount_path, say) if report is not None
                    else contextlib.nullcontext())
        with watching:
            run_task(client, prep, "prepare",
                     {"data_path": Path(row["data_path"]), "labels_path": Path(row["labels_path"])},
                     outputs, log, optional_outputs=frozenset({report_progress.REPORT_OUTPUT}))
        partial_data.rename(data)
        partial_labels.rename(labels)
        if with_metadata:
            outputs[METADATA_VOLUME].rename(metadata)
    elif step == "sanity_check":
        run_task(client, prep, "sanity_check",
                 {"data_path": data, "labels_path": labels, **metadata_inputs(prep, step, metadata)}, {}, log)
    else:
        _reset_output(stats)
        run_task(client, prep, "statistics",
                 {"data_path": data, "labels_path": labels, **metadata_inputs(prep, step, metadata)},
                 {"output_path": stats}, log)


def plan_operational(client: Client, dataset_id: int) -> dict[str, Any]:
    client.flush_pending()
    if client.waiting("dataset.operational", dataset=dataset_id):
        raise ConflictError(f"dataset {dataset_id} was set operational and the request waits to be sent",
                            "send it with: medperf sync")
    row = local_dataset(client, dataset_id)
    if row["state"] == DatasetState.OPERATIONAL:
        from medperf_core.services import outbox

        if outbox.earlier_attempt(client, "dataset.operational", dataset=dataset_id) is not None:
            raise outbox.went_through(f"dataset {dataset_id} is operational")
        raise InvalidTransitionError(f"dataset {dataset_id} is already operational", "nothing to do")
    if row["state"] != DatasetState.PREPARED:
        raise InvalidTransitionError(f"dataset {dataset_id} is not prepared yet",
                                     f"run: medperf dataset prepare --data_uid {dataset_id}")
    return {"input_data_hash": row["input_data_hash"], "generated_uid": row["generated_uid"],
            "generated_metadata": row["statistics"], "state": "OPERATION"}


def set_operational(client: Client, dataset_id: int, body: dict[str, Any]) -> None:
    events, _version = client.store.load(streams.dataset(dataset_id))
    current = _known(dataset_machine.fold(events), dataset_id)
    dataset_machine.mark_operational(current, generated_uid=body["generated_uid"],
                                     statistics=body["generated_metadata"])  # refuses before anything is sent
    from medperf_core.services import outbox

    outbox.send(client, "dataset.operational", body, {"dataset": dataset_id})
