"""Dataset: registered → prepared → operational; operational is final; every refused step says why."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medperf_core.domain import datasets
from medperf_core.domain.datasets import Dataset, DatasetState
from medperf_core.domain.events import DatasetPrepared, DatasetRegistered, DomainEvent, ExecutionStarted
from medperf_core.errors import ConflictError, InvalidTransitionError

REGISTERED = DatasetRegistered(
    dataset_id=1, name="site A", owner=3, input_data_hash="in", generated_uid="gen", data_preparation_mlcube=2
)


def at(state: DatasetState) -> Dataset:
    events: list[DomainEvent] = [REGISTERED]
    if state is not DatasetState.REGISTERED:
        events.append(DatasetPrepared(dataset_id=1, generated_uid="gen2", statistics={"n": 1}))
    if state is DatasetState.OPERATIONAL:
        ds = datasets.fold(events)
        assert ds is not None
        events.append(datasets.mark_operational(ds))
    ds = datasets.fold(events)
    assert ds is not None and ds.state is state
    return ds


def test_register_a_new_dataset() -> None:
    assert datasets.register(None, REGISTERED) is REGISTERED
    ds = datasets.fold([REGISTERED])
    assert ds is not None and ds.state is DatasetState.REGISTERED and not ds.is_operational


@pytest.mark.parametrize("state", list(DatasetState))
def test_registering_twice_is_a_conflict(state: DatasetState) -> None:
    with pytest.raises(ConflictError, match="already registered"):
        datasets.register(at(state), REGISTERED)


@pytest.mark.parametrize("state", [DatasetState.REGISTERED, DatasetState.PREPARED])
def test_prepare_is_allowed_until_operational(state: DatasetState) -> None:
    event = datasets.prepare(at(state), "uid-p", {"images": 3})
    assert event == DatasetPrepared(dataset_id=1, generated_uid="uid-p", statistics={"images": 3})
    after = datasets.evolve(at(state), event)
    assert after is not None and after.state is DatasetState.PREPARED
    assert after.generated_uid == "uid-p" and after.statistics == {"images": 3}


def test_an_operational_dataset_cannot_be_prepared_again() -> None:
    with pytest.raises(InvalidTransitionError, match="operational and cannot be prepared") as info:
        datasets.prepare(at(DatasetState.OPERATIONAL), "x", {})
    assert info.value.hint


def test_mark_operational_from_prepared_carries_the_hashes() -> None:
    event = datasets.mark_operational(at(DatasetState.PREPARED))
    assert (event.dataset_id, event.input_data_hash, event.generated_uid) == (1, "in", "gen2")
    assert event.statistics == {"n": 1}
    after = datasets.evolve(at(DatasetState.PREPARED), event)
    assert after is not None and after.is_operational


def test_mark_operational_from_registered_needs_a_preparation_on_the_client() -> None:
    with pytest.raises(InvalidTransitionError, match="not prepared yet") as info:
        datasets.mark_operational(at(DatasetState.REGISTERED))
    assert info.value.hint is not None and "medperf dataset prepare" in info.value.hint


def test_the_server_may_mark_operational_without_seeing_a_preparation() -> None:
    event = datasets.mark_operational(
        at(DatasetState.REGISTERED), generated_uid="g", statistics={"a": 1}, require_prepared=False
    )
    assert (event.generated_uid, event.statistics) == ("g", {"a": 1})


@pytest.mark.parametrize("require_prepared", [True, False])
def test_operational_is_final(require_prepared: bool) -> None:
    with pytest.raises(InvalidTransitionError, match="already operational"):
        datasets.mark_operational(at(DatasetState.OPERATIONAL), require_prepared=require_prepared)


def test_events_before_registration_and_of_other_kinds_are_ignored() -> None:
    other = ExecutionStarted(uid="u", benchmark=1, model=2, dataset=1)
    assert datasets.fold([DatasetPrepared(dataset_id=1, generated_uid="x"), other]) is None
    assert datasets.evolve(at(DatasetState.PREPARED), other) == at(DatasetState.PREPARED)


ORDER = [DatasetState.REGISTERED, DatasetState.PREPARED, DatasetState.OPERATIONAL]


@given(st.lists(st.sampled_from(["prepare", "operational", "operational_server"]), max_size=12))
def test_any_sequence_of_commands_only_moves_forward(commands: list[str]) -> None:
    ds = at(DatasetState.REGISTERED)
    for command in commands:
        try:
            if command == "prepare":
                event: DomainEvent = datasets.prepare(ds, "u", {})
            else:
                event = datasets.mark_operational(ds, require_prepared=command == "operational")
        except InvalidTransitionError:
            assert ds.is_operational or (command == "operational" and ds.state is DatasetState.REGISTERED)
            continue
        after = datasets.evolve(ds, event)
        assert after is not None
        assert ORDER.index(after.state) >= ORDER.index(ds.state)
        ds = after
