"""Benchmark rules: fields written by the owner, approval by admins, containers frozen once operational."""

from __future__ import annotations

from typing import Any

from medperf_core.domain.callers import Caller
from medperf_core.domain.events import (
    BenchmarkApproved,
    BenchmarkMarkedOperational,
    BenchmarkRejected,
    BenchmarkUpdated,
    DomainEvent,
)
from medperf_core.domain.resources import BENCHMARK, Benchmark
from medperf_core.domain.updates import changed, check_operational_rules
from medperf_core.errors import InvalidTransitionError, PermissionDeniedError

CONTAINER_ROLES = ("data_preparation_mlcube", "reference_model_mlcube", "data_evaluator_mlcube")
IN_REGISTRATION = frozenset({
    "name", "description", "docs_url", "demo_dataset_tarball_url", "demo_dataset_tarball_hash", *CONTAINER_ROLES,
    "state", "metadata",
})


def registration_fields(data: dict[str, Any]) -> dict[str, Any]:
    """What the submitter may set at registration: approval is an admin's decision, never the submitter's."""
    return {k: v for k, v in data.items() if k != "approval_status"}


def update(current: Benchmark, by: Caller, data: dict[str, Any]) -> list[DomainEvent]:
    """The events of a PUT: `data` holds the writable fields sent (state and approval_status included)."""
    data = dict(data)
    approval = data.pop("approval_status", None)
    state = data.pop("state", None)
    if (data or state) and current.owner != by.id:  # even unchanged values: only the owner writes its fields
        raise PermissionDeniedError(f"only the owner of benchmark {current.id} can change it")
    approval_changes = approval is not None and approval != current.approval_status
    if approval_changes and not by.is_staff:
        raise PermissionDeniedError("only an admin can approve or reject a benchmark")
    if approval_changes and approval == "PENDING":
        raise InvalidTransitionError(f"benchmark {current.id} cannot go back to PENDING once decided",
                                     "approve or reject it")
    changes = changed(current, data)
    check_operational_rules(BENCHMARK, f"benchmark {current.id}", current, changes, state, None)
    events: list[DomainEvent] = []
    if changes:
        events.append(BenchmarkUpdated(benchmark_id=current.id, changes=changes))
    if state == "OPERATION" and current.state != "OPERATION":
        events.append(BenchmarkMarkedOperational(benchmark_id=current.id))
    if approval_changes and approval == "APPROVED":
        events.append(BenchmarkApproved(benchmark_id=current.id, approved_by=by.id))
    elif approval_changes:
        events.append(BenchmarkRejected(benchmark_id=current.id, rejected_by=by.id))
    return events


def may_decide_association(benchmark: Benchmark, by: Caller, kind: str) -> bool:
    """The benchmark's owner decides who joins; admins may decide on datasets too."""
    return by.id == benchmark.owner or (kind == "dataset" and by.is_staff)
