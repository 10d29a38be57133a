"""The client's read models in SQLite, built only from its own event log: datasets, associations, executions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from medperf_core.domain import datasets as dataset_machine
from medperf_core.domain import events as ev
from medperf_core.domain import executions as execution_machine
from medperf_core.domain.associations import ApprovalStatus
from medperf_core.store.records import StoredEvent
from medperf_core.store.sqlite.projection import SQLiteProjection


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class LocalDatasets(SQLiteProjection):
    """A dataset's state and hashes as the domain's state machine folds them (`domain.datasets.evolve`), with what
    only this machine knows: where its data is, the preparation steps done, the last error, when it moved."""

    name = "local_datasets"
    version = 2  # 2: the hashes a dataset was marked operational with (it kept the registered input_data_hash)
    tables: Sequence[str] = ("local_datasets",)

    def schema(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS local_datasets (
                dataset_id INTEGER PRIMARY KEY, name TEXT, owner INTEGER, state TEXT, benchmark INTEGER,
                data_preparation_mlcube INTEGER, input_data_hash TEXT, generated_uid TEXT, data_path TEXT,
                labels_path TEXT, statistics TEXT, steps_done TEXT, last_error TEXT, registered_at TEXT,
                prepared_at TEXT, operational_at TEXT, report TEXT)"""
        ]

    def apply(self, db: Database, event: ev.DomainEvent, stored: StoredEvent) -> None:
        table = db.table("local_datasets")
        if isinstance(event, ev.DatasetRegistered):
            table.insert({
                **_dataset_columns(dataset_machine.registered(event)), "data_path": event.data_path,
                "labels_path": event.labels_path, "steps_done": _json([]), "last_error": "",
                "registered_at": stored.recorded_at, "prepared_at": None, "operational_at": None,
                "report": _json({}),
            }, replace=True)
            return
        dataset_id = getattr(event, "dataset_id", None)
        if dataset_id is None or not table.count_where("dataset_id = ?", [dataset_id]):
            return
        row = table.get(dataset_id)
        before = _dataset(row)
        after = dataset_machine.evolve(before, event)
        changes: dict[str, Any] = {}
        if after is not None and after is not before:  # an event of the state machine (evolve made a new one)
            changes.update(_dataset_columns(after))
            moved_at = {dataset_machine.DatasetState.PREPARED: "prepared_at",
                        dataset_machine.DatasetState.OPERATIONAL: "operational_at"}.get(after.state)
            if moved_at is not None:
                changes[moved_at] = stored.recorded_at
        if isinstance(event, ev.DatasetPreparationStepFinished):
            steps = [s for s in json.loads(row["steps_done"]) if s != event.step] + [event.step]
            changes.update({"steps_done": _json(steps), "last_error": ""})
        elif isinstance(event, ev.DatasetPreparationFailed):
            changes["last_error"] = f"{event.step}: {event.error}"
        elif isinstance(event, ev.DatasetReportUpdated):
            changes["report"] = _json(event.report)
        elif isinstance(event, ev.DatasetImported | ev.DatasetLocated):
            changes.update({"data_path": event.data_path, "labels_path": event.labels_path})
        if changes:
            table.update(dataset_id, changes)


def _dataset(row: dict[str, Any]) -> dataset_machine.Dataset:
    """The domain's dataset as a row of `local_datasets` holds it."""
    return dataset_machine.Dataset(
        dataset_id=row["dataset_id"], name=row["name"], owner=row["owner"], input_data_hash=row["input_data_hash"],
        generated_uid=row["generated_uid"], data_preparation_mlcube=row["data_preparation_mlcube"],
        benchmark=row["benchmark"], state=dataset_machine.DatasetState(row["state"]),
        statistics=json.loads(row["statistics"]),
    )


def _dataset_columns(dataset: dataset_machine.Dataset) -> dict[str, Any]:
    return {
        "dataset_id": dataset.dataset_id, "name": dataset.name, "owner": dataset.owner, "state": dataset.state.value,
        "benchmark": dataset.benchmark, "data_preparation_mlcube": dataset.data_preparation_mlcube,
        "input_data_hash": dataset.input_data_hash, "generated_uid": dataset.generated_uid,
        "statistics": _json(dataset.statistics),
    }


class LocalAssociations(SQLiteProjection):
    name = "local_associations"
    version = 1
    tables: Sequence[str] = ("local_associations",)

    def schema(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS local_associations (
                kind TEXT, benchmark INTEGER, entity INTEGER, status TEXT, metadata TEXT, updated_at TEXT,
                PRIMARY KEY (kind, benchmark, entity))"""
        ]

    def apply(self, db: Database, event: ev.DomainEvent, stored: StoredEvent) -> None:
        table = db.table("local_associations")
        if isinstance(event, ev.AssociationRequested):
            table.insert({"kind": event.kind, "benchmark": event.benchmark, "entity": event.entity,
                          "status": ApprovalStatus.PENDING.value, "metadata": _json(event.metadata),
                          "updated_at": stored.recorded_at}, replace=True)
        elif isinstance(event, ev.AssociationApproved | ev.AssociationApprovedByPolicy | ev.AssociationRejected):
            status = (ApprovalStatus.REJECTED if isinstance(event, ev.AssociationRejected)
                      else ApprovalStatus.APPROVED).value
            db.execute(
                "UPDATE local_associations SET status = ?, updated_at = ?"
                " WHERE kind = ? AND benchmark = ? AND entity = ?",
                [status, stored.recorded_at, event.kind, event.benchmark, event.entity],
            )


class LocalExecutions(SQLiteProjection):
    name = "local_executions"
    version = 1
    tables: Sequence[str] = ("local_executions",)

    def schema(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS local_executions (
                uid TEXT PRIMARY KEY, benchmark INTEGER, model INTEGER, dataset INTEGER, state TEXT,
                metrics TEXT, images TEXT, duration_s REAL, error TEXT, log_path TEXT, started_at TEXT,
                finished_at TEXT, result_id INTEGER, submitted_at TEXT)"""
        ]

    def apply(self, db: Database, event: ev.DomainEvent, stored: StoredEvent) -> None:
        table = db.table("local_executions")
        if isinstance(event, ev.ExecutionStarted):
            table.insert({**_execution_columns(execution_machine.started(event)), "uid": event.uid,
                          "benchmark": event.benchmark, "model": event.model, "dataset": event.dataset,
                          "images": _json({}), "duration_s": None, "log_path": "", "started_at": stored.recorded_at,
                          "finished_at": None, "submitted_at": None}, replace=True)
            return
        uid = getattr(event, "uid", None)
        if not isinstance(uid, str) or not uid or not table.count_where("uid = ?", [uid]):
            return
        before = _execution(table.get(uid))
        after = execution_machine.evolve(before, event)
        if after is None or after is before:  # not an event of the state machine
            return
        changes = _execution_columns(after)
        if isinstance(event, ev.ExecutionFinished):
            changes.update({"images": _json(event.images), "duration_s": event.duration_s,
                            "finished_at": stored.recorded_at})
        elif isinstance(event, ev.ExecutionFailed):
            changes.update({"log_path": event.log_path, "finished_at": stored.recorded_at})
        elif isinstance(event, ev.ResultSubmitted):
            changes["submitted_at"] = stored.recorded_at
        table.update(uid, changes)


def _execution(row: dict[str, Any]) -> execution_machine.Execution:
    """The domain's execution as a row of `local_executions` holds it."""
    return execution_machine.Execution(
        uid=row["uid"], benchmark=row["benchmark"], model=row["model"], dataset=row["dataset"],
        state=execution_machine.ExecutionState(row["state"]), metrics=json.loads(row["metrics"]), error=row["error"],
        result_id=row["result_id"],
    )


def _execution_columns(execution: execution_machine.Execution) -> dict[str, Any]:
    return {"state": execution.state.value, "metrics": _json(execution.metrics), "error": execution.error,
            "result_id": execution.result_id}


class LocalRequests(SQLiteProjection):
    """Writes to the server recorded before they were sent: pending until the server's answer is recorded."""

    name = "local_requests"
    version = 1
    tables: Sequence[str] = ("local_requests",)

    def schema(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS local_requests (
                key TEXT PRIMARY KEY, operation TEXT, state TEXT, body TEXT, context TEXT, answer TEXT,
                error TEXT, position INTEGER, created_at TEXT, finished_at TEXT)"""
        ]

    def apply(self, db: Database, event: ev.DomainEvent, stored: StoredEvent) -> None:
        table = db.table("local_requests")
        if isinstance(event, ev.RequestPending):
            table.insert({"key": event.key, "operation": event.operation, "state": "pending",
                          "body": _json(event.body), "context": _json(event.context), "answer": _json({}),
                          "error": "", "position": stored.position, "created_at": stored.recorded_at,
                          "finished_at": None}, replace=True)
        elif isinstance(event, ev.RequestDone):
            table.update(event.key, {"state": "done", "answer": _json(event.answer),
                                     "finished_at": stored.recorded_at})
        elif isinstance(event, ev.RequestFailed):
            table.update(event.key, {"state": "failed", "error": event.error, "finished_at": stored.recorded_at})


CLIENT_PROJECTIONS: list[SQLiteProjection] = [LocalDatasets(), LocalAssociations(), LocalExecutions(), LocalRequests()]
