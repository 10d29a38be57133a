"""`medperf sync`: send what waits, then bring the local log into agreement with the server.

What this machine lacks of its own datasets, association requests and submitted results is appended as events
recorded by the actor `sync <server>`: they came from the server, not from a command run here. A machine whose
home was lost gets its datasets back this way (the raw data's location is given again with `dataset submit`).
"""

from __future__ import annotations

from typing import Any

import attrs

from medperf_core.domain import associations as association_machine
from medperf_core.domain import datasets as dataset_machine
from medperf_core.domain import events as ev
from medperf_core.domain import executions as execution_machine
from medperf_core.domain import streams
from medperf_core.services import outbox, server_cache
from medperf_core.services.client import Client
from medperf_core.services.datasets import Say
from medperf_core.store.store import Append

Json = dict[str, Any]


@attrs.define
class SyncReport:
    sent: list[str] = attrs.field(factory=list)
    still_pending: int = 0
    recorded: list[str] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)

    @property
    def in_agreement(self) -> bool:
        return self.still_pending == 0


def sync_actor(client: Client) -> str:
    where = client.profile.server if client.profile.backend == "rest" else "local server"
    return f"sync {where}"


def registered_from(row: Json, data_path: str | None = None, labels_path: str | None = None) -> ev.DatasetRegistered:
    return ev.DatasetRegistered(
        dataset_id=int(row["id"]), name=str(row["name"]), owner=int(row["owner"]),
        description=str(row.get("description") or ""), location=str(row.get("location") or ""),
        input_data_hash=str(row["input_data_hash"]),
        # the hash of the raw data: a preparation here computes the prepared data's hash again
        generated_uid=str(row["input_data_hash"]), data_preparation_mlcube=int(row["data_preparation_mlcube"]),
        submitted_as_prepared=bool(row.get("submitted_as_prepared")), data_path=data_path, labels_path=labels_path,
    )


def sync(client: Client, say: Say = print) -> SyncReport:
    report = SyncReport()
    client.backend  # noqa: B018 (opening it sends nothing; the pending requests are sent below, reported)
    for _row, outcome in outbox.finish_pending(client):
        (report.sent if outcome.startswith("sent") else report.notes).append(outcome)
    report.still_pending = len(outbox.pending(client))
    actor = sync_actor(client)
    _datasets(client, actor, report)
    _associations(client, actor, report)
    _results(client, actor, report)
    return report


def _append(client: Client, actor: str, appends: list[Append]) -> None:
    if appends:
        client.store.append_all(appends, actor)


def _datasets(client: Client, actor: str, report: SyncReport) -> None:
    for row in client.backend.list_my_datasets():
        dataset_id = int(row["id"])
        stream = streams.dataset(dataset_id)
        events, version = client.store.load(stream)
        current = dataset_machine.fold(events)
        if current is None:
            _append(client, actor, [Append(stream, version, [registered_from(row)])])
            report.recorded.append(f"dataset {dataset_id} ({row['name']}): registered")
            if row.get("state") == "OPERATION":
                report.notes.append(
                    f"dataset {dataset_id} is operational on the server: to use it here, give its raw data again "
                    f"(medperf dataset submit with the same data), prepare it and set it operational"
                )
            continue
        if row.get("state") == "OPERATION" and current.state is dataset_machine.DatasetState.PREPARED \
                and current.generated_uid == row.get("generated_uid"):
            event = dataset_machine.mark_operational(current, generated_uid=str(row["generated_uid"]),
                                                     statistics=dict(row.get("generated_metadata") or {}))
            _append(client, actor, [Append(stream, version, [event])])
            report.recorded.append(f"dataset {dataset_id}: operational")


def _associations(client: Client, actor: str, report: SyncReport) -> None:
    warmed: set[int] = set()
    for row in client.backend.list_my_dataset_associations():
        benchmark, dataset = int(row["benchmark"]), int(row["dataset"])
        if client.local.dataset(dataset) is None:
            continue
        if benchmark not in warmed:  # its containers and approved models, for offline runs
            warmed.add(benchmark)
            server_cache.warm_benchmark(client, benchmark)
        stream = association_machine.stream_name("dataset", benchmark, dataset)
        events, version = client.store.load(stream)
        current = association_machine.fold(events)
        new: list[ev.DomainEvent] = []
        if current is None:
            new.append(ev.AssociationRequested(kind="dataset", benchmark=benchmark, entity=dataset,
                                               initiated_by=int(row.get("initiated_by") or 0),
                                               metadata=dict(row.get("metadata") or {})))
            new += outbox.decision_events("dataset", benchmark, dataset, row)
        elif current.status is association_machine.ApprovalStatus.PENDING:
            new += outbox.decision_events("dataset", benchmark, dataset, row)
        if new:
            _append(client, actor, [Append(stream, version, new)])
            status = str(row.get("approval_status", "PENDING")).lower()
            report.recorded.append(f"association of dataset {dataset} with benchmark {benchmark}: {status}")


def _results(client: Client, actor: str, report: SyncReport) -> None:
    for row in client.backend.list_my_results():
        uid = execution_machine.result_uid(int(row["benchmark"]), int(row["model"]), int(row["dataset"]))
        stream = streams.execution(uid)
        events, version = client.store.load(stream)
        current = execution_machine.fold(events)
        if current is None or current.result_id is not None:
            continue
        if current.state is not execution_machine.ExecutionState.FINISHED:
            report.notes.append(f"result {uid} is on the server (id {row['id']}) but {current.state.value} here")
            continue
        event = execution_machine.submit(current, result_id=int(row["id"]), owner=int(row.get("owner") or 0))
        _append(client, actor, [Append(stream, version, [event])])
        report.recorded.append(f"result {uid}: submitted (server UID {row['id']})")
