"""The server's read model (users, benchmarks, containers, datasets, associations, results), built only from events."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlite_utils import Database

from medperf_core.domain import events as ev
from medperf_core.store import Projection, StoredEvent

JSON_COLUMNS = frozenset(
    {
        "metadata",
        "user_metadata",
        "container_config",
        "parameters_config",
        "generated_metadata",
        "report",
        "results",
    }
)
BOOL_COLUMNS = frozenset({"is_staff", "is_valid", "is_active", "submitted_as_prepared"})

_SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, username TEXT NOT NULL,
  first_name TEXT, last_name TEXT, is_staff INTEGER NOT NULL, created_at TEXT);
CREATE TABLE benchmarks (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT, docs_url TEXT,
  owner INTEGER NOT NULL, demo_dataset_tarball_url TEXT, demo_dataset_tarball_hash TEXT,
  demo_dataset_generated_uid TEXT, data_preparation_mlcube INTEGER, reference_model_mlcube INTEGER,
  data_evaluator_mlcube INTEGER, metadata TEXT, state TEXT, is_valid INTEGER, is_active INTEGER,
  approval_status TEXT, user_metadata TEXT, approved_at TEXT, created_at TEXT, modified_at TEXT);
CREATE TABLE containers (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, git_mlcube_url TEXT, mlcube_hash TEXT,
  git_parameters_url TEXT, parameters_hash TEXT, image_tarball_url TEXT, image_tarball_hash TEXT, image_hash TEXT,
  additional_files_tarball_url TEXT, additional_files_tarball_hash TEXT, owner INTEGER NOT NULL, state TEXT,
  is_valid INTEGER, metadata TEXT, user_metadata TEXT, container_config TEXT, parameters_config TEXT,
  created_at TEXT, modified_at TEXT);
CREATE TABLE datasets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, description TEXT, location TEXT,
  owner INTEGER NOT NULL, input_data_hash TEXT, generated_uid TEXT, split_seed INTEGER,
  data_preparation_mlcube INTEGER, is_valid INTEGER, submitted_as_prepared INTEGER, state TEXT,
  generated_metadata TEXT, user_metadata TEXT, report TEXT, created_at TEXT, modified_at TEXT);
CREATE INDEX datasets_owner ON datasets (owner);
CREATE TABLE dataset_associations (id INTEGER PRIMARY KEY, dataset INTEGER NOT NULL, benchmark INTEGER NOT NULL,
  initiated_by INTEGER, metadata TEXT, approval_status TEXT, approved_at TEXT, created_at TEXT, modified_at TEXT);
CREATE INDEX dataset_associations_pair ON dataset_associations (dataset, benchmark);
CREATE INDEX dataset_associations_benchmark ON dataset_associations (benchmark);
CREATE TABLE model_associations (id INTEGER PRIMARY KEY, model_mlcube INTEGER NOT NULL,
  benchmark INTEGER NOT NULL, initiated_by INTEGER, metadata TEXT, approval_status TEXT, priority INTEGER,
  approved_at TEXT, created_at TEXT, modified_at TEXT);
CREATE INDEX model_associations_pair ON model_associations (model_mlcube, benchmark);
CREATE INDEX model_associations_benchmark ON model_associations (benchmark);
CREATE TABLE results (id INTEGER PRIMARY KEY, name TEXT, owner INTEGER NOT NULL, benchmark INTEGER NOT NULL,
  model INTEGER NOT NULL, dataset INTEGER NOT NULL, results TEXT, metadata TEXT, user_metadata TEXT,
  approval_status TEXT, is_valid INTEGER, approved_at TEXT, created_at TEXT, modified_at TEXT,
  UNIQUE (benchmark, model, dataset));
CREATE INDEX results_owner ON results (owner);
"""

TABLES = (
    "users",
    "benchmarks",
    "containers",
    "datasets",
    "dataset_associations",
    "model_associations",
    "results",
)


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _encode(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in JSON_COLUMNS:
            out[key] = dump(value)
        elif key in BOOL_COLUMNS:
            out[key] = int(bool(value))
        else:
            out[key] = value
    return out


def _insert(db: Database, table: str, row: Mapping[str, Any]) -> None:
    data = _encode(row)
    columns = ", ".join(f"[{c}]" for c in data)
    marks = ", ".join("?" for _ in data)
    db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(data.values()))


def _update(db: Database, table: str, where: str, args: list[Any], changes: Mapping[str, Any]) -> None:
    known = {c.name for c in db[table].columns}
    data = {k: v for k, v in _encode(changes).items() if k in known and k != "id"}
    if not data:
        return
    sets = ", ".join(f"[{c}] = ?" for c in data)
    db.execute(f"UPDATE [{table}] SET {sets} WHERE {where}", [*data.values(), *args])


def _latest_association(table: str, entity_column: str) -> str:
    return f"id = (SELECT MAX(id) FROM [{table}] WHERE [{entity_column}] = ? AND benchmark = ?)"


class ServerProjection:
    """Every server table; `apply` dispatches on the event class. Times come from `stored.recorded_at` only."""

    name: str = "server"
    version: int = 1
    tables: Sequence[str] = TABLES

    def create(self, db: Database) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)

    def apply(self, db: Database, event: ev.DomainEvent, stored: StoredEvent) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(db, event, stored.recorded_at, stored.position)


def _user(db: Database, e: Any, at: str, _pos: int) -> None:
    _insert(
        db,
        "users",
        {
            "id": e.user_id,
            "email": e.email,
            "username": e.username,
            "first_name": e.first_name,
            "last_name": e.last_name,
            "is_staff": e.is_staff,
            "created_at": at,
        },
    )


def _container(db: Database, e: Any, at: str, _pos: int) -> None:
    _insert(
        db,
        "containers",
        {
            "id": e.container_id,
            "name": e.name,
            "owner": e.owner,
            "git_mlcube_url": "",
            "mlcube_hash": e.config_hash,
            "git_parameters_url": "",
            "parameters_hash": e.parameters_hash,
            "image_tarball_url": "",
            "image_tarball_hash": "",
            "image_hash": e.image_hash,
            "additional_files_tarball_url": e.additional_files_url,
            "additional_files_tarball_hash": e.additional_files_hash,
            "state": e.state,
            "is_valid": True,
            "metadata": e.metadata,
            "user_metadata": {},
            "container_config": e.container_config,
            "parameters_config": e.parameters_config,
            "created_at": at,
            "modified_at": at,
        },
    )


def _benchmark(db: Database, e: Any, at: str, _pos: int) -> None:
    _insert(
        db,
        "benchmarks",
        {
            "id": e.benchmark_id,
            "name": e.name,
            "owner": e.owner,
            "description": e.description,
            "docs_url": e.docs_url,
            "demo_dataset_tarball_url": e.demo_dataset_tarball_url,
            "demo_dataset_tarball_hash": e.demo_dataset_tarball_hash,
            "demo_dataset_generated_uid": "",
            "data_preparation_mlcube": e.data_preparation_mlcube,
            "reference_model_mlcube": e.reference_model_mlcube,
            "data_evaluator_mlcube": e.data_evaluator_mlcube,
            "metadata": e.metadata,
            "state": e.state,
            "is_valid": True,
            "is_active": True,
            "approval_status": "PENDING",
            "user_metadata": {},
            "approved_at": None,
            "created_at": at,
            "modified_at": at,
        },
    )


def _dataset(db: Database, e: Any, at: str, _pos: int) -> None:
    _insert(
        db,
        "datasets",
        {
            "id": e.dataset_id,
            "name": e.name,
            "owner": e.owner,
            "description": e.description,
            "location": e.location,
            "input_data_hash": e.input_data_hash,
            "generated_uid": e.generated_uid,
            "split_seed": 0,
            "data_preparation_mlcube": e.data_preparation_mlcube,
            "is_valid": True,
            "submitted_as_prepared": e.submitted_as_prepared,
            "state": "DEVELOPMENT",
            "generated_metadata": {},
            "user_metadata": {},
            "report": {},
            "created_at": at,
            "modified_at": at,
        },
    )


def _changes(table: str, key: str) -> Callable[[Database, Any, str, int], None]:
    def handle(db: Database, e: Any, at: str, _pos: int) -> None:
        _update(db, table, "id = ?", [getattr(e, key)], {**e.changes, "modified_at": at})

    return handle


def _operational(table: str, key: str) -> Callable[[Database, Any, str, int], None]:
    def handle(db: Database, e: Any, at: str, _pos: int) -> None:
        _update(db, table, "id = ?", [getattr(e, key)], {"state": "OPERATION", "modified_at": at})

    return handle


def _dataset_operational(db: Database, e: Any, at: str, _pos: int) -> None:
    _update(
        db,
        "datasets",
        "id = ?",
        [e.dataset_id],
        {
            "state": "OPERATION",
            "input_data_hash": e.input_data_hash,
            "generated_uid": e.generated_uid,
            "generated_metadata": e.statistics,
            "modified_at": at,
        },
    )


def _report(db: Database, e: Any, at: str, _pos: int) -> None:
    _update(db, "datasets", "id = ?", [e.dataset_id], {"report": e.report, "modified_at": at})


def _approval(db: Database, e: Any, at: str, _pos: int) -> None:
    approved_at = at if e.approval_status == "APPROVED" else None
    _update(
        db,
        "benchmarks",
        "id = ?",
        [e.benchmark_id],
        {"approval_status": e.approval_status, "approved_at": approved_at, "modified_at": at},
    )


def _assoc_table(kind: str) -> tuple[str, str]:
    return (
        ("dataset_associations", "dataset") if kind == "dataset" else ("model_associations", "model_mlcube")
    )


def _requested(db: Database, e: Any, at: str, _pos: int) -> None:
    table, column = _assoc_table(e.kind)
    next_id = db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM [{table}]").fetchone()[0]
    row = {
        "id": next_id,
        column: e.entity,
        "benchmark": e.benchmark,
        "initiated_by": e.initiated_by,
        "metadata": e.metadata,
        "approval_status": "PENDING",
        "approved_at": None,
        "created_at": at,
        "modified_at": at,
    }
    if e.kind == "model":
        row["priority"] = e.priority
    _insert(db, table, row)


def _decided(status: str) -> Callable[[Database, Any, str, int], None]:
    def handle(db: Database, e: Any, at: str, _pos: int) -> None:
        table, column = _assoc_table(e.kind)
        approved_at = at if status == "APPROVED" else None
        _update(
            db,
            table,
            _latest_association(table, column),
            [e.entity, e.benchmark],
            {"approval_status": status, "approved_at": approved_at, "modified_at": at},
        )

    return handle


def _priority(db: Database, e: Any, at: str, _pos: int) -> None:
    table, column = _assoc_table(e.kind)
    _update(
        db,
        table,
        _latest_association(table, column),
        [e.entity, e.benchmark],
        {"priority": e.priority, "modified_at": at},
    )


def _result(db: Database, e: Any, at: str, _pos: int) -> None:
    name = e.uid or f"b{e.benchmark}m{e.model}d{e.dataset}"
    _insert(
        db,
        "results",
        {
            "id": e.result_id,
            "name": name,
            "owner": e.owner,
            "benchmark": e.benchmark,
            "model": e.model,
            "dataset": e.dataset,
            "results": e.metrics,
            "metadata": e.metadata,
            "user_metadata": {},
            "approval_status": "PENDING",
            "is_valid": True,
            "approved_at": None,
            "created_at": at,
            "modified_at": at,
        },
    )


_HANDLERS: dict[type[ev.DomainEvent], Callable[[Database, Any, str, int], None]] = {
    ev.UserRegistered: _user,
    ev.ContainerRegistered: _container,
    ev.ContainerUpdated: _changes("containers", "container_id"),
    ev.ContainerMarkedOperational: _operational("containers", "container_id"),
    ev.BenchmarkRegistered: _benchmark,
    ev.BenchmarkUpdated: _changes("benchmarks", "benchmark_id"),
    ev.BenchmarkMarkedOperational: _operational("benchmarks", "benchmark_id"),
    ev.BenchmarkApprovalChanged: _approval,
    ev.DatasetRegistered: _dataset,
    ev.DatasetUpdated: _changes("datasets", "dataset_id"),
    ev.DatasetMarkedOperational: _dataset_operational,
    ev.DatasetReportUpdated: _report,
    ev.AssociationRequested: _requested,
    ev.AssociationApproved: _decided("APPROVED"),
    ev.AssociationRejected: _decided("REJECTED"),
    ev.AssociationPrioritySet: _priority,
    ev.ResultSubmitted: _result,
}

SERVER_PROJECTIONS: list[Projection] = [ServerProjection()]
