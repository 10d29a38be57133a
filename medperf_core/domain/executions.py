"""The execution state machine: started → finished | failed; finished → submitted, once."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from medperf_core.domain.events import (
    DomainEvent,
    ExecutionFailed,
    ExecutionFinished,
    ExecutionStarted,
    ResultSubmitted,
)
from medperf_core.errors import ConflictError, InvalidTransitionError


class ExecutionState(enum.StrEnum):
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    SUBMITTED = "submitted"


def result_uid(benchmark: int, model: int, dataset: int) -> str:
    """MedPerf's local result UID of an unsubmitted result."""
    return f"b{benchmark}m{model}d{dataset}"


@attrs.frozen(kw_only=True)
class Execution:
    uid: str
    benchmark: int
    model: int
    dataset: int
    state: ExecutionState = ExecutionState.STARTED
    metrics: dict[str, Any] = attrs.field(factory=dict)
    error: str = ""
    result_id: int | None = None


def started(event: ExecutionStarted) -> Execution:
    """The execution a start makes (a start again begins it afresh)."""
    return Execution(uid=event.uid, benchmark=event.benchmark, model=event.model, dataset=event.dataset)


def evolve(execution: Execution | None, event: DomainEvent) -> Execution | None:
    if isinstance(event, ExecutionStarted):
        return started(event)
    if execution is None:
        return None
    if isinstance(event, ExecutionFinished):
        return attrs.evolve(execution, state=ExecutionState.FINISHED, metrics=event.metrics, error="")
    if isinstance(event, ExecutionFailed):
        return attrs.evolve(execution, state=ExecutionState.FAILED, error=event.error)
    if isinstance(event, ResultSubmitted):
        return attrs.evolve(execution, state=ExecutionState.SUBMITTED, result_id=event.result_id)
    return execution


def fold(events: Iterable[DomainEvent]) -> Execution | None:
    execution: Execution | None = None
    for e in events:
        execution = evolve(execution, e)
    return execution


def start(existing: Execution | None, *, benchmark: int, model: int, dataset: int) -> ExecutionStarted:
    uid = result_uid(benchmark, model, dataset)
    if existing is not None and existing.state is ExecutionState.SUBMITTED:
        raise ConflictError(f"result {uid} was already submitted (server id {existing.result_id})")
    if existing is not None and existing.state is ExecutionState.STARTED:
        # A crashed run leaves "started": starting again is the resume path, so it is allowed.
        pass
    return ExecutionStarted(uid=uid, benchmark=benchmark, model=model, dataset=dataset)


def finish(execution: Execution | None, *, metrics: dict[str, Any], duration_s: float,
           images: dict[str, str] | None = None) -> ExecutionFinished:
    running = _running(execution)
    return ExecutionFinished(
        uid=running.uid, benchmark=running.benchmark, model=running.model, dataset=running.dataset,
        metrics=metrics, duration_s=duration_s, images=images or {},
    )


def fail(execution: Execution | None, *, error: str, log_path: str = "") -> ExecutionFailed:
    running = _running(execution)
    return ExecutionFailed(
        uid=running.uid, benchmark=running.benchmark, model=running.model, dataset=running.dataset,
        error=error, log_path=log_path,
    )


def submit(execution: Execution | None, *, result_id: int, owner: int) -> ResultSubmitted:
    if execution is None:
        raise InvalidTransitionError("there is no such local result", "run: medperf result ls")
    if execution.state is ExecutionState.SUBMITTED:
        raise ConflictError(
            f"result {execution.uid} was already submitted (server id {execution.result_id})", "nothing to do"
        )
    if execution.state is not ExecutionState.FINISHED:
        raise InvalidTransitionError(
            f"result {execution.uid} is {execution.state.value}, only finished results can be submitted",
            f"run: medperf benchmark run --benchmark {execution.benchmark} --data_uid {execution.dataset}",
        )
    return ResultSubmitted(
        result_id=result_id, benchmark=execution.benchmark, model=execution.model, dataset=execution.dataset,
        owner=owner, metrics=execution.metrics, uid=execution.uid,
    )


def _running(execution: Execution | None) -> Execution:
    if execution is None or execution.state is not ExecutionState.STARTED:
        state = "absent" if execution is None else execution.state.value
        raise InvalidTransitionError(f"the execution is {state}, not started")
    return execution
