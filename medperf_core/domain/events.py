"""Domain events: frozen, past-tense, each with a stable type string and a schema version.

Never persist a Python class path: the store keeps `type` and `schema_version`, the mapper finds the class here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import attrs

from medperf_core.errors import IntegrityError


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Base of every event. Subclasses set `type` and `schema_version` and are registered with @event."""

    type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1

    def to_payload(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=True)


EVENT_CLASSES: dict[str, type[DomainEvent]] = {}
E = TypeVar("E", bound=type[DomainEvent])


def event(type_name: str, schema_version: int = 1) -> Callable[[E], E]:
    def register(cls: E) -> E:
        if type_name in EVENT_CLASSES:
            raise ValueError(f"event type {type_name!r} registered twice")
        cls.type = type_name
        cls.schema_version = schema_version
        EVENT_CLASSES[type_name] = cls
        return cls

    return register


def event_class(type_name: str) -> type[DomainEvent]:
    try:
        return EVENT_CLASSES[type_name]
    except KeyError:
        raise IntegrityError(
            f"unknown event type {type_name!r} in the log", "upgrade medperf to a version that knows it"
        ) from None


def _dict() -> dict[str, Any]:
    return {}


# --- users --------------------------------------------------------------------------------------------------


@event("user.registered")
@attrs.frozen(kw_only=True)
class UserRegistered(DomainEvent):
    user_id: int
    email: str
    username: str
    first_name: str = ""
    last_name: str = ""
    is_staff: bool = False


@event("user.role_changed")
@attrs.frozen(kw_only=True)
class UserRoleChanged(DomainEvent):
    """The server's configuration now makes the user an admin, or no longer does; seen at their first request
    after the change. `reason` says which setting decided it (e.g. "in --jwt-admin", "not in --jwt-admin")."""

    user_id: int
    is_staff: bool
    reason: str = ""


# --- containers and benchmarks ------------------------------------------------------------------------------


@event("container.registered")
@attrs.frozen(kw_only=True)
class ContainerRegistered(DomainEvent):
    container_id: int
    name: str
    owner: int
    container_config: dict[str, Any] = attrs.field(factory=_dict)
    parameters_config: dict[str, Any] | None = None
    config_hash: str = ""
    parameters_hash: str = ""
    image_hash: str = ""
    additional_files_hash: str = ""
    additional_files_url: str = ""
    state: str = "DEVELOPMENT"
    metadata: dict[str, Any] = attrs.field(factory=_dict)


@event("container.marked_operational")
@attrs.frozen(kw_only=True)
class ContainerMarkedOperational(DomainEvent):
    container_id: int


@event("benchmark.registered")
@attrs.frozen(kw_only=True)
class BenchmarkRegistered(DomainEvent):
    benchmark_id: int
    name: str
    owner: int
    description: str = ""
    docs_url: str = ""
    demo_dataset_tarball_url: str = ""
    demo_dataset_tarball_hash: str = ""
    data_preparation_mlcube: int
    reference_model_mlcube: int
    data_evaluator_mlcube: int
    state: str = "DEVELOPMENT"
    metadata: dict[str, Any] = attrs.field(factory=_dict)


@event("benchmark.marked_operational")
@attrs.frozen(kw_only=True)
class BenchmarkMarkedOperational(DomainEvent):
    benchmark_id: int


@event("benchmark.approved")
@attrs.frozen(kw_only=True)
class BenchmarkApproved(DomainEvent):
    """An admin approved the benchmark: datasets and models may now ask to join it."""

    benchmark_id: int
    approved_by: int


@event("benchmark.rejected")
@attrs.frozen(kw_only=True)
class BenchmarkRejected(DomainEvent):
    """An admin rejected the benchmark: nothing may join it (until an admin approves it after all)."""

    benchmark_id: int
    rejected_by: int


@event("benchmark.approval_changed")
@attrs.frozen(kw_only=True)
class BenchmarkApprovalChanged(DomainEvent):
    """Legacy: what medperf wrote for an admin's decision before `benchmark.approved` / `benchmark.rejected`.
    Never written any more; kept so that logs holding it still verify, replay and read (it carries no decider)."""

    benchmark_id: int
    approval_status: str


@event("benchmark.association_policy_changed")
@attrs.frozen(kw_only=True)
class BenchmarkAssociationPolicyChanged(DomainEvent):
    """The benchmark owner changed who joins without waiting: per kind NEVER, ALWAYS or ALLOWLIST (emails)."""

    benchmark_id: int
    policy_version: int
    dataset_mode: str = "NEVER"
    dataset_allow_list: list[str] = attrs.field(factory=list)
    model_mode: str = "NEVER"
    model_allow_list: list[str] = attrs.field(factory=list)


# --- datasets -----------------------------------------------------------------------------------------------


@event("dataset.registered")
@attrs.frozen(kw_only=True)
class DatasetRegistered(DomainEvent):
    """A dataset's metadata was registered. `data_path`/`labels_path` exist only in the owner's own log."""

    dataset_id: int
    name: str
    owner: int
    description: str = ""
    location: str = ""
    input_data_hash: str
    generated_uid: str
    data_preparation_mlcube: int
    benchmark: int | None = None
    submitted_as_prepared: bool = False
    data_path: str | None = None
    labels_path: str | None = None


@event("dataset.preparation_step_finished")
@attrs.frozen(kw_only=True)
class DatasetPreparationStepFinished(DomainEvent):
    dataset_id: int
    step: str
    duration_s: float
    log_path: str = ""


@event("dataset.preparation_failed")
@attrs.frozen(kw_only=True)
class DatasetPreparationFailed(DomainEvent):
    dataset_id: int
    step: str
    error: str
    log_path: str = ""


@event("dataset.prepared")
@attrs.frozen(kw_only=True)
class DatasetPrepared(DomainEvent):
    dataset_id: int
    generated_uid: str
    statistics: dict[str, Any] = attrs.field(factory=_dict)


@event("dataset.marked_operational")
@attrs.frozen(kw_only=True)
class DatasetMarkedOperational(DomainEvent):
    dataset_id: int
    input_data_hash: str
    generated_uid: str
    statistics: dict[str, Any] = attrs.field(factory=_dict)


@event("dataset.located")
@attrs.frozen(kw_only=True)
class DatasetLocated(DomainEvent):
    """The owner told this machine where the raw data of a dataset registered elsewhere (or before the local
    log was lost) lives; only in the owner's own log."""

    dataset_id: int
    data_path: str
    labels_path: str


@event("dataset.report_updated")
@attrs.frozen(kw_only=True)
class DatasetReportUpdated(DomainEvent):
    dataset_id: int
    report: dict[str, Any] = attrs.field(factory=_dict)


@event("dataset.checked")
@attrs.frozen(kw_only=True)
class DatasetChecked(DomainEvent):
    """`dataset check` recomputed the hashes on this machine: each part `unchanged`, `changed`, `missing` or
    `not prepared`, with the hash found (empty when not computed). Only in the owner's own log."""

    dataset_id: int
    raw: str
    prepared: str
    raw_hash: str = ""
    prepared_hash: str = ""


@event("dataset.imported")
@attrs.frozen(kw_only=True)
class DatasetImported(DomainEvent):
    """The dataset's history and files came from an export archive (`source`: the archive's sha256, who exported
    it from which server and when, the exporting log's head). `data_path`/`labels_path`: the raw data on this
    machine, None when it was imported without it. Only in the owner's own log."""

    dataset_id: int
    source: dict[str, Any] = attrs.field(factory=_dict)
    data_path: str | None = None
    labels_path: str | None = None


@event("history.imported")
@attrs.frozen(kw_only=True)
class HistoryImported(DomainEvent):
    """One event of another machine's log, carried over by `dataset import`: `origin` says where it was (position,
    hash, prev_hash, stream, version, actor, recorded_at there, and the archive's sha256); `event_type`,
    `event_schema_version` and `payload` are the event itself. Reading the log yields the inner event, so the
    state built here is the one built there; the row keeps saying it was imported."""

    origin: dict[str, Any] = attrs.field(factory=_dict)
    event_type: str
    event_schema_version: int
    payload: dict[str, Any] = attrs.field(factory=_dict)


# --- associations -------------------------------------------------------------------------------------------


@event("association.requested")
@attrs.frozen(kw_only=True)
class AssociationRequested(DomainEvent):
    """A dataset (kind "dataset") or model container (kind "model") asked to join a benchmark."""

    kind: str
    benchmark: int
    entity: int
    initiated_by: int
    metadata: dict[str, Any] = attrs.field(factory=_dict)
    priority: int = 0


@event("association.approved")
@attrs.frozen(kw_only=True)
class AssociationApproved(DomainEvent):
    kind: str
    benchmark: int
    entity: int
    approved_by: int


@event("association.approved_by_policy")
@attrs.frozen(kw_only=True)
class AssociationApprovedByPolicy(DomainEvent):
    """The server approved a request at once because the benchmark's policy (at `policy_version`) allows it."""

    kind: str
    benchmark: int
    entity: int
    policy_version: int
    mode: str


@event("association.rejected")
@attrs.frozen(kw_only=True)
class AssociationRejected(DomainEvent):
    kind: str
    benchmark: int
    entity: int
    rejected_by: int


@event("association.priority_set")
@attrs.frozen(kw_only=True)
class AssociationPrioritySet(DomainEvent):
    kind: str
    benchmark: int
    entity: int
    priority: int


# --- executions and results ---------------------------------------------------------------------------------


@event("execution.started")
@attrs.frozen(kw_only=True)
class ExecutionStarted(DomainEvent):
    uid: str
    benchmark: int
    model: int
    dataset: int


@event("execution.finished")
@attrs.frozen(kw_only=True)
class ExecutionFinished(DomainEvent):
    uid: str
    benchmark: int
    model: int
    dataset: int
    metrics: dict[str, Any] = attrs.field(factory=_dict)
    duration_s: float = 0.0
    images: dict[str, str] = attrs.field(factory=dict)
    partial: bool = False


@event("execution.failed")
@attrs.frozen(kw_only=True)
class ExecutionFailed(DomainEvent):
    uid: str
    benchmark: int
    model: int
    dataset: int
    error: str
    log_path: str = ""


@event("test_run.finished")
@attrs.frozen(kw_only=True)
class CompatibilityTestFinished(DomainEvent):
    """A compatibility test ran on this machine (client side only; its results are never submitted).

    `source`: "benchmark" (a registered benchmark's demo data), "local" (local configs only) or "dataset" (a
    prepared dataset); `containers`: role → registered UID or local config path."""

    uid: str
    source: str
    benchmark: int | None = None
    dataset: int | None = None
    containers: dict[str, str] = attrs.field(factory=dict)
    metrics: dict[str, Any] = attrs.field(factory=_dict)
    duration_s: float = 0.0
    offline: bool = False


@event("result.submitted")
@attrs.frozen(kw_only=True)
class ResultSubmitted(DomainEvent):
    result_id: int
    benchmark: int
    model: int
    dataset: int
    owner: int
    metrics: dict[str, Any] = attrs.field(factory=_dict)
    uid: str = ""
    metadata: dict[str, Any] = attrs.field(factory=_dict)


# --- server-only: field changes of registered entities ------------------------------------------------------


@event("benchmark.updated")
@attrs.frozen(kw_only=True)
class BenchmarkUpdated(DomainEvent):
    """The owner changed fields of a benchmark (API field name → new value); states move by their own events."""

    benchmark_id: int
    changes: dict[str, Any] = attrs.field(factory=_dict)


@event("container.updated")
@attrs.frozen(kw_only=True)
class ContainerUpdated(DomainEvent):
    """The owner changed fields of a container (API field name → new value)."""

    container_id: int
    changes: dict[str, Any] = attrs.field(factory=_dict)


@event("dataset.updated")
@attrs.frozen(kw_only=True)
class DatasetUpdated(DomainEvent):
    """The owner changed fields of a dataset (API field name → new value); hashes only before OPERATION."""

    dataset_id: int
    changes: dict[str, Any] = attrs.field(factory=_dict)


# --- requests: idempotency on the server, intents on the client ---------------------------------------------


@event("request.idempotency_key_recorded")
@attrs.frozen(kw_only=True)
class IdempotencyKeyRecorded(DomainEvent):
    """The server created something for a request carrying `Idempotency-Key: key` (scoped to the user);
    `answer` names what it created, so the same key again returns that, never a second one."""

    key: str
    user_id: int
    operation: str
    fingerprint: str
    answer: dict[str, Any] = attrs.field(factory=_dict)


@event("request.pending")
@attrs.frozen(kw_only=True)
class RequestPending(DomainEvent):
    """The client is about to send a write to the server (recorded before it is sent). `operation` names what
    (e.g. `dataset.create`); `body` is what is sent; `context` is what only this machine needs afterwards."""

    key: str
    operation: str
    body: dict[str, Any] = attrs.field(factory=_dict)
    context: dict[str, Any] = attrs.field(factory=_dict)


@event("request.done")
@attrs.frozen(kw_only=True)
class RequestDone(DomainEvent):
    """The server answered the pending request `key` with success; `answer` is its body."""

    key: str
    operation: str
    answer: dict[str, Any] = attrs.field(factory=_dict)


@event("request.failed")
@attrs.frozen(kw_only=True)
class RequestFailed(DomainEvent):
    """The server refused the pending request `key` (it will not be sent again)."""

    key: str
    operation: str
    error: str



# --- the site's policy (client side) --------------------------------------------------------------------------


@event("policy.changed")
@attrs.frozen(kw_only=True)
class PolicyChanged(DomainEvent):
    """The site's policy file was changed through medperf; `policy` is the whole new policy, `change` says what."""

    policy: dict[str, Any] = attrs.field(factory=_dict)
    change: str = ""


@event("policy.container_refused")
@attrs.frozen(kw_only=True)
class PolicyContainerRefused(DomainEvent):
    """The site's policy kept a container from running on this site's data."""

    container: int
    benchmark: int | None = None
    dataset: int | None = None
    image_hash: str = ""
    reason: str = ""
