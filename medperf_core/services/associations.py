"""Dataset–benchmark associations: request (after a compatibility test), decide, list, and sync into the log."""

from __future__ import annotations

from typing import Any

from medperf_core.domain import associations as machine
from medperf_core.domain import events as ev
from medperf_core.domain.datasets import DatasetState
from medperf_core.errors import ConflictError, InvalidTransitionError, NotFoundError
from medperf_core.services import server_cache
from medperf_core.services.client import Client
from medperf_core.services.datasets import Say, local_dataset
from medperf_core.services.execution import ModelOutcome, run_model


def compatibility_test(client: Client, benchmark_id: int, dataset_id: int, *, no_cache: bool = False,
                       say: Say = print) -> ModelOutcome:
    """Run the reference model and the metrics on the prepared data; it counts as that model's result."""
    dataset = local_dataset(client, dataset_id)
    if dataset["state"] != DatasetState.OPERATIONAL:
        step = "set_operational" if dataset["state"] == DatasetState.PREPARED else "prepare"
        raise InvalidTransitionError(f"dataset {dataset_id} is not operational",
                                     f"run: medperf dataset {step} --data_uid {dataset_id}")
    benchmark = server_cache.benchmark(client, benchmark_id)
    if int(benchmark["data_preparation_mlcube"]) != int(dataset["data_preparation_mlcube"]):
        raise InvalidTransitionError(
            f"dataset {dataset_id} was prepared with container {dataset['data_preparation_mlcube']}, benchmark "
            f"{benchmark_id} expects {benchmark['data_preparation_mlcube']}", "register the data for that benchmark")
    from medperf_core.services.datasets import dataset_lock

    with dataset_lock(client, dataset_id):
        return run_model(client, benchmark, int(benchmark["reference_model_mlcube"]), dataset_id,
                         no_cache=no_cache, say=say)


def require_not_requested(client: Client, benchmark_id: int, dataset_id: int) -> None:
    """Refuse a second request (after pending requests were sent): one already waits or was approved."""
    client.flush_pending()
    events, _version = client.store.load(machine.stream_name("dataset", benchmark_id, dataset_id))
    current = machine.fold(events)
    waiting = client.waiting("association.request", dataset=dataset_id, benchmark=benchmark_id)
    if not waiting and current is not None:
        from medperf_core.services import outbox

        answer = outbox.earlier_attempt(client, "association.request", dataset=dataset_id, benchmark=benchmark_id)
        if answer is not None:
            raise outbox.went_through(f"association of dataset {dataset_id} with benchmark {benchmark_id} requested "
                                      f"(status {answer.get('approval_status') or current.status.value})")
    if waiting or (current is not None and current.status is not machine.ApprovalStatus.REJECTED):
        status = "waiting to be sent" if waiting else current.status.value.lower()  # type: ignore[union-attr]
        raise ConflictError(
            f"dataset {dataset_id} already requested to join benchmark {benchmark_id} (association {status})",
            "see it with: medperf association ls" + ("; send it with: medperf sync" if waiting else ""),
        )


def request(client: Client, benchmark_id: int, dataset_id: int, outcome: ModelOutcome) -> dict[str, Any]:
    from medperf_core.services import outbox

    require_not_requested(client, benchmark_id, dataset_id)
    metadata = {"test_result": outcome.metrics}
    body = {"dataset": dataset_id, "benchmark": benchmark_id, "metadata": metadata, "approval_status": "PENDING"}
    return outbox.send(client, "association.request", body, {"dataset": dataset_id, "benchmark": benchmark_id})


def decide(client: Client, benchmark_id: int, dataset_id: int, status: str) -> dict[str, Any]:
    """The benchmark owner approves or rejects (the server enforces who may)."""
    from medperf_core.services.decisions import decide_association

    return decide_association(client, "dataset", benchmark_id, dataset_id, status)


def sync(client: Client, row: dict[str, Any]) -> None:
    """Record in the local log a decision the server made on one of this machine's associations."""
    benchmark_id, dataset_id = int(row["benchmark"]), int(row["dataset"])
    stream = machine.stream_name("dataset", benchmark_id, dataset_id)
    events, version = client.store.load(stream)
    current = machine.fold(events)
    status = row.get("approval_status")
    if current is None or current.status is not machine.ApprovalStatus.PENDING or status == "PENDING":
        return
    by = int(row.get("approved_by") or row.get("initiated_by") or 0)
    cls = ev.AssociationApproved if status == "APPROVED" else ev.AssociationRejected
    field = "approved_by" if status == "APPROVED" else "rejected_by"
    client.record(stream, version, cls(kind="dataset", benchmark=benchmark_id, entity=dataset_id, **{field: by}))


def list_mine(client: Client) -> list[dict[str, Any]]:
    rows = client.backend.list_my_dataset_associations()
    for row in rows:
        sync(client, row)
    return rows


def require_approved(client: Client, benchmark_id: int, dataset_id: int) -> None:
    if client.offline:  # what the local log last learnt from the server
        found = [a for a in client.local.associations()
                 if (a["kind"], a["benchmark"], a["entity"]) == ("dataset", benchmark_id, dataset_id)]
        if not found or found[0]["status"] != "APPROVED":
            state = found[0]["status"].lower() if found else "not known on this machine"
            raise InvalidTransitionError(
                f"the association of dataset {dataset_id} with benchmark {benchmark_id} is {state}",
                "run `medperf sync` online to learn the committee's decision",
            )
        return
    try:
        row = client.backend.get_dataset_association(dataset_id, benchmark_id)
    except NotFoundError:
        raise InvalidTransitionError(
            f"dataset {dataset_id} is not associated with benchmark {benchmark_id}",
            f"request it: medperf dataset associate --benchmark_uid {benchmark_id} --data_uid {dataset_id}",
        ) from None
    sync(client, row)
    status = row.get("approval_status")
    if status != "APPROVED":
        raise InvalidTransitionError(
            f"the association of dataset {dataset_id} with benchmark {benchmark_id} is {str(status).lower()}",
            "wait for the benchmark committee to approve it (medperf association ls -bd)",
        )
