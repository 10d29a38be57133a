"""The client's read models in SQLite, built only from its own event log: datasets, associations, executions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from medperf_core.domain import events as ev
from medperf_core.store.records import StoredEvent
from medperf_core.store.sqlite.projection import SQLiteProjection


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class LocalDatasets(SQLiteProjection):
    name = "local_datasets"
    version = 1
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
                "dataset_id": event.dataset_id, "name": event.name, "owner": event.owner, "state": "registered",
                "benchmark": event.benchmark, "data_preparation_mlcube": event.data_preparation_mlcube,
                "input_data_hash": event.input_data_hash, "generated_uid": event.generated_uid,
                "data_path": event.data_path, "labels_path": event.labels_path, "statistics": _json({}),
                "steps_done": _json([]), "last_error": "", "registered_at": stored.recorded_at,
                "prepared_at": None, "operational_at": None, "report": _json({}),
            }, replace=True)
            return
        dataset_id = getattr(event, "dataset_id", None)
        if dataset_id is None or not table.count_where("dataset_id = ?", [dataset_id]):
            return
        row = table.get(dataset_id)
        if isinstance(event, ev.DatasetPreparationStepFinished):
            steps = [s for s in json.loads(row["steps_done"]) if s != event.step] + [event.step]
            table.update(dataset_id, {"steps_done": _json(steps), "last_error": ""})
        elif isinstance(event, ev.DatasetPreparationFailed):
            table.update(dataset_id, {"last_error": f"{event.step}: {event.error}"})
        elif isinstance(event, ev.DatasetPrepared):
            table.update(dataset_id, {"state": "prepared", "generated_uid": event.generated_uid,
                                      "statistics": _json(event.statistics), "prepared_at": stored.recorded_at})
        elif isinstance(event, ev.DatasetMarkedOperational):
            table.update(dataset_id, {"state": "operational", "generated_uid": event.generated_uid,
                                      "statistics": _json(event.statistics), "operational_at": stored.recorded_at})
        elif isinstance(event, ev.DatasetReportUpdated):
            table.update(dataset_id, {"report": _json(event.report)})
        elif isinstance(event, ev.DatasetImported | ev.DatasetLocated):
            table.update(dataset_id, {"data_path": event.data_path, "labels_path": event.labels_path})


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
                          "status": "PENDING", "metadata": _json(event.metadata), "updated_at": stored.recorded_at},
                         replace=True)
        elif isinstance(event, ev.AssociationApproved | ev.AssociationApprovedByPolicy | ev.AssociationRejected):
            status = "REJECTED" if isinstance(event, ev.AssociationRejected) else "APPROVED"
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
            table.insert({"uid": event.uid, "benchmark": event.benchmark, "model": event.model,
                          "dataset": event.dataset, "state": "started", "metrics": _json({}), "images": _json({}),
                          "duration_s": None, "error": "", "log_path": "", "started_at": stored.recorded_at,
                          "finished_at": None, "result_id": None, "submitted_at": None}, replace=True)
        elif isinstance(event, ev.ExecutionFinished):
            table.update(event.uid, {"state": "finished", "metrics": _json(event.metrics),
                                     "images": _json(event.images), "duration_s": event.duration_s, "error": "",
                                     "finished_at": stored.recorded_at})
        elif isinstance(event, ev.ExecutionFailed):
            table.update(event.uid, {"state": "failed", "error": event.error, "log_path": event.log_path,
                                     "finished_at": stored.recorded_at})
        elif isinstance(event, ev.ResultSubmitted) and event.uid:
            table.update(event.uid, {"state": "submitted", "result_id": event.result_id,
                                     "submitted_at": stored.recorded_at})


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
