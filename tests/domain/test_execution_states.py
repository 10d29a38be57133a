"""Execution: started → finished | failed; finished → submitted, exactly once."""

from __future__ import annotations

import pytest

from medperf_core.domain import executions
from medperf_core.domain.events import ExecutionFinished, ResultSubmitted
from medperf_core.domain.executions import Execution, ExecutionState
from medperf_core.errors import ConflictError, InvalidTransitionError

RUN = {"benchmark": 1, "model": 4, "dataset": 2}


def at(state: ExecutionState | None) -> Execution | None:
    if state is None:
        return None
    ex = executions.evolve(None, executions.start(None, **RUN))
    if state is ExecutionState.FAILED:
        ex = executions.evolve(ex, executions.fail(ex, error="boom"))
    if state in (ExecutionState.FINISHED, ExecutionState.SUBMITTED):
        ex = executions.evolve(ex, executions.finish(ex, metrics={"auc": 0.9}, duration_s=1.5))
    if state is ExecutionState.SUBMITTED:
        ex = executions.evolve(ex, executions.submit(ex, result_id=7, owner=3))
    assert ex is not None and ex.state is state
    return ex


@pytest.mark.parametrize(
    "existing", [None, ExecutionState.STARTED, ExecutionState.FINISHED, ExecutionState.FAILED]
)
def test_start_is_allowed_until_submitted(existing: ExecutionState | None) -> None:
    """A crashed run (still started) resumes; a failed or finished one may be run again before submission."""
    event = executions.start(at(existing), **RUN)
    assert event.uid == "b1m4d2" == executions.result_uid(1, 4, 2)
    after = executions.evolve(at(existing), event)
    assert after is not None and after.state is ExecutionState.STARTED


def test_start_after_submission_is_a_conflict() -> None:
    with pytest.raises(ConflictError, match="already submitted"):
        executions.start(at(ExecutionState.SUBMITTED), **RUN)


def test_finish_records_metrics() -> None:
    event = executions.finish(
        at(ExecutionState.STARTED), metrics={"auc": 0.9}, duration_s=2.0, images={"m": "sha"}
    )
    assert event == ExecutionFinished(
        uid="b1m4d2", metrics={"auc": 0.9}, duration_s=2.0, images={"m": "sha"}, **RUN
    )


def test_fail_records_the_error() -> None:
    event = executions.fail(at(ExecutionState.STARTED), error="exit 1", log_path="/logs/x")
    after = executions.evolve(at(ExecutionState.STARTED), event)
    assert after is not None and (after.state, after.error) == (ExecutionState.FAILED, "exit 1")


@pytest.mark.parametrize("command", ["finish", "fail"])
@pytest.mark.parametrize(
    "existing", [None, ExecutionState.FINISHED, ExecutionState.FAILED, ExecutionState.SUBMITTED]
)
def test_finish_and_fail_need_a_started_execution(command: str, existing: ExecutionState | None) -> None:
    name = "absent" if existing is None else existing.value
    with pytest.raises(InvalidTransitionError, match=f"is {name}, not started"):
        if command == "finish":
            executions.finish(at(existing), metrics={}, duration_s=0)
        else:
            executions.fail(at(existing), error="x")


def test_a_finished_result_is_submitted_with_its_metrics() -> None:
    event = executions.submit(at(ExecutionState.FINISHED), result_id=7, owner=3)
    assert event == ResultSubmitted(result_id=7, owner=3, metrics={"auc": 0.9}, uid="b1m4d2", **RUN)
    after = executions.evolve(at(ExecutionState.FINISHED), event)
    assert after is not None and (after.state, after.result_id) == (ExecutionState.SUBMITTED, 7)


def test_a_result_is_submitted_only_once() -> None:
    with pytest.raises(ConflictError, match="already submitted"):
        executions.submit(at(ExecutionState.SUBMITTED), result_id=8, owner=3)


@pytest.mark.parametrize("existing", [ExecutionState.STARTED, ExecutionState.FAILED])
def test_only_finished_results_can_be_submitted(existing: ExecutionState) -> None:
    with pytest.raises(InvalidTransitionError, match="only finished results can be submitted"):
        executions.submit(at(existing), result_id=7, owner=3)


def test_submitting_nothing_is_refused() -> None:
    with pytest.raises(InvalidTransitionError, match="no such local result"):
        executions.submit(None, result_id=7, owner=3)
